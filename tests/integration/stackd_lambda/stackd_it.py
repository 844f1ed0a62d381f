#!/usr/bin/env python3
"""Integration tests of stackd with the real hello bootstrap (functions/hello).

Usage: stackd_it.py CASE. Each case starts its own stackd on port 0 (see
stackd_fixture.py), asserts, and always stops it.
"""
import json
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stackd_fixture import Stackd, wait_until  # noqa: E402

STACK = """
stack:
  account_concurrency: 10
  idle_reclaim: 60s
functions:
  hello:
    bootstrap: @HELLO@
    environment: {STACKD_TEST_MARKER: "@MARKER@", GREETING: "hi"}
  one:
    bootstrap: @HELLO@
    reserved_concurrency: 1
    environment: {STACKD_TEST_MARKER: "@MARKER@"}
  short:
    bootstrap: @HELLO@
    timeout: 1s
    environment: {STACKD_TEST_MARKER: "@MARKER@"}
  broken:
    bootstrap: @HELLO@
    environment: {STACKD_TEST_MARKER: "@MARKER@", HELLO_INIT_FAIL: "1"}
  missing:
    bootstrap: /nonexistent/bootstrap
http_api:
  routes:
    "GET /hello": hello
    "POST /orders": hello
    "GET /orders/{id}": hello
    "ANY /crash": hello
    "ANY /one/{proxy+}": one
    "ANY /short/{proxy+}": short
    "ANY /broken": broken
    "ANY /missing": missing
"""

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def reports(events, request_id=None):
    return [e["message"] for e in events if e["message"].startswith("REPORT ")
            and (request_id is None or request_id in e["message"])]


def case_http_api(sd):
    st, hd, body = sd.request("GET", "/hello?a=1&a=2", headers={"User-Agent": "it/1", "Cookie": "c=1"})
    check(st == 200, "GET /hello -> %d %r" % (st, body))
    check("apigw-requestid" in hd, "apigw-requestid header missing: %r" % hd)
    j = json.loads(body)
    check(j.get("path") == "/hello" and j.get("method") == "GET", "echo: %r" % j)
    st, hd, body = sd.request("POST", "/orders", b'{"item":"x"}', {"Content-Type": "application/json"})
    check(st == 200 and json.loads(body).get("method") == "POST", "POST /orders -> %d %r" % (st, body))
    st, hd, body = sd.request("GET", "/orders/42")
    check(st == 200 and json.loads(body).get("path") == "/orders/42", "GET /orders/42 -> %d" % st)
    st, hd, body = sd.request("GET", "/no/such/route")
    check(st == 404 and json.loads(body) == {"message": "Not Found"}, "no route -> %d %r" % (st, body))
    check("apigw-requestid" in hd, "404 without apigw-requestid")
    # Keep-alive and pipelining: three requests written at once on one socket.
    s = socket.create_connection(("127.0.0.1", sd.port), timeout=20)
    s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n" * 2 + b"GET /nope/x HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    deadline = time.time() + 20
    while data.count(b"HTTP/1.1 ") < 3 and time.time() < deadline:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", data)
    check(statuses == [b"200", b"200", b"404"], "pipelined statuses %r" % statuses)
    # Chunked request body reaches the function.
    c = sd.conn()
    c.putrequest("POST", "/orders")
    c.putheader("Transfer-Encoding", "chunked")
    c.putheader("Content-Type", "application/json")
    c.endheaders()
    c.send(b"4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n")
    r = c.getresponse()
    check(r.status == 200, "chunked POST -> %d" % r.status)
    r.read()
    c.close()
    # Malformed request: 400 and the connection closes.
    s = socket.create_connection(("127.0.0.1", sd.port), timeout=10)
    s.sendall(b"BROKEN\r\n\r\n")
    check(s.recv(100).startswith(b"HTTP/1.1 400"), "malformed request not answered 400")
    s.close()
    # Body over the HTTP API's 10 MB limit: 413.
    s = socket.create_connection(("127.0.0.1", sd.port), timeout=10)
    s.sendall(b"POST /orders HTTP/1.1\r\nContent-Length: 10485761\r\n\r\n")
    check(s.recv(100).startswith(b"HTTP/1.1 413"), "oversized body not answered 413")
    s.close()


def case_invoke(sd):
    st, hd, body, log = sd.invoke("hello", b'{"k":"v"}')
    check(st == 200, "invoke -> %d %r" % (st, body))
    check(hd.get("x-amz-executed-version") == "$LATEST", "X-Amz-Executed-Version: %r" % hd)
    check("x-amz-function-error" not in hd, "unexpected function error")
    rid = hd.get("x-amzn-requestid", "")
    check(json.loads(body).get("requestId") == rid, "request id mismatch %r vs %r" % (body, rid))
    check("START RequestId: %s Version: $LATEST" % rid in log, "START missing in tail: %r" % log)
    check("END RequestId: %s" % rid in log, "END missing")
    st, hd, body, _ = sd.invoke("nosuchfn")
    check(st == 404 and hd.get("x-amzn-errortype") == "ResourceNotFoundException", "unknown fn -> %d" % st)
    st, hd, body, _ = sd.invoke("hello", itype="DryRun")
    check(st == 204, "DryRun -> %d" % st)
    st, hd, body, _ = sd.invoke("hello", b'{"n":1}', itype="Event")
    check(st == 202 and body == b"", "Event -> %d %r" % (st, body))
    eid = hd.get("x-amzn-requestid", "")
    check(wait_until(lambda: any(eid in m for m in reports(sd.log_events("/aws/lambda/hello"))), 10),
          "Event invocation %s never ran" % eid)
    # A failing Event invocation is retried twice (after 1 s and 2 s): three REPORTs for its id.
    st, hd, body, _ = sd.invoke("hello", b'{"action":"error"}', itype="Event")
    eid = hd.get("x-amzn-requestid", "")
    check(wait_until(lambda: len(reports(sd.log_events("/aws/lambda/hello"), eid)) >= 3, 15),
          "failing Event invocation not retried twice: %r" % reports(sd.log_events("/aws/lambda/hello"), eid))
    time.sleep(1.5)
    check(len(reports(sd.log_events("/aws/lambda/hello"), eid)) == 3, "more than 2 retries")


def case_cold_warm(sd):
    st1, hd1, _, log1 = sd.invoke("hello")
    st2, hd2, _, log2 = sd.invoke("hello")
    check(st1 == 200 and st2 == 200, "invokes -> %d %d" % (st1, st2))
    r1 = [l for l in log1.splitlines() if l.startswith("REPORT ")]
    r2 = [l for l in log2.splitlines() if l.startswith("REPORT ")]
    check(len(r1) == 1 and "\tInit Duration: " in r1[0], "cold REPORT: %r" % r1)
    check(len(r2) == 1 and "Init Duration" not in r2[0], "warm REPORT: %r" % r2)
    fields = r1[0].split("\t") if r1 else []
    check(len(fields) == 6 and fields[1].startswith("Duration: ") and fields[2].startswith("Billed Duration: ")
          and fields[3] == "Memory Size: 128 MB" and fields[4].startswith("Max Memory Used: "),
          "REPORT fields: %r" % fields)
    # Through CloudWatch Logs: one stream (one environment), exactly one Init Duration.
    ev = sd.log_events("/aws/lambda/hello")
    reps = reports(ev)
    check(len(reps) == 2 and sum("Init Duration" in r for r in reps) == 1, "REPORTs in logs: %r" % reps)
    streams = {e["logStreamName"] for e in ev}
    check(len(streams) == 1, "streams: %r" % streams)
    s = next(iter(streams)) if streams else ""
    check(len(s) == 52 and s[10:20] == "/[$LATEST]", "stream name format: %r" % s)
    # With cgroups (v1 here): 128 MB memory limit and 128/1769 of a CPU.
    pids = sd.env_pids()
    check(len(pids) == 1, "one environment: %r" % pids)
    cg = dict(line.strip().split(":", 2)[1:] for line in open("/proc/%d/cgroup" % pids[0])) if pids else {}
    if pids and "no writable memory+cpu cgroups" not in sd.read_log() and "memory" in cg:
        mem = "/sys/fs/cgroup/memory" + cg.get("memory", "")
        cpu = "/sys/fs/cgroup/cpu" + cg.get("cpu", cg.get("cpu,cpuacct", ""))
        check("stackd-" in mem and open(mem + "/memory.limit_in_bytes").read().strip() == str(128 << 20),
              "memory cgroup %s" % mem)
        check("stackd-" in cpu and open(cpu + "/cpu.cfs_quota_us").read().strip() == str(int(100000 * 128 / 1769)),
              "cpu cgroup %s" % cpu)


def case_throttle(sd):
    results = {}

    def slow():
        results["slow"] = sd.request("GET", "/one/sleep/1500")[0]

    t = threading.Thread(target=slow)
    t.start()
    # Wait until the slow invocation holds the function's only slot.
    ok = wait_until(lambda: any("START" in e["message"] for e in sd.log_events("/aws/lambda/one")), 10)
    check(ok, "slow invocation did not start")
    st, hd, body = sd.request("GET", "/one/fast")
    check(st == 429 and json.loads(body) == {"message": "Too Many Requests"}, "API over limit -> %d %r" % (st, body))
    st, hd, body, _ = sd.invoke("one")
    check(st == 429 and hd.get("x-amzn-errortype") == "TooManyRequestsException", "Invoke over limit -> %d %r" % (st, body))
    t.join(20)
    check(results.get("slow") == 200, "slow request -> %r" % results.get("slow"))
    st, _, _ = sd.request("GET", "/one/again")
    check(st == 200, "after the slot freed -> %d" % st)


def case_timeout(sd):
    t0 = time.time()
    st, hd, body = sd.request("GET", "/short/sleep/5000")
    el = time.time() - t0
    check(st == 503 and json.loads(body) == {"message": "Service Unavailable"}, "timeout -> %d %r" % (st, body))
    check(el < 4.5, "timeout answered after %.1f s (function timeout 1 s)" % el)
    ev = sd.log_events("/aws/lambda/short")
    check(any("Task timed out after 1.00 seconds" in e["message"] for e in ev), "no 'Task timed out' line")
    st, hd, body, log = sd.invoke("short", b'{"action":"sleep","ms":1}')
    check(st == 200 and "x-amz-function-error" not in hd, "after timeout -> %d %r" % (st, body))
    check("Init Duration" in log, "environment was not replaced (no cold start): %r" % log)
    st, hd, body, log = sd.invoke("short", b'{"action":"sleep","ms":3000}')
    check(st == 200 and hd.get("x-amz-function-error") == "Unhandled", "Invoke timeout -> %d %r" % (st, hd))
    check("Task timed out after 1.00 seconds" in body.decode(), "Invoke timeout body %r" % body)


def case_crash(sd):
    st, hd, body = sd.request("POST", "/crash")
    check(st == 500 and json.loads(body) == {"message": "Internal Server Error"}, "crash -> %d %r" % (st, body))
    st, hd, body, log = sd.invoke("hello", b'{"action":"crash"}')
    check(st == 200 and hd.get("x-amz-function-error") == "Unhandled", "Invoke crash -> %d %r" % (st, hd))
    check(json.loads(body).get("errorType") == "Runtime.ExitError", "crash body %r" % body)
    st, hd, body, log = sd.invoke("hello")
    check(st == 200 and "x-amz-function-error" not in hd and "Init Duration" in log,
          "after crash a new environment serves: %d %r" % (st, log))
    st, hd, body, log = sd.invoke("hello", b'{"action":"error"}')
    check(st == 200 and hd.get("x-amz-function-error") == "Unhandled", "function error -> %r" % hd)


def case_init_failure(sd):
    st, hd, body = sd.request("GET", "/broken")
    check(st == 500 and json.loads(body) == {"message": "Internal Server Error"}, "init failure -> %d %r" % (st, body))
    st, hd, body, log = sd.invoke("broken")
    check(st == 200 and hd.get("x-amz-function-error") == "Unhandled", "Invoke init failure -> %d %r" % (st, hd))
    check(b"errorType" in body, "init failure body %r" % body)
    st, hd, body = sd.request("GET", "/missing")
    check(st == 500, "missing bootstrap -> %d" % st)
    st, hd, body, log = sd.invoke("missing")
    check(st == 502, "Invoke with missing bootstrap -> %d %r" % (st, body))
    # stackd is still healthy.
    st, _, _ = sd.request("GET", "/hello")
    check(st == 200, "hello after failures -> %d" % st)


def case_shutdown(sd):
    results = {}

    def slow():
        try:
            results["st"] = sd.request("GET", "/one/sleep/800")[0]
        except Exception as e:  # noqa: BLE001
            results["st"] = repr(e)

    sd.request("GET", "/hello")
    check(len(sd.env_pids()) >= 1, "no environment process found")
    t = threading.Thread(target=slow)
    t.start()
    wait_until(lambda: any("START" in e["message"] for e in sd.log_events("/aws/lambda/one")), 10)
    rc = sd.stop()
    t.join(20)
    check(rc == 0, "stackd exit code %r" % rc)
    check(results.get("st") == 200, "in-flight request during shutdown -> %r" % results.get("st"))
    check(wait_until(lambda: not sd.env_pids(), 10), "environments left running: %r" % sd.env_pids())


def case_metrics(sd):
    """Platform metrics reach the CloudWatch store (read back with Debian boto3)."""
    import datetime
    import boto3
    for path in ("/hello", "/hello", "/crash", "/no/route"):
        sd.request("GET", path)
    sd.invoke("one")
    c = boto3.client("cloudwatch", endpoint_url="http://127.0.0.1:%d" % sd.port, region_name="us-east-1",
                     aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
    now = datetime.datetime.utcnow()

    def stat(ns, name, dim, val, s="Sum"):
        r = c.get_metric_statistics(Namespace=ns, MetricName=name, Dimensions=[{"Name": dim, "Value": val}],
                                    StartTime=now - datetime.timedelta(minutes=5),
                                    EndTime=now + datetime.timedelta(minutes=1), Period=600, Statistics=[s])
        return sum(d[s] for d in r["Datapoints"])

    check(stat("AWS/Lambda", "Invocations", "FunctionName", "hello") == 3, "hello Invocations")
    check(stat("AWS/Lambda", "Errors", "FunctionName", "hello") == 1, "hello Errors")
    check(stat("AWS/Lambda", "Invocations", "FunctionName", "one") == 1, "one Invocations")
    check(stat("AWS/Lambda", "Duration", "FunctionName", "hello", "SampleCount") == 3, "Duration samples")
    check(stat("AWS/Lambda", "ConcurrentExecutions", "FunctionName", "hello", "Maximum") == 1, "ConcurrentExecutions")
    check(stat("AWS/ApiGateway", "Count", "ApiId", "local") == 4, "ApiGateway Count")
    check(stat("AWS/ApiGateway", "5xx", "ApiId", "local") == 1, "ApiGateway 5xx")
    check(stat("AWS/ApiGateway", "4xx", "ApiId", "local") == 1, "ApiGateway 4xx")
    check(stat("AWS/ApiGateway", "Latency", "ApiId", "local", "SampleCount") == 4, "ApiGateway Latency")


STACK_SHORT = """
stack:
  idle_reclaim: 1s
functions:
  slow:
    bootstrap: @HELLO@
    timeout: 5s
    environment: {STACKD_TEST_MARKER: "@MARKER@"}
http_api:
  integration_timeout: 1s
  routes:
    $default: slow
"""


def case_idle_reclaim(sd):
    st, _, _, log = sd.invoke("slow")
    check(st == 200 and "Init Duration" in log, "first invoke cold: %r" % log)
    check(len(sd.env_pids()) == 1, "one environment: %r" % sd.env_pids())
    check(wait_until(lambda: not sd.env_pids(), 10), "idle environment not reclaimed")
    st, _, _, log = sd.invoke("slow")
    check(st == 200 and "Init Duration" in log, "invoke after reclaim is cold: %r" % log)


def case_integration_timeout(sd):
    t0 = time.time()
    st, hd, body = sd.request("GET", "/sleep/2500")
    el = time.time() - t0
    check(st == 503 and json.loads(body) == {"message": "Service Unavailable"}, "-> %d %r" % (st, body))
    check(el < 2.4, "503 after %.2f s, integration timeout 1 s" % el)
    # The function itself finished (its own timeout is 5 s): REPORT without a timeout.
    check(wait_until(lambda: any("REPORT" in e["message"] for e in sd.log_events("/aws/lambda/slow")), 10),
          "function did not finish")
    check(not any("timed out" in e["message"] for e in sd.log_events("/aws/lambda/slow")), "function timed out")


STACK_CURL = """
functions:
  curlrt:
    bootstrap: %s/curl_runtime.sh
    environment: {STACKD_TEST_MARKER: "@MARKER@"}
""" % os.path.dirname(os.path.abspath(__file__))


def case_foreign_runtime(sd):
    """A bash+curl runtime speaks the same Runtime API (host:port, plain paths)."""
    st, hd, body, log = sd.invoke("curlrt", b'{"echo":[1,2,3]}')
    check(st == 200 and json.loads(body) == {"echo": [1, 2, 3]}, "echo -> %d %r" % (st, body))
    check("event for " in log and "Init Duration" in log, "tail: %r" % log)
    st, hd, body, log = sd.invoke("curlrt", b'"fail"')
    check(hd.get("x-amz-function-error") == "Unhandled" and json.loads(body).get("errorType") == "Failed",
          "error -> %r %r" % (hd, body))
    st, hd, body, log = sd.invoke("curlrt", b'"big"')
    check(hd.get("x-amz-function-error") == "Unhandled"
          and json.loads(body).get("errorType") == "Function.ResponseSizeTooLarge", "big -> %r %r" % (hd, body[:200]))
    st, hd, body, log = sd.invoke("curlrt", b'{"after":true}')
    check(st == 200 and json.loads(body) == {"after": True}, "after big -> %d %r" % (st, body))


CASES = {
    "http_api": case_http_api, "invoke": case_invoke, "cold_warm": case_cold_warm,
    "throttle": case_throttle, "timeout": case_timeout, "crash": case_crash,
    "init_failure": case_init_failure, "shutdown": case_shutdown,
    "metrics": case_metrics, "foreign_runtime": case_foreign_runtime, "idle_reclaim": case_idle_reclaim, "integration_timeout": case_integration_timeout,
}


def main():
    name = sys.argv[1]
    stack = STACK_SHORT if name in ("idle_reclaim", "integration_timeout") else STACK
    if name == "foreign_runtime":
        stack = STACK_CURL
    with Stackd(stack) as sd:
        try:
            CASES[name](sd)
        except Exception as e:  # noqa: BLE001
            failures.append("%s: %r" % (name, e))
            print("FAIL: exception", repr(e))
        rc = sd.stop()
        log = sd.read_log()
        check(rc == 0, "stackd exit code %r" % rc)
        check("Sanitizer" not in log and "runtime error:" not in log, "sanitizer report in the stackd log")
        if failures:
            print("---- stackd log ----\n" + log[-4000:])
    print("%s: %d failed" % (name, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
