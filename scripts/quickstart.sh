#!/usr/bin/env bash
# Quick start: sets up the Python environment, builds nbw, and runs the example notebook with
# parameters. Prints where the executed notebook is.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nbw-target}
scripts/setup-python.sh
cargo build --release --locked -p nbw-cli
nbw="$CARGO_TARGET_DIR/release/nbw"
export JUPYTER_PATH="$root/.venv/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
out=${1:-/tmp/welcome.out.ipynb}
"$nbw" inspect examples/project/notebooks/welcome.ipynb
"$nbw" run examples/project/notebooks/welcome.ipynb "$out" -p name nbw -p times 2 --log-output
echo "executed notebook: $out (nbw binary: $nbw)"
