#!/usr/bin/env bash
# Sets up everything the tests need and runs them all: formatting, lints, unit, integration and
# conformance tests. This is the README's test command and what CI runs (.ci/run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# A target dir outside the clone lets a CI clone on this machine reuse an earlier build; a cold
# build works too (about 5 minutes on 2 cores).
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nbw-target}
export NBW_VENV=${NBW_VENV:-$root/.venv}

echo "== Rust toolchain (rust-toolchain.toml)"
scripts/ensure-toolchain.sh

echo "== python environment (ipykernel, bash_kernel, papermill for conformance)"
scripts/setup-python.sh

echo "== PostgreSQL (a throwaway cluster unless NBW_TEST_DATABASE_URL is given)"
pg_env=$(scripts/setup-postgres.sh)
eval "$pg_env"
if [ -n "${NBW_TEST_PG_DIR:-}" ]; then
  trap 'scripts/setup-postgres.sh stop "$NBW_TEST_PG_DIR"' EXIT
fi

echo "== Chromium and chromedriver for the web UI's browser tests (Debian's packages)"
eval "$(scripts/setup-chromium.sh)"

echo "== Docker test base image (Debian + Python + ipykernel, built from Debian packages, cached by tag)"
# Docker tests fail rather than skip under CI; on a laptop without Docker they skip with a notice.
if docker version >/dev/null 2>&1; then
  scripts/docker-base-image.sh
elif [ -n "${CI:-}" ]; then
  echo "CI is set but no Docker engine answers: the Docker tests cannot run" >&2
  exit 1
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== no cycles among any crate's modules (docs/architecture.md)"
for src in crates/*/src; do python3 scripts/module-cycles.py "$src"; done

echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo doc -D warnings (broken intra-doc links, malformed docs)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

echo "== cargo test"
# Kernel tests start real kernels; two at a time is what 2 cores carry without timeouts.
cargo test --workspace --locked --no-fail-fast -- --test-threads 2
