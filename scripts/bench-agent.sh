#!/usr/bin/env bash
# End-to-end latency of a trivial on-demand run (API call to stored result) with a cold agent
# and with the warm kernel pool, against papermill on the same notebook, in one run.
#   scripts/bench-agent.sh [--runs N] [--markdown FILE]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nbw-target}
scripts/setup-python.sh
cargo build --release --locked -p nbw-cli
export JUPYTER_PATH="$root/.venv/share/jupyter"
export PATH="$root/.venv/bin:$PATH"
exec "$root/.venv/bin/python" scripts/bench/agent_latency.py --nbw "$CARGO_TARGET_DIR/release/nbw" "$@"
