#!/usr/bin/env python3
"""stackd_bench.py: hello-world cold start, warm invoke overhead through the
HTTP API, and maximum warm invocations/s (wrk), against a real stackd.

  /usr/bin/python3 bench/stackd/stackd_bench.py [--build build] [--memory 1769]
      [--cold 20] [--seconds 5] [--conns 1,4,16,64] [--no-cgroups]

Cold start: the function configuration is bumped (retiring the environment)
before each of --cold invocations; reports the Init Duration (spawn to the
first /next) and the client-observed latency of that cold invocation.
Warm overhead: wrk -c1 p50 latency through the HTTP API minus the median
REPORT Duration of the same invocations (the function's own time).
Throughput: wrk -t2 -cN for --seconds, per connection count.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../tests/integration/stackd_lambda"))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))] if xs else float("nan")


def report_durations(sd, since_ms):
    """(Duration ms, Init Duration ms or None) of REPORT lines since since_ms."""
    out, token = [], None
    for _ in range(200):
        req = {"logGroupName": "/aws/lambda/hello", "filterPattern": "\"REPORT RequestId\"",
               "startTime": since_ms, "limit": 10000}
        if token:
            req["nextToken"] = token
        st, _, body = sd.request("POST", "/", json.dumps(req).encode(),
                                 {"X-Amz-Target": "Logs_20140328.FilterLogEvents",
                                  "Content-Type": "application/x-amz-json-1.1"})
        if st != 200:
            break
        j = json.loads(body)
        for e in j.get("events", []):
            m = re.search(r"\tDuration: ([0-9.]+) ms", e["message"])
            i = re.search(r"Init Duration: ([0-9.]+) ms", e["message"])
            if m:
                out.append((float(m.group(1)), float(i.group(1)) if i else None))
        token = j.get("nextToken")
        if not token:
            break
    return out


def wrk(port, conns, seconds, threads):
    r = subprocess.run(["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--latency",
                        "http://127.0.0.1:%d/hello" % port], capture_output=True, text=True,
                       timeout=seconds + 60)
    txt = r.stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", txt).group(1))
    lat = {}
    for p in ("50", "99"):
        m = re.search(r"\s%s%%\s+([0-9.]+)(us|ms|s)" % p, txt)
        if m:
            v = float(m.group(1))
            lat[p] = v / 1000.0 if m.group(2) == "us" else (v * 1000.0 if m.group(2) == "s" else v)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", txt)
    return rps, lat, int(non2xx.group(1)) if non2xx else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "../../build"))
    ap.add_argument("--memory", type=int, default=1769)
    ap.add_argument("--cold", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--conns", default="1,4,16,64")
    ap.add_argument("--no-cgroups", action="store_true")
    a = ap.parse_args()
    os.environ["LG_BINARY_DIR"] = os.path.abspath(a.build)
    import stackd_fixture
    stackd_fixture.STACKD = os.path.join(os.environ["LG_BINARY_DIR"], "deploy/local/stackd")
    stackd_fixture.HELLO = os.path.join(os.environ["LG_BINARY_DIR"], "functions/hello/bootstrap")
    stack = """
functions:
  hello:
    bootstrap: @HELLO@
    memory_mb: %d
    timeout: 30s
http_api:
  routes:
    "GET /hello": hello
""" % a.memory
    args = ["--no-cgroups"] if a.no_cgroups else []
    print("load average before: %s" % open("/proc/loadavg").read().strip())
    with stackd_fixture.Stackd(stack, args) as sd:
        # Cold starts.
        inits, colds = [], []
        for i in range(a.cold):
            sd.request("PUT", "/2015-03-31/functions/hello/configuration",
                       json.dumps({"Timeout": 30 if i % 2 else 29}).encode())
            t0 = time.perf_counter()
            st, hd, body, log = sd.invoke("hello", b"{}")
            colds.append((time.perf_counter() - t0) * 1000)
            m = re.search(r"Init Duration: ([0-9.]+) ms", log)
            if st == 200 and m:
                inits.append(float(m.group(1)))
        print("cold start (n=%d): Init Duration p50 %.2f ms p90 %.2f ms; cold invoke latency p50 %.2f ms p90 %.2f ms"
              % (len(inits), pct(inits, 50), pct(inits, 90), pct(colds, 50), pct(colds, 90)))
        sd.request("GET", "/hello")  # warm the environment used by wrk -c1
        since = int(time.time() * 1000)
        rps, lat, bad = wrk(sd.port, 1, a.seconds, 1)
        durs = [d for d, i in report_durations(sd, since) if i is None]
        fn_p50 = pct(durs, 50)
        print("warm, 1 connection: %.0f req/s, latency p50 %.3f ms p99 %.3f ms; function Duration p50 %.3f ms "
              "(n=%d); added overhead p50 %.0f us" % (rps, lat.get("50", 0), lat.get("99", 0), fn_p50, len(durs),
                                                     (lat.get("50", 0) - fn_p50) * 1000))
        for c in [int(x) for x in a.conns.split(",") if x and int(x) > 1]:
            rps, lat, bad = wrk(sd.port, c, a.seconds, 2)
            print("warm, %d connections: %.0f req/s, p50 %.3f ms p99 %.3f ms, non-2xx %d"
                  % (c, rps, lat.get("50", 0), lat.get("99", 0), bad))
    print("load average after: %s" % open("/proc/loadavg").read().strip())


if __name__ == "__main__":
    main()
