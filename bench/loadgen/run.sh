#!/bin/sh
# bench/loadgen/run.sh: loadgen against nginx next to wrk (and hey if installed),
# in one interleaved run. nginx: one worker pinned to CPU 1 (private config on a
# free 127.0.0.1 port, temp dir, stopped at the end); every loader pinned to CPU 0.
#   1. saturation, 64 connections: req/s, CPU% and max RSS (wrk -t1 -c64; hey
#      -c 64; loadgen closed model, 64 users, no think time, one worker, with
#      CO correction, correlation IDs + traceparent and two endpoints)
#   2. rate accuracy, open model: 10k/s and 40k/s, achieved vs requested
#   3. RSS vs duration: 10k/s for DUR and for 3 x DUR
# Env: LOADGEN (binary, default build/loadgen/loadgen), REPS (3), DUR (10),
#      OUT (results dir, default /tmp/lg-bench), ENGINE (http.engine for every
#      loadgen run: lean, curl or auto; empty: the scenario default). Prints a
#      markdown summary.
set -eu
LOADGEN=${LOADGEN:-build/loadgen/loadgen}
REPS=${REPS:-3}
DUR=${DUR:-10}
OUT=${OUT:-/tmp/lg-bench}
ENGINE=${ENGINE-lean}
SETENG=""
[ -n "$ENGINE" ] && SETENG="--set http.engine=$ENGINE"
NGINX=${NGINX:-/usr/sbin/nginx}
mkdir -p "$OUT"
T=$(mktemp -d /tmp/lg-bench-nginx.XXXXXX)
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

scen() { # name body
    printf '%s\n' "$2" > "$OUT/$1.yaml"
}
scen sat "target: $URL
executor: closed
vus: 64
lag_tolerance: 1s
http: {connections: 64}
phases: [{duration: ${DUR}s}]
requests:
  - {name: home, path: /, weight: 3}
  - {name: item, path: '/items/{{rand_int 1 1000}}', weight: 1}"
for R in 10000 40000; do
    scen rate$R "target: $URL
http: {connections: 64}
phases: [{duration: ${DUR}s, rate: $R/s}]
requests:
  - {name: home, path: /, weight: 3}
  - {name: item, path: '/items/{{rand_int 1 1000}}', weight: 1}"
done
scen long "target: $URL
http: {connections: 64}
phases: [{duration: $((DUR * 3))s, rate: 10000/s}]
requests: [{name: home, path: /}]"

HZ=$(getconf CLK_TCK)
NGW=$(pgrep -P "$(cat "$T/nginx.pid")" | head -1)
ticks() { awk '{print $14+$15}' "/proc/$NGW/stat"; }
CPUS=0
timed() { # name cmd...: runs pinned to $CPUS, keeps /usr/bin/time -v output and
          # the nginx worker's CPU% over the run (100 = the target saturated)
    n=$1; shift
    t0=$(ticks); s0=$(date +%s.%N)
    /usr/bin/time -v -o "$OUT/$n.time" taskset -c $CPUS "$@" > "$OUT/$n.out" 2>&1 || true
    t1=$(ticks); s1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" -v s="$s0" -v e="$s1" -v hz="$HZ" \
        'BEGIN{printf "%.0f", (b-a)/hz/(e-s)*100}' > "$OUT/$n.ngx"
    sleep 1
}
ngx() { cat "$OUT/$1.ngx"; }
cpu() { grep 'Percent of CPU' "$1" | sed 's/.*: //; s/%//'; }
rss() { grep 'Maximum resident' "$1" | sed 's/.*: //'; }
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

echo "## saturation, 64 connections, ${DUR}s x $REPS (loaders on CPU 0, nginx on CPU 1; loadgen engine: ${ENGINE:-default})"
echo
echo "| tool | rep | req/s | CPU% | max RSS KB | nginx CPU% |"
echo "|---|---|---|---|---|---|"
for rep in $(seq 1 "$REPS"); do
    timed wrk.$rep wrk -t1 -c64 -d${DUR}s "$URL/"
    echo "| wrk | $rep | $(awk '/Requests\/sec/ {print $2}' "$OUT/wrk.$rep.out") | $(cpu "$OUT/wrk.$rep.time") | $(rss "$OUT/wrk.$rep.time") | $(ngx wrk.$rep) |"
    if command -v hey > /dev/null 2>&1; then
        timed hey.$rep env GOMAXPROCS=1 hey -cpus 1 -z ${DUR}s -c 64 "$URL/"
        echo "| hey | $rep | $(awk '/Requests\/sec/ {print $2}' "$OUT/hey.$rep.out") | $(cpu "$OUT/hey.$rep.time") | $(rss "$OUT/hey.$rep.time") | $(ngx hey.$rep) |"
    fi
    if command -v h2load > /dev/null 2>&1; then
        timed h2l.$rep h2load --h1 -t1 -c64 -D ${DUR} "$URL/"
        echo "| h2load --h1 | $rep | $(awk '/^finished in/ {print $4}' "$OUT/h2l.$rep.out") | $(cpu "$OUT/h2l.$rep.time") | $(rss "$OUT/h2l.$rep.time") | $(ngx h2l.$rep) |"
    fi
    rm -rf "$OUT/sat.$rep"
    timed lg.$rep "$LOADGEN" run "$OUT/sat.yaml" --workers 1 --quiet --out "$OUT/sat.$rep" $SETENG
    echo "| loadgen | $rep | $(js "$OUT/sat.$rep/summary.json" "round(d['http']['rps'])") | $(cpu "$OUT/lg.$rep.time") | $(rss "$OUT/lg.$rep.time") | $(ngx lg.$rep) |"
done
echo
echo "## rate accuracy, open model, ${DUR}s, one worker on CPU 0"
echo
echo "achieved = requests actually sent per second during the schedule (timeseries.jsonl,"
echo "intervals inside the ${DUR}s window); sends that waited past the window do not count."
echo
echo "| requested/s | rep | achieved/s | error | completed/s | p50 ms | p99 ms | lag p99 ms | queued | valid | CPU% | RSS KB | nginx CPU% |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
rate_row() { # requested rep workers
    R=$1 rep=$2
        rm -rf "$OUT/rate$R.$rep"
        timed rate$R.$rep "$LOADGEN" run "$OUT/rate$R.yaml" --workers $3 --quiet --out "$OUT/rate$R.$rep" $SETENG
        S="$OUT/rate$R.$rep/summary.json"
        A=$(python3 -c "
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
sent = sum(l['sent_per_s'] for l in ls if l['t'] + 1 <= $DUR)
print(round(sent / $DUR, 1))" "$OUT/rate$R.$rep/timeseries.jsonl")
        echo "| $R | $rep | $A | $(python3 -c "print('%+.2f%%' % (($A / $R - 1) * 100))") | $(js "$S" "round(d['http']['rps'],1)") | $(js "$S" "d['http']['latency']['p50']") | $(js "$S" "d['http']['latency']['p99']") | $(js "$S" "d['schedule']['lag']['p99']") | $(js "$S" "d['schedule']['queued']") | $(js "$S" "d['valid']") | $(cpu "$OUT/rate$R.$rep.time") | $(rss "$OUT/rate$R.$rep.time") | $(ngx rate$R.$rep) |"
}
for R in 10000 40000; do
    for rep in $(seq 1 "$REPS"); do
        rate_row $R $rep 1
    done
done
echo
echo "Same, 2 workers, not pinned (CPUs 0-1; nginx stays on CPU 1):"
echo
CPUS=0-1
for rep in $(seq 1 "$REPS"); do
    rate_row 40000 w2.$rep 2
done
CPUS=0
echo
echo "## RSS vs duration (10k/s, one worker)"
echo
rm -rf "$OUT/long"
timed long "$LOADGEN" run "$OUT/long.yaml" --workers 1 --quiet --out "$OUT/long" $SETENG
echo "| duration | max RSS KB |"
echo "|---|---|"
echo "| ${DUR}s | $(rss "$OUT/rate10000.1.time") |"
echo "| $((DUR * 3))s | $(rss "$OUT/long.time") |"
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
