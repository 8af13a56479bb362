#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the tests, unless NBW_TEST_DATABASE_URL already names
# one, and prints the `export` line to use it:
#   eval "$(scripts/setup-postgres.sh)"
# Installs Debian's postgresql when no server binaries exist. The cluster lives in a temporary
# directory, listens on 127.0.0.1 only, on a free port, and is stopped by `scripts/setup-postgres.sh
# stop DIR` (scripts/test.sh does that on exit).
set -euo pipefail

if [ "${1:-}" = stop ]; then
  dir=$2
  [ -f "$dir/bin" ] || exit 0
  runuser -u postgres -- "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  exit 0
fi

if [ -n "${NBW_TEST_DATABASE_URL:-}" ]; then
  echo "export NBW_TEST_DATABASE_URL='$NBW_TEST_DATABASE_URL'"
  exit 0
fi

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
bin=$(find_bin)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "installing postgresql from Debian" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  bin=$(find_bin)
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d /var/tmp/nbw-pg.XXXXXX)
echo "$bin" > "$dir/bin"
mkdir "$dir/data"
chown postgres "$dir" "$dir/data"
runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >&2
# fsync off and a high connection limit: a test cluster, thrown away at the end.
runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
  "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
  start >&2
echo "export NBW_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:$port/postgres'"
echo "export NBW_TEST_PG_DIR='$dir'"
