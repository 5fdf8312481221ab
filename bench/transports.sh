#!/bin/bash
# Our server on its two HTTP/2 transports (native: lib/http2/; node: the
# runtime's node:http2) beside the Node.js and Go reference servers, in one
# run: every server pinned to CPU 0, the Go load generator to CPU 1, each RPC
# kind driven against each server in turn. Prints ops/s and the server's CPU
# time per op (user+system ticks from /proc/PID/stat around each run).
#
#   LOAD=../shared/peers/go/bin/load GO_SERVER=../shared/peers/go/bin/server \
#   NODE_SERVER=../shared/peers/node/server.js bench/transports.sh DB SECONDS ROUNDS [SCENARIO...]
#
# GO_SERVER and NODE_SERVER are optional; without them only ours run. The
# servers listen on BASE+1..BASE+4 (BASE defaults to 50160).
set -euo pipefail
: "${LOAD:?set LOAD to the Go load generator (bash ../shared/peers/setup.sh builds it)}"
DB=$(realpath "$1"); DUR=$2; ROUNDS=$3; shift 3
[ $# -gt 0 ] && SCENARIOS=("$@") || SCENARIOS=(unary list record chat)
BASE=${BASE:-50160}
cd "$(dirname "$0")/.."
flags=$(python3 -c "import json;c=json.load(open('deno.json'))['tasks']['server']['command'].split();print(' '.join(c[c.index('run')+1:c.index('server.ts')]))")
declare -a NAMES PORTS PIDS
start() { # name port command...
  local name=$1 port=$2; shift 2
  taskset -c 0 "$@" > /dev/null 2> "/tmp/transports_$name.log" &
  NAMES+=("$name"); PORTS+=("$port"); PIDS+=("$!")
}
# shellcheck disable=SC2086
ROUTEGUIDE_TRANSPORT=native start native $((BASE + 1)) deno run $flags server.ts --host 127.0.0.1 --port $((BASE + 1)) --db "$DB"
# shellcheck disable=SC2086
ROUTEGUIDE_TRANSPORT=node start node-h2 $((BASE + 2)) deno run $flags server.ts --host 127.0.0.1 --port $((BASE + 2)) --db "$DB"
[ -n "${NODE_SERVER:-}" ] && start node-peer $((BASE + 3)) node "$NODE_SERVER" --port $((BASE + 3)) --db "$DB"
[ -n "${GO_SERVER:-}" ] && start go-peer $((BASE + 4)) "$GO_SERVER" --port $((BASE + 4)) --db "$DB"
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT
for port in "${PORTS[@]}"; do
  for _ in $(seq 300); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done
sleep 1
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
printf '%-6s %-8s %-10s %10s %10s %12s\n' round kind server ops/s msgs/s "cpu µs/op"
for r in $(seq "$ROUNDS"); do
  for sc in "${SCENARIOS[@]}"; do
    for i in "${!PORTS[@]}"; do
      t0=$(ticks "${PIDS[$i]}")
      out=$(taskset -c 1 "$LOAD" --target "127.0.0.1:${PORTS[$i]}" --db "$DB" --scenario "$sc" \
        --duration "$DUR" --warmup 1 --concurrency 16 --conns 1 2>/dev/null || true)
      t1=$(ticks "${PIDS[$i]}")
      echo "$out" | python3 -c "
import json,sys
d=json.loads(sys.stdin.read() or '{}'); rate=d.get('rps', 0); msgs=d.get('msgs_per_s', 0)
if d.get('errors'): print('  (%d errors)' % d['errors'], file=sys.stderr)
# warmup second included in the CPU ticks, so scale by (dur+1)/dur
cpu=($t1-$t0)/$hz*1e6; per=cpu/(rate*($DUR+1)) if rate else 0
print('%-6s %-8s %-10s %10.0f %10.0f %12.1f' % ($r, '$sc', '${NAMES[$i]}', rate, msgs, per))"
    done
  done
done
