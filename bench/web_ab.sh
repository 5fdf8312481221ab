#!/bin/bash
# Two checkouts of ours, A and B, side by side on one protocol: each server
# pinned to CPU 0, h2load to CPU 1, in alternating rounds (1 s warm-up, then
# SECONDS of load), printing the server's µs of CPU per request (from
# /proc/PID/stat) and the requests done, per round. For A/B runs of one
# change on a busy machine, where only alternating rounds compare.
#
#   bench/web_ab.sh DB SECONDS ROUNDS BODY "h2load flags" DIR_A DIR_B
#   bench/web_ab.sh /tmp/db1k.json 3 5 proto.bin "--h1 -c 16 -m 1 -H content-type:application/proto" . /tmp/before
#
# BODY is a request body file as bench/web.sh makes them (the first
# feature's point, framed as the protocol wants).
set -euo pipefail
DB=$(realpath "$1"); DUR=$2; ROUNDS=$3; BODY=$(realpath "$4"); FLAGS=$5
DIRS=("$(realpath "$6")" "$(realpath "$7")")
BASE=${BASE:-50310}
declare -a PIDS
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT
server_flags() {
  python3 -c "import json,sys;c=json.load(open(sys.argv[1]))['tasks']['server']['command'].split();print(' '.join(c[c.index('run')+1:c.index('server.ts')]))" "$1/deno.json"
}
for i in 0 1; do
  # shellcheck disable=SC2046
  (cd "${DIRS[$i]}" && exec taskset -c 0 deno run $(server_flags "${DIRS[$i]}") server.ts \
    --host 127.0.0.1 --port $((BASE + i)) --db "$DB" > /dev/null 2>&1) &
  PIDS+=("$!")
done
for i in 0 1; do
  for _ in $(seq 300); do (echo > "/dev/tcp/127.0.0.1/$((BASE + i))") 2>/dev/null && break; sleep 0.1; done
done
sleep 1
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
echo "round server µs-cpu/req done"
for r in $(seq "$ROUNDS"); do
  for i in 0 1; do
    url="http://127.0.0.1:$((BASE + i))/routeguide.RouteGuide/GetFeature"
    # shellcheck disable=SC2086
    taskset -c 1 h2load $FLAGS -D 1 -d "$BODY" "$url" > /dev/null 2>&1 || true
    t0=$(ticks "${PIDS[$i]}")
    # shellcheck disable=SC2086
    out=$(taskset -c 1 h2load $FLAGS -D "$DUR" -d "$BODY" "$url" 2>&1 || true)
    t1=$(ticks "${PIDS[$i]}")
    done_=$(echo "$out" | sed -n 's/.* \([0-9]*\) succeeded.*/\1/p')
    python3 -c "import sys;t,h,d=map(int,sys.argv[1:4]);print(sys.argv[4],sys.argv[5],'%.1f'%(t/h*1e6/d if d else 0),d)" \
      "$((t1 - t0))" "$hz" "${done_:-0}" "$r" "$([ $i = 0 ] && echo A || echo B)"
  done
done
