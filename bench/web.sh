#!/bin/bash
# GetFeature over every protocol the port serves, by h2load, beside the
# connect-node reference server (connect-es on Node.js), in one run: each
# server pinned to CPU 0, h2load to CPU 1, the server's CPU time per request
# from /proc/PID/stat around each run. Prints requests/s, the server's µs of
# CPU per request, and each protocol's ratio to our gRPC path.
#
#   CONNECT_NODE=../shared/peers/connect-node/server.mjs GO_SERVER=../shared/peers/go/bin/server \
#   NODE_SERVER=../shared/peers/node/server.js bench/web.sh DB SECONDS ROUNDS
#
# Servers whose variable is unset are left out; BEFORE=DIR adds an earlier
# checkout of ours (its gRPC path only; with BEFORE_ALL=1 every protocol, for
# a checkout that serves them). h2load: 1 connection, 16 streams
# (HTTP/2) or 16 connections (HTTP/1.1, which has one request at a time per
# connection).
set -euo pipefail
DB=$(realpath "$1"); DUR=$2; ROUNDS=$3
BASE=${BASE:-50260}
HERE=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
declare -a NAMES PORTS PIDS
trap 'kill "${PIDS[@]}" 2>/dev/null || true; rm -rf "$TMP"' EXIT

# The request bodies: the first feature of DB, as each protocol frames it.
python3 - "$DB" "$TMP" <<'PY'
import json, struct, sys, base64
db, out = sys.argv[1], sys.argv[2]
loc = json.load(open(db))[0]["location"]
def varint(n):
    n &= (1 << 64) - 1
    b = bytearray()
    while True:
        if n < 0x80:
            b.append(n); return bytes(b)
        b.append((n & 0x7F) | 0x80); n >>= 7
point = b"\x08" + varint(loc["latitude"]) + b"\x10" + varint(loc["longitude"])
env = b"\x00" + struct.pack(">I", len(point)) + point
js = json.dumps({"latitude": loc["latitude"], "longitude": loc["longitude"]}).encode()
jenv = b"\x00" + struct.pack(">I", len(js)) + js
for name, body in {"grpc": env, "proto": point, "json": js, "jenv": jenv,
                   "text": base64.b64encode(env)}.items():
    open(f"{out}/{name}.bin", "wb").write(body)
PY

server_flags() {
  python3 -c "import json,sys;c=json.load(open(sys.argv[1]))['tasks']['server']['command'].split();print(' '.join(c[c.index('run')+1:c.index('server.ts')]))" "$1/deno.json"
}
start() { # name port dir command...
  local name=$1 port=$2 dir=$3; shift 3
  (cd "$dir" && exec taskset -c 0 "$@" > /dev/null 2> "/tmp/web_bench_$name.log") &
  NAMES+=("$name"); PORTS+=("$port"); PIDS+=("$!")
}
start_deno() { # name port dir
  # shellcheck disable=SC2046
  start "$1" "$2" "$3" deno run $(server_flags "$3") server.ts --host 127.0.0.1 --port "$2" --db "$DB"
}
start_deno ours $((BASE + 1)) "$HERE"
[ -n "${BEFORE:-}" ] && start_deno before $((BASE + 2)) "$(realpath "$BEFORE")"
if [ -n "${CONNECT_NODE:-}" ]; then
  start connect-node $((BASE + 3)) "$HERE" node "$(realpath "$CONNECT_NODE")" \
    --host 127.0.0.1 --port $((BASE + 3)) --db "$DB" --proto "$HERE/protos/route_guide.proto"
fi
[ -n "${NODE_SERVER:-}" ] && start node-peer $((BASE + 4)) "$HERE" node "$(realpath "$NODE_SERVER")" --port $((BASE + 4)) --db "$DB"
[ -n "${GO_SERVER:-}" ] && start go-peer $((BASE + 5)) "$HERE" "$(realpath "$GO_SERVER")" --port $((BASE + 5)) --db "$DB"
for port in "${PORTS[@]}"; do
  for _ in $(seq 300); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
done
sleep 1

# protocol name, body file, h2load flags (HTTP/1.1 runs add --h1 and 16 clients).
PROTOCOLS=(
  "grpc|grpc|-H content-type:application/grpc -H te:trailers"
  "grpc-web|grpc|-H content-type:application/grpc-web+proto"
  "grpc-web-text|text|-H content-type:application/grpc-web-text"
  "connect-proto|proto|-H content-type:application/proto"
  "connect-json|json|-H content-type:application/json"
  "grpc-json|jenv|-H content-type:application/grpc+json -H te:trailers"
)
serves() { # server protocol http
  case "$1/$2" in
    node-peer/grpc | go-peer/grpc | before/grpc) [ "$3" = h2 ] ;;
    before/grpc-json) [ -n "${BEFORE_ALL:-}" ] && [ "$3" = h2 ] ;;
    before/*) [ -n "${BEFORE_ALL:-}" ] ;;
    node-peer/* | go-peer/*) return 1 ;;
    */grpc | */grpc-json) [ "$3" = h2 ] ;;
    *) return 0 ;;
  esac
}
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
for r in $(seq "$ROUNDS"); do
  for http in h2 h1; do
    for entry in "${PROTOCOLS[@]}"; do
      IFS='|' read -r proto body flags <<<"$entry"
      for i in "${!PORTS[@]}"; do
        name=${NAMES[$i]}
        serves "$name" "$proto" "$http" || continue
        conn=(-c 1 -m 16); [ "$http" = h1 ] && conn=(--h1 -c 16 -m 1)
        url="http://127.0.0.1:${PORTS[$i]}/routeguide.RouteGuide/GetFeature"
        # shellcheck disable=SC2086
        taskset -c 1 h2load "${conn[@]}" -D 1 $flags -d "$TMP/$body.bin" "$url" > /dev/null 2>&1 || true
        t0=$(ticks "${PIDS[$i]}")
        # shellcheck disable=SC2086
        out=$(taskset -c 1 h2load "${conn[@]}" -D "$DUR" $flags -d "$TMP/$body.bin" "$url" 2>&1 || true)
        t1=$(ticks "${PIDS[$i]}")
        python3 - "$r" "$proto" "$http" "$name" "$((t1 - t0))" "$hz" "$DUR" >> "$TMP/results.tsv" <<PY
import re, sys
r, proto, http, name, ticks, hz, dur = sys.argv[1:]
out = """$out"""
m = re.search(r"requests: \\d+ total, \\d+ started, \\d+ done, (\\d+) succeeded, (\\d+) failed", out)
st = re.search(r"status codes: (\\d+) 2xx", out)
done = int(m.group(1)) if m else 0
failed = int(m.group(2)) if m else -1
ok2xx = int(st.group(1)) if st else 0
per = int(ticks) / int(hz) * 1e6 / done if done else 0
print("\\t".join(map(str, [r, proto, http, name, done / int(dur), per, failed, ok2xx, done])))
PY
      done
    done
  done
done
# Each row beside our gRPC path (h2) and beside connect-node's same protocol, in the same round.
python3 - "$TMP/results.tsv" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
per = {(r, p, h, n): float(c) for r, p, h, n, _, c, *_ in rows}
print("%-5s %-14s %-4s %-13s %9s %10s %8s %8s" % ("round", "protocol", "http", "server", "req/s", "µs cpu/req", "÷ours", "÷c-node"))
for r, p, h, n, rate, cpu, failed, ok, done in rows:
    base = per.get((r, "grpc", "h2", "ours"))
    cn = per.get((r, p, h, "connect-node"))
    note = "" if failed == "0" and int(ok) >= int(done) else "  (%s failed, %s of %s 2xx)" % (failed, ok, done)
    print("%-5s %-14s %-4s %-13s %9.0f %10.1f %8s %8s%s" % (r, p, h, n, float(rate), float(cpu),
        "%.2f" % (float(cpu) / base) if base and float(cpu) else "",
        "%.2f" % (float(cpu) / cn) if cn and n != "connect-node" and float(cpu) else "", note))
PY
