#!/usr/bin/env python3
"""Conformance: @aws-sdk/client-sqs (node, awsJson1_0) against stackd's SQS: the
operations sqs_node.mjs leaves out.

Starts a real stackd (port 0, temp --data-dir, always stopped) and runs
sqs_node_more.mjs against it; the SDK verifies the MD5s.
Prints "N passed, N failed" and exits non-zero on failure.
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../integration/stackd_lambda"))
from stackd_fixture import SOURCE_DIR, Stackd  # noqa: E402


def main():
    mod = os.path.join(SOURCE_DIR, "node_modules/@aws-sdk/client-sqs")
    if not os.path.isdir(mod):
        print("@aws-sdk/client-sqs is not installed (npm ci at the repository root)")
        print("0 passed, 1 failed")
        return 1
    env = dict(os.environ, LG_SOURCE_DIR=SOURCE_DIR)
    with Stackd("stack:\n  region: us-east-1\n") as sd:
        try:
            r = subprocess.run(["node", os.path.join(HERE, "sqs_node_more.mjs"), str(sd.port)], env=env,
                               timeout=120, capture_output=True, text=True)
            out, rc = r.stdout + r.stderr, r.returncode
        except subprocess.TimeoutExpired:
            out, rc = "node did not finish in 120 s", 1
        print(out)
        if rc != 0:
            print(sd.read_log()[-3000:])
    m = re.search(r"node: (\d+) passed, (\d+) failed", out)
    passed, failed = (int(m.group(1)), int(m.group(2))) if m else (0, 1)
    if rc != 0 and failed == 0:
        failed = 1  # a crash or an uncaught SDK error (e.g. a CRC32 mismatch)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
