#!/usr/bin/env bash
# The web UI's speed figures (issue 12, point 6), in one run (a release build; run by hand, not
# by CI; about two minutes once built). For each backend a real `nbw server` is started, 100,000
# executions are inserted into its database, and a keep-alive client on this machine times
# (scripts/bench/ui.py):
#   the executions list (API and page, with filters)   target <= 50 ms, median and p95
#   a 200-cell output notebook's page                   target <= 100 ms
#   all embedded JS + CSS, as served                    target <= 50 KB
# Each figure is printed beside its target with the ratio figure / target (p95 where there is one).
#
# Usage: scripts/bench-ui.sh [--nbw PATH] [--requests N] [--backends "sqlite postgres"]
#                            [--markdown FILE] [--keep]
#   --nbw PATH       use this nbw binary instead of building one (cargo build --release -p nbw-cli)
#   --requests N     timed requests per page (default 50)
#   --backends LIST  default "sqlite postgres" (postgres only when a cluster is configured)
#   --markdown FILE  also write the tables as Markdown to FILE
#   --keep           keep the temp dir (data dirs, server logs)
# PostgreSQL: a fresh database on NBW_BENCH_DATABASE_URL, else NBW_TEST_DATABASE_URL (the test
# cluster of scripts/setup-postgres.sh), dropped at the end.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
nbw=""
requests=50
backends="sqlite postgres"
markdown=""
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --nbw) nbw=$(realpath "$2"); shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --backends) backends=$2; shift 2 ;;
    --markdown) markdown=$(realpath -m "$2"); shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-ui: unknown argument: $1" >&2; exit 2 ;;
  esac
done

target_dir=${CARGO_TARGET_DIR:-$root/target}
if [ -z "$nbw" ]; then
  echo "bench-ui: building (release)" >&2
  (cd "$root" && cargo build --quiet --release -p nbw-cli)
  nbw="$target_dir/release/nbw"
fi
[ -x "$nbw" ] || { echo "bench-ui: no nbw binary at $nbw" >&2; exit 1; }
[ -z "$markdown" ] || : > "$markdown"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nbw-bench-ui.XXXXXX")
server_pid=""
pg_base=${NBW_BENCH_DATABASE_URL:-${NBW_TEST_DATABASE_URL:-}}
pg_db=""
stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  server_pid=""
}
cleanup() {
  stop_server
  if [ -n "$pg_db" ]; then psql -q "$pg_base" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true; fi
  if [ "$keep" = 1 ]; then echo "bench-ui: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
password="bench-ui password"

# bench BACKEND DATABASE_URL: one server on a fresh data dir, its figures.
bench() {
  local backend=$1 url=$2 data="$tmp/$1" port
  mkdir -p "$data"
  port=$(free_port)
  export NBW_DATABASE_URL=${url:-sqlite://$data/nbw.db} NBW_ADMIN_PASSWORD=$password NBW_LOG=warn
  "$nbw" server admin create-user admin --admin --data-dir "$data" >/dev/null
  "$nbw" server --listen "127.0.0.1:$port" --data-dir "$data" 2>"$tmp/$backend-server.log" &
  server_pid=$!
  for _ in $(seq 300); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.05
  done
  python3 "$root/scripts/bench/ui.py" --base "http://127.0.0.1:$port" --data-dir "$data" \
    --password "$password" --database-url "${url:-}" --requests "$requests" --label "$backend" \
    --fixture "$root/crates/nbw-render/tests/fixtures/every_output.ipynb" ${markdown:+--markdown "$markdown"}
  stop_server
}

for backend in $backends; do
  case "$backend" in
    sqlite) bench sqlite "" ;;
    postgres)
      if [ -z "$pg_base" ]; then
        echo "bench-ui: no PostgreSQL (eval \"\$(scripts/setup-postgres.sh)\" first); skipping it" >&2
        continue
      fi
      pg_db="nbw_bench_ui_$$"
      psql -q "$pg_base" -c "CREATE DATABASE $pg_db" >/dev/null
      bench postgres "${pg_base%/*}/$pg_db" ;;
    *) echo "bench-ui: unknown backend $backend" >&2; exit 2 ;;
  esac
done
