#!/usr/bin/env bash
# Benchmarks `nbw run` against papermill, side by side, in one run (run by hand, not by CI):
#   1 cell        wall time ratio         target <= 0.40x papermill
#   200 cells     wall time ratio         target <= 0.15x papermill
#   10 MB output  wall time ratio         (no target)
#   runner peak RSS (runner process only, not the kernel)   target <= 10 MiB
#   inter-cell gap (kernel idle waiting for the runner)     target <= 0.5 ms per cell
# Prints a table with ok/MISS per target; --markdown FILE writes the same as Markdown.
# Takes about 3.5 minutes on a 2-core machine, plus the build.
#
# Usage: scripts/bench-engine.sh [--markdown FILE] [--nbw PATH] [--keep] [--quick]
#   --markdown FILE  also write the table as Markdown to FILE
#   --nbw PATH       benchmark this nbw binary instead of building one (cargo build --release -p nbw-cli,
#                    honouring CARGO_TARGET_DIR)
#   --keep           keep the temp dir with the notebooks, outputs and hyperfine JSON
#   --quick          fewer runs (smoke test of the script itself; medians are not stable)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
markdown=""
nbw=""
keep=0
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --markdown) markdown=$(realpath -m "$2"); shift 2 ;;
    --markdown=*) markdown=$(realpath -m "${1#*=}"); shift ;;
    --nbw) nbw=$(realpath "$2"); shift 2 ;;
    --nbw=*) nbw=$(realpath "${1#*=}"); shift ;;
    --keep) keep=1; shift ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-engine: unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [ "$quick" = 1 ]; then
  runs_one=3; runs_many=2; runs_big=2; warmup=0
else
  runs_one=10; runs_many=5; runs_big=5; warmup=1
fi

# --- tools -------------------------------------------------------------------------------------
"$root/scripts/ensure-tool.sh" hyperfine

"$root/scripts/setup-python.sh"
venv=${NBW_VENV:-$root/.venv}
export PATH="$venv/bin:$PATH"
export JUPYTER_PATH="$venv/share/jupyter"
py="$venv/bin/python"
helper="$root/scripts/bench/engine.py"

if [ -z "$nbw" ]; then
  echo "bench-engine: building nbw (release)" >&2
  (cd "$root" && cargo build --quiet --release -p nbw-cli)
  target_dir=$(cd "$root" && cargo metadata --format-version 1 --no-deps \
    | "$py" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  nbw="$target_dir/release/nbw"
fi
[ -x "$nbw" ] || { echo "bench-engine: no nbw binary at $nbw" >&2; exit 1; }

# --- notebooks ---------------------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nbw-bench.XXXXXX")
if [ "$keep" = 1 ]; then
  trap 'echo "bench-engine: kept $tmp" >&2' EXIT
else
  trap 'rm -rf "$tmp"' EXIT
fi
cd "$tmp"
"$py" "$helper" gen "$tmp"

# --- wall time ---------------------------------------------------------------------------------
# Both tools in one hyperfine invocation per notebook; -N: no intermediate shell.
# The 1-minute load average before each block: others' work on a 2-core machine skews medians.
loads=()
sample_load() { loads+=("$(cut -d' ' -f1 /proc/loadavg)"); }
bench() { # name runs extra-hyperfine-args...
  local name=$1 runs=$2; shift 2
  sample_load
  echo "bench-engine: $name ($runs runs per command)" >&2
  hyperfine -N --style basic --warmup "$warmup" --runs "$runs" --export-json "$tmp/$name.json" "$@" >&2
}

bench one_cell "$runs_one" \
  -n nbw "$nbw run $tmp/one_cell.ipynb $tmp/one_cell.nbw.ipynb -p x 1 --no-progress" \
  -n papermill "papermill $tmp/one_cell.ipynb $tmp/one_cell.pm.ipynb -p x 1"

bench many_cells "$runs_many" \
  -n nbw "$nbw run $tmp/many_cells.ipynb $tmp/many_cells.nbw.ipynb -p x 1 --no-progress" \
  -n papermill "papermill $tmp/many_cells.ipynb $tmp/many_cells.pm.ipynb -p x 1" \
  -n papermill-nosave "papermill $tmp/many_cells.ipynb $tmp/many_cells.pm-nosave.ipynb -p x 1 --no-request-save-on-cell-execute --no-progress-bar"

bench big_output "$runs_big" \
  -n nbw "$nbw run $tmp/big_output.ipynb $tmp/big_output.nbw.ipynb -p x 1 --no-progress" \
  -n papermill "papermill $tmp/big_output.ipynb $tmp/big_output.pm.ipynb -p x 1"

# --- runner peak RSS ---------------------------------------------------------------------------
# One extra run per tool and notebook, outside hyperfine. nbw reports its own getrusage(RUSAGE_SELF)
# in the run_end event; papermill runs in-process so ru_maxrss is the runner's, not the kernel's.
declare -A rss_nbw rss_pm
for nb in one_cell many_cells big_output; do
  echo "bench-engine: peak RSS, $nb" >&2
  log="$tmp/$nb.rss.log"
  "$nbw" run "$tmp/$nb.ipynb" "$tmp/$nb.rss-nbw.ipynb" -p x 1 --no-progress --events "$tmp/$nb.events.jsonl" \
    >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
  rss_nbw[$nb]=$("$py" "$helper" rss-nbw "$tmp/$nb.events.jsonl")
  rss_pm[$nb]=$("$py" "$helper" rss-papermill "$tmp/$nb.ipynb" "$tmp/$nb.rss-pm.ipynb" 2>"$log" | tail -n 1) \
    || { cat "$log" >&2; exit 1; }
done

sample_load

# --- report ------------------------------------------------------------------------------------
nbw_version=$("$nbw" --version 2>/dev/null | head -n 1 || true)
# How much of the link order of crates/nbw-cli/build.rs the binary still follows: the runner's
# RSS depends on it (scripts/hot-functions.sh refreshes the list).
hot_list="$root/crates/nbw-cli/hot-functions.txt"
link_order="none"
if [ -f "$hot_list" ]; then
  hot_found=$(grep -v '^#' "$hot_list" | sort -u | comm -12 - <(nm "$nbw" | awk '{print $3}' | sort -u) | wc -l)
  link_order="$hot_found of $(grep -vc '^#' "$hot_list") hot functions found"
fi
pm_version=$(papermill --version 2>/dev/null | awk "NR==1{print \$1}" || true)
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
cat >"$tmp/results.json" <<EOF
{
  "load": [$(IFS=,; echo "${loads[*]}")],
  "runs": "1 cell $runs_one, 200 cells $runs_many, 10 MB $runs_big; warmup $warmup",
  "hyperfine": {
    "one_cell": "$tmp/one_cell.json",
    "many_cells": "$tmp/many_cells.json",
    "big_output": "$tmp/big_output.json"
  },
  "outputs": {
    "nbw": "$tmp/many_cells.nbw.ipynb",
    "papermill": "$tmp/many_cells.pm.ipynb",
    "papermill-nosave": "$tmp/many_cells.pm-nosave.ipynb"
  },
  "rss_kib": {
    "nbw": {"one_cell": "${rss_nbw[one_cell]}", "many_cells": "${rss_nbw[many_cells]}", "big_output": "${rss_nbw[big_output]}"},
    "papermill": {"one_cell": "${rss_pm[one_cell]}", "many_cells": "${rss_pm[many_cells]}", "big_output": "${rss_pm[big_output]}"}
  },
  "env": {
    "date": "$(date -u +%Y-%m-%d)",
    "cpu": "$cpu",
    "cores": "$(nproc)",
    "nbw": "$nbw_version",
    "link order": "$link_order",
    "papermill": "$pm_version",
    "python": "$("$py" -c 'import platform; print(platform.python_version())')",
    "ipykernel": "$("$py" -c 'import ipykernel; print(ipykernel.__version__)')"
  }
}
EOF
echo >&2
args=(report --results "$tmp/results.json")
[ -n "$markdown" ] && args+=(--markdown "$markdown")
"$py" "$helper" "${args[@]}"
