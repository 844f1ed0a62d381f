#!/usr/bin/env python3
"""Conformance: unmodified AWS clients against stackd's Lambda API.

Usage: lambda_conformance.py awscli|boto3
  awscli: Debian /usr/bin/aws (2.9) with --endpoint-url, fake credentials.
  boto3:  run under Debian /usr/bin/python3 (boto3 1.26) with endpoint_url.
Both exercise invoke (RequestResponse with LogType Tail, Event, function
error), list-functions, get-function, update-function-configuration and
put-function-concurrency against a real stackd and the hello bootstrap.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../integration/stackd_lambda"))
from stackd_fixture import Stackd  # noqa: E402

STACK = """
functions:
  hello:
    bootstrap: @HELLO@
    memory_mb: 128
    timeout: 3s
    environment: {STACKD_TEST_MARKER: "@MARKER@", A: "1"}
"""

ENV = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
           AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_CONFIG_FILE="/dev/null",
           AWS_SHARED_CREDENTIALS_FILE="/dev/null")
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def aws(sd, *args):
    cmd = ["/usr/bin/aws", "--endpoint-url", "http://127.0.0.1:%d" % sd.port, "--region", "us-east-1",
           "--output", "json", "lambda"] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=ENV)
    if r.returncode != 0:
        raise AssertionError("%s -> %d: %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return json.loads(r.stdout) if r.stdout.strip() else {}


def run_awscli(sd):
    out = os.path.join(tempfile.mkdtemp(), "out.json")
    res = aws(sd, "invoke", "--function-name", "hello", "--log-type", "Tail",
              "--cli-binary-format", "raw-in-base64-out", "--payload", '{"k":1}', out)
    check(res.get("StatusCode") == 200 and res.get("ExecutedVersion") == "$LATEST", "invoke: %r" % res)
    log = base64.b64decode(res.get("LogResult", "")).decode()
    check("REPORT RequestId:" in log and "Init Duration" in log, "LogResult: %r" % log)
    with open(out) as f:
        check("requestId" in json.load(f), "invoke payload")
    res = aws(sd, "invoke", "--function-name", "hello", "--cli-binary-format", "raw-in-base64-out",
              "--payload", '{"action":"error"}', out)
    check(res.get("FunctionError") == "Unhandled", "function error: %r" % res)
    res = aws(sd, "invoke", "--function-name", "hello", "--invocation-type", "Event", out)
    check(res.get("StatusCode") == 202, "Event invoke: %r" % res)
    res = aws(sd, "list-functions")
    names = [f["FunctionName"] for f in res.get("Functions", [])]
    check(names == ["hello"], "list-functions: %r" % names)
    res = aws(sd, "get-function", "--function-name", "hello")
    cfg = res.get("Configuration", {})
    check(cfg.get("FunctionArn") == "arn:aws:lambda:us-east-1:000000000000:function:hello", "arn: %r" % cfg)
    check(cfg.get("MemorySize") == 128 and cfg.get("Timeout") == 3, "get-function: %r" % cfg)
    check(cfg.get("Environment", {}).get("Variables", {}).get("A") == "1", "env: %r" % cfg)
    res = aws(sd, "update-function-configuration", "--function-name", "hello", "--memory-size", "256",
              "--timeout", "5", "--environment", "Variables={A=2,B=x}")
    check(res.get("MemorySize") == 256 and res.get("Timeout") == 5, "update: %r" % res)
    check(res.get("Environment", {}).get("Variables") == {"A": "2", "B": "x"}, "update env: %r" % res)
    res = aws(sd, "put-function-concurrency", "--function-name", "hello",
              "--reserved-concurrent-executions", "7")
    check(res.get("ReservedConcurrentExecutions") == 7, "put-function-concurrency: %r" % res)
    res = aws(sd, "get-function", "--function-name", "arn:aws:lambda:us-east-1:000000000000:function:hello")
    check(res.get("Concurrency", {}).get("ReservedConcurrentExecutions") == 7, "concurrency in get: %r" % res)
    check(res.get("Configuration", {}).get("MemorySize") == 256, "memory after update: %r" % res)
    # The new configuration reaches new environments.
    res = aws(sd, "invoke", "--function-name", "hello", "--log-type", "Tail", out)
    log = base64.b64decode(res.get("LogResult", "")).decode()
    check("Memory Size: 256 MB" in log, "REPORT after update: %r" % log)
    r = subprocess.run(["/usr/bin/aws", "--endpoint-url", "http://127.0.0.1:%d" % sd.port, "--region", "us-east-1",
                        "lambda", "get-function", "--function-name", "nope"],
                       capture_output=True, text=True, timeout=60, env=ENV)
    check(r.returncode != 0 and "ResourceNotFoundException" in r.stderr, "not found: %r" % r.stderr)


def run_boto3(sd):
    import boto3  # Debian python3-boto3 1.26 under /usr/bin/python3
    from botocore.config import Config
    c = boto3.client("lambda", endpoint_url="http://127.0.0.1:%d" % sd.port, region_name="us-east-1",
                     aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                     config=Config(retries={"max_attempts": 1}))
    r = c.invoke(FunctionName="hello", Payload=b'{"k":1}', LogType="Tail")
    check(r["StatusCode"] == 200 and r.get("ExecutedVersion") == "$LATEST", "invoke: %r" % r)
    check("requestId" in json.loads(r["Payload"].read()), "payload")
    check("REPORT RequestId:" in base64.b64decode(r["LogResult"]).decode(), "LogResult")
    r = c.invoke(FunctionName="hello", Payload=b'{"action":"error"}')
    check(r.get("FunctionError") == "Unhandled", "function error: %r" % r)
    r = c.invoke(FunctionName="hello", InvocationType="Event", Payload=b"{}")
    check(r["StatusCode"] == 202, "Event: %r" % r)
    r = c.invoke(FunctionName="hello", InvocationType="DryRun")
    check(r["StatusCode"] == 204, "DryRun: %r" % r)
    fns = c.list_functions()["Functions"]
    check([f["FunctionName"] for f in fns] == ["hello"], "list: %r" % fns)
    g = c.get_function(FunctionName="hello")
    check(g["Configuration"]["Runtime"] == "provided.al2023" and g["Configuration"]["State"] == "Active", "get: %r" % g)
    u = c.update_function_configuration(FunctionName="hello", MemorySize=512, Timeout=10,
                                        Environment={"Variables": {"X": "y"}})
    check(u["MemorySize"] == 512 and u["Timeout"] == 10 and u["Environment"]["Variables"] == {"X": "y"}, "update: %r" % u)
    p = c.put_function_concurrency(FunctionName="hello", ReservedConcurrentExecutions=3)
    check(p["ReservedConcurrentExecutions"] == 3, "put concurrency: %r" % p)
    g = c.get_function_concurrency(FunctionName="hello")
    check(g.get("ReservedConcurrentExecutions") == 3, "get concurrency: %r" % g)
    c.delete_function_concurrency(FunctionName="hello")
    check("Concurrency" not in c.get_function(FunctionName="hello"), "delete concurrency")
    try:
        c.get_function(FunctionName="nope")
        check(False, "get_function(nope) did not raise")
    except c.exceptions.ResourceNotFoundException:
        pass
    try:
        c.update_function_configuration(FunctionName="hello", MemorySize=64)
        check(False, "MemorySize=64 accepted")
    except Exception as e:  # botocore validates the minimum client-side, stackd server-side
        check("MemorySize" in str(e) or "memory" in str(e).lower(), "bad memory error: %r" % e)
    # Throttling through boto3: reserved concurrency 0 throttles everything.
    c.put_function_concurrency(FunctionName="hello", ReservedConcurrentExecutions=0)
    try:
        c.invoke(FunctionName="hello", Payload=b"{}")
        check(False, "invoke at reserved concurrency 0 did not raise")
    except c.exceptions.TooManyRequestsException:
        pass


def main():
    which = sys.argv[1]
    with Stackd(STACK) as sd:
        try:
            (run_awscli if which == "awscli" else run_boto3)(sd)
        except Exception as e:  # noqa: BLE001
            failures.append(repr(e))
            print("FAIL: exception", repr(e))
        rc = sd.stop()
        log = sd.read_log()
        check(rc == 0, "stackd exit code %r" % rc)
        check("Sanitizer" not in log and "runtime error:" not in log, "sanitizer report in the stackd log")
        if failures:
            print("---- stackd log ----\n" + log[-3000:])
    print("%s: %d failed" % (which, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
