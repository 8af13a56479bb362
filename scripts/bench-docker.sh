#!/usr/bin/env bash
# Benchmarks the Docker executor against the local executor, side by side, in one run (run by
# hand, not by CI): `nbw run` of a one-cell notebook with the kernel as a local process, and
# with `--image` (the kernel in a container, created, started and removed for the run).
#   added wall time per run (docker - local, the same kernel)      target <= 0.7 s
# To compare executors and not kernels, the container runs the very Python and ipykernel of the
# local run: an image made of the test base image plus the project venv and its interpreter,
# at the same paths. The test base image as it is (Debian's older ipykernel, which imports its
# debugger at start) is measured too, for reference.
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

"$root/scripts/ensure-tool.sh" hyperfine
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

# The local run's interpreter and venv, copied to the same paths in an image (built once).
venv=$(realpath -s "$venv")
prefix=$("$venv/bin/python" -c 'import sys; print(sys.base_prefix)')
same="nbw-bench/same-kernel:$(echo "$image $prefix $venv" | sha256sum | cut -c1-12)"
if ! docker image inspect "$same" >/dev/null 2>&1; then
  echo "bench-docker: building $same (the local interpreter and venv on the base image)" >&2
  mkdir -p "$work/context"
  tar -C / -cf - "${prefix#/}" "${venv#/}" | tar -C "$work/context" -xf -
  printf 'FROM %s\nCOPY / /\nENV PATH=%s/bin:$PATH\n' "$image" "$venv" > "$work/context/Dockerfile"
  docker build -q -t "$same" "$work/context" >&2
  rm -rf "$work/context"
fi
cat > "$work/one.ipynb" <<'NB'
{"cells": [{"cell_type": "code", "execution_count": null, "id": "c0", "metadata": {}, "outputs": [],
  "source": "print('hello')"}],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
 "nbformat": 4, "nbformat_minor": 5}
NB
cd "$work"
hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$work/runs.json" \
  -n local "$nbw run --no-progress one.ipynb local.out.ipynb" \
  -n docker "$nbw run --no-progress --image $same one.ipynb docker.out.ipynb" \
  -n docker-debian "$nbw run --no-progress --image $image one.ipynb debian.out.ipynb" >&2
leftover=$(docker ps -aq --filter label=nbw.execution | wc -l)
"$venv/bin/python" - "$work/runs.json" "$leftover" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
median = {name: r["median"] for name, r in results.items()}
local = median["local"]
print(f"{'executor':<44} {'median':>8}")
print(f"{'local (venv ipykernel)':<44} {local:>7.3f}s")
print(f"{'docker (the same venv ipykernel)':<44} {median['docker']:>7.3f}s   = {median['docker'] / local:.2f}x local")
print(f"{'docker (base image: Debian ipykernel 6.17)':<44} {median['docker-debian']:>7.3f}s   = {median['docker-debian'] / local:.2f}x local")
added = median["docker"] - local
print(f"added by Docker, same kernel: {added:.3f} s per run (target <= 0.7 s: {'ok' if added <= 0.7 else 'MISS'})")
print(f"containers left behind: {sys.argv[2]}")
PY
