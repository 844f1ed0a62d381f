#!/usr/bin/python3
"""End to end: requests built by cm_aws reach a capture server on 127.0.0.1
over libcurl, and the server verifies every signature with botocore.

The server re-signs each received request with Debian's botocore SigV4Auth
from what arrived on the wire -- the headers listed in SignedHeaders with
their received values, the raw path and query, the raw body, the received
X-Amz-Date as the signing time -- and requires the identical Authorization
header. It also checks what libcurl must not add or change (protocols.md
6.4): no "Expect: 100-continue", no default form Content-Type, the Host that
was signed. It answers in each service's protocol so the client's error
parsing and retries are exercised (query-compatible SQS error, DynamoDB
throttling once and always, API Gateway 410 GoneException).

Usage: aws_e2e.py AWS_E2E_CLIENT. Prints "N passed, N failed".
"""
import datetime
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AKID, SECRET, TOKEN, REGION = "AKIDE2EEXAMPLE", "e2e/secret+key", "tok/en+=session", "eu-west-1"

_now = {"t": datetime.datetime(2000, 1, 1)}
_lock = threading.Lock()


class _SignTime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return _now["t"]


botocore.auth.datetime = types.SimpleNamespace(datetime=_SignTime)

LOG = []  # one dict per received request
SEEN = {}  # throttle-once bookkeeping


def botocore_verify(method, target, headers, body):
    """Returns (ok, reason) after re-signing with botocore."""
    hmap = {}
    for k, v in headers:
        hmap.setdefault(k.lower(), []).append(v)
    auth = hmap.get("authorization", [""])[0]
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return False, "no SigV4 Authorization"
    parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    akid, date, region, service, term = parts["Credential"].split("/")
    signed = parts["SignedHeaders"].split(";")
    amz_date = hmap.get("x-amz-date", [""])[0]
    if not amz_date.startswith(date):
        return False, "X-Amz-Date does not match the scope"
    token = hmap.get("x-amz-security-token", [None])[0]
    if token is not None and "x-amz-security-token" not in signed:
        return False, "session token sent but not signed"
    for unsigned in ("user-agent", "expect", "x-amzn-trace-id", "content-length", "accept"):
        if unsigned in signed:
            return False, "%s was signed" % unsigned
    host = hmap["host"][0]
    req = AWSRequest(method=method, url="http://%s%s" % (host, target), data=body or None)
    for name in signed:
        if name in ("x-amz-date", "x-amz-security-token"):
            continue  # botocore sets these itself from the time and the token
        for v in hmap.get(name, []):
            req.headers[name] = v
    creds = Credentials(akid, SECRET if akid == AKID else "wrong", token)
    with _lock:
        _now["t"] = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
        botocore.auth.SigV4Auth(creds, service, region).add_auth(req)
    if req.headers["Authorization"] != auth:
        return False, "botocore computed %s" % req.headers["Authorization"]
    return True, ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj=None, headers=(), ctype="application/x-amz-json-1.0"):
        data = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "req-%d" % len(LOG))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n else b""
        headers = list(self.headers.items())
        ok, why = botocore_verify(self.command, self.path, headers, body)
        hl = {k.lower(): v for k, v in headers}
        entry = {"method": self.command, "path": self.path, "verified": ok, "why": why,
                 "peer": self.client_address[1],
                 "headers": hl, "body_len": len(body), "body_head": body[:64].decode("latin-1")}
        LOG.append(entry)
        if not ok:
            return self.reply(403, {"__type": "SignatureDoesNotMatch", "message": why})
        target = hl.get("x-amz-target", "")
        if target == "AmazonSQS.SendMessage":
            return self.reply(200, {"MessageId": "m-1", "MD5OfMessageBody": "x"})
        if target == "AmazonSQS.GetQueueUrl":
            return self.reply(400, {"__type": "com.amazonaws.sqs#QueueDoesNotExist",
                                    "message": "The specified queue does not exist."},
                              [("x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender")])
        if target == "DynamoDB_20120810.PutItem":
            return self.reply(200, {})
        if target == "DynamoDB_20120810.GetItem":
            table = json.loads(body)["TableName"]
            if table == "throttle-always" or (table == "throttle-once" and table not in SEEN):
                SEEN[table] = 1
                return self.reply(400, {"__type": "com.amazonaws.dynamodb.v20120810#"
                                        + ("ProvisionedThroughputExceededException" if table == "throttle-once"
                                           else "ThrottlingException"),
                                        "message": "slow down"})
            return self.reply(200, {"Item": {}})
        if self.path.startswith("/prod/@connections/gone-id"):
            return self.reply(410, {"message": "gone"}, [("x-amzn-ErrorType", "GoneException:http://x/")],
                              "application/json")
        if self.path.startswith("/prod/@connections/"):
            return self.reply(200, None, (), "application/json")
        if self.path.startswith("/2015-03-31/functions/"):
            return self.reply(200, {"ok": True}, (), "application/json")
        return self.reply(404, {"message": "no route"}, [("x-amzn-ErrorType", "NotFound")])

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    if len(sys.argv) != 2:
        print("usage: aws_e2e.py AWS_E2E_CLIENT", file=sys.stderr)
        return 2
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = "http://127.0.0.1:%d" % port
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    home = tempfile.mkdtemp(prefix="aws_e2e.")
    env.update({
        "HOME": home,
        "AWS_ACCESS_KEY_ID": AKID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN,
        "AWS_REGION": REGION,
        # Per-service variables must win over the global one, which points
        # at a closed port: a request that used it would fail.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:%d" % closed_port(),
        "AWS_ENDPOINT_URL_SQS": base,
        "AWS_ENDPOINT_URL_DYNAMODB": base + "/",
        "AWS_ENDPOINT_URL_LAMBDA": base,
        "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": base + "/prod",
    })
    out = subprocess.run([sys.argv[1]], env=env, capture_output=True, timeout=90)
    srv.shutdown()
    os.rmdir(home)
    lines = {}
    for line in out.stdout.decode(errors="replace").splitlines():
        name, _, rest = line.partition(" ")
        fields = dict(f.split("=", 1) for f in rest.split(" ") if "=" in f and not f.startswith("body"))
        lines[name] = fields
    passed = failed = 0

    def check(cond, what):
        nonlocal passed, failed
        if cond:
            passed += 1
        else:
            failed += 1
            print("FAIL: %s" % what)

    check(out.returncode == 0, "client exit %d: %s" % (out.returncode, out.stderr.decode(errors="replace")))
    want = {
        "sqs.send_multi": ("0", "200", "1", ""),
        "sqs.missing": ("-10", "400", "1", "AWS.SimpleQueueService.NonExistentQueue"),
        "ddb.put_big": ("0", "200", "1", ""),
        "ddb.throttled_once": ("0", "200", "2", ""),
        "ddb.throttled_always": ("-10", "400", "3", "ThrottlingException"),
        "gw.post": ("0", "200", "1", ""),
        "gw.gone": ("-10", "410", "1", "GoneException"),
        "lambda.invoke": ("0", "200", "1", ""),
        "lambda.get": ("0", "200", "1", ""),
    }
    for name, (rc, status, attempts, code) in want.items():
        got = lines.get(name, {})
        check((got.get("rc"), got.get("status"), got.get("attempts"), got.get("code")) ==
              (rc, status, attempts, code), "%s: got %s want rc=%s status=%s attempts=%s code=%s"
              % (name, got, rc, status, attempts, code))
    check(len(LOG) == 12, "server saw %d requests, want 12" % len(LOG))
    for e in LOG:
        tag = "%s %s" % (e["method"], e["path"])
        check(e["verified"], "%s: botocore rejected the signature: %s" % (tag, e["why"]))
        check("expect" not in e["headers"], "%s: Expect header sent" % tag)
        check(e["headers"].get("host") == "127.0.0.1:%d" % port, "%s: Host %s" % (tag, e["headers"].get("host")))
        check(e["headers"].get("x-amz-security-token") == TOKEN, "%s: session token" % tag)
        if "x-amz-target" not in e["headers"] and e["method"] != "POST" or e["path"].startswith("/prod/@connections/R1k"):
            check("content-type" not in e["headers"], "%s: unexpected Content-Type %s" % (tag, e["headers"].get("content-type")))
    by_path = {e["path"]: e for e in LOG}
    gw = by_path.get("/prod/@connections/R1kmxc2VNjMCFIA%3D?b=2&a=x%2Fy&a=1")
    check(gw is not None and gw["body_head"] == "hello", "gw.post path/query/body as built: %s" % list(by_path))
    big = [e for e in LOG if e["headers"].get("x-amz-target") == "DynamoDB_20120810.PutItem"]
    check(len(big) == 1 and big[0]["body_len"] > 1536 * 1024, "1.5 MiB PutItem body arrived whole")
    sqs = [e for e in LOG if e["headers"].get("x-amz-target") == "AmazonSQS.SendMessage"]
    check(len(sqs) == 1 and sqs[0]["headers"].get("content-type") == "application/x-amz-json-1.0"
          and sqs[0]["headers"].get("x-amzn-query-mode") == "true", "SQS JSON headers")
    # One client's requests reuse its kept-alive connection (curl share).
    lam = [e["peer"] for e in LOG if e["path"].startswith("/2015-03-31/functions/")]
    check(len(lam) == 2 and lam[0] == lam[1], "lambda.invoke and lambda.get on one connection: %s" % lam)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
