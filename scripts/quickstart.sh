#!/usr/bin/env bash
# Quick start: sets up the Python environment (ipykernel), builds nbw, and starts `nbw standalone`
# with the example project: server, scheduler and an agent in one process on SQLite, its
# workflows firing every minute. It prints the URL and how to log in. Ctrl-C stops it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nbw-target}
scripts/ensure-toolchain.sh
scripts/setup-python.sh
cargo build --release --locked -p nbw-cli
export JUPYTER_PATH="$root/.venv/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
exec "$CARGO_TARGET_DIR/release/nbw" standalone --example --data-dir "${NBW_DATA_DIR:-$root/nbw-data}" "$@"
