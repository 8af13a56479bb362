#!/usr/bin/env bash
# Makes the toolchain that rust-toolchain.toml names available without a download: these
# machines reach crates.io but not the Rust toolchain server, so when that version is not
# installed under its own name but the installed stable is that version, stable is linked under
# the name. Does nothing when rustup is absent (a system cargo reads no toolchain file).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v rustup >/dev/null 2>&1 || exit 0
want=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$root/rust-toolchain.toml")
rustup toolchain list | grep -q "^$want" && exit 0
have=$(rustc +stable --version | awk '{print $2}')
if [ "$have" != "$want" ]; then
  echo "rust-toolchain.toml asks for Rust $want; the installed stable is $have: install $want with rustup" >&2
  exit 1
fi
rustup toolchain link "$want" "$(rustc +stable --print sysroot)"
