#!/usr/bin/env bash
# bench/ws-client/run.sh: WebSocket sessions held, open rate and memory per
# session for loadgen's lg_wsc (ws_client_bench) and Artillery's ws engine, in
# the same run, against (a) bench/ws-client/ws_echo and (b) stackd's WebSocket
# API (deploy/local/stack.yaml: $connect -> ws-connect, subscribe ->
# ws-default). Both clients are watched the same way from outside by
# sample.py (established connections to the server port, client VmRSS).
# Clients run on CPU 0, the server on CPU 1. Results: one JSON line per run
# in $RES/results.jsonl, plus a table on stdout. See docs/bench-loadgen-ws.md.
#
#   BUILD=build-wsc ART=/tmp/artillery/node_modules/.bin/artillery \
#     ECHO_NS="1000 15000" STACKD_NS="1000 5000" REPS=2 bench/ws-client/run.sh
#
# Artillery is installed outside the repo (docs/bench-loadgen-ws.md) and always
# runs with the no-telemetry preload (/work/shared/docs/peers.md).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
case $BUILD in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
ART=${ART:-/tmp/artillery/node_modules/.bin/artillery}
NOTEL=${NOTEL:-/work/shared/peers/no-telemetry.js}
RES=${RES:-/tmp/ws-client-bench}
ECHO_NS=${ECHO_NS-"1000 15000"}
STACKD_NS=${STACKD_NS-"1000 5000"}
REPS=${REPS:-1}
HOLD=${HOLD:-15}
SOURCES=${SOURCES:-8}
TOOLS=${TOOLS:-"lg_wsc artillery"}
mkdir -p "$RES"
ulimit -n "$(ulimit -Hn)"
BENCH=$BUILD/bench/ws-client/ws_client_bench
ECHO=$BUILD/bench/ws-client/ws_echo
STACKD=$BUILD/deploy/local/stackd
for f in "$BENCH" "$ECHO" "$STACKD" "$ART" "$NOTEL"; do
  [ -e "$f" ] || { echo "run.sh: missing $f" >&2; exit 2; }
done

SRV=""
start_echo() {  # -> PORT
  rm -f "$RES/port"
  taskset -c 1 "$ECHO" --port 0 --port-file "$RES/port" & SRV=$!
  for _ in $(seq 100); do [ -s "$RES/port" ] && break; sleep 0.05; done
  PORT=$(cat "$RES/port")
}
start_stackd() {  # -> PORT; deploy/local/stack.yaml without $connect/$disconnect
  rm -rf "$RES/stackd" && mkdir -p "$RES/stackd"
  sed -e '/^ *\$connect:/d' -e '/^ *\$disconnect:/d' "$TOP/deploy/local/stack.yaml" \
    > "$RES/stack.yaml"
  LG_BINARY_DIR=$BUILD taskset -c 1 "$STACKD" --stack "$RES/stack.yaml" --port 0 \
    --port-file "$RES/stackd/port" --data-dir "$RES/stackd/data" > "$RES/stackd/log" 2>&1 & SRV=$!
  for _ in $(seq 200); do [ -s "$RES/stackd/port" ] && break; sleep 0.05; done
  PORT=$(cat "$RES/stackd/port")
}
stop_server() { kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; SRV=""; }
trap 'stop_server' EXIT

run_one() {  # target n tool rep
  local target=$1 n=$2 tool=$3 rep=$4 msg path pid out
  if [ "$target" = echo ]; then start_echo; msg=hello; path=/;
  else start_stackd; msg=""; path=/prod; fi
  local load; load=$(cut -d' ' -f1-3 /proc/loadavg)
  out=$RES/$target-$tool-$n.$rep
  local cmd
  if [ "$tool" = lg_wsc ]; then
    cmd=(taskset -c 0 "$BENCH" --url "ws://127.0.0.1:$PORT$path" --sessions "$n"
         --sources "$SOURCES" --hold "$HOLD" --json)
    [ -n "$msg" ] && cmd+=(--send "$msg")
  else
    {
      printf 'config:\n  target: "ws://127.0.0.1:%s%s"\n' "$PORT" "$path"
      printf '  phases:\n    - duration: 1\n      arrivalCount: %s\n' "$n"
      printf 'scenarios:\n  - engine: ws\n    flow:\n'
      [ -n "$msg" ] && printf "      - send: '%s'\n" "$msg"
      # every VU thinks from its own start: add the time Artillery needs to
      # open them all (about 1,000/s here) so that all N overlap in the hold
      printf '      - think: %s\n' "$((HOLD + n / 1000))"
    } > "$out.yml"
    cmd=(env ARTILLERY_DISABLE_TELEMETRY=true taskset -c 0 node -r "$NOTEL" "$ART" run "$out.yml")
  fi
  python3 "$HERE/sample.py" --port "$PORT" --n "$n" --hold "$HOLD" --timeout $((HOLD + 120)) \
    --out "$out.out" -- "${cmd[@]}" > "$out.sample.json"
  stop_server
  python3 - "$out.sample.json" "$target" "$tool" "$n" "$rep" "$load" >> "$RES/results.jsonl" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d.update(target=sys.argv[2], tool=sys.argv[3], n=int(sys.argv[4]), rep=int(sys.argv[5]),
         loadavg=sys.argv[6])
print(json.dumps(d))
EOF
  tail -1 "$RES/results.jsonl"
  sleep 2
}

for rep in $(seq 1 "$REPS"); do
  for n in $ECHO_NS; do for tool in $TOOLS; do run_one echo "$n" "$tool" "$rep"; done; done
  for n in $STACKD_NS; do for tool in $TOOLS; do run_one stackd "$n" "$tool" "$rep"; done; done
done
python3 - "$RES/results.jsonl" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| target | N | tool | rep | held | open/s | RSS before -> full (KB) | B/session | peak RSS MB | load avg |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print("| %s | %d | %s | %d | %s | %s | %s -> %s | %s | %.0f | %s |" % (
        r["target"], r["n"], r["tool"], r["rep"], r.get("held"), r.get("open_per_s", "-"),
        r.get("rss_before_kb"), r.get("rss_full_kb"), r.get("bytes_per_session", "-"),
        (r.get("peak_rss_kb") or 0) / 1024, r["loadavg"]))
EOF
