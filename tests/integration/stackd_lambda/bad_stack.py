#!/usr/bin/env python3
"""stackd exits with code 2 and a file:line:col message for a bad stack file,
and with 2 for bad flags; --help exits 0."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stackd_fixture import STACKD  # noqa: E402

fails = 0
d = tempfile.mkdtemp(prefix="stackd-bad-")
p = os.path.join(d, "bad.yaml")
with open(p, "w") as f:
    f.write("functions:\n  f:\n    bootstrap: /x\n    memory_mb: lots\n")
r = subprocess.run([STACKD, "--stack", p, "--port", "0"], capture_output=True, text=True, timeout=30)
if r.returncode != 2 or (p + ":4:") not in r.stderr:
    print("FAIL: bad stack: rc=%d stderr=%r" % (r.returncode, r.stderr))
    fails += 1
r = subprocess.run([STACKD, "--port", "99999", "--stack", p], capture_output=True, text=True, timeout=30)
if r.returncode != 2 or "--port" not in r.stderr:
    print("FAIL: bad port: rc=%d stderr=%r" % (r.returncode, r.stderr))
    fails += 1
r = subprocess.run([STACKD, "--help"], capture_output=True, text=True, timeout=30)
if r.returncode != 0 or "--port-file" not in r.stdout:
    print("FAIL: --help: rc=%d" % r.returncode)
    fails += 1
print("%d failed" % fails)
sys.exit(1 if fails else 0)
