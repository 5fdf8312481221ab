#!/bin/bash
# Our server beside an earlier checkout of it (on its own transport and on
# the runtime's node:http2) and the Node.js and Go reference servers, in one
# run: every server pinned to CPU 0, the Go load generator to CPU 1, each RPC
# kind driven against each server in turn. Prints ops/s and the server's CPU
# time per op (user+system ticks from /proc/PID/stat around each run).
#
#   LOAD=../shared/peers/go/bin/load GO_SERVER=../shared/peers/go/bin/server \
#   NODE_SERVER=../shared/peers/node/server.js BEFORE=../before \
#   bench/transports.sh DB SECONDS ROUNDS [SCENARIO...]
#
# Servers (those whose variable is unset are left out):
#   ours          this checkout (always)
#   before        BEFORE, a checkout of an earlier commit, on its own transport
#                 (ROUTEGUIDE_TRANSPORT=native)
#   node-h2       BEFORE again with ROUTEGUIDE_TRANSPORT=node: the runtime's
#                 node:http2, for checkouts that still have it (git worktree
#                 add --detach ../before dde051c makes one); NODE_H2=0 leaves
#                 it out, for checkouts without it
#   node-peer     NODE_SERVER, the Node.js reference server
#   go-peer       GO_SERVER, the Go reference server
#   ours@VERSION  OTHER_DENO, this checkout again on another Deno binary (to
#                 choose the runtime pin by measurement)
# Each Deno server runs with the flags of its own checkout's `deno task
# server`; OURS_V8_FLAGS (e.g. --expose-gc) replaces this checkout's
# --v8-flags. The servers listen on BASE+1..BASE+6 (BASE defaults to 50160).
set -euo pipefail
: "${LOAD:?set LOAD to the Go load generator (bash ../shared/peers/setup.sh builds it)}"
DB=$(realpath "$1"); DUR=$2; ROUNDS=$3; shift 3
[ $# -gt 0 ] && SCENARIOS=("$@") || SCENARIOS=(unary list record chat)
BASE=${BASE:-50160}
HERE=$(cd "$(dirname "$0")/.." && pwd)
# The flags between `deno run` and `server.ts` in a checkout's deno.json.
server_flags() {
  python3 -c "import json,sys;c=json.load(open(sys.argv[1]))['tasks']['server']['command'].split();print(' '.join(c[c.index('run')+1:c.index('server.ts')]))" "$1/deno.json"
}
declare -a NAMES PORTS PIDS
start() { # name port dir command...
  local name=$1 port=$2 dir=$3; shift 3
  (cd "$dir" && exec taskset -c 0 "$@" > /dev/null 2> "/tmp/transports_$name.log") &
  NAMES+=("$name"); PORTS+=("$port"); PIDS+=("$!")
}
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT
start_deno() { # name port dir transport [v8-flags] [deno]
  local name=$1 port=$2 dir=$3 transport=$4 deno=${6:-deno} flags
  flags=$(server_flags "$dir")
  [ -n "${5:-}" ] && flags=$(echo "$flags" | sed -E "s/--v8-flags=[^ ]+/--v8-flags=$5/")
  # shellcheck disable=SC2086
  ROUTEGUIDE_TRANSPORT=$transport start "$name" "$port" "$dir" \
    "$deno" run $flags server.ts --host 127.0.0.1 --port "$port" --db "$DB"
}
start_deno ours $((BASE + 1)) "$HERE" native "${OURS_V8_FLAGS:-}"
if [ -n "${OTHER_DENO:-}" ]; then
  other="ours@$("$OTHER_DENO" --version | head -n1 | cut -d' ' -f2)"
  start_deno "$other" $((BASE + 6)) "$HERE" native "${OURS_V8_FLAGS:-}" "$OTHER_DENO"
fi
if [ -n "${BEFORE:-}" ]; then
  start_deno before $((BASE + 2)) "$(realpath "$BEFORE")" native
  [ "${NODE_H2:-1}" = 0 ] || start_deno node-h2 $((BASE + 3)) "$(realpath "$BEFORE")" node
fi
if [ -n "${NODE_SERVER:-}" ]; then
  start node-peer $((BASE + 4)) "$HERE" node "$(realpath "$NODE_SERVER")" --port $((BASE + 4)) --db "$DB"
fi
if [ -n "${GO_SERVER:-}" ]; then
  start go-peer $((BASE + 5)) "$HERE" "$(realpath "$GO_SERVER")" --port $((BASE + 5)) --db "$DB"
fi
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
