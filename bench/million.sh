#!/bin/bash
# A large database, one server at a time (ours, then the Node.js and Go
# reference servers when their variables are set), each pinned to CPU 0 and
# loaded from CPU 1: start-up (launch to port open, and for ours also launch
# to the ready line), RSS 2 s after the port opened, then GetFeature and
# ListFeatures over small squares.
#
#   python3 ../shared/peers/data/make_db.py -n 1000000 -o /tmp/db1m.json
#   LOAD=../shared/peers/go/bin/load GO_SERVER=../shared/peers/go/bin/server \
#   NODE_SERVER=../shared/peers/node/server.js bench/million.sh /tmp/db1m.json 4 [RUNS]
#
# RUNS (default 2) start-ups per server, alternating; the load runs after the last one
# (DURATION 0: no load).
# RECT (default 0.01) is the ListFeatures square's side in degrees.
# OURS_V8_FLAGS (e.g. --expose-gc) replaces the --v8-flags of `deno task server`.
# BEFORE=DIR also runs the server of another checkout (e.g. a `git worktree` of
# the commit before a change) as "before", with that checkout's own task flags.
# Nothing else is set in the servers' environment.
# Prints one line per start-up and one per load run.
set -euo pipefail
: "${LOAD:?set LOAD to the Go load generator (bash ../shared/peers/setup.sh builds it)}"
DB=$(realpath "$1"); DUR=$2; RUNS=${3:-2}
RECT=${RECT:-0.01}
PORT=${PORT:-50170}
cd "$(dirname "$0")/.."
task_flags() { # the server task's deno run flags in checkout $1
  python3 -c "import json,sys;c=json.load(open(sys.argv[1]+'/deno.json'))['tasks']['server']['command'].split();print(' '.join(c[c.index('run')+1:c.index('server.ts')]))" "$1"
}
flags=$(task_flags .)
[ -n "${OURS_V8_FLAGS:-}" ] && flags=$(echo "$flags" | sed -E "s/--v8-flags=[^ ]+/--v8-flags=$OURS_V8_FLAGS/")
if [ -n "${BEFORE:-}" ]; then BEFORE=$(realpath "$BEFORE"); before_flags=$(task_flags "$BEFORE"); fi
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null || true' EXIT
run() { # name last command...
  local name=$1 last=$2; shift 2
  local t0 t1 t2 cpu rss ready out="/tmp/million_$name.out"
  t0=$(date +%s.%N)
  taskset -c 0 env -i "PATH=$PATH" "HOME=$HOME" "$@" > "$out" 2> "/tmp/million_$name.log" &
  PID=$!
  for _ in $(seq 3000); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.01; done
  t1=$(date +%s.%N)
  # CPU time (user + system, all threads) spent by then: less noisy than the wall clock on a busy machine.
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$PID/stat")
  ready=
  if [ "$name" != go ] && [ "$name" != node ]; then
    for _ in $(seq 300); do grep -q "listening on" "$out" && break; sleep 0.01; done
    t2=$(date +%s.%N)
    ready=$(printf '  ready line %5.2f s' "$(echo "$t2 - $t0" | bc)")
  fi
  sleep 2
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
  printf '%-6s start-up %5.2f s (CPU %5.2f s)%s  RSS %4d MB\n' "$name" "$(echo "$t1 - $t0" | bc)" "$cpu" "$ready" $((rss / 1024))
  if [ "$last" = 1 ] && [ "$DUR" != 0 ]; then
    for sc in unary list; do
      taskset -c 1 "$LOAD" --target "127.0.0.1:$PORT" --db "$DB" --scenario "$sc" --rect-deg "$RECT" \
        --duration "$DUR" --warmup 1 --concurrency 16 --conns 1 2>/dev/null |
        python3 -c "
import json,sys
d=json.loads(sys.stdin.read() or '{}')
print('%-6s %-6s %10.0f calls/s %10.0f msgs/s  errors %d' % ('$name', '$sc', d.get('rps', 0), d.get('msgs_per_s', 0), d.get('errors', 0)))"
    done
  fi
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
}
for i in $(seq "$RUNS"); do
  last=$([ "$i" = "$RUNS" ] && echo 1 || echo 0)
  if [ -n "${BEFORE:-}" ]; then
    # shellcheck disable=SC2086
    run before "$last" deno run $before_flags "$BEFORE/server.ts" --host 127.0.0.1 --port "$PORT" --db "$DB"
  fi
  # shellcheck disable=SC2086
  run ours "$last" deno run $flags server.ts --host 127.0.0.1 --port "$PORT" --db "$DB"
  if [ -n "${GO_SERVER:-}" ]; then run go "$last" "$GO_SERVER" --port "$PORT" --db "$DB"; fi
  if [ -n "${NODE_SERVER:-}" ]; then run node "$last" node "$NODE_SERVER" --port "$PORT" --db "$DB"; fi
done
