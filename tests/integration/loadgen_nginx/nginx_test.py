#!/usr/bin/env python3
"""loadgen against nginx: nginx_test.py CASE LOADGEN NGINX

Each case starts its own nginx (generated config, free 127.0.0.1 ports, temp
dir, `daemon off`, killed at the end) and runs loadgen with a bounded timeout.
The access log records the correlation headers and the request line, so the
test sees what loadgen actually sent.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

LOADGEN = NGINX = None


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Nginx:
    def __init__(self, tmp, tls=False):
        self.tmp, self.port, self.tls_port = tmp, free_port(), free_port()
        for d in ("logs", "t"):
            os.makedirs(os.path.join(tmp, d), exist_ok=True)
        tls_block = ""
        if tls:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                            "-subj", "/CN=127.0.0.1", "-keyout", tmp + "/key.pem",
                            "-out", tmp + "/cert.pem"], check=True, capture_output=True, timeout=60)
            tls_block = """
    server {
        listen 127.0.0.1:%d ssl http2;
        ssl_certificate %s/cert.pem;
        ssl_certificate_key %s/key.pem;
        location / { return 200 '{"ok":true}'; }
    }""" % (self.tls_port, tmp, tmp)
        conf = """
worker_processes 1;
daemon off;
pid %(t)s/nginx.pid;
error_log %(t)s/logs/error.log warn;
events { worker_connections 1024; }
http {
    log_format lg '$request_method $request_uri $server_protocol $status "$http_x_correlation_id" "$http_traceparent" "$http_x_amzn_trace_id" "$http_x_user"';
    access_log %(t)s/logs/access.log lg;
    client_body_temp_path %(t)s/t/body;
    proxy_temp_path %(t)s/t/proxy;
    fastcgi_temp_path %(t)s/t/fcgi;
    uwsgi_temp_path %(t)s/t/uwsgi;
    scgi_temp_path %(t)s/t/scgi;
    keepalive_requests 1000000;
    default_type application/json;
    server {
        listen 127.0.0.1:%(p)d;
        location / { return 200 '{"ok":true}'; }
        location = /orders { return 201 '{"id":"o-42","items":[{"sku":"s-1"}]}'; }
        location /orders/ { return 200 '{"ok":true}'; }
        location /fail { return 503 'down'; }
    }%(tls)s
}
""" % {"t": tmp, "p": self.port, "tls": tls_block}
        with open(os.path.join(tmp, "nginx.conf"), "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen([NGINX, "-c", tmp + "/nginx.conf", "-p", tmp],
                                     stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        fail("nginx did not start")

    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def access(self):
        with open(os.path.join(self.tmp, "logs", "access.log")) as f:
            return f.read().splitlines()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def scenario(tmp, text, name="s.yaml"):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def loadgen(*args, timeout=60):
    return subprocess.run([LOADGEN] + list(args), capture_output=True, text=True, timeout=timeout)


def summary(out):
    with open(os.path.join(out, "summary.json")) as f:
        return json.load(f)


def expect_exit(r, code, what):
    if r.returncode != code:
        fail("%s: want exit %d, got %d\nstdout: %s\nstderr: %s" % (what, code, r.returncode,
                                                                  r.stdout[-2000:], r.stderr[-2000:]))


UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")


def case_basic(tmp):
    ng = Nginx(tmp)
    try:
        with open(os.path.join(tmp, "users.csv"), "w") as f:
            f.write("user,email\nalice,a@x\nbob,b@x\n")
        path = scenario(tmp, """# basic: mix, captures, data file, templates, correlation
name: basic
target: %s
lag_tolerance: 250ms  # validity is not the subject here; CI machines are busy
sample_requests: 100%%
warmup: 1s
correlation: {xray: true}
data: {file: users.csv}
phases:
  - {name: steady, duration: 2s, rate: 100/s}
  - {name: ramp, duration: 2s, rate: 100/s, ramp_to: 200/s, arrival: poisson}
requests:
  - name: create
    method: POST
    path: /orders
    body: {sku: "{{uuid}}", qty: "{{rand_int 1 9}}", user: "{{data.user}}"}
    expect: 201
    capture: {id: $.id, sku: "$.items[0].sku"}
  - name: get
    path: /orders/{{id}}/{{sku}}
    headers: {X-User: "{{data.user}}"}
    weight: 2
thresholds:
  - http.latency.p99 < 1s
  - http.errors.rate < 1%%
  - http{name:create}.latency.p999 < 2s
  - http{status:2xx}.latency.max < 5s
  - http.rps > 50
  - generator.lag.p50 < 1s
""" % ng.url())
        out = os.path.join(tmp, "out")
        r = loadgen("run", path, "--out", out)
        expect_exit(r, 0, "basic run")
        s = summary(out)
        for k in ("format_version", "pass", "valid", "complete", "http", "schedule", "thresholds"):
            if k not in s:
                fail("summary.json lacks %s" % k)
        if not (s["pass"] and s["valid"] and s["complete"]) or s["format_version"] != 1:
            fail("want pass/valid/complete: %s" % {k: s[k] for k in ("pass", "valid", "complete")})
        h = s["http"]
        for hk in ("latency", "latency_uncorrected", "connect", "ttfb"):
            for p in ("p50", "p90", "p99", "p99.9", "p99.99", "max", "mean"):
                if p not in h[hk]:
                    fail("http.%s lacks %s" % (hk, p))
        if set(h["endpoints"]) != {"create", "get"}:
            fail("endpoints: %s" % list(h["endpoints"]))
        if h["endpoints"]["get"]["requests"] <= 0 or h["errors"] != 0:
            fail("get requests %d, errors %d" % (h["endpoints"]["get"]["requests"], h["errors"]))
        # planned 200 + 300 recorded; Poisson varies: generous bounds
        if not 380 <= s["schedule"]["sent"] <= 620:
            fail("sent %d, planned about 500" % s["schedule"]["sent"])
        if "StartTime" not in open(os.path.join(out, "histograms.hlog")).read():
            fail("hlog header missing")
        tags = set(re.findall(r"^Tag=([^,]+),", open(os.path.join(out, "histograms.hlog")).read(), re.M))
        for t in ("http.latency", "http.latency_uncorrected", "http.latency{name:create}",
                  "http.latency{name:get}", "http.ttfb", "generator.lag", "http.latency{status:2xx}"):
            if t not in tags:
                fail("hlog lacks tag %s (has %s)" % (t, sorted(tags)))
        ts = [json.loads(l) for l in open(os.path.join(out, "timeseries.jsonl"))]
        if not 3 <= len(ts) <= 6 or "p99_ms" not in ts[0]:
            fail("timeseries: %d lines" % len(ts))
        if "# Run report" not in open(os.path.join(out, "report.md")).read():
            fail("report.md")
        if "THRESHOLDS" not in r.stdout or "✓" not in r.stdout:
            fail("human summary: %s" % r.stdout)
        lines = ng.access()
        ids = set()
        for l in lines:
            m = re.match(r'^(\S+) (\S+) (\S+) (\d+) "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)"$', l)
            if not m:
                fail("access log line: %s" % l)
            method, uri, _, status, cid, tp, xray, user = m.groups()
            if not UUID7.match(cid) or not TRACEPARENT.match(tp) or not xray.startswith("Root=1-"):
                fail("correlation headers: %s" % l)
            ids.add(cid)
            if method == "GET" and uri != "/orders/o-42/s-1":
                fail("capture not rendered: %s" % uri)
            if method == "GET" and user not in ("alice", "bob"):
                fail("data value not rendered: %s" % l)
        if len(ids) != len(lines):
            fail("correlation ids not unique: %d ids for %d requests" % (len(ids), len(lines)))
        # requests.jsonl: every recorded request, joinable with the server's log by ID
        recs = [json.loads(l) for l in open(os.path.join(out, "requests.jsonl"))]
        if len(recs) != s["schedule"]["sent"] or s["requests_log"]["lost"] != 0:
            fail("requests.jsonl has %d records for %d sent" % (len(recs), s["schedule"]["sent"]))
        if not {r["correlation_id"] for r in recs} <= ids:
            fail("requests.jsonl ids are not all in the access log")
        if any(r["endpoint"] not in ("create", "get") or r["latency_ms"] <= 0 for r in recs):
            fail("requests.jsonl record: %s" % recs[0])
        # warm-up requests reached nginx but are not recorded
        if len(lines) <= s["schedule"]["sent"]:
            fail("warm-up traffic missing: %d lines, %d recorded" % (len(lines), s["schedule"]["sent"]))
    finally:
        ng.stop()


def case_thresholds(tmp):
    ng = Nginx(tmp)
    try:
        path = scenario(tmp, """target: %s
lag_tolerance: 250ms
phases: [{duration: 2s, rate: 50/s}]
requests:
  - {name: ok, path: /}
  - {name: never, path: /x, weight: 0}
  - {name: down, path: /fail, weight: 0.2}
thresholds:
  - http.latency.p99 < 1s
  - http{name:never}.latency.p99 < 1h
  - http.errors.rate < 1%%
""" % ng.url())
        out = os.path.join(tmp, "out")
        r = loadgen("run", path, "--out", out)
        expect_exit(r, 1, "failing thresholds")
        s = summary(out)
        t = {x["threshold"]: x for x in s["thresholds"]}
        if not t["http.latency.p99 < 1s"]["pass"]:
            fail("p99 should pass")
        nv = t["http{name:never}.latency.p99 < 1h"]
        if nv["pass"] or nv["has_samples"]:
            fail("a threshold without samples must fail: %s" % nv)
        if t["http.errors.rate < 1%"]["pass"]:
            fail("errors.rate should fail (5xx responses)")
        if s["pass"] or not s["valid"] or s["http"]["counters"]["status_5xx"] <= 0:
            fail("summary pass/valid/5xx: %s" % s["http"]["counters"])
        if s["errors_sample"][0]["status"] != 503 or not UUID7.match(s["errors_sample"][0]["correlation_id"]):
            fail("errors_sample: %s" % s["errors_sample"][:1])
        if "✗" not in r.stdout:
            fail("no failure mark in the summary")
    finally:
        ng.stop()


def case_abort(tmp):
    ng = Nginx(tmp)
    try:
        path = scenario(tmp, """target: %s
lag_tolerance: 250ms
phases: [{duration: 30s, rate: 50/s}]
requests: [{name: down, path: /fail}]
thresholds:
  - {threshold: 'http.errors.rate < 1%%', abort_on_fail: true, delay: 2s}
""" % ng.url())
        out = os.path.join(tmp, "out")
        t0 = time.time()
        r = loadgen("run", path, "--out", out, "--quiet")
        took = time.time() - t0
        expect_exit(r, 1, "abort_on_fail")
        s = summary(out)
        if s["complete"] or s.get("aborted_by") != "http.errors.rate < 1%":
            fail("want complete false and aborted_by: %s" % s.get("aborted_by"))
        if took > 15 or took < 2:
            fail("abort after the 2 s grace took %.1f s" % took)
    finally:
        ng.stop()


def case_sigint(tmp):
    ng = Nginx(tmp)
    try:
        path = scenario(tmp, "target: %s\nphases: [{duration: 60s, rate: 100/s}]\n"
                        "requests: [{name: a, path: /}]\n" % ng.url())
        out = os.path.join(tmp, "out")
        p = subprocess.Popen([LOADGEN, "run", path, "--out", out], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        p.send_signal(signal.SIGINT)
        try:
            so, se = p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            fail("loadgen did not stop after SIGINT")
        if p.returncode != 130:
            fail("want exit 130, got %d: %s" % (p.returncode, se))
        s = summary(out)
        if s["complete"] or not s["interrupted"] or s["http"]["requests"] < 100:
            fail("partial summary: complete %s interrupted %s requests %d" %
                 (s["complete"], s["interrupted"], s["http"]["requests"]))
        if "Tag=http.latency," not in open(os.path.join(out, "histograms.hlog")).read():
            fail("partial hlog has no intervals")
        if "INCOMPLETE" not in so:
            fail("summary should say INCOMPLETE")
    finally:
        ng.stop()


def case_unreachable(tmp):
    path = scenario(tmp, "target: http://127.0.0.1:%d\nphases: [{duration: 2s, rate: 10/s}]\n"
                    "requests: [{name: a, path: /}]\n" % free_port())
    r = loadgen("run", path, "--out", os.path.join(tmp, "out"))
    expect_exit(r, 3, "unreachable target")
    if "does not answer" not in r.stderr:
        fail("message: %s" % r.stderr)


def case_nonloopback(tmp):
    path = scenario(tmp, "target: http://192.0.2.1:9\nphases: [{duration: 2s, rate: 10/s}]\n"
                    "requests: [{name: a, path: /}]\n")
    r = loadgen("run", path, "--out", os.path.join(tmp, "out"))
    expect_exit(r, 2, "non-loopback without --yes")
    if "--yes" not in r.stderr:
        fail("message should mention --yes: %s" % r.stderr)
    r = loadgen("run", path, "--target", "ftp://x", "--out", os.path.join(tmp, "out"))
    expect_exit(r, 2, "bad target URL")


def case_validate(tmp):
    src = os.environ.get("LG_SOURCE_DIR", ".")
    for f in sorted(os.listdir(os.path.join(src, "scenarios"))):
        if f.endswith(".yaml"):
            r = loadgen("validate", os.path.join(src, "scenarios", f))
            expect_exit(r, 0, "validate scenarios/%s" % f)
    broken = {
        "unknown.yaml": ("phases: [{duration: 1s, rate: 1/s}]\nrequests: [{name: a, path: /}]\n"
                         "colour: blue\n", ":3:1: ", "colour"),
        "rate.yaml": ("phases:\n  - duration: 1s\n    rate: quick\nrequests: [{name: a, path: /}]\n",
                      ":3:11: ", "rate"),
        "tmpl.yaml": ("phases: [{duration: 1s, rate: 1/s}]\nrequests:\n  - name: a\n"
                      "    path: '/x/{{rand_int 1}}'\n", ":4:11: ", "rand_int"),
        "thresh.yaml": ("phases: [{duration: 1s, rate: 1/s}]\nrequests: [{name: a, path: /}]\n"
                        "thresholds:\n  - 'http.latency.p99 << 1s'\n", ":4:5: ", "thresholds[0]"),
        "syntax.yaml": ("phases: [{duration: 1s\nrequests: []\n", ":2:", ""),
        "dup.yaml": ("phases: [{duration: 1s, rate: 1/s}]\nphases: []\nrequests: [{name: a, path: /}]\n",
                     ":2:1: ", "phases"),
    }
    for name, (text, where, key) in broken.items():
        path = scenario(tmp, text, name)
        r = loadgen("validate", path)
        expect_exit(r, 2, "validate %s" % name)
        line = r.stderr.strip()
        if not line.startswith(path + where) or key not in line or "\n" in line:
            fail("%s: want '%s%s ... %s', got %r" % (name, path, where, key, line))
    r = loadgen("validate", os.path.join(tmp, "missing.yaml"))
    expect_exit(r, 2, "missing file")


def case_h2tls(tmp):
    ng = Nginx(tmp, tls=True)
    try:
        path = scenario(tmp, """target: https://127.0.0.1:%d
lag_tolerance: 250ms
http: {version: '2', tls_verify: false, connections: 4}
phases: [{duration: 2s, rate: 100/s}]
requests: [{name: a, path: /h2}]
thresholds: ['http.errors.rate < 1%%']
""" % ng.tls_port)
        out = os.path.join(tmp, "out")
        r = loadgen("run", path, "--out", out)
        expect_exit(r, 0, "HTTP/2 over TLS")
        protos = {l.split()[2] for l in ng.access() if " /h2 " in l}
        if protos != {"HTTP/2.0"}:
            fail("want HTTP/2.0 only, nginx saw %s" % protos)
        # with verification on, the self-signed certificate is refused
        # (every request then opens a new TLS connection that fails verification,
        # which costs libcurl enough CPU that the run may also be marked invalid)
        r = loadgen("run", path, "--set", "http.tls_verify=true", "--out", out + "2", "--quiet")
        if r.returncode not in (1, 3):
            fail("self-signed with tls_verify: want exit 1 or 3, got %d" % r.returncode)
        if summary(out + "2")["http"]["counters"]["transport_errors"] <= 0:
            fail("want transport errors with tls_verify on")
    finally:
        ng.stop()


def case_lag(tmp):
    ng = Nginx(tmp)
    try:
        path = scenario(tmp, "target: %s\nlag_tolerance: 1ns\nphases: [{duration: 2s, rate: 100/s}]\n"
                        "requests: [{name: a, path: /}]\n" % ng.url())
        out = os.path.join(tmp, "out")
        r = loadgen("run", path, "--out", out)
        expect_exit(r, 3, "lag beyond tolerance")
        s = summary(out)
        if s["valid"] or s["pass"] or "fell behind" not in s["invalid_reason"]:
            fail("want invalid with a reason: %s" % s.get("invalid_reason"))
        if "INVALID" not in r.stdout:
            fail("the summary must say INVALID")
    finally:
        ng.stop()


def case_closed(tmp):
    ng = Nginx(tmp)
    try:
        path = scenario(tmp, """target: %s
executor: closed
lag_tolerance: 250ms
vus: 4
think: 10ms
phases: [{duration: 2s}, {duration: 1s, vus: 8}]
requests: [{name: a, path: /}]
thresholds: ['http.requests.count > 100']
""" % ng.url())
        out = os.path.join(tmp, "out")
        r = loadgen("run", path, "--out", out)
        expect_exit(r, 0, "closed model")
        n = summary(out)["http"]["requests"]
        # 4 users x ~100/s each for 2 s, then 8 for 1 s: at most about 1600
        if not 100 < n < 2000:
            fail("closed model sent %d" % n)
    finally:
        ng.stop()


def case_shards(tmp):
    """150 connections in one worker run in three libcurl multi handles (64 each at
    most): every connection is opened once and used, nothing fails. The
    connection count and the duration come from nested --set keys."""
    ng = Nginx(tmp)
    try:
        path = scenario(tmp, """target: %s
executor: closed
lag_tolerance: 1s
vus: 300
http: {connections: 8}
phases: [{duration: 10s}]
requests: [{name: a, path: /}]
""" % ng.url())
        out = os.path.join(tmp, "out")
        r = loadgen("run", path, "--out", out, "--workers", "1", "--quiet",
                    "--set", "http.connections=150", "--set", "phases[0].duration=2s")
        expect_exit(r, 0, "150 connections over three multi handles")
        s = summary(out)
        if s["duration_s"] > 3:
            fail("--set phases[0].duration=2s not applied: %s" % s["duration_s"])
        if s["http"]["errors"] != 0 or s["http"]["completed"] < 300:
            fail("want no errors and at least 300 requests: %s" % s["http"]["counters"])
        if s["http"]["connect"]["count"] != 150:
            fail("want 150 connections opened once each, got %s" % s["http"]["connect"]["count"])
    finally:
        ng.stop()


def case_cli(tmp):
    for args, code, text in ((["--help"], 0, "exit codes"), (["run", "--help"], 0, "--duration"),
                             (["validate", "--help"], 0, "file:line:col"), (["--version"], 0, "loadgen"),
                             (["frobnicate"], 2, "unknown command"), (["run"], 2, "needs a scenario"),
                             (["run", "x.yaml", "--bogus"], 2, "unknown option"),
                             (["run", "x.yaml", "--duration", "soon"], 2, "--duration"),
                             ([], 2, "usage")):
        r = loadgen(*args)
        if r.returncode != code or text not in r.stdout + r.stderr:
            fail("loadgen %s: exit %d, output %r" % (" ".join(args), r.returncode,
                                                     (r.stdout + r.stderr)[:300]))
    r = loadgen("docs")
    src = os.environ.get("LG_SOURCE_DIR", ".")
    if r.returncode != 0 or r.stdout != open(os.path.join(src, "scenarios", "README.md")).read():
        fail("loadgen docs differs from scenarios/README.md")


def main():
    global LOADGEN, NGINX
    case, LOADGEN, NGINX = sys.argv[1:4]
    with tempfile.TemporaryDirectory(prefix="lg-ngx-") as tmp:
        globals()["case_" + case](tmp)
    print("PASS")


if __name__ == "__main__":
    main()
