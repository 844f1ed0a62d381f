#!/usr/bin/env python3
"""Integration tests of stackd's SQS event source mappings and scheduled rules
with the real stackd binary, the real functions/hello bootstrap and the Debian
awscli (/usr/bin/aws: SQS over the query protocol, Lambda restJson1).

hello handles SQS events: every record logs "hello record" with its messageId,
and a record whose body is "fail" is reported in batchItemFailures.

Usage: esm_it.py CASE
  drain     queue + DLQ (maxReceiveCount 2) + mapping created with awscli;
            200 messages and one "fail": all processed, the queue drains to 0,
            "fail" is received twice and ends in the DLQ; then
            update-event-source-mapping --batch-size changes batches live;
            get/list/delete of the mapping.
  throttle  queues and a mapping from the stack file; the function has reserved
            concurrency 1, so the mapping's 5 initial batches are throttled:
            it backs off, still drains the queue, and Throttles are recorded.
  bad_stack stack files with a mapping to a missing queue and with a bad
            schedule expression exit 2 naming file:line:col.
  schedule  (slow) a rate(1 minute) rule invokes the function once, about a
            minute after stackd starts, with the scheduled event.
Every wait is bounded; stackd is always stopped.
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "stackd_lambda"))
from stackd_fixture import STACKD, Stackd, wait_until  # noqa: E402

AWS = "/usr/bin/aws"
QARN = "arn:aws:sqs:us-east-1:000000000000:"

STACK = """
functions:
  hello:
    bootstrap: @HELLO@
    timeout: 3s
    environment: {STACKD_TEST_MARKER: "@MARKER@"}
"""

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)
    return cond


def aws(sd, *args, check_rc=True):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="secret",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    env.pop("AWS_PROFILE", None)
    r = subprocess.run([AWS, "--endpoint-url", "http://127.0.0.1:%d" % sd.port, "--output", "json"]
                       + list(args), capture_output=True, text=True, env=env, timeout=60)
    if check_rc and r.returncode != 0:
        raise AssertionError("aws %s: rc=%d %s" % (" ".join(args[:2]), r.returncode, r.stderr))
    if r.returncode != 0:
        return r.returncode, r.stderr
    return (json.loads(r.stdout) if r.stdout.strip() else {}) if check_rc else (0, r.stdout)


def counts(sd, url):
    a = aws(sd, "sqs", "get-queue-attributes", "--queue-url", url, "--attribute-names", "All")
    a = a["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def records_by_request(sd, fn="hello"):
    """{requestId: [messageId, ...]} from the function's "hello record" lines."""
    out = {}
    for e in sd.log_events("/aws/lambda/" + fn):
        m = e["message"]
        if '"hello record"' not in m:
            continue
        try:
            j = json.loads(m)
        except ValueError:
            continue
        out.setdefault(j.get("requestId"), []).append(j.get("messageId"))
    return out


def send_batches(sd, url, bodies):
    """send-message-batch in groups of 10, four awscli processes at a time. Returns message ids."""
    groups = [bodies[i:i + 10] for i in range(0, len(bodies), 10)]

    def one(g):
        entries = json.dumps([{"Id": str(i), "MessageBody": b} for i, b in enumerate(g)])
        r = aws(sd, "sqs", "send-message-batch", "--queue-url", url, "--entries", entries)
        check(len(r.get("Successful", [])) == len(g), "send-message-batch: %r" % r)
        return {int(s["Id"]): s["MessageId"] for s in r.get("Successful", [])}

    ids = []
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        for g, m in zip(groups, ex.map(one, groups)):
            ids += [m.get(i) for i in range(len(g))]
    return ids


def case_drain():
    with Stackd(STACK) as sd:
        aws(sd, "sqs", "create-queue", "--queue-name", "dlq")
        redrive = json.dumps({"deadLetterTargetArn": QARN + "dlq", "maxReceiveCount": "2"})
        url = aws(sd, "sqs", "create-queue", "--queue-name", "work", "--attributes",
                  json.dumps({"RedrivePolicy": redrive, "VisibilityTimeout": "2"}))["QueueUrl"]
        dlq_url = url.rsplit("/", 1)[0] + "/dlq"
        m = aws(sd, "lambda", "create-event-source-mapping", "--function-name", "hello",
                "--event-source-arn", QARN + "work", "--batch-size", "10",
                "--maximum-batching-window-in-seconds", "1",
                "--function-response-types", "ReportBatchItemFailures")
        uuid = m.get("UUID", "")
        check(len(uuid) == 36, "create: %r" % m)
        check(m.get("BatchSize") == 10 and m.get("MaximumBatchingWindowInSeconds") == 1, "create: %r" % m)
        check(m.get("FunctionArn", "").endswith(":function:hello"), "create: %r" % m)
        check(m.get("EventSourceArn") == QARN + "work", "create: %r" % m)
        check(m.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], "create: %r" % m)
        check(m.get("State") in ("Creating", "Enabled"), "create: %r" % m)

        # 200 messages plus one that fails: all processed, the queue drains.
        bodies = ["m%03d" % i for i in range(200)]
        t0 = time.time()
        ids = send_batches(sd, url, bodies)
        fail_id = send_batches(sd, url, ["fail"])[0]
        print("sent 201 messages in %.1f s" % (time.time() - t0))
        drained = wait_until(lambda: counts(sd, url) == (0, 0), timeout=45, step=0.5)
        check(drained, "queue did not drain: %r" % (counts(sd, url),))
        print("drained 201 messages in %.1f s" % (time.time() - t0))
        seen = records_by_request(sd)
        got = [i for v in seen.values() for i in v]
        missing = set(ids) - set(got)
        check(not missing, "%d messages never reached the function" % len(missing))
        check(got.count(fail_id) == 2, "fail message received %d times, want 2" % got.count(fail_id))
        sizes1 = [len(v) for v in seen.values()]
        check(max(sizes1) <= 10, "a batch above BatchSize 10: %r" % sorted(sizes1))
        check(max(sizes1) >= 4, "batches never grew past 3 with BatchSize 10: %r" % sorted(sizes1))
        reports = [e for e in sd.log_events("/aws/lambda/hello") if e["message"].startswith("REPORT ")]
        check(len(reports) == len(seen), "REPORT lines %d vs batches %d" % (len(reports), len(seen)))
        # The failed message is in the DLQ, received twice.
        check(wait_until(lambda: counts(sd, dlq_url)[0] == 1, timeout=10, step=0.5),
              "DLQ: %r" % (counts(sd, dlq_url),))
        r = aws(sd, "sqs", "receive-message", "--queue-url", dlq_url, "--attribute-names", "All")
        msgs = r.get("Messages", [])
        check(len(msgs) == 1 and msgs[0]["Body"] == "fail", "DLQ message: %r" % msgs)

        # Live batch size change: 3 per batch from now on.
        u = aws(sd, "lambda", "update-event-source-mapping", "--uuid", uuid, "--batch-size", "3",
                "--maximum-batching-window-in-seconds", "0")
        check(u.get("BatchSize") == 3 and u.get("MaximumBatchingWindowInSeconds") == 0, "update: %r" % u)
        ids2 = send_batches(sd, url, ["n%02d" % i for i in range(30)])
        check(wait_until(lambda: counts(sd, url) == (0, 0), timeout=30, step=0.5), "second drain")
        seen = records_by_request(sd)
        sizes2 = [len(v) for v in seen.values() if set(v) & set(ids2)]
        check(sum(sizes2) >= 30 and sizes2 and max(sizes2) <= 3,
              "batch sizes after the update: %r" % sorted(sizes2))
        check(set(ids2) <= {i for v in seen.values() for i in v}, "second phase: messages missing")

        # Get, list with filters, delete.
        g = aws(sd, "lambda", "get-event-source-mapping", "--uuid", uuid)
        check(g.get("State") == "Enabled" and g.get("BatchSize") == 3, "get: %r" % g)
        lst = aws(sd, "lambda", "list-event-source-mappings", "--event-source-arn", QARN + "work")
        check([x["UUID"] for x in lst.get("EventSourceMappings", [])] == [uuid], "list: %r" % lst)
        lst = aws(sd, "lambda", "list-event-source-mappings", "--function-name", "hello")
        check(len(lst.get("EventSourceMappings", [])) == 1, "list by function: %r" % lst)
        d = aws(sd, "lambda", "delete-event-source-mapping", "--uuid", uuid)
        check(d.get("State") == "Deleting", "delete: %r" % d)
        rc, err = aws(sd, "lambda", "get-event-source-mapping", "--uuid", uuid, check_rc=False)
        check(rc != 0 and "ResourceNotFoundException" in err, "get after delete: %d %s" % (rc, err))
        # A deleted mapping no longer consumes.
        send_batches(sd, url, ["after"])
        time.sleep(2)
        check(counts(sd, url)[0] == 1, "deleted mapping still consumed: %r" % (counts(sd, url),))
        rc, err = aws(sd, "lambda", "create-event-source-mapping", "--function-name", "hello",
                      "--event-source-arn", QARN + "work", "--batch-size", "50", check_rc=False)
        check(rc != 0 and "InvalidParameterValueException" in err, "batch 50 without window: %s" % err)
        check(sd.stop() == 0, "stackd did not exit cleanly")


def case_throttle():
    stack = """
functions:
  one:
    bootstrap: @HELLO@
    reserved_concurrency: 1
    environment: {STACKD_TEST_MARKER: "@MARKER@"}
queues:
  slow-in:
    visibility_timeout: 60s
event_source_mappings:
  - {queue: slow-in, function: one, batch_size: 1, maximum_concurrency: 20}
"""
    with Stackd(stack) as sd:
        lst = aws(sd, "lambda", "list-event-source-mappings", "--function-name", "one")
        ms = lst.get("EventSourceMappings", [])
        check(len(ms) == 1 and ms[0].get("BatchSize") == 1 and ms[0].get("State") == "Enabled"
              and ms[0].get("ScalingConfig") == {"MaximumConcurrency": 20}, "stack mapping: %r" % lst)
        url = aws(sd, "sqs", "get-queue-url", "--queue-name", "slow-in")["QueueUrl"]
        t0 = time.time()
        ids = send_batches(sd, url, ["t%02d" % i for i in range(40)])
        check(wait_until(lambda: counts(sd, url) == (0, 0), timeout=60, step=0.5),
              "queue did not drain: %r" % (counts(sd, url),))
        print("drained 40 messages one at a time in %.1f s" % (time.time() - t0))
        seen = records_by_request(sd, "one")
        check(all(len(v) == 1 for v in seen.values()), "batch above 1: %r" % seen)
        missing = set(ids) - {i for v in seen.values() for i in v}
        check(not missing, "%d messages missing (%d batches seen)" % (len(missing), len(seen)))
        now = int(time.time())
        st = aws(sd, "cloudwatch", "get-metric-statistics", "--namespace", "AWS/Lambda",
                 "--metric-name", "Throttles", "--dimensions", "Name=FunctionName,Value=one",
                 "--start-time", str(now - 600), "--end-time", str(now + 60), "--period", "60",
                 "--statistics", "Sum")
        throttles = sum(p.get("Sum", 0) for p in st.get("Datapoints", []))
        check(throttles > 0, "no Throttles recorded: %r" % st)
        print("throttles: %d" % throttles)
        check(sd.stop() == 0, "stackd did not exit cleanly")


def case_bad_stack():
    d = tempfile.mkdtemp(prefix="stackd-esm-bad-")
    cases = [
        ("functions:\n  hello:\n    bootstrap: /bin/true\n"
         "event_source_mappings:\n  - queue: nope\n    function: hello\n", ":5:5:", "nope"),
        ("functions:\n  hello:\n    bootstrap: /bin/true\n"
         "schedules:\n  - name: r\n    expression: cron(0 12 * * * *)\n    function: hello\n",
         ":6:27:", "exactly one"),
        ("functions:\n  hello:\n    bootstrap: /bin/true\n"
         "schedules:\n  - name: r\n    expression: \"rate(5 minute)\"\n    function: hello\n",
         ":6:25:", "above 1"),
        ("functions:\n  hello:\n    bootstrap: /bin/true\n"
         "event_source_mappings:\n  - queue: q\n    function: hello\n    batch_size: 100\n",
         ":5:5:", "batching_window"),
        ("functions:\n  hello:\n    bootstrap: /bin/true\n"
         "event_source_mappings:\n  - queue: q\n    function: nobody\n", ":6:15:", "no such function"),
    ]
    for i, (text, where, what) in enumerate(cases):
        p = os.path.join(d, "bad%d.yaml" % i)
        with open(p, "w") as f:
            f.write(text)
        r = subprocess.run([STACKD, "--stack", p, "--port", "0", "--no-cgroups"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and (p + where) in r.stderr and what in r.stderr,
              "case %d: rc=%d stderr=%r (want %s ... %s)" % (i, r.returncode, r.stderr, where, what))


def case_schedule():
    stack = STACK + """
schedules:
  - name: every-minute
    expression: rate(1 minute)
    function: hello
  - name: never
    expression: cron(0 0 1 1 ? 2199)
    function: hello
"""
    with Stackd(stack) as sd:
        t0 = time.time()

        def starts():
            return [e for e in sd.log_events("/aws/lambda/hello") if e["message"].startswith("START ")]

        time.sleep(40)
        check(not starts(), "the rule fired before its minute")
        check(wait_until(lambda: len(starts()) >= 1, timeout=30, step=1), "no invocation within 70 s")
        dt = time.time() - t0
        check(55 <= dt <= 70, "fired after %.1f s, want about 60" % dt)
        time.sleep(2)
        check(len(starts()) == 1, "fired %d times, want 1" % len(starts()))
        check(sd.stop() == 0, "stackd did not exit cleanly")


if __name__ == "__main__":
    case = sys.argv[1] if len(sys.argv) > 1 else "drain"
    {"drain": case_drain, "throttle": case_throttle, "bad_stack": case_bad_stack, "schedule": case_schedule}[case]()
    print("%d failed" % len(failures))
    sys.exit(1 if failures else 0)
