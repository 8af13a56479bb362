#!/usr/bin/env bash
# Pipeline overhead: step-to-step latency (one step's end to the next step's first cell) p50 and
# p99 over a SeqPipe of trivial steps with a warm kernel pool, and a 50-step pipeline's wall time
# over the sum of its steps, beside Airflow's scheduler heartbeat. Release build.
#   scripts/bench-pipeline.sh [--steps N] [--long N]
# NBW_BIN=PATH measures that binary instead of building one (say so when quoting its figures).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nbw-target}
scripts/setup-python.sh
if [[ -z "${NBW_BIN:-}" ]]; then
  cargo build --release --locked -p nbw-cli
  NBW_BIN="$CARGO_TARGET_DIR/release/nbw"
fi
venv=${NBW_VENV:-$root/.venv}
export JUPYTER_PATH="$venv/share/jupyter"
export PATH="$venv/bin:$PATH"
cd scripts/bench
exec "$venv/bin/python" pipeline_latency.py --nbw "$NBW_BIN" "$@"
