#!/usr/bin/python3
"""Conformance test of our C Lambda runtime (functions/runtime, through the
real functions/hello bootstrap) against the Lambda Runtime API as documented
(docs: protocols.md section 1, aws-facts.md 5.4).

A small Runtime API server (http.server, HTTP/1.1 keep-alive, 127.0.0.1 on a
free port) plays the part of Lambda / RIE / stackd: it hands out queued
events on GET /2018-06-01/runtime/invocation/next with the documented
headers, and records what the runtime posts to .../{id}/response,
.../{id}/error and /init/error. Each case spawns the binary with
AWS_LAMBDA_RUNTIME_API and the other AWS variables and checks the wire
traffic and the JSON lines (logs and EMF) on its stdout.

Usage: runtime_api_conformance.py BOOTSTRAP CASE   (CASE: see CASES below)
Prints "N passed, N failed"; exits non-zero when a check failed.
"""
import base64
import http.server
import json
import os
import queue
import re
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import uuid

PREFIX = "/2018-06-01/runtime/"
ERROR_TYPE_RE = re.compile(r"^(Runtime|Function)\.[A-Z][a-zA-Z]+$")
VALID_UNITS = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
    "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
    "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}
STOP = object()  # queued: answer /next with 500 (the runtime must exit)
WAIT_S = 30      # upper bound for any single wait on the runtime

passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what, file=sys.stderr)
    return cond


class RuntimeAPI:
    """State shared by the server threads and the test."""

    def __init__(self):
        self.events = queue.Queue()
        self.lock = threading.Condition()
        self.results = {}        # request id -> {"kind", "body", "headers"}
        self.init_errors = []    # {"body", "headers"}
        self.served = {}         # request id -> monotonic time /next returned it
        self.next_times = []     # monotonic time of each /next request
        self.peers = set()       # client (host, port): one per TCP connection
        self.reject_ids = set()  # answer these ids' POSTs with 400 InvalidRequestID
        self.bad_posts = []      # protocol violations seen on POSTs

    def wait_for(self, pred, timeout=WAIT_S):
        deadline = time.monotonic() + timeout
        with self.lock:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(left)
            return True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Lambda's Runtime API

    def setup(self):
        super().setup()
        # Headers and body go out in two writes; without NODELAY, Nagle plus
        # the client's delayed ACK add ~40 ms to every exchange.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, obj, headers=None):
        data = json.dumps(obj).encode() if obj is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        api = self.server.api
        with api.lock:
            api.peers.add(self.client_address)
            api.next_times.append(time.monotonic())
            api.lock.notify_all()
        if self.path != PREFIX + "invocation/next":
            return self.reply(404, {"errorMessage": "no route", "errorType": "NotFound"})
        try:
            ev = api.events.get(timeout=WAIT_S * 2)
        except queue.Empty:
            ev = STOP
        if ev is STOP:
            return self.reply(500, {"errorMessage": "stop", "errorType": "InternalServerError"})
        rid, payload, hdrs = ev
        with api.lock:
            api.served[rid] = time.monotonic()
            api.lock.notify_all()
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", rid)
        for k, v in hdrs.items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        api = self.server.api
        with api.lock:
            api.peers.add(self.client_address)
        if "Content-Length" not in self.headers or "Transfer-Encoding" in self.headers:
            api.bad_posts.append("no Content-Length on " + self.path)
        if "Expect" in self.headers:
            api.bad_posts.append("Expect header on " + self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        hdrs = {k.lower(): v for k, v in self.headers.items()}
        if self.path == PREFIX + "init/error":
            with api.lock:
                state_ok = not api.next_times
                api.init_errors.append({"body": body, "headers": hdrs})
                api.lock.notify_all()
            if not state_ok:
                return self.reply(403, {"errorMessage": "init error after /next",
                                        "errorType": "InvalidStateTransition"})
            return self.reply(202, {"status": "OK"})
        m = re.match("^" + re.escape(PREFIX) + r"invocation/([^/]+)/(response|error)$", self.path)
        if not m:
            return self.reply(404, {"errorMessage": "no route", "errorType": "NotFound"})
        rid, kind = m.group(1), m.group(2)
        with api.lock:
            known = rid in api.served and rid not in api.results
            if known:
                api.results[rid] = {"kind": kind, "body": body, "headers": hdrs,
                                    "t": time.monotonic()}
                api.lock.notify_all()
        if not known or rid in api.reject_ids:
            return self.reply(400, {"errorMessage": "Invalid request ID",
                                    "errorType": "InvalidRequestID"})
        self.reply(202, {"status": "OK"})


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_server():
    srv = Server(("127.0.0.1", 0), Handler)
    srv.api = RuntimeAPI()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def spawn(bootstrap, port, extra_env=None, runtime_api=True):
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_LAMBDA_FUNCTION_NAME": "hello",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/hello",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/22/[$LATEST]" + uuid.uuid4().hex,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "_HANDLER": "hello",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": os.path.dirname(bootstrap),
        "_X_AMZN_TRACE_ID": "Root=1-00000000-stale;Parent=0;Sampled=0",  # must be replaced
    }
    if runtime_api:
        env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:%d" % port
    env.update(extra_env or {})
    proc = subprocess.Popen([bootstrap], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out = {"stdout": [], "stderr": []}

    def pump(stream, key):
        for line in iter(stream.readline, b""):
            out[key].append(line)

    threads = [threading.Thread(target=pump, args=(proc.stdout, "stdout"), daemon=True),
               threading.Thread(target=pump, args=(proc.stderr, "stderr"), daemon=True)]
    for t in threads:
        t.start()
    return proc, out, threads


def finish(proc, threads, timeout=WAIT_S):
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        rc = None
    for t in threads:
        t.join(timeout=5)
    return rc


def xray(n):
    return "Root=1-%08x-%024x;Parent=%016x;Sampled=1" % (int(time.time()), n, n)


def apigw_event(method, path, headers, body=None, b64=False):
    ev = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000", "apiId": "api1",
            "domainName": "api1.execute-api.localhost", "domainPrefix": "api1",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "conformance"},
            "requestId": "gw-" + uuid.uuid4().hex[:12], "routeKey": "$default",
            "stage": "$default", "time": "22/Nov/2026:07:00:00 +0000",
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": b64,
    }
    if body is not None:
        ev["body"] = base64.b64encode(body.encode()).decode() if b64 else body
    return ev


def sqs_event(records):
    out = []
    for mid, body, corr in records:
        out.append({
            "messageId": mid, "receiptHandle": "rh-" + mid, "body": body,
            "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183",
                           "SenderId": "000000000000",
                           "ApproximateFirstReceiveTimestamp": "1545082649185"},
            "messageAttributes": {"correlation_id": {"stringValue": corr, "stringListValues": [],
                                                     "binaryListValues": [],
                                                     "dataType": "String"}},
            "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:orders",
            "awsRegion": "us-east-1"})
    return {"Records": out}


def invoke_headers(trace=None, deadline_s=30, cc=None, cog=None):
    h = {"Lambda-Runtime-Deadline-Ms": str(int((time.time() + deadline_s) * 1000)),
         "Lambda-Runtime-Invoked-Function-Arn":
             "arn:aws:lambda:us-east-1:000000000000:function:hello"}
    if trace:
        h["Lambda-Runtime-Trace-Id"] = trace
    if cc:
        h["Lambda-Runtime-Client-Context"] = cc
    if cog:
        h["Lambda-Runtime-Cognito-Identity"] = cog
    return h


def parse_lines(out):
    docs = []
    for raw in out["stdout"]:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        try:
            docs.append(json.loads(line))
        except ValueError:
            check(False, "stdout line is not JSON: %r" % line[:200])
    return docs


def check_emf(doc):
    """The EMF specification's rules (protocols.md 9, aws-facts.md 1.1)."""
    aws = doc.get("_aws", {})
    check(isinstance(aws.get("Timestamp"), int) and aws["Timestamp"] > 1.6e12,
          "EMF _aws.Timestamp is epoch ms: %r" % aws.get("Timestamp"))
    dirs = aws.get("CloudWatchMetrics")
    if not check(isinstance(dirs, list) and dirs, "EMF has CloudWatchMetrics"):
        return
    for d in dirs:
        check(isinstance(d.get("Namespace"), str) and 1 <= len(d["Namespace"]) <= 255,
              "EMF Namespace")
        for ds in d.get("Dimensions", []):
            check(len(ds) <= 30, "EMF dimension set <= 30 keys")
            for k in ds:
                check(isinstance(doc.get(k), str), "EMF dimension %s is a root string" % k)
        metrics = d.get("Metrics", [])
        check(0 < len(metrics) <= 100, "EMF 1..100 metrics per directive")
        for m in metrics:
            check(m.get("Unit", "None") in VALID_UNITS, "EMF unit %r valid" % m.get("Unit"))
            check(m.get("StorageResolution", 60) in (1, 60), "EMF StorageResolution")
            v = doc.get(m["Name"])
            ok = isinstance(v, (int, float)) or (
                isinstance(v, list) and 0 < len(v) <= 100 and
                all(isinstance(x, (int, float)) for x in v))
            check(ok, "EMF metric %s value is a number or <= 100 numbers" % m["Name"])


# ---------------------------------------------------------------- cases

def case_invocations(bootstrap):
    srv = start_server()
    api = srv.api
    port = srv.server_address[1]
    ids = ["req-%d-%s" % (i, uuid.uuid4()) for i in range(10)]
    t1, t2 = xray(1), xray(2)
    cc = json.dumps({"client": {"installation_id": "i-1"}, "custom": {"k": "v"}})
    cog = json.dumps({"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"})
    q = api.events
    q.put((ids[0], apigw_event("GET", "/hello", {"x-correlation-id": "corr-1",
                                                  "user-agent": "t"}),
           invoke_headers(t1, cc=cc, cog=cog)))
    q.put((ids[1], apigw_event("POST", "/orders", {"X-Correlation-ID": "corr-2"},
                               body='{"item":"a"}', b64=True), invoke_headers(t2)))
    q.put((ids[2], apigw_event("GET", "/hello", {}), invoke_headers(None)))
    q.put((ids[3], apigw_event("GET", "/error", {"x-correlation-id": "corr-err"}),
           invoke_headers(xray(3))))
    q.put((ids[4], sqs_event([("m1", "ok", "c-a"), ("m2", "fail", "c-b"),
                              ("m3", "ok", "c-c")]), invoke_headers(xray(4))))
    q.put((ids[5], {"action": "echo", "correlation_id": "corr-direct"}, invoke_headers(None)))
    q.put((ids[6], {"action": "big", "bytes": 7000000}, invoke_headers(None)))
    api.reject_ids.add(ids[7])
    q.put((ids[7], {"action": "echo"}, invoke_headers(None)))
    q.put((ids[8], b"not json at all", invoke_headers(None)))
    q.put((ids[9], apigw_event("GET", "/hello", {"x-correlation-id": "corr-last"}),
           invoke_headers(xray(9))))
    q.put(STOP)

    t_spawn = time.monotonic()
    proc, out, threads = spawn(bootstrap, port)
    got_next = api.wait_for(lambda: api.next_times)
    cold_ms = (api.next_times[0] - t_spawn) * 1000 if got_next else -1
    check(got_next, "the runtime calls /next")
    print("cold start (spawn -> first /next): %.2f ms" % cold_ms)
    check(api.wait_for(lambda: len(api.results) == 10), "all 10 invocations answered")
    rc = finish(proc, threads)
    check(rc == 3, "a 500 from /next makes the runtime exit with 3 (got %r)" % rc)
    check(not api.bad_posts, "POSTs carry Content-Length, no Expect: %r" % api.bad_posts)
    check(len(api.peers) == 1,
          "one keep-alive connection for the whole loop (saw %d)" % len(api.peers))
    res = api.results

    # 1: cold API Gateway invocation, every invocation header surfaced.
    r = res.get(ids[0], {})
    check(r.get("kind") == "response", "invocation 1 posted to /response")
    resp = json.loads(r.get("body", b"{}"))
    check(resp.get("statusCode") == 200, "API GW response statusCode 200")
    check(resp.get("headers", {}).get("x-cold-start") == "1", "x-cold-start: 1 when cold")
    check(resp.get("headers", {}).get("content-type") == "application/json", "content-type")
    check(resp.get("headers", {}).get("x-correlation-id") == "corr-1", "x-correlation-id echo")
    check(resp.get("isBase64Encoded") is False, "isBase64Encoded false")
    body = json.loads(resp.get("body", "{}"))
    check(body.get("message") == "hello", "hello body")
    check(body.get("requestId") == ids[0], "request id reaches the handler")
    check(body.get("traceId") == t1, "_X_AMZN_TRACE_ID = Lambda-Runtime-Trace-Id (%r)"
          % body.get("traceId"))
    check(body.get("coldStart") is True, "handler sees cold_start on the first invocation")
    check(body.get("correlationId") == "corr-1", "correlation id from x-correlation-id")
    check(body.get("clientContext") == cc, "Lambda-Runtime-Client-Context surfaced")
    check(body.get("cognitoIdentity") == cog, "Lambda-Runtime-Cognito-Identity surfaced")
    check(body.get("functionArn") == "arn:aws:lambda:us-east-1:000000000000:function:hello",
          "Lambda-Runtime-Invoked-Function-Arn surfaced")
    check(0 < body.get("remainingMs", -1) <= 30000, "remaining time from Lambda-Runtime-"
          "Deadline-Ms: %r" % body.get("remainingMs"))
    check(body.get("method") == "GET" and body.get("path") == "/hello", "method and path")

    # 2: warm, mixed-case correlation header, new trace id.
    resp = json.loads(res.get(ids[1], {}).get("body", b"{}"))
    check(resp.get("headers", {}).get("x-cold-start") == "0", "x-cold-start: 0 when warm")
    body = json.loads(resp.get("body", "{}"))
    check(body.get("traceId") == t2, "_X_AMZN_TRACE_ID updated per invocation")
    check(body.get("correlationId") == "corr-2", "x-correlation-id matched in any case")
    check(body.get("coldStart") is False, "warm invocation is not cold")

    # 3: no trace header: the variable is unset, not left over.
    body = json.loads(json.loads(res.get(ids[2], {}).get("body", b"{}")).get("body", "{}"))
    check(body.get("traceId") is None, "_X_AMZN_TRACE_ID unset without a trace header (%r)"
          % body.get("traceId"))

    # 4: function error: /error, error-type header, standard body.
    r = res.get(ids[3], {})
    check(r.get("kind") == "error", "function error posted to /error")
    et = r.get("headers", {}).get("lambda-runtime-function-error-type", "")
    check(ERROR_TYPE_RE.match(et) is not None, "error type header %r matches the pattern" % et)
    err = json.loads(r.get("body", b"{}"))
    check(err == {"errorMessage": "error requested by the event", "errorType": "HelloError",
                  "stackTrace": []}, "standard error body: %r" % err)

    # 5: SQS partial batch failure.
    r = json.loads(res.get(ids[4], {}).get("body", b"{}"))
    check(r == {"batchItemFailures": [{"itemIdentifier": "m2"}]}, "batchItemFailures: %r" % r)

    # 6: direct invoke.
    body = json.loads(res.get(ids[5], {}).get("body", b"{}"))
    check(body.get("message") == "hello" and body.get("correlationId") == "corr-direct",
          "direct invoke answered, top-level correlation_id")

    # 7: response over 6 MB becomes Function.ResponseSizeTooLarge.
    r = res.get(ids[6], {})
    check(r.get("kind") == "error" and r.get("headers", {}).get(
        "lambda-runtime-function-error-type") == "Function.ResponseSizeTooLarge",
        "oversized response reported as Function.ResponseSizeTooLarge")

    # 8: a 400 InvalidRequestID on /response is survived (invocation 9, 10 ran).
    check(res.get(ids[8], {}).get("kind") == "response", "non-JSON event still invoked")
    body = json.loads(json.loads(res.get(ids[9], {}).get("body", b"{}")).get("body", "{}"))
    check(body.get("correlationId") == "corr-last", "loop continues after a 400")

    # stdout: JSON log lines and EMF documents.
    docs = parse_lines(out)
    logs = [d for d in docs if "level" in d]
    emf = [d for d in docs if "_aws" in d]
    check(len(logs) + len(emf) == len(docs), "stdout holds only log lines and EMF documents")
    for d in logs:
        check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", d.get("timestamp", "")),
              "log timestamp ISO 8601 ms")
        check(d.get("functionName") == "hello" and d.get("service") == "hello",
              "functionName and service on every line")
        check(d.get("level") in ("DEBUG", "INFO", "WARN", "ERROR"), "level")
        check(isinstance(d.get("message"), str), "message")
        if d.get("requestId"):
            check(d.get("coldStart") is (d["requestId"] == ids[0]),
                  "coldStart true only on the first invocation (%s)" % d["requestId"])
    by_req = {}
    for d in logs:
        by_req.setdefault(d.get("requestId"), []).append(d)
    first = [d for d in by_req.get(ids[0], []) if d.get("message") == "hello"]
    check(first and first[0].get("correlationId") == "corr-1" and first[0]["coldStart"] is True,
          "first invocation's log line: correlationId and coldStart true")
    second = [d for d in by_req.get(ids[1], []) if d.get("message") == "hello"]
    check(second and second[0].get("correlationId") == "corr-2" and
          second[0]["coldStart"] is False, "second invocation's log line: coldStart false")
    recs = {d.get("messageId"): d.get("correlationId") for d in by_req.get(ids[4], [])
            if d.get("message") == "hello record"}
    check(recs == {"m1": "c-a", "m2": "c-b", "m3": "c-c"},
          "SQS records logged with their own correlation ids: %r" % recs)
    errs = [d for d in by_req.get(ids[3], []) if d.get("level") == "ERROR"]
    check(errs and errs[0].get("errorType") == "HelloError", "function error logged")

    for d in emf:
        check_emf(d)
    cold = [d for d in emf if "ColdStart" in d]
    check(len(cold) == 1, "exactly one ColdStart EMF document (%d)" % len(cold))
    if cold:
        c = cold[0]
        dirs = c["_aws"]["CloudWatchMetrics"][0]
        check(dirs["Namespace"] == "Orders", "ColdStart namespace Orders")
        check(dirs["Dimensions"] == [["function_name", "service"]], "ColdStart dimensions")
        check(dirs["Metrics"] == [{"Name": "ColdStart", "Unit": "Count"}], "ColdStart metric")
        check(c["ColdStart"] == 1 and c["function_name"] == "hello" and c["service"] == "hello",
              "ColdStart values")
        check(abs(c["_aws"]["Timestamp"] / 1000 - time.time()) < 600, "ColdStart timestamp")
    hellos = [d for d in emf if "Hellos" in d]
    check(len(hellos) == 10, "one per-invocation EMF flush each (%d)" % len(hellos))
    check(all(d.get("service") == "hello" and d.get("requestId") in ids for d in hellos),
          "per-invocation EMF carries the service dimension and requestId")
    check(any(d.get("correlationId") == "corr-1" for d in hellos), "EMF carries correlationId")
    srv.shutdown()


def case_init_error(bootstrap):
    srv = start_server()
    api = srv.api
    proc, out, threads = spawn(bootstrap, srv.server_address[1], {"HELLO_INIT_FAIL": "1"})
    rc = finish(proc, threads)
    check(rc == 1, "init failure exits with 1 (got %r)" % rc)
    check(len(api.init_errors) == 1, "one POST /init/error")
    check(not api.next_times, "no /next after a failed init")
    if api.init_errors:
        e = api.init_errors[0]
        et = e["headers"].get("lambda-runtime-function-error-type", "")
        check(et == "Runtime.InitError", "init error type header %r" % et)
        body = json.loads(e["body"])
        check(body == {"errorMessage": "init failed on request (HELLO_INIT_FAIL=1)",
                       "errorType": "HelloInitError", "stackTrace": []},
              "init error body %r" % body)
    logs = [d for d in parse_lines(out) if d.get("level") == "ERROR"]
    check(logs and logs[0].get("message") == "init failed" and logs[0].get("coldStart") is True,
          "init failure logged")
    srv.shutdown()


def case_crash(bootstrap):
    srv = start_server()
    api = srv.api
    rid = str(uuid.uuid4())
    api.events.put((rid, apigw_event("GET", "/crash", {}), invoke_headers(None)))
    proc, out, threads = spawn(bootstrap, srv.server_address[1])
    rc = finish(proc, threads)
    check(rc == -signal.SIGABRT, "crash kills the process with SIGABRT (got %r)" % rc)
    check(rid in api.served and rid not in api.results, "a crashed invocation posts nothing")
    srv.shutdown()


def case_sleep(bootstrap):
    srv = start_server()
    api = srv.api
    rid = str(uuid.uuid4())
    api.events.put((rid, apigw_event("GET", "/sleep/300", {}), invoke_headers(None)))
    api.events.put(STOP)
    env = {"HELLO_SLEEP_MS": "50", "POWERTOOLS_METRICS_NAMESPACE": "Custom",
           "POWERTOOLS_SERVICE_NAME": "greeter", "AWS_LAMBDA_LOG_LEVEL": "debug"}
    proc, out, threads = spawn(bootstrap, srv.server_address[1], env)
    check(api.wait_for(lambda: rid in api.results), "sleeping invocation answered")
    rc = finish(proc, threads)
    check(rc == 3, "exit after 500 (got %r)" % rc)
    docs = parse_lines(out)
    ready = [d for d in docs if d.get("message") == "runtime ready"]
    check(ready and isinstance(ready[0].get("initDurationMs"), (int, float)) and
          ready[0].get("level") == "DEBUG", "AWS_LAMBDA_LOG_LEVEL=debug shows the init line")
    if ready:
        print("runtime init (rt_run entry -> first /next): %.2f ms" % ready[0]["initDurationMs"])
    cold = [d for d in docs if "ColdStart" in d]
    check(len(cold) == 1 and cold[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Custom" and
          cold[0].get("service") == "greeter" and cold[0].get("function_name") == "hello",
          "POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME honoured")
    check(all(d.get("service") == "greeter" for d in docs if "level" in d),
          "log lines carry the configured service")
    with api.lock:
        t_served = api.served.get(rid)
        t_done = api.results.get(rid, {}).get("t")
    # The handler slept 300 + 50 ms between /next and the POST. Only a lower
    # bound is checked: the machine may be loaded.
    check(t_served is not None and t_done is not None and t_done - t_served >= 0.35,
          "path sleep + HELLO_SLEEP_MS delay the response")
    srv.shutdown()


def case_api_gone(bootstrap):
    # Nothing listens on the port: /next fails 3 times in a row -> exit 3.
    srv = start_server()
    port = srv.server_address[1]
    srv.shutdown()
    srv.server_close()
    t0 = time.monotonic()
    proc, out, threads = spawn(bootstrap, port)
    rc = finish(proc, threads)
    check(rc == 3, "runtime exits with 3 when the Runtime API is unreachable (got %r)" % rc)
    check(time.monotonic() - t0 < WAIT_S, "and does so promptly")


def case_no_runtime_api(bootstrap):
    proc, out, threads = spawn(bootstrap, 0, runtime_api=False)
    rc = finish(proc, threads)
    check(rc == 2, "exit 2 without AWS_LAMBDA_RUNTIME_API (got %r)" % rc)
    err = b"".join(out["stderr"]).decode()
    check("AWS_LAMBDA_RUNTIME_API" in err, "stderr names the missing variable")


CASES = {
    "invocations": case_invocations,
    "init_error": case_init_error,
    "crash": case_crash,
    "sleep": case_sleep,
    "api_gone": case_api_gone,
    "no_runtime_api": case_no_runtime_api,
}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        print("usage: %s BOOTSTRAP {%s}" % (sys.argv[0], "|".join(CASES)), file=sys.stderr)
        return 2
    CASES[sys.argv[2]](sys.argv[1])
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
