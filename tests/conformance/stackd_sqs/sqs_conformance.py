#!/usr/bin/env python3
"""Conformance: unmodified AWS clients against stackd's SQS.

Usage: sqs_conformance.py awscli|boto3|awscli_json|boto3_json|durability|node
  awscli:      Debian /usr/bin/aws 2.9 (awsQuery, XML answers)
  boto3:       boto3 of the interpreter running this file (Debian /usr/bin/python3: 1.26, query)
  awscli_json: the newer `aws` first on PATH (botocore 1.43: awsJson1_0)
  boto3_json:  the newer `python3` first on PATH running this file in mode boto3 (awsJson1_0)
  durability:  boto3: acknowledged messages survive kill -9 of stackd and a restart
  node:        @aws-sdk/client-sqs (JSON; the SDK verifies the body MD5s), sqs_node.mjs
Every mode starts a real stackd (port 0, temp dir, always stopped) and bounds
each client call (60 s). Checks: CreateQueue (idempotent, QueueAlreadyExists),
redrive to a DLQ after maxReceiveCount, SendMessage with String/Number/Binary
attributes and their MD5s, SendMessageBatch, ReceiveMessage with attributes,
long polls answered early by a send and at their deadline, visibility timeout
expiry, ChangeMessageVisibility, DeleteMessage(+Batch), PurgeQueue, counts,
MaximumMessageSize, errors.
"""
import base64
import hashlib
import json
import os
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../integration/stackd_lambda"))
from stackd_fixture import Stackd  # noqa: E402

STACK = "stack:\n  region: us-east-1\n"
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
           AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_CONFIG_FILE="/dev/null",
           AWS_SHARED_CREDENTIALS_FILE="/dev/null")
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


class ClientError(Exception):
    pass


def md5_attrs(attrs):
    """MD5OfMessageAttributes as protocols.md 4.3 describes it (independent of stackd)."""
    buf = b""
    for name in sorted(attrs):
        a = attrs[name]
        t = a["DataType"]
        buf += struct.pack(">I", len(name.encode())) + name.encode()
        buf += struct.pack(">I", len(t.encode())) + t.encode()
        if t.startswith("Binary"):
            v = a["BinaryValue"]
            v = base64.b64decode(v) if isinstance(v, str) else v
            buf += b"\x02" + struct.pack(">I", len(v)) + v
        else:
            v = a["StringValue"].encode()
            buf += b"\x01" + struct.pack(">I", len(v)) + v
    return hashlib.md5(buf).hexdigest()


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


class CliClient:
    def __init__(self, exe, port):
        self.exe, self.port = exe, port

    def cmd(self, op, params):
        return [self.exe, "--endpoint-url", "http://127.0.0.1:%d" % self.port, "--region", "us-east-1",
                "--output", "json", "sqs", op.replace("_", "-"), "--cli-input-json", json.dumps(params)]

    def call(self, op, **params):
        r = subprocess.run(self.cmd(op, params), capture_output=True, text=True, timeout=60, env=ENV)
        if r.returncode != 0:
            raise ClientError(r.stderr.strip())
        return json.loads(r.stdout) if r.stdout.strip() else {}

    def binary(self, raw):
        # awscli v2 reads blobs in JSON input as base64; v1 takes the text as the bytes.
        v = subprocess.run([self.exe, "--version"], capture_output=True, text=True, timeout=60, env=ENV)
        return base64.b64encode(raw).decode() if "aws-cli/2" in v.stdout + v.stderr else raw.decode()


class BotoClient:
    def __init__(self, port):
        import boto3
        import botocore.config
        self.c = boto3.client("sqs", endpoint_url="http://127.0.0.1:%d" % port, region_name="us-east-1",
                              aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                              config=botocore.config.Config(retries={"max_attempts": 1},
                                                            read_timeout=60))
        sm = self.c.meta.service_model
        self.protocol = getattr(sm, "resolved_protocol", None) or sm.protocol

    def call(self, op, **params):
        import botocore.exceptions
        try:
            r = getattr(self.c, op)(**params)
        except botocore.exceptions.ClientError as e:
            raise ClientError("%s: %s" % (e.response["Error"]["Code"], e.response["Error"].get("Message")))
        r.pop("ResponseMetadata", None)
        return r

    def binary(self, raw):
        return raw


def expect_error(fn, code, what):
    try:
        fn()
    except ClientError as e:
        check(code in str(e), "%s: expected %s, got %s" % (what, code, e))
        return
    check(False, "%s: expected %s, got success" % (what, code))


def counts(c, url):
    a = c.call("get_queue_attributes", QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return (int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"]),
            int(a["ApproximateNumberOfMessagesDelayed"]))


def receive(c, url, **kw):
    return c.call("receive_message", QueueUrl=url, **kw).get("Messages", [])


def queue_checks(c, port, tag):
    base = "http://127.0.0.1:%d/000000000000/" % port
    dlq = c.call("create_queue", QueueName="dlq-" + tag)["QueueUrl"]
    check(dlq == base + "dlq-" + tag, "dlq url %s" % dlq)
    arn = c.call("get_queue_attributes", QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    check(arn == "arn:aws:sqs:us-east-1:000000000000:dlq-" + tag, "QueueArn %s" % arn)
    attrs = {"VisibilityTimeout": "30",
             "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "3"})}
    q = c.call("create_queue", QueueName="q-" + tag, Attributes=attrs)["QueueUrl"]
    again = c.call("create_queue", QueueName="q-" + tag, Attributes=attrs)["QueueUrl"]
    check(again == q, "CreateQueue with the same attributes returns the URL")
    expect_error(lambda: c.call("create_queue", QueueName="q-" + tag, Attributes={"VisibilityTimeout": "31"}),
                 "QueueAlreadyExists", "CreateQueue with other attributes")
    got = c.call("get_queue_attributes", QueueUrl=q, AttributeNames=["RedrivePolicy", "VisibilityTimeout"])
    rp = json.loads(got["Attributes"]["RedrivePolicy"])
    check(rp == {"deadLetterTargetArn": arn, "maxReceiveCount": 3}, "RedrivePolicy %r" % rp)
    check(got["Attributes"]["VisibilityTimeout"] == "30", "VisibilityTimeout %r" % got)
    check(c.call("get_queue_url", QueueName="q-" + tag)["QueueUrl"] == q, "GetQueueUrl")
    urls = c.call("list_queues", QueueNamePrefix="dlq-").get("QueueUrls", [])
    check(urls == [dlq], "ListQueues prefix: %r" % urls)
    expect_error(lambda: c.call("get_queue_url", QueueName="nope-" + tag), "NonExistentQueue", "GetQueueUrl missing")
    return q, dlq


def message_checks(c, q):
    ma = {"s": {"DataType": "String", "StringValue": "x y \u00e9"},
          "n": {"DataType": "Number.float", "StringValue": "4563442423554324324264524243.32543234"},
          "b": {"DataType": "Binary", "BinaryValue": c.binary(b"Hello binary world!")}}
    r = c.call("send_message", QueueUrl=q, MessageBody="hello world", MessageAttributes=ma)
    check(r["MD5OfMessageBody"] == "5eb63bbbe01eeed093cb22bb8f5acdc3", "MD5OfMessageBody %r" % r)
    sent_attr_md5 = r.get("MD5OfMessageAttributes")
    if isinstance(ma["b"]["BinaryValue"], bytes):
        check(sent_attr_md5 == md5_attrs(ma), "MD5OfMessageAttributes %r vs %s" % (r, md5_attrs(ma)))
    entries = [{"Id": "e%d" % i, "MessageBody": "batch %d" % i} for i in range(3)]
    entries.append({"Id": "bad", "MessageBody": "x", "DelaySeconds": 901})
    b = c.call("send_message_batch", QueueUrl=q, Entries=entries)
    ok = sorted(e["Id"] for e in b.get("Successful", []))
    check(ok == ["e0", "e1", "e2"], "SendMessageBatch successful %r" % b)
    check([f["Id"] for f in b.get("Failed", [])] == ["bad"] and b["Failed"][0]["SenderFault"],
          "SendMessageBatch failed entry %r" % b.get("Failed"))
    for e in b.get("Successful", []):
        check(e["MD5OfMessageBody"] == md5("batch " + e["Id"][1:]), "batch MD5 %r" % e)
    check(counts(c, q) == (4, 0, 0), "counts after sends %r" % (counts(c, q),))
    msgs = receive(c, q, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"],
                   VisibilityTimeout=30)
    bodies = sorted(m["Body"] for m in msgs)
    check(bodies == ["batch 0", "batch 1", "batch 2", "hello world"], "received %r" % bodies)
    for m in msgs:
        check(m["MD5OfBody"] == md5(m["Body"]), "MD5OfBody %r" % m)
        check(m["Attributes"]["ApproximateReceiveCount"] == "1", "receive count %r" % m["Attributes"])
        check(abs(int(m["Attributes"]["SentTimestamp"]) / 1000 - time.time()) < 600, "SentTimestamp")
        if m["Body"] == "hello world":
            got = m.get("MessageAttributes", {})
            check(got.get("s", {}).get("StringValue") == "x y \u00e9", "String attribute %r" % got)
            check(got.get("n", {}).get("DataType") == "Number.float", "Number attribute %r" % got)
            check(m.get("MD5OfMessageAttributes") == sent_attr_md5 == md5_attrs(got),
                  "received MD5OfMessageAttributes %r" % m)
            binv = got.get("b", {}).get("BinaryValue")
            if isinstance(binv, bytes):
                check(binv == b"Hello binary world!", "Binary attribute %r" % binv)
    check(counts(c, q) == (0, 4, 0), "counts in flight %r" % (counts(c, q),))
    check(receive(c, q) == [], "nothing visible while in flight")
    c.call("delete_message", QueueUrl=q, ReceiptHandle=msgs[0]["ReceiptHandle"])
    d = c.call("delete_message_batch", QueueUrl=q, Entries=[
        {"Id": "d%d" % i, "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs[1:])] +
        [{"Id": "junk", "ReceiptHandle": "not-a-handle"}])
    check(len(d.get("Successful", [])) == 3 and [f["Id"] for f in d.get("Failed", [])] == ["junk"],
          "DeleteMessageBatch %r" % d)
    check(counts(c, q) == (0, 0, 0), "counts after delete %r" % (counts(c, q),))
    expect_error(lambda: c.call("delete_message", QueueUrl=q, ReceiptHandle="garbage"),
                 "ReceiptHandleIsInvalid", "DeleteMessage garbage handle")
    c.call("send_message", QueueUrl=q, MessageBody="later", DelaySeconds=600)
    check(counts(c, q) == (0, 0, 1), "delayed count %r" % (counts(c, q),))
    c.call("purge_queue", QueueUrl=q)
    check(counts(c, q) == (0, 0, 0), "counts after purge %r" % (counts(c, q),))
    expect_error(lambda: c.call("purge_queue", QueueUrl=q), "PurgeQueueInProgress", "second purge")


def visibility_and_redrive(c, q, dlq):
    c.call("send_message", QueueUrl=q, MessageBody="poison")
    m1 = receive(c, q, VisibilityTimeout=30, AttributeNames=["All"])
    check(len(m1) == 1, "first receive %r" % m1)
    check(receive(c, q) == [], "invisible after receive")
    parts = m1[0]["ReceiptHandle"].split("-")
    unknown = "-".join(parts[:2] + ["fffffff"] + parts[3:])  # a well-formed handle of no message
    expect_error(lambda: c.call("change_message_visibility", QueueUrl=q, ReceiptHandle=unknown,
                                VisibilityTimeout=5), "MessageNotInflight", "ChangeMessageVisibility unknown")
    c.call("change_message_visibility", QueueUrl=q, ReceiptHandle=m1[0]["ReceiptHandle"], VisibilityTimeout=0)
    m2 = receive(c, q, VisibilityTimeout=30, AttributeNames=["ApproximateReceiveCount"])
    check(len(m2) == 1 and m2[0]["Attributes"]["ApproximateReceiveCount"] == "2", "second receive %r" % m2)
    # Visibility timeout expiry: 2 s, then a long poll gets it back when it expires.
    c.call("change_message_visibility", QueueUrl=q, ReceiptHandle=m2[0]["ReceiptHandle"], VisibilityTimeout=2)
    t0 = time.time()
    m3 = receive(c, q, WaitTimeSeconds=15, VisibilityTimeout=30, AttributeNames=["All"])
    check(len(m3) == 1 and m3[0]["Attributes"]["ApproximateReceiveCount"] == "3",
          "third receive after the timeout expired %r" % m3)
    check(time.time() - t0 < 14, "the long poll ended when the visibility timeout expired")
    r = c.call("change_message_visibility_batch", QueueUrl=q, Entries=[
        {"Id": "a", "ReceiptHandle": m3[0]["ReceiptHandle"], "VisibilityTimeout": 0}])
    check([s["Id"] for s in r.get("Successful", [])] == ["a"], "ChangeMessageVisibilityBatch %r" % r)
    # received maxReceiveCount (3) times: the next attempt moves it to the DLQ
    check(receive(c, q) == [], "over maxReceiveCount: not delivered from the source")
    d = receive(c, dlq, AttributeNames=["All"])
    check(len(d) == 1 and d[0]["Body"] == "poison" and d[0]["MessageId"] == m1[0]["MessageId"],
          "moved to the DLQ %r" % d)


def long_poll_checks(c, q, make_sender):
    t0 = time.time()
    check(receive(c, q, WaitTimeSeconds=1) == [], "empty long poll")
    el = time.time() - t0
    check(el >= 0.9, "empty long poll waited %.2f s" % el)
    result = {}

    def poll():
        t = time.time()
        try:
            result["msgs"] = receive(c, q, WaitTimeSeconds=20)
        except Exception as e:  # reported below
            result["err"] = e
        result["t"] = time.time() - t
    th = threading.Thread(target=poll)
    th.start()
    time.sleep(2.0)
    make_sender().call("send_message", QueueUrl=q, MessageBody="wake up")
    th.join(60)
    got = [m["Body"] for m in result.get("msgs", [])]
    check(got == ["wake up"], "long poll got %r (%r)" % (got, result.get("err")))
    check(result.get("t", 99) < 18, "long poll returned early: %.2f s" % result.get("t", 99))


def size_checks(c, port, tag):
    small = c.call("create_queue", QueueName="small-" + tag, Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    c.call("send_message", QueueUrl=small, MessageBody="a" * 1000)
    expect_error(lambda: c.call("send_message", QueueUrl=small, MessageBody="a" * 1025),
                 "InvalidParameterValue", "message over MaximumMessageSize")
    c.call("set_queue_attributes", QueueUrl=small, Attributes={"MaximumMessageSize": "2048"})
    c.call("send_message", QueueUrl=small, MessageBody="a" * 2000)
    expect_error(lambda: c.call("set_queue_attributes", QueueUrl=small, Attributes={"Bogus": "1"}),
                 "InvalidAttributeName", "unknown attribute")
    c.call("delete_queue", QueueUrl=small)
    expect_error(lambda: c.call("get_queue_url", QueueName="small-" + tag), "NonExistentQueue", "deleted queue")


def run_client(c, port, make_sender, tag):
    q, dlq = queue_checks(c, port, tag)
    message_checks(c, q)
    visibility_and_redrive(c, q, dlq)
    long_poll_checks(c, q, make_sender)
    size_checks(c, port, tag)


def durability():
    c = None
    with Stackd(STACK) as sd:
        data = os.path.join(sd.dir, "data")
        c = BotoClient(sd.port)
        q = c.call("create_queue", QueueName="durable")["QueueUrl"]
        for i in range(5):
            c.call("send_message_batch", QueueUrl=q,
                   Entries=[{"Id": "m%d" % k, "MessageBody": "msg %d" % (i * 10 + k)} for k in range(10)])
        inflight = receive(c, q, MaxNumberOfMessages=5, VisibilityTimeout=3)
        check(len(inflight) == 5, "received 5 before the kill")
        sd.proc.kill()  # kill -9: no shutdown path runs
        sd.proc.wait(10)
        with Stackd(STACK, extra_args=["--data-dir", data]) as sd2:
            c2 = BotoClient(sd2.port)
            q2 = c2.call("get_queue_url", QueueName="durable")["QueueUrl"]
            n = counts(c2, q2)
            check(n[0] + n[1] == 50, "50 messages after restart: %r" % (n,))
            seen = set()
            deadline = time.time() + 30
            while len(seen) < 50 and time.time() < deadline:
                for m in receive(c2, q2, MaxNumberOfMessages=10, WaitTimeSeconds=1):
                    seen.add(m["Body"])
                    c2.call("delete_message", QueueUrl=q2, ReceiptHandle=m["ReceiptHandle"])
            check(seen == {"msg %d" % i for i in range(50)}, "all 50 delivered after restart (%d)" % len(seen))
            check(counts(c2, q2) == (0, 0, 0), "all deleted")


def newer(name, real):
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK) and os.path.realpath(p) != os.path.realpath(real):
            return p
    return None


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "awscli"
    if mode == "boto3_json":
        py = newer("python3", "/usr/bin/python3")
        if not py:
            print("no newer python3 on PATH")
            return 1
        return subprocess.run([py, os.path.abspath(__file__), "boto3", "--expect-json"], timeout=280).returncode
    if mode == "node":
        mod = os.path.join(os.environ.get("LG_SOURCE_DIR", os.path.join(HERE, "../../..")),
                           "node_modules/@aws-sdk/client-sqs")
        if not os.path.isdir(mod):
            print("@aws-sdk/client-sqs is not installed (npm ci at the repository root)")
            return 1
        with Stackd(STACK) as sd:
            r = subprocess.run(["node", os.path.join(HERE, "sqs_node.mjs"), str(sd.port)], timeout=120)
            if r.returncode != 0:
                print(sd.read_log()[-3000:])
            return r.returncode
    if mode == "durability":
        durability()
        print("%s: %d failed" % (mode, len(failures)))
        return 1 if failures else 0
    with Stackd(STACK) as sd:
        try:
            if mode in ("awscli", "awscli_json"):
                exe = "/usr/bin/aws" if mode == "awscli" else newer("aws", "/usr/bin/aws")
                if not exe:
                    print("no newer aws on PATH")
                    return 1
                c = CliClient(exe, sd.port)
                run_client(c, sd.port, lambda: CliClient(exe, sd.port), mode)
            else:
                c = BotoClient(sd.port)
                import botocore
                print("client: botocore %s, sqs protocol %s" % (botocore.__version__, c.protocol))
                want = "json" if "--expect-json" in sys.argv else "query"
                check(c.protocol == want, "protocol %s, expected %s" % (c.protocol, want))
                run_client(c, sd.port, lambda: BotoClient(sd.port), "boto3")
        except (ClientError, AssertionError, KeyError, subprocess.TimeoutExpired) as e:
            failures.append(repr(e))
            print("FAIL:", repr(e))
            print(sd.read_log()[-3000:])
    print("%s: %d failed" % (mode, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
