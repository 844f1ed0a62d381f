#!/usr/bin/python3
"""cm_sigv4_verify against requests real AWS clients put on the wire.

A capture server on 127.0.0.1 records what Debian's boto3 (python3-boto3,
in this process) and awscli v2 (/usr/bin/aws) send for one call per protocol
(awsQuery SQS and CloudWatch with form bodies, awsJson DynamoDB and Logs,
restJson Lambda and API Gateway management with '=' in the connection id),
answering each with a 400 error so no client retries. Every captured request
is then verified by sigv4_sign_tool's "verify" mode (cm_sigv4_verify, as
stackd will), and a copy with one body byte changed must be rejected.

Usage: verify_clients.py SIGN_TOOL. Prints "N passed, N failed".
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from botocore.config import Config

AKID, SECRET, REGION = "AKIDCAPTUREEXAMPLE", "capture/secret+key=", "us-east-1"
CAPTURED = []


class Capture(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n else b""
        path, _, query = self.path.partition("?")
        CAPTURED.append({"method": self.command, "path": path, "query": query,
                         "headers": [[k, v] for k, v in self.headers.items()],
                         "host": self.headers.get("Host", ""), "body_hex": body.hex(),
                         "agent": self.headers.get("User-Agent", "")})
        data = b'{"__type":"ValidationException","message":"captured"}'
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("x-amzn-ErrorType", "ValidationException")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def boto3_calls(base):
    cfg = Config(retries={"max_attempts": 0}, connect_timeout=5, read_timeout=10)
    s = boto3.session.Session(aws_access_key_id=AKID, aws_secret_access_key=SECRET,
                              aws_session_token="tok/en+=", region_name=REGION)

    def c(name, url=base):
        return s.client(name, endpoint_url=url, config=cfg)

    calls = [
        lambda: c("sqs").send_message(QueueUrl=base + "/000000000000/q1", MessageBody="hi there & é"),
        lambda: c("cloudwatch").put_metric_data(Namespace="Orders", MetricData=[
            {"MetricName": "Latency", "Value": 1.5, "Unit": "Milliseconds",
             "Dimensions": [{"Name": "Fn", "Value": "create order"}]}]),
        lambda: c("dynamodb").put_item(TableName="orders", Item={"pk": {"S": "a b/c"}}),
        lambda: c("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/"),
        lambda: c("lambda").invoke(FunctionName="f1", Payload=b'{"a":1}', LogType="Tail"),
        lambda: c("apigatewaymanagementapi", base + "/prod").post_to_connection(
            ConnectionId="R1kmxc2VNjMCFIA=", Data=b"hello"),
        lambda: c("lambda").list_functions(MaxItems=5, Marker="x y/z"),
    ]
    for call in calls:
        try:
            call()
        except Exception:  # the capture server answers 400 on purpose
            pass


def awscli_calls(base):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    home = tempfile.mkdtemp(prefix="verify_clients.")
    env.update({"HOME": home, "AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET,
                "AWS_DEFAULT_REGION": REGION, "AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": ""})
    cmds = [["sqs", "list-queues", "--queue-name-prefix", "a b"],
            ["apigatewaymanagementapi", "post-to-connection", "--connection-id", "Zm9v=",
             "--data", "aGVsbG8=", "--endpoint-url", base + "/prod"]]
    for cmd in cmds:
        args = ["/usr/bin/aws"] + cmd
        if "--endpoint-url" not in cmd:
            args += ["--endpoint-url", base]
        subprocess.run(args, env=env, capture_output=True, timeout=60)
    subprocess.run(["rm", "-rf", home])


def main():
    if len(sys.argv) != 2:
        print("usage: verify_clients.py SIGN_TOOL", file=sys.stderr)
        return 2
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % srv.server_address[1]
    boto3_calls(base)
    n_boto3 = len(CAPTURED)
    have_cli = os.access("/usr/bin/aws", os.X_OK)
    if have_cli:
        awscli_calls(base)
    srv.shutdown()

    now = int(time.time())
    lines = []
    for i, r in enumerate(CAPTURED):
        req = dict(r, id=i, mode="verify", secret=SECRET, time=now, s3=False)
        lines.append(json.dumps(req))
        bad = dict(req, id=1000 + i)
        body = bytearray.fromhex(r["body_hex"]) or bytearray(b"x")
        body[0] ^= 1
        bad["body_hex"] = body.hex()
        lines.append(json.dumps(bad))
    out = subprocess.run([sys.argv[1]], input=("\n".join(lines) + "\n").encode(),
                         capture_output=True, timeout=60)
    res = {}
    for line in out.stdout.decode().splitlines():
        d = json.loads(line)
        res[d["id"]] = d
    passed = failed = 0

    def check(cond, what):
        nonlocal passed, failed
        if cond:
            passed += 1
        else:
            failed += 1
            print("FAIL: %s" % what)

    check(n_boto3 == 7, "boto3 made %d requests, want 7" % n_boto3)
    if have_cli:
        check(len(CAPTURED) == n_boto3 + 2, "awscli made %d requests, want 2" % (len(CAPTURED) - n_boto3))
    for i, r in enumerate(CAPTURED):
        who = "awscli" if i >= n_boto3 else "boto3"
        tag = "%s %s %s?%s" % (who, r["method"], r["path"], r["query"])
        got = res.get(i, {})
        print("%s -> %s" % (tag, got.get("code")))
        check(got.get("verdict") == 0, "%s: verdict %s\n%s" % (tag, got.get("code"), got.get("canonical")))
        check(res.get(1000 + i, {}).get("code") == "SignatureDoesNotMatch",
              "%s: a changed body byte was not rejected (%s)" % (tag, res.get(1000 + i, {}).get("code")))
    paths = [r["path"] for r in CAPTURED]
    check("/prod/%40connections/R1kmxc2VNjMCFIA%3D" in paths or "/prod/@connections/R1kmxc2VNjMCFIA%3D" in paths,
          "the connection id arrived percent-encoded: %s" % paths)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
