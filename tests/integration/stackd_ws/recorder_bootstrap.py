#!/usr/bin/python3
"""recorder_bootstrap.py: a Lambda bootstrap (custom runtime, Runtime API) for
the WebSocket integration tests. It prints every event as one log line
"EVENT <json>" (so the test reads what API Gateway sent through the Logs API)
and answers {"statusCode": N}, N from the query parameter "reject" of a
$connect (default 200), with a Sec-WebSocket-Protocol header when the query
has "proto"."""
import json
import os
import urllib.request

BASE = "http://%s/2018-06-01/runtime/invocation/" % os.environ["AWS_LAMBDA_RUNTIME_API"]

while True:
    with urllib.request.urlopen(BASE + "next", timeout=3600) as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    print("EVENT " + json.dumps(event, sort_keys=True), flush=True)
    query = event.get("queryStringParameters") or {}
    result = {"statusCode": int(query.get("reject", "200"))}
    if "proto" in query:  # pick a subprotocol, as a $connect function may
        result["headers"] = {"Sec-WebSocket-Protocol": query["proto"]}
    out = json.dumps(result).encode()
    req = urllib.request.Request(BASE + rid + "/response", data=out, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()
