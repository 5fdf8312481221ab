#!/bin/bash
# Side-by-side throughput of differently configured servers of ours, driven in
# turn by the Go load generator of the reference peers (one run, so ratios
# between the lines of a round hold even on a noisy machine).
#
#   LOAD=../shared/peers/go/bin/load bench/compare.sh DB SECONDS ROUNDS \
#     "NAME:PORT:SERVER FLAGS" ... -- SCENARIO...
#
# e.g. bench/compare.sh /tmp/db1k.json 4 2 "1worker:50091:" \
#        "2workers:50092:--workers 2 --notes sqlite:/tmp/n.db" -- unary list record chat
#
# A NAME ending in +w runs server.ts with the server task's flags plus
# --allow-write (a single process on SQLite). Servers
# and load are not pinned: with --workers every core serves, and the load
# generator competes with them. Prints, per round and scenario, ops/s,
# messages/s, p50/p99 latency, and the CPU of the server's processes
# (supervisor and workers) per op.
set -euo pipefail
: "${LOAD:?set LOAD to the Go load generator (bash ../shared/peers/setup.sh builds it)}"
DB=$1; DUR=$2; ROUNDS=$3; shift 3
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
declare -a NAMES PORTS PIDS
# The server task's flags less --allow-run, from lib/server/deno_flags.ts (the one reader of deno.json).
flags=$(deno eval 'import { serverDenoFlags, withoutRunPermission } from "./lib/server/deno_flags.ts";
console.log(withoutRunPermission(serverDenoFlags()).join(" "));')
while [ "$1" != "--" ]; do
  IFS=: read -r name port args <<< "$1"
  extra=""; [[ $name == *+w ]] && extra="--allow-write"
  # shellcheck disable=SC2086
  deno run $flags --allow-run=deno $extra server.ts --host 127.0.0.1 --port "$port" --db "$DB" $args \
    > /dev/null 2> "$scratch/$name.log" &
  NAMES+=("$name"); PORTS+=("$port"); shift
done
shift
for port in "${PORTS[@]}"; do
  up=""
  for _ in $(seq 300); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && up=1 && break; sleep 0.1; done
  [ -n "$up" ] || { echo "the server on port $port did not start:"; cat "$scratch"/*.log; exit 1; }
done
sleep 1
# user+system CPU ticks of a process, its children and grandchildren
cpu() {
  local t=0 q
  for q in $(echo "$1" $(pgrep -P "$1") $(for c in $(pgrep -P "$1"); do pgrep -P "$c"; done) | tr ' ' '\n' | sort -u); do
    t=$((t + $(awk '{print $14+$15}' "/proc/$q/stat")))
  done
  echo $t
}
for i in "${!PORTS[@]}"; do PIDS[$i]=$(pgrep -f "server.ts --host 127.0.0.1 --port ${PORTS[$i]} " | head -1); done
for r in $(seq "$ROUNDS"); do
  for sc in "$@"; do
    for i in "${!PORTS[@]}"; do
      port=${PORTS[$i]}; pid=${PIDS[$i]}
      extra=""; [ "$sc" = list ] && extra="--rect-deg ${RECT:-0.1}"
      t0=$(cpu "$pid")
      # shellcheck disable=SC2086
      out=$("$LOAD" --target "127.0.0.1:$port" --db "$DB" --scenario "$sc" --duration "$DUR" \
        --warmup 1 --concurrency 16 --conns 8 $extra 2>/dev/null)
      t1=$(cpu "$pid")
      echo "$out" | python3 -c "
import json,sys; d=json.load(sys.stdin); ticks=$t1-$t0
print('r$r %-6s %-12s ops/s=%7.0f msgs/s=%8.0f p50=%6.2f p99=%7.2f srv_cpu=%3d%% cpu_us/op=%6.1f err=%d' % ('$sc','${NAMES[$i]}', d['rps'], d['msgs_per_s'], d['latency_ms']['p50'], d['latency_ms']['p99'], ticks/($DUR+1), ticks*1e4/max(1,d['ops']), d['errors']))"
    done
  done
done
for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
rm -rf "$scratch"
