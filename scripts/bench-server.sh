#!/usr/bin/env bash
# Benchmarks the server's queue with no-op agents (run by hand, not by CI). For SQLite and for
# PostgreSQL, a real `nbw server` is started and driven over HTTP by N concurrent agents that
# claim and complete at once (crates/nbw-server/examples/bench_queue.rs):
#   claim-and-complete throughput   target >= 500/s on SQLite, >= 2,000/s on PostgreSQL
#   dispatch latency p50, p99       target <= 10 ms, <= 50 ms (execution created_at -> claim received,
#                                   executions created through the API while the agents long-poll)
#   idle server RSS                 target <= 30 MiB (after start, before any load)
# The client runs on the same machine, so the server and the client share its cores.
# Prints a table with ok/MISS per target; --markdown FILE writes the same as Markdown.
#
# Usage: scripts/bench-server.sh [--markdown FILE] [--nbw PATH] [--claimers N] [--backends "sqlite postgres"]
#                                [--quick] [--keep]
#   --markdown FILE  also write the table as Markdown to FILE
#   --nbw PATH       use this nbw binary instead of building one (cargo build --release -p nbw-cli)
#   --claimers N     concurrent no-op agents (default 8)
#   --backends LIST  which backends (default "sqlite postgres")
#   --quick          fewer executions (smoke test of the script itself; figures are not stable)
#   --keep           keep the temp dir (data dirs, server logs)
# PostgreSQL: a fresh database on NBW_BENCH_DATABASE_URL, else NBW_TEST_DATABASE_URL (the test
# cluster of scripts/setup-postgres.sh), dropped at the end.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
markdown=""
nbw=""
claimers=8
backends="sqlite postgres"
quick=0
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --markdown) markdown=$(realpath -m "$2"); shift 2 ;;
    --markdown=*) markdown=$(realpath -m "${1#*=}"); shift ;;
    --nbw) nbw=$(realpath "$2"); shift 2 ;;
    --nbw=*) nbw=$(realpath "${1#*=}"); shift ;;
    --claimers) claimers=$2; shift 2 ;;
    --claimers=*) claimers=${1#*=}; shift ;;
    --backends) backends=$2; shift 2 ;;
    --backends=*) backends=${1#*=}; shift ;;
    --quick) quick=1; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-server: unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [ "$quick" = 1 ]; then
  fill_sqlite=500; fill_postgres=1000; latency_count=200
else
  fill_sqlite=10000; fill_postgres=20000; latency_count=2000
fi
latency_rate=200

# --- binaries ----------------------------------------------------------------------------------
target_dir=${CARGO_TARGET_DIR:-$root/target}
echo "bench-server: building (release)" >&2
if [ -z "$nbw" ]; then
  (cd "$root" && cargo build --quiet --release -p nbw-cli)
  nbw="$target_dir/release/nbw"
fi
(cd "$root" && cargo build --quiet --release -p nbw-server --example bench_queue)
bench="$target_dir/release/examples/bench_queue"
[ -x "$nbw" ] || { echo "bench-server: no nbw binary at $nbw" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nbw-bench-server.XXXXXX")
server_pid=""
pg_base=${NBW_BENCH_DATABASE_URL:-${NBW_TEST_DATABASE_URL:-}}
pg_db=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$pg_db" ]; then psql -q "$pg_base" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true; fi
  if [ "$keep" = 1 ]; then echo "bench-server: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rss_kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
value() { sed -n "s/^$1=//p" "$2" | tail -1; }

declare -A result
for backend in $backends; do
  dir="$tmp/$backend"
  mkdir -p "$dir"
  case "$backend" in
    sqlite) url="sqlite://$dir/nbw.db"; fill=$fill_sqlite ;;
    postgres)
      [ -n "$pg_base" ] || { echo "bench-server: set NBW_BENCH_DATABASE_URL or NBW_TEST_DATABASE_URL for PostgreSQL" >&2; exit 1; }
      pg_db="nbw_bench_$$_$RANDOM"
      psql -q -v ON_ERROR_STOP=1 "$pg_base" -c "CREATE DATABASE $pg_db" >/dev/null
      url="${pg_base%/*}/$pg_db"
      fill=$fill_postgres ;;
    *) echo "bench-server: unknown backend $backend" >&2; exit 2 ;;
  esac
  echo "bench-server: $backend: setting up" >&2
  "$bench" setup --database-url "$url" --data-dir "$dir" >"$dir/setup.out"
  agent_token=$(value agent_token "$dir/setup.out")
  user_token=$(value user_token "$dir/setup.out")

  port=$(free_port)
  server="http://127.0.0.1:$port"
  NBW_LOG=warn NBW_DATABASE_URL="$url" "$nbw" server --data-dir "$dir" --listen "127.0.0.1:$port" \
    >"$dir/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do
    curl -fsS "$server/healthz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    sleep 0.1
  done
  curl -fsS "$server/healthz" >/dev/null
  sleep 2
  result[$backend,idle_rss]=$(rss_kib "$server_pid" VmRSS)

  echo "bench-server: $backend: throughput ($fill executions, $claimers agents)" >&2
  "$bench" throughput --database-url "$url" --server "$server" --agent-token "$agent_token" \
    --count "$fill" --claimers "$claimers" >"$dir/throughput.out"
  result[$backend,per_second]=$(value per_second "$dir/throughput.out")
  result[$backend,completed]=$(value completed "$dir/throughput.out")

  echo "bench-server: $backend: dispatch latency ($latency_count executions at $latency_rate/s)" >&2
  "$bench" latency --server "$server" --agent-token "$agent_token" --user-token "$user_token" \
    --count "$latency_count" --rate "$latency_rate" --claimers "$claimers" >"$dir/latency.out"
  result[$backend,p50]=$(value p50_ms "$dir/latency.out")
  result[$backend,p99]=$(value p99_ms "$dir/latency.out")
  result[$backend,max]=$(value max_ms "$dir/latency.out")
  result[$backend,peak_rss]=$(rss_kib "$server_pid" VmHWM)

  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  if [ "$backend" = postgres ]; then
    psql -q "$pg_base" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null; pg_db=""
  fi
done

# --- table -------------------------------------------------------------------------------------
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
verdict() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? (v >= t) : (v <= t); print (v == "" ? "n/a" : (ok ? "ok" : "MISS")) }'; }
rows=()
row() { rows+=("$1|$2|$3|$4|$5"); }
for backend in $backends; do
  case "$backend" in sqlite) min=500 ;; postgres) min=2000 ;; esac
  r() { echo "${result[$backend,$1]:-}"; }
  row "$backend" "claim+complete throughput ($(r completed) executions, $claimers agents)" "$(r per_second)/s" ">= $min/s" "$(verdict "$(r per_second)" ">=" "$min")"
  row "$backend" "dispatch latency p50" "$(r p50) ms" "<= 10 ms" "$(verdict "$(r p50)" "<=" 10)"
  row "$backend" "dispatch latency p99" "$(r p99) ms" "<= 50 ms" "$(verdict "$(r p99)" "<=" 50)"
  row "$backend" "dispatch latency max" "$(r max) ms" "" ""
  row "$backend" "idle server RSS (after start)" "$(mib "$(r idle_rss)")" "<= 30 MiB" "$(verdict "$(r idle_rss)" "<=" $((30 * 1024)))"
  row "$backend" "peak server RSS (under load)" "$(mib "$(r peak_rss)")" "" ""
done

machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr)"
printf '\nnbw server queue benchmark (%s; client on the same machine)\n\n' "$machine"
printf '%-9s %-58s %-14s %-12s %s\n' backend measure result target verdict
for line in "${rows[@]}"; do
  IFS='|' read -r b m v t o <<<"$line"
  printf '%-9s %-58s %-14s %-12s %s\n' "$b" "$m" "$v" "$t" "$o"
done
if [ -n "$markdown" ]; then
  {
    printf '## Server queue benchmark\n\n`scripts/bench-server.sh` on %s, no-op agents on the same machine.\n\n' "$machine"
    printf '| backend | measure | result | target | |\n|---|---|---|---|---|\n'
    for line in "${rows[@]}"; do
      IFS='|' read -r b m v t o <<<"$line"
      printf '| %s | %s | %s | %s | %s |\n' "$b" "$m" "$v" "$t" "$o"
    done
  } >"$markdown"
  echo "bench-server: wrote $markdown" >&2
fi
