#!/usr/bin/env bash
# Benchmarks the Docker executor against the local executor, side by side, in one run (run by
# hand, not by CI): `nbw run` of a one-cell notebook with the kernel as a local process, and
# with `--image` (the kernel in a container of the test base image, removed at the end).
#   added wall time per run (docker - local)      target <= 0.7 s
# The local kernel is the project venv's ipykernel; the container's is Debian's (the base image
# is built from Debian packages), so the figure includes that difference too.
#
# Usage: scripts/bench-docker.sh [--nbw PATH] [--runs N]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
nbw=""
runs=10
while [ $# -gt 0 ]; do
  case "$1" in
    --nbw) nbw=$(realpath "$2"); shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-docker: unknown argument: $1" >&2; exit 2 ;;
  esac
done

if ! command -v hyperfine >/dev/null 2>&1; then
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
  $sudo_ apt-get install -y hyperfine >/dev/null 2>&1 \
    || { $sudo_ apt-get update >/dev/null && $sudo_ apt-get install -y hyperfine >/dev/null; }
fi
"$root/scripts/setup-python.sh" >&2
venv=${NBW_VENV:-$root/.venv}
export JUPYTER_PATH="$venv/share/jupyter"
image=$("$root/scripts/docker-base-image.sh")
if [ -z "$nbw" ]; then
  echo "bench-docker: building nbw (release)" >&2
  (cd "$root" && cargo build --quiet --release -p nbw-cli)
  nbw="${CARGO_TARGET_DIR:-$root/target}/release/nbw"
fi

work=$(mktemp -d /var/tmp/nbw-bench-docker.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/one.ipynb" <<'NB'
{"cells": [{"cell_type": "code", "execution_count": null, "id": "c0", "metadata": {}, "outputs": [],
  "source": "print('hello')"}],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
 "nbformat": 4, "nbformat_minor": 5}
NB
cd "$work"
hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$work/runs.json" \
  -n local "$nbw run --no-progress one.ipynb local.out.ipynb" \
  -n docker "$nbw run --no-progress --image $image one.ipynb docker.out.ipynb" >&2
leftover=$(docker ps -aq --filter label=nbw.execution | wc -l)
"$venv/bin/python" - "$work/runs.json" "$leftover" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
local, docker = results["local"]["median"], results["docker"]["median"]
added = docker - local
print(f"{'executor':<10} {'median':>9}")
print(f"{'local':<10} {local:>8.3f}s")
print(f"{'docker':<10} {docker:>8.3f}s   = {docker / local:.2f}x local")
print(f"added by Docker: {added:.3f} s per run (target <= 0.7 s: {'ok' if added <= 0.7 else 'MISS'})")
print(f"containers left behind: {sys.argv[2]}")
PY
