#!/bin/sh
# bench/loadgen/peers.sh: loadgen against nginx next to other load generators,
# interleaved per repetition (peer, loadgen, peer, loadgen, ...). nginx: one
# worker pinned to CPU 1 (private config, free 127.0.0.1 port, temp dir);
# every loader pinned to CPU 0.
#   a. saturation, 1,000 connections: wrk -t1 -c1000 vs loadgen closed model,
#      1,000 users, 1,000 connections, one worker
#   b. CPU per request at a fixed 5,000 req/s: h2load --h1 -t1 -c50 --rps=100
#      (h2load's rate is per client) vs loadgen open model 5,000/s, 50 connections
#      (default, and with each timer_slack in SLACKS)
#   c. saturation, 64 connections: autocannon -c 64 (node_modules/.bin, from the
#      root package.json) vs loadgen closed model, 64 users
# loadgen runs with everything on (CO correction, correlation IDs + traceparent,
# two endpoints, per-second histograms). Each row carries the 1-minute load
# average at its start and end (the machine may be shared).
# Env: LOADGEN (default build/loadgen/loadgen), REPS (3), DUR (10), OUT
#      (/tmp/lg-peers), ONLY (a|b|c, default all), ENGINE (http.engine for every
#      loadgen run: lean, curl or auto; empty: the scenario default), SLACKS
#      (timer_slack values for extra rows in b, default "1ms"; e.g. "1ms 5ms").
#      Prints markdown tables.
set -eu
LOADGEN=${LOADGEN:-build/loadgen/loadgen}
REPS=${REPS:-3}
DUR=${DUR:-10}
OUT=${OUT:-/tmp/lg-peers}
ONLY=${ONLY:-abc}
ENGINE=${ENGINE-lean}
SLACKS=${SLACKS-1ms}
SETENG=""
[ -n "$ENGINE" ] && SETENG="--set http.engine=$ENGINE"
NGINX=${NGINX:-/usr/sbin/nginx}
AUTOCANNON=${AUTOCANNON:-node_modules/.bin/autocannon}
mkdir -p "$OUT"
T=$(mktemp -d /tmp/lg-peers-nginx.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$T/logs" "$T/t"
cat > "$T/nginx.conf" <<CONF
worker_processes 1;
worker_cpu_affinity 10;
worker_rlimit_nofile 20000;
pid $T/nginx.pid;
error_log $T/logs/error.log warn;
daemon on;
events { worker_connections 19000; use epoll; multi_accept on; }
http {
    access_log off;
    client_body_temp_path $T/t/body;
    proxy_temp_path $T/t/proxy;
    fastcgi_temp_path $T/t/fcgi;
    uwsgi_temp_path $T/t/uwsgi;
    scgi_temp_path $T/t/scgi;
    keepalive_timeout 120s;
    keepalive_requests 100000000;
    default_type application/json;
    server {
        listen 127.0.0.1:$PORT backlog=65535;
        location / { return 200 '{"ok":true}'; }
    }
}
CONF
"$NGINX" -c "$T/nginx.conf" -p "$T"
trap 'kill $(cat "$T/nginx.pid") 2>/dev/null; rm -rf "$T"' EXIT INT TERM
sleep 0.5
URL=http://127.0.0.1:$PORT
REQS="requests:
  - {name: home, path: /, weight: 3}
  - {name: item, path: '/items/{{rand_int 1 1000}}', weight: 1}"
printf '%s\n' "target: $URL
executor: closed
vus: 1000
lag_tolerance: 1s
http: {connections: 1000}
phases: [{duration: ${DUR}s}]
$REQS" > "$OUT/c1000.yaml"
printf '%s\n' "target: $URL
http: {connections: 50}
phases: [{duration: ${DUR}s, rate: 5000/s}]
$REQS" > "$OUT/r5000.yaml"
printf '%s\n' "target: $URL
executor: closed
vus: 64
lag_tolerance: 1s
http: {connections: 64}
phases: [{duration: ${DUR}s}]
$REQS" > "$OUT/c64.yaml"

HZ=$(getconf CLK_TCK)
NGW=$(pgrep -P "$(cat "$T/nginx.pid")" | head -1)
ticks() { awk '{print $14+$15}' "/proc/$NGW/stat"; }
load1() { cut -d' ' -f1 /proc/loadavg; }
timed() { # name cmd...: pinned to CPU 0; /usr/bin/time -v output, nginx CPU%, load
    n=$1; shift
    l0=$(load1); t0=$(ticks); s0=$(date +%s.%N)
    /usr/bin/time -v -o "$OUT/$n.time" taskset -c 0 "$@" > "$OUT/$n.out" 2>&1 || true
    t1=$(ticks); s1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" -v s="$s0" -v e="$s1" -v hz="$HZ" \
        'BEGIN{printf "%.0f", (b-a)/hz/(e-s)*100}' > "$OUT/$n.ngx"
    echo "$l0 -> $(load1)" > "$OUT/$n.load"
    sleep 1
}
cpu() { grep 'Percent of CPU' "$OUT/$1.time" | sed 's/.*: //; s/%//'; }
cpus() { awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$OUT/$1.time"; }
rss() { grep 'Maximum resident' "$OUT/$1.time" | sed 's/.*: //'; }
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
lgrun() { # name scenario
    rm -rf "$OUT/$1.d"
    timed "$1" "$LOADGEN" run "$OUT/$2.yaml" --workers 1 --quiet --out "$OUT/$1.d" $SETENG
}
lgrps() { js "$OUT/$1.d/summary.json" "round(d['http']['rps'])"; }
row() { # tool name rps
    echo "| $1 | $rep | $3 | $(cpu "$2") | $(rss "$2") | $(cat "$OUT/$2.ngx") | $(cat "$OUT/$2.load") |"
}
ratio() { python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; }
HDR="| tool | rep | req/s | CPU% | max RSS KB | nginx CPU% | load 1m start -> end |
|---|---|---|---|---|---|---|"

case $ONLY in *a*)
echo "## a. saturation, 1,000 connections, ${DUR}s x $REPS"
echo
echo "$HDR"
R=""
for rep in $(seq 1 "$REPS"); do
    timed wrk1k.$rep wrk -t1 -c1000 -d${DUR}s "$URL/"
    W=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk1k.$rep.out")
    row wrk wrk1k.$rep "$W"
    lgrun lg1k.$rep c1000
    L=$(lgrps lg1k.$rep)
    row loadgen lg1k.$rep "$L"
    R="$R $(ratio "$L" "$W")"
done
echo
echo "loadgen / wrk per repetition:$R (target: at least 0.2)"
echo
esac

case $ONLY in *b*)
for SL in $SLACKS; do rm -f "$OUT/slack$SL.ratios"; done
echo "## b. CPU per request at a fixed 5,000 req/s, ${DUR}s x $REPS"
echo
echo "| tool | rep | requests | CPU s (user+sys) | us CPU / request | max RSS KB | nginx CPU% | load 1m start -> end |"
echo "|---|---|---|---|---|---|---|---|"
R=""
for rep in $(seq 1 "$REPS"); do
    timed h2l.$rep h2load --h1 -t1 -c50 --rps=100 -D ${DUR} "$URL/"
    HN=$(awk '/^requests:/ {print $8}' "$OUT/h2l.$rep.out")
    HU=$(python3 -c "print('%.1f' % ($(cpus h2l.$rep) * 1e6 / max(1, $HN)))")
    echo "| h2load | $rep | $HN | $(cpus h2l.$rep) | $HU | $(rss h2l.$rep) | $(cat "$OUT/h2l.$rep.ngx") | $(cat "$OUT/h2l.$rep.load") |"
    lgrun lg5k.$rep r5000
    LN=$(js "$OUT/lg5k.$rep.d/summary.json" "d['http']['completed']")
    LU=$(python3 -c "print('%.1f' % ($(cpus lg5k.$rep) * 1e6 / max(1, $LN)))")
    echo "| loadgen | $rep | $LN | $(cpus lg5k.$rep) | $LU | $(rss lg5k.$rep) | $(cat "$OUT/lg5k.$rep.ngx") | $(cat "$OUT/lg5k.$rep.load") |"
    R="$R $(ratio "$LU" "$HU")"
    for SL in $SLACKS; do
        n=lg5ks$SL.$rep
        rm -rf "$OUT/$n.d"
        timed $n "$LOADGEN" run "$OUT/r5000.yaml" --workers 1 --quiet --out "$OUT/$n.d" --set timer_slack=$SL $SETENG
        SN=$(js "$OUT/$n.d/summary.json" "d['http']['completed']")
        SU=$(python3 -c "print('%.1f' % ($(cpus $n) * 1e6 / max(1, $SN)))")
        echo "| loadgen timer_slack=$SL | $rep | $SN | $(cpus $n) | $SU | $(rss $n) | $(cat "$OUT/$n.ngx") | $(cat "$OUT/$n.load") |"
        echo "$(ratio "$SU" "$HU")" >> "$OUT/slack$SL.ratios"
    done
done
echo
echo "loadgen / h2load CPU per request per repetition:$R (target: at most 2)"
for SL in $SLACKS; do
    echo "with timer_slack=$SL: $(tr '\n' ' ' < "$OUT/slack$SL.ratios")"
done
echo
esac

case $ONLY in *c*)
echo "## c. saturation, 64 connections, ${DUR}s x $REPS: autocannon"
echo
echo "$HDR"
R=""
for rep in $(seq 1 "$REPS"); do
    timed ac.$rep "$AUTOCANNON" -c 64 -d "$DUR" -j "$URL/"
    A=$(python3 -c "import json,sys; t=open(sys.argv[1]).read(); d=json.loads(t[t.index('{'):]); print(round(d['requests']['total'] / d['duration']))" "$OUT/ac.$rep.out")
    row autocannon ac.$rep "$A"
    lgrun lg64.$rep c64
    L=$(lgrps lg64.$rep)
    row loadgen lg64.$rep "$L"
    R="$R $(ratio "$L" "$A")"
done
echo
echo "loadgen / autocannon per repetition:$R (target: above 1)"
echo
esac
