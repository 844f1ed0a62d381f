"""orders_lib.py: helpers shared by the order-system tests (functions_orders, pipeline).

Import by path: sys.path.insert(0, <repo>/tests/lib); import orders_lib.
- aws_cli(port, *args): the Debian awscli (/usr/bin/aws) against stackd, JSON output parsed;
- aws_json(port, target, body): one awsJson1_0 call (SQS or DynamoDB) over plain HTTP, as the
  SDKs send it but unsigned (stackd routes by X-Amz-Target); returns (status, parsed JSON);
- post_order(st, body, headers): POST /orders on a stackd_fixture.Stackd;
- recv_json(ws, timeout): the next text message of a ws_it.WS client as JSON.
Every call is bounded in time.
"""
import http.client
import json
import os
import subprocess

AWS = "/usr/bin/aws"
CLI_ENV = {"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": "", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}


def aws_cli(port, *args, check_rc=True, timeout=60):
    """Run `aws --endpoint-url http://127.0.0.1:PORT --output json ARGS`; the parsed output
    ({} when empty). Raises AssertionError on a non-zero exit when check_rc."""
    env = dict(os.environ, **CLI_ENV)
    env.pop("AWS_PROFILE", None)
    cmd = [AWS, "--endpoint-url", "http://127.0.0.1:%d" % port, "--output", "json"] + list(args)
    p = subprocess.run(cmd, env=env, capture_output=True, timeout=timeout)
    if check_rc and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(args[:2]), p.returncode,
                                                    p.stderr.decode(errors="replace")))
    out = p.stdout.decode()
    return json.loads(out) if out.strip() else {}


def aws_json(port, target, body, timeout=30, conn=None):
    """POST an awsJson1_0 request (target e.g. "AmazonSQS.ReceiveMessage" or
    "DynamoDB_20120810.GetItem"); (status, parsed body). conn: a reusable
    http.client.HTTPConnection, else a fresh one per call."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST", "/", json.dumps(body).encode(),
                  {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"})
        r = c.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data.strip() else {})
    finally:
        if conn is None:
            c.close()


def post_order(st, body, headers=None):
    """POST /orders (body: a dict sent as JSON, or bytes); (status, headers, parsed JSON or None)."""
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    data = json.dumps(body).encode() if not isinstance(body, bytes) else body
    status, hd, out = st.request("POST", "/orders", data, h)
    try:
        js = json.loads(out) if out else None
    except ValueError:
        js = None
    return status, hd, js


def recv_json(ws, timeout=15):
    """The next text message of a ws_it.WS client as JSON (control frames skipped)."""
    ws.sock.settimeout(timeout)
    for _ in range(20):
        op, data = ws.recv_message()
        if op == 1:
            return json.loads(data)
    raise AssertionError("no text message")
