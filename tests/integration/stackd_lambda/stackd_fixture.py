"""stackd_fixture.py: start a real stackd on port 0 for a test and always stop it.

Used by the stackd integration and conformance tests (they import this file by
path). Every wait is bounded; stackd is killed if it does not stop on SIGTERM.
"""
import base64
import http.client
import json
import os
import signal
import subprocess
import tempfile
import time
import uuid

SOURCE_DIR = os.environ.get("LG_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "../../..")))
BINARY_DIR = os.environ.get("LG_BINARY_DIR", os.path.join(SOURCE_DIR, "build"))
STACKD = os.path.join(BINARY_DIR, "deploy/local/stackd")
HELLO = os.path.join(BINARY_DIR, "functions/hello/bootstrap")


class Stackd:
    """A running stackd with a generated stack file. Use as a context manager."""

    def __init__(self, stack_yaml, extra_args=()):
        self.dir = tempfile.mkdtemp(prefix="stackd-it-")
        self.marker = uuid.uuid4().hex
        self.stack_path = os.path.join(self.dir, "stack.yaml")
        with open(self.stack_path, "w") as f:
            f.write(stack_yaml.replace("@HELLO@", HELLO).replace("@MARKER@", self.marker))
        self.port_file = os.path.join(self.dir, "port")
        self.log_path = os.path.join(self.dir, "stackd.log")
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None

    def __enter__(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [STACKD, "--stack", self.stack_path, "--port", "0", "--port-file", self.port_file,
             "--data-dir", os.path.join(self.dir, "data")] + self.extra_args,
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    txt = f.read().strip()
                if txt:
                    self.port = int(txt)
                    return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("stackd did not start; log:\n" + self.read_log())

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self, timeout=15):
        """SIGTERM, wait, then SIGKILL. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.returncode is not None:
            return self.proc.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()
        return self.proc.returncode

    def read_log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def conn(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30):
        """One request on a fresh connection: (status, headers dict lower-case, body bytes)."""
        c = self.conn(timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def invoke(self, fn, payload=b"{}", tail=True, itype=None, timeout=30):
        h = {}
        if tail:
            h["X-Amz-Log-Type"] = "Tail"
        if itype:
            h["X-Amz-Invocation-Type"] = itype
        st, hd, body = self.request("POST", "/2015-03-31/functions/%s/invocations" % fn, payload, h, timeout)
        log = base64.b64decode(hd["x-amz-log-result"]).decode() if "x-amz-log-result" in hd else ""
        return st, hd, body, log

    def log_events(self, group):
        """All events of a log group through the Logs API (FilterLogEvents)."""
        st, _, body = self.request(
            "POST", "/", json.dumps({"logGroupName": group}).encode(),
            {"X-Amz-Target": "Logs_20140328.FilterLogEvents",
             "Content-Type": "application/x-amz-json-1.1"})
        if st == 400 and b"ResourceNotFoundException" in body:
            return []  # no event yet: the group is created by the first line
        if st != 200:
            raise AssertionError("FilterLogEvents: %d %s" % (st, body))
        return json.loads(body)["events"]

    def env_pids(self):
        """PIDs of live processes started by this stackd (found by the marker variable)."""
        pids = []
        needle = ("STACKD_TEST_MARKER=" + self.marker).encode()
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/environ" % d, "rb") as f:
                    if needle in f.read().split(b"\0"):
                        with open("/proc/%s/stat" % d) as s:
                            if s.read().split(") ")[-1].startswith("Z"):
                                continue
                        pids.append(int(d))
            except OSError:
                pass
        return pids


def wait_until(pred, timeout=10.0, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()
