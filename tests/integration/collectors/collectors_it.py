#!/usr/bin/env python3
"""Integration tests of collectors/ (lgc) with the real stackd, functions/hello
and the Debian awscli. The C side runs in lgc_it (built next to this test).

Usage: collectors_it.py CASE LGC_IT
  depth      queue + DLQ created with awscli; 5 messages on the queue, 2 on the
             DLQ: the sampled depths, the summary maxima and lgc_metric agree.
  cold_join  hello invoked through the HTTP API twice (cold, then warm) with
             X-Correlation-Id, then three at once: cold_starts.hello.count equals
             the REPORT lines with Init Duration and the environments stackd
             started, invocations 5 from CloudWatch, rate = cold / 5;
             the join finds the correlation ID with a plausible duration.
  drain      lgc_wait_drained times out on a non-empty queue and returns once
             the queue is purged.
  unreachable an endpoint that never answers: calls time out, errors are
             counted, the sampler stops in bounded time with no values.
  orders     create-order over HTTP -> SQS -> process-orders (event source
             mapping): the join links both by correlation ID with a queue wait.
Every wait is bounded; stackd is always stopped.
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "stackd_lambda"))
from stackd_fixture import Stackd  # noqa: E402

AWS = "/usr/bin/aws"
STACK = """
functions:
  hello:
    bootstrap: @HELLO@
    timeout: 3s
    environment: {STACKD_TEST_MARKER: "@MARKER@"}
http_api:
  routes:
    $default: hello
"""
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)
    return cond


def env_for(sd):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="secret",
               AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1", AWS_PAGER="",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
               AWS_ENDPOINT_URL="http://127.0.0.1:%d" % sd.port)
    env.pop("AWS_PROFILE", None)
    return env


def aws(sd, *args):
    # awscli 2.9 ignores AWS_ENDPOINT_URL: pass it as a flag (lgc reads the variable).
    r = subprocess.run([AWS, "--endpoint-url", "http://127.0.0.1:%d" % sd.port, "--output", "json"]
                       + list(args), capture_output=True, text=True,
                       env=env_for(sd), timeout=60)
    if r.returncode != 0:
        raise AssertionError("aws %s: rc=%d %s" % (" ".join(args[:2]), r.returncode, r.stderr))
    return json.loads(r.stdout) if r.stdout.strip() else {}


def lgc_it(sd, exe, *args):
    r = subprocess.run([exe] + [str(a) for a in args], capture_output=True, text=True,
                       env=env_for(sd), timeout=120)
    if r.returncode != 0:
        raise AssertionError("lgc_it %s: rc=%d %s" % (args[0], r.returncode, r.stderr))
    return json.loads(r.stdout)


def queues(sd):
    dlq = aws(sd, "sqs", "create-queue", "--queue-name", "work-dlq")["QueueUrl"]
    redrive = json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:work-dlq",
                          "maxReceiveCount": "3"})
    url = aws(sd, "sqs", "create-queue", "--queue-name", "work", "--attributes",
              json.dumps({"RedrivePolicy": redrive}))["QueueUrl"]
    return url, dlq


def case_depth(exe):
    with Stackd(STACK) as sd:
        url, dlq = queues(sd)
        for i in range(5):
            aws(sd, "sqs", "send-message", "--queue-url", url, "--message-body", "m%d" % i)
        for i in range(2):
            aws(sd, "sqs", "send-message", "--queue-url", dlq, "--message-body", "d%d" % i)
        out = lgc_it(sd, exe, "sample", "work", "work-dlq", "hello", 200, 1200)
        s, rows, m = out["summary"], out["rows"], out["metrics"]
        print(json.dumps(s))
        check(s["queues"]["work"].get("max_depth") == 5, "max_depth: %r" % s["queues"])
        check(s["dlq"]["work-dlq"].get("max_depth") == 2, "dlq max_depth: %r" % s["dlq"])
        check(m["queues.work.max_depth"] == 5, "metric: %r" % m)
        check(m["dlq.work-dlq.max_depth"] == 2, "metric: %r" % m)
        check(m["queues.nope.max_depth"] == cm_notfound(), "unknown metric: %r" % m)
        check(isinstance(m["queues.work.max_age"], (int, float)) and m["queues.work.max_age"] > 0,
              "age estimate: %r" % m)
        check(s["queues"]["work"].get("age_source") == "estimate", "age source: %r" % s)
        check(len(rows) >= 3, "rows: %d" % len(rows))
        check(all(r["queues"]["work"].get("visible") == 5 for r in rows), "rows: %r" % rows[:2])
        check(all(r["dlq"]["work-dlq"].get("depth") == 2 for r in rows), "dlq rows: %r" % rows[:2])
        check(s["collector"]["errors"] == 0, "collector errors: %r" % s["collector"])
        # One message in flight: visible 4, in flight 1.
        aws(sd, "sqs", "receive-message", "--queue-url", url, "--visibility-timeout", "60")
        out = lgc_it(sd, exe, "sample", "work", "work-dlq", "hello", 200, 400)
        last = out["rows"][-1]["queues"]["work"]
        check(last.get("visible") == 4 and last.get("in_flight") == 1, "in flight: %r" % last)


def cm_notfound():
    return "not found"


def case_cold_join(exe):
    with Stackd(STACK) as sd:
        queues(sd)
        t0 = int(time.time() * 1000) - 1000
        corr = ["c-" + uuid.uuid4().hex for _ in range(2)]
        for c in corr:
            st, _, body = sd.request("GET", "/hi", headers={"X-Correlation-Id": c})
            check(st == 200, "hello: %d %r" % (st, body))
        # Three at once: the warm environment takes one, two more start cold.
        with concurrent.futures.ThreadPoolExecutor(3) as ex:
            sts = list(ex.map(lambda i: sd.request("GET", "/sleep/400")[0], range(3)))
        check(sts == [200, 200, 200], "concurrent: %r" % sts)
        reports = [e["message"] for e in sd.log_events("/aws/lambda/hello")
                   if e["message"].startswith("REPORT")]
        n_cold = sum(1 for r in reports if "Init Duration" in r)
        check(len(reports) == 5 and n_cold >= 2, "REPORT lines: %r" % reports)
        envs = len(sd.env_pids())
        check(envs == n_cold, "environments %d, cold REPORT lines %d" % (envs, n_cold))
        out = lgc_it(sd, exe, "sample", "work", "work-dlq", "hello", 200, 600)
        s, m = out["summary"], out["metrics"]
        print(json.dumps(s))
        check(m["cold_starts.hello.count"] == n_cold, "cold count: %r" % m)
        check(m["functions.hello.invocations"] == 5, "invocations: %r" % m)
        check(abs(m["cold_starts.rate"] - n_cold / 5.0) < 1e-9, "rate: %r" % m)
        check(isinstance(m["cold_starts.hello.init_ms.p99"], (int, float))
              and m["cold_starts.hello.init_ms.p99"] > 0, "init p99: %r" % m)
        check(s["functions"]["hello"].get("max_concurrency", 0) >= 2, "concurrency: %r" % s)
        t1 = int(time.time() * 1000) + 1000
        for i, c in enumerate(corr):
            j = lgc_it(sd, exe, "join", "hello", t0, t1, c, 500)
            print(json.dumps(j))
            check(j["rc"] == "ok" and j["found"], "join %s: %r" % (c, j))
            if not j["found"]:
                continue
            r = j["rec"]
            check(r["function"] == "hello" and len(r["request_id"]) >= 32, "rec: %r" % r)
            check(0 < r["duration_ms"] < 3000, "duration: %r" % r)
            check((r["init_ms"] > 0) == (i == 0), "init only on the cold one: %r" % r)
            b = j["breakdown"]
            check(b["matched"] == 1 and b["handler_ms"]["count"] == 1, "breakdown: %r" % b)
        j = lgc_it(sd, exe, "join", "hello", t0, t1, "no-such-id", 5)
        check(not j["found"] and j["breakdown"]["unmatched"] == 1, "unknown id: %r" % j)


def case_drain(exe):
    with Stackd(STACK) as sd:
        url, _ = queues(sd)
        aws(sd, "sqs", "send-message", "--queue-url", url, "--message-body", "x")
        d = lgc_it(sd, exe, "drain", "work", 500)
        check(d["rc"] == "timed out", "not drained: %r" % d)
        aws(sd, "sqs", "purge-queue", "--queue-url", url)
        d = lgc_it(sd, exe, "drain", "work", 10000)
        check(d["rc"] == "ok" and 0 <= d["drain_ms"] < 10000, "drained: %r" % d)


ORDERS_STACK = """
functions:
  create-order:
    bootstrap: @BIN@/functions/create-order/bootstrap
    timeout: 10s
    environment: {STACKD_TEST_MARKER: "@MARKER@", ORDERS_TABLE: orders,
                  ORDERS_QUEUE_URL: "http://127.0.0.1:1/000000000000/orders-q"}
  process-orders:
    bootstrap: @BIN@/functions/process-orders/bootstrap
    timeout: 5s
    environment: {STACKD_TEST_MARKER: "@MARKER@", ORDERS_TABLE: orders}
http_api:
  routes:
    "POST /orders": create-order
tables:
  orders: {hash_key: id}
queues:
  orders-q:
    visibility_timeout: 5s
    redrive_policy: {dead_letter_queue: orders-dlq, max_receive_count: 2}
  orders-dlq: {}
event_source_mappings:
  - {queue: orders-q, function: process-orders, batch_size: 10, report_batch_item_failures: true}
"""


def case_orders(exe):
    """HTTP create-order -> SQS -> process-orders through the mapping: the join
    links both invocations by correlation ID, with the HTTP one as the handler
    and process-orders' ProcessingLag as the queue wait; the sampler sees the
    queue drained and both functions' invocations."""
    binary_dir = os.environ.get("LG_BINARY_DIR", "")
    with Stackd(ORDERS_STACK.replace("@BIN@", binary_dir)) as sd:
        t0 = int(time.time() * 1000) - 1000
        corr = "ord-" + uuid.uuid4().hex
        body = json.dumps({"customerName": "Ann", "items": [{"sku": "A-1", "qty": 2, "price": 19.99}]})
        st, _, data = sd.request("POST", "/orders", body.encode(),
                                 {"Content-Type": "application/json", "X-Correlation-Id": corr})
        check(st == 201, "POST /orders: %d %r" % (st, data))
        d = lgc_it(sd, exe, "drain", "orders-q", 30000)
        check(d["rc"] == "ok", "drained: %r" % d)
        j = None
        deadline = time.time() + 30
        while time.time() < deadline:  # process-orders' lines arrive when it returns
            j = lgc_it(sd, exe, "join", "create-order,process-orders", t0,
                       int(time.time() * 1000) + 1000, corr, 1000)
            if j["found"] and j["rec"]["queue_wait_ms"] >= 0:
                break
            time.sleep(0.3)
        print(json.dumps(j))
        check(j["rc"] == "ok" and j["found"], "join: %r" % j)
        if j["found"]:
            r = j["rec"]
            check(r["function"] == "create-order", "handler invocation: %r" % r)
            check(0 < r["duration_ms"] < 10000, "duration: %r" % r)
            check(0 <= r["queue_wait_ms"] < 30000, "queue wait: %r" % r)
            check(j["breakdown"]["queue_wait_ms"]["count"] == 1, "breakdown: %r" % j["breakdown"])


def case_unreachable(exe):
    """An endpoint that accepts connections and never answers: every call ends
    at its time limit, errors are counted, the sampler still stops in bounded
    time and reports no values rather than zeros."""
    import socket
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)  # never accepted: the kernel completes the handshake, nobody answers

    class Fake:
        port = srv.getsockname()[1]
    try:
        t = time.time()
        out = lgc_it(Fake, exe, "sample", "work", "work-dlq", "hello", 200, 600)
        took = time.time() - t
        s, m = out["summary"], out["metrics"]
        print(json.dumps(s), "took %.1fs" % took)
        check(took < 60, "stop is bounded: %.1fs" % took)
        check(s["collector"]["errors"] >= 3, "errors counted: %r" % s["collector"])
        check("timed out" in s["collector"].get("last_error", ""), "last error: %r" % s["collector"])
        check(m["queues.work.max_depth"] == "try again", "no data, not 0: %r" % m)
        check("max_depth" not in s["queues"]["work"], "no depth: %r" % s["queues"])
    finally:
        srv.close()


def main():
    case, exe = sys.argv[1], sys.argv[2]
    {"depth": case_depth, "cold_join": case_cold_join, "drain": case_drain,
     "orders": case_orders, "unreachable": case_unreachable}[case](exe)
    if failures:
        print("%d failures" % len(failures))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
