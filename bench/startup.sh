#!/bin/bash
# Start-up CPU of several checkouts, alternating: each server pinned to CPU 0
# with its own checkout's `deno task server` flags and nothing else in its
# environment, started N times; the CPU time (user + system) it spent by its
# ready line. Less noisy on a busy machine than the wall clock, and cheaper
# than bench/million.sh (no peers, no load).
#
#   bench/startup.sh /tmp/db1m.json 6 /tmp/before .
#
# Prints each checkout's times, their minimum and median. PORT (default 50193).
set -euo pipefail
DB=$(realpath "$1"); N=$2; shift 2
PORT=${PORT:-50193}
flags() { # the server task's deno run flags in checkout $1
  python3 -c "import json,sys;c=json.load(open(sys.argv[1]+'/deno.json'))['tasks']['server']['command'].split();print(' '.join(c[c.index('run')+1:c.index('server.ts')]))" "$1"
}
declare -A times
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null || true' EXIT
out=$(mktemp)
for _ in $(seq "$N"); do
  for dir in "$@"; do
    : > "$out"
    # shellcheck disable=SC2046
    taskset -c 0 env -i "PATH=$PATH" "HOME=$HOME" deno run $(flags "$dir") "$dir/server.ts" \
      --host 127.0.0.1 --port "$PORT" --db "$DB" > "$out" 2>&1 &
    PID=$!
    for _ in $(seq 6000); do grep -q "listening on" "$out" && break; sleep 0.005; done
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$PID/stat")
    kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
    times[$dir]="${times[$dir]:-} $cpu"
  done
done
rm -f "$out"
for dir in "$@"; do
  echo "$dir:${times[$dir]}" | python3 -c "
import statistics,sys
name,values=sys.stdin.read().rsplit(':',1); v=[float(x) for x in values.split()]
print(f'{name:30s} CPU to the ready line: min {min(v):.2f} s, median {statistics.median(v):.2f} s ({\" \".join(map(str,v))})')"
done
