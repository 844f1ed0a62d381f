#!/usr/bin/env python3
"""Integration tests of stackd's WebSocket API and @connections with the real
hello bootstrap (functions/hello: echoes a WebSocket message body back as the
route's response) and recorder_bootstrap.py (logs every event it gets as
"EVENT <json>", rejects $connect when the query has reject=<status>).

Usage: ws_it.py CASE. Each case starts its own stackd on port 0 and always
stops it. The WebSocket client is written here (socket + RFC 6455 framing):
Python's standard library has none. Management calls go through the Debian
awscli (/usr/bin/aws apigatewaymanagementapi) and plain HTTP.
"""
import base64
import hashlib
import json
import os
import resource
import selectors
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "stackd_lambda"))
from stackd_fixture import Stackd, wait_until  # noqa: E402

RECORDER = os.path.join(HERE, "recorder_bootstrap.py")
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

FUNCTIONS = """
functions:
  hello:
    bootstrap: @HELLO@
    environment: {STACKD_TEST_MARKER: "@MARKER@"}
  recorder:
    bootstrap: %s
    timeout: 10s
    environment: {STACKD_TEST_MARKER: "@MARKER@"}
""" % RECORDER

STACK = FUNCTIONS + """
websocket_api:
  api_id: wsit
  stage: prod
  idle_timeout: %s
  routes:
    $connect: recorder
    $disconnect: recorder
    $default: hello
    echo: hello
"""

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


class WS:
    """A minimal RFC 6455 client: masked frames out, frames in."""

    def __init__(self, port, path="/prod", headers=None, timeout=20):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        key = base64.b64encode(os.urandom(16))
        lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port, "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Key: " + key.decode(),
                 "Sec-WebSocket-Version: 13", "User-Agent: ws-it/1.0"]
        lines += ["%s: %s" % kv for kv in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            d = self.sock.recv(4096)
            if not d:
                break
            self.buf += d
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        hl = head.decode("latin-1").split("\r\n")
        self.status = int(hl[0].split()[1]) if hl and len(hl[0].split()) > 1 else 0
        self.headers = {}
        for line in hl[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.expected_accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()

    def send_frame(self, opcode, payload, fin=True):
        mask = os.urandom(4)
        n = len(payload)
        hdr = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(hdr + mask + masked)

    def send_text(self, s):
        self.send_frame(1, s.encode() if isinstance(s, str) else s)

    def _need(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("connection closed")
            self.buf += d

    def recv_frame(self):
        """(fin, opcode, payload); raises EOFError or socket.timeout."""
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        if b1 & 0x80:
            raise AssertionError("server frame is masked")
        n, off = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._need(off + n)
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def recv_message(self):
        """(opcode, data) of the next message or control frame (fragments joined)."""
        fin, op, data = self.recv_frame()
        while not fin and op in (0, 1, 2):
            fin, _, more = self.recv_frame()
            data += more
        return op, data

    def wait_close(self):
        """Close code the server sent (skipping messages), or None at EOF without one."""
        try:
            while True:
                op, data = self.recv_message()
                if op == 8:
                    return struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
        except EOFError:
            return None

    def at_eof(self, timeout=10):
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(4096):
                    return True
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.sock.close()


def events(sd, kind=None):
    """Events the recorder logged (through the Logs API), oldest first."""
    out = []
    for e in sd.log_events("/aws/lambda/recorder"):
        if e["message"].startswith("EVENT "):
            ev = json.loads(e["message"][6:])
            if kind is None or ev["requestContext"]["eventType"] == kind:
                out.append(ev)
    return out


def hello_routes(sd):
    """routeKey values hello logged (its structured "hello" lines)."""
    keys = []
    for e in sd.log_events("/aws/lambda/hello"):
        m = e["message"]
        if '"routeKey"' in m:
            try:
                keys.append(json.loads(m[m.index("{"):]).get("routeKey"))
            except ValueError:
                pass
    return keys


def aws(sd, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
               AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_MAX_ATTEMPTS="1")
    cmd = ["/usr/bin/aws", "apigatewaymanagementapi", "--endpoint-url",
           "http://127.0.0.1:%d" % sd.port, "--cli-binary-format", "raw-in-base64-out"] + list(args)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)


def connect_and_id(sd, path="/prod?user=u-7&tag=a&tag=b", headers=None):
    before = len(events(sd, "CONNECT"))
    ws = WS(sd.port, path, headers)
    check(ws.status == 101, "handshake status %d" % ws.status)
    wait_until(lambda: len(events(sd, "CONNECT")) > before, 15)
    ev = events(sd, "CONNECT")[-1]
    return ws, ev, ev["requestContext"]["connectionId"]


def case_basic(sd):
    ws, ev, cid = connect_and_id(sd, headers={"X-Test": "t1"})
    check(ws.headers.get("sec-websocket-accept") == ws.expected_accept, "accept: %r" % ws.headers)
    rc = ev["requestContext"]
    for k, v in (("routeKey", "$connect"), ("eventType", "CONNECT"), ("messageDirection", "IN"),
                 ("stage", "prod"), ("apiId", "wsit")):
        check(rc.get(k) == v, "connect %s: %r" % (k, rc.get(k)))
    for k in ("extendedRequestId", "requestTime", "connectedAt", "requestTimeEpoch", "requestId",
              "domainName", "connectionId"):
        check(k in rc, "connect requestContext.%s missing" % k)
    check(rc.get("identity", {}).get("sourceIp") == "127.0.0.1", "identity: %r" % rc.get("identity"))
    check(rc.get("identity", {}).get("userAgent") == "ws-it/1.0", "userAgent: %r" % rc.get("identity"))
    check(ev.get("queryStringParameters") == {"user": "u-7", "tag": "b"}, "query: %r" % ev.get("queryStringParameters"))
    check(ev.get("multiValueQueryStringParameters", {}).get("tag") == ["a", "b"], "mv query: %r" % ev)
    check(ev.get("headers", {}).get("X-Test") == "t1", "headers: %r" % ev.get("headers"))
    check(ev.get("multiValueHeaders", {}).get("X-Test") == ["t1"], "multiValueHeaders")
    check(ev.get("isBase64Encoded") is False and "body" not in ev, "connect body/isBase64Encoded")

    # Routed by action (two-way: hello's body comes back), then $default for non-JSON.
    ws.send_text('{"action":"echo","n":1}')
    op, data = ws.recv_message()
    check(op == 1 and json.loads(data) == {"action": "echo", "n": 1}, "echo reply: %r %r" % (op, data))
    ws.send_text("plain text")
    op, data = ws.recv_message()
    check(op == 1 and data == b"plain text", "default reply: %r" % data)
    # Fragmented message with a ping in the middle: pong first, then the echo.
    ws.send_frame(1, b'{"action":', fin=False)
    ws.send_frame(9, b"p1")
    ws.send_frame(0, b'"echo","frag":true}')
    op, data = ws.recv_message()
    check(op == 10 and data == b"p1", "pong: %r %r" % (op, data))
    op, data = ws.recv_message()
    check(op == 1 and json.loads(data).get("frag") is True, "fragmented echo: %r" % data)
    check(wait_until(lambda: hello_routes(sd).count("echo") >= 2 and "$default" in hello_routes(sd), 15),
          "hello saw routes %r" % hello_routes(sd))

    # @connections through the Debian awscli (it sends the id with '=' as %3D).
    r = aws(sd, "post-to-connection", "--connection-id", cid, "--data", "pushed by awscli")
    check(r.returncode == 0, "post-to-connection: %d %s" % (r.returncode, r.stderr))
    op, data = ws.recv_message()
    check(op == 1 and data == b"pushed by awscli", "push: %r %r" % (op, data))
    # JS-style path with a stage and %40; binary data becomes a binary frame.
    st, _, _ = sd.request("POST", "/prod/%%40connections/%s" % cid.replace("=", "%3D"), b"\xff\x00\x01")
    check(st == 200, "raw POST -> %d" % st)
    op, data = ws.recv_message()
    check(op == 2 and data == b"\xff\x00\x01", "binary push: %r %r" % (op, data))
    r = aws(sd, "get-connection", "--connection-id", cid)
    check(r.returncode == 0, "get-connection: %s" % r.stderr)
    if r.returncode == 0:
        g = json.loads(r.stdout)
        check(g.get("Identity", {}).get("SourceIp") == "127.0.0.1", "get: %r" % g)
        check(g.get("Identity", {}).get("UserAgent") == "ws-it/1.0", "get ua: %r" % g)
        check("ConnectedAt" in g and "LastActiveAt" in g, "get times: %r" % g)
    st, _, body = sd.request("POST", "/@connections/%s" % cid, b"x" * (128 * 1024 + 1))
    check(st == 413 and b"message" in body, "over 128 KB -> %d %r" % (st, body[:80]))
    r = aws(sd, "delete-connection", "--connection-id", cid)
    check(r.returncode == 0, "delete-connection: %s" % r.stderr)
    check(ws.wait_close() == 1000, "close code after DELETE")
    check(ws.at_eof(), "socket not closed after DELETE")
    r = aws(sd, "post-to-connection", "--connection-id", cid, "--data", "late")
    check(r.returncode != 0 and "GoneException" in r.stderr, "post after close: %d %s" % (r.returncode, r.stderr))
    st, hd, body = sd.request("GET", "/@connections/%s" % cid)
    check(st == 410 and hd.get("x-amzn-errortype") == "GoneException", "GET gone -> %d %r" % (st, hd))
    check(wait_until(lambda: any(e["requestContext"]["connectionId"] == cid for e in events(sd, "DISCONNECT")), 15),
          "$disconnect not logged")
    d = [e for e in events(sd, "DISCONNECT") if e["requestContext"]["connectionId"] == cid]
    if d:
        rc = d[0]["requestContext"]
        check(rc.get("routeKey") == "$disconnect" and rc.get("disconnectStatusCode") == 1000 and
              "disconnectReason" in rc, "disconnect event: %r" % rc)
    ws.close()
    # Gateway metrics reach CloudWatch (read back with boto3).
    import boto3
    cw = boto3.client("cloudwatch", endpoint_url="http://127.0.0.1:%d" % sd.port,
                      region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                      aws_secret_access_key="secret")
    names = {m["MetricName"] for m in cw.list_metrics(
        Namespace="AWS/ApiGateway", Dimensions=[{"Name": "ApiId", "Value": "wsit"}])["Metrics"]}
    check({"ConnectCount", "MessageCount"} <= names, "AWS/ApiGateway metrics: %r" % names)


def case_reject(sd):
    ws = WS(sd.port, "/prod?reject=403")
    check(ws.status == 403, "rejected handshake -> %d" % ws.status)
    ws.close()
    ws = WS(sd.port, "/prod?proto=chat", headers={"Sec-WebSocket-Protocol": "chat, superchat"})
    check(ws.status == 101, "accepted handshake -> %d" % ws.status)
    check(ws.headers.get("sec-websocket-protocol") == "chat", "subprotocol: %r" % ws.headers)
    # The client closes: echo of its code, then $disconnect with it.
    ws.send_frame(8, struct.pack("!H", 4001) + b"bye")
    check(ws.wait_close() == 4001, "close echo")
    ws.close()
    check(wait_until(lambda: any(e["requestContext"].get("disconnectStatusCode") == 4001
                                 for e in events(sd, "DISCONNECT")), 15), "disconnect 4001")
    # A bad handshake (no key) is a 400, not an upgrade.
    s = socket.create_connection(("127.0.0.1", sd.port), timeout=10)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Version: 13\r\n\r\n")
    check(s.recv(100).startswith(b"HTTP/1.1 400"), "handshake without key")
    s.close()


def case_no_default(sd):
    ws = WS(sd.port, "/")
    check(ws.status == 101, "handshake %d" % ws.status)
    ws.send_text('{"action":"nothing"}')
    op, data = ws.recv_message()
    j = json.loads(data)
    check(j.get("message") == "Forbidden" and "connectionId" in j and "requestId" in j, "no route: %r" % j)
    ws.send_text('{"action":"echo"}')
    op, data = ws.recv_message()
    check(json.loads(data) == {"action": "echo"}, "echo: %r" % data)
    ws.close()


def case_idle(sd):
    ws, _, cid = connect_and_id(sd, "/prod")
    t0 = time.time()
    code = ws.wait_close()
    check(code == 1001, "idle close code %r" % code)
    check(time.time() - t0 < 10, "idle close took %.1f s" % (time.time() - t0))
    check(wait_until(lambda: any(e["requestContext"]["connectionId"] == cid and
                                 e["requestContext"].get("disconnectStatusCode") == 1001
                                 for e in events(sd, "DISCONNECT")), 15), "idle $disconnect")
    ws.close()


def case_max_duration(sd):
    t0 = time.time()  # before the handshake: $connect itself takes a while (cold start)
    ws, _, cid = connect_and_id(sd, "/prod")
    ws.sock.settimeout(0.3)
    code = None
    while time.time() - t0 < 15 and code is None:
        ws.send_frame(9, b"keepalive")  # activity: the idle timeout must not be what closes it
        try:
            while True:
                op, data = ws.recv_message()
                if op == 8:
                    code = struct.unpack("!H", data[:2])[0]
                    break
        except socket.timeout:
            pass
        except (EOFError, BrokenPipeError, ConnectionResetError):
            break
    took = time.time() - t0
    check(code == 1001, "max duration close code %r" % code)
    check(1.9 < took < 15, "closed %.1f s after the handshake started (max 2 s)" % took)
    ws.close()


def case_shutdown(sd):
    clients = [connect_and_id(sd, "/prod")[0] for _ in range(3)]
    t0 = time.time()
    code = sd.stop()
    check(code == 0, "stackd exit code %r" % code)
    check(time.time() - t0 < 12, "stop took %.1f s" % (time.time() - t0))
    for ws in clients:
        check(ws.wait_close() == 1001, "close 1001 on shutdown")
        ws.close()


def case_too_big(sd):
    ws, _, _ = connect_and_id(sd, "/prod")
    ws.send_frame(1, b"x" * (32 * 1024 + 1))
    check(ws.wait_close() == 1009, "frame over 32 KB: close 1009")
    ws.close()
    ws, _, _ = connect_and_id(sd, "/prod")
    for i in range(5):  # 5 x 30 KB fragments = 150 KB > 128 KB
        ws.send_frame(1 if i == 0 else 0, b"y" * (30 * 1024), fin=i == 4)
    check(ws.wait_close() == 1009, "message over 128 KB: close 1009")
    ws.close()
    ws, _, _ = connect_and_id(sd, "/prod")
    ws.send_frame(1, b"\xc3\x28")  # invalid UTF-8
    check(ws.wait_close() == 1007, "bad UTF-8: close 1007")
    ws.close()
    ws, _, _ = connect_and_id(sd, "/prod")
    ws.sock.sendall(b"\x81\x05hello")  # unmasked client frame
    check(ws.wait_close() == 1002, "unmasked frame: close 1002")
    ws.close()


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def case_scale(sd):
    n = int(os.environ.get("WS_IT_SCALE_N", "2000"))  # loadgen holds 15,000: try WS_IT_SCALE_N=15000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 500), hard))
    rss0 = rss_kb(sd.proc.pid)
    conns = []
    t0 = time.time()
    for i in range(n):
        ws = WS(sd.port, "/")
        if ws.status != 101:
            check(False, "connection %d: status %d" % (i, ws.status))
            break
        conns.append(ws)
        if time.time() - t0 > 90:
            check(False, "only %d connections in 90 s" % len(conns))
            break
    check(len(conns) == n, "%d of %d connections" % (len(conns), n))
    # Idle connections must stay cheap (loadgen holds 15,000): the growth of
    # stackd's RSS per connection, generously bounded (the design is ~0.5 KB).
    per_conn = (rss_kb(sd.proc.pid) - rss0) * 1024 / max(1, len(conns))
    print("scale: %.0f bytes of RSS per idle connection" % per_conn)
    check(per_conn < 8192, "%.0f bytes of RSS per idle connection" % per_conn)
    # Each learns its id from the gateway's error message (no route, no $default).
    sel = selectors.DefaultSelector()
    ids = {}
    for ws in conns:
        ws.send_text('{"action":"who"}')  # no route and $default -> Forbidden with connectionId
    deadline = time.time() + 60
    pending = set(range(len(conns)))
    for i in pending:
        conns[i].sock.setblocking(False)
        sel.register(conns[i].sock, selectors.EVENT_READ, i)

    def drain(match):
        got = set()
        while pending - got and time.time() < deadline:
            for key, _ in sel.select(timeout=1):
                i = key.data
                ws = conns[i]
                try:
                    ws.buf += ws.sock.recv(65536)
                except BlockingIOError:
                    continue
                while len(ws.buf) >= 2 and len(ws.buf) >= 2 + (ws.buf[1] & 0x7F):
                    n2 = ws.buf[1] & 0x7F
                    data = ws.buf[2:2 + n2]
                    ws.buf = ws.buf[2 + n2:]
                    if match(i, data):
                        got.add(i)
        return got

    got = drain(lambda i, d: ids.setdefault(i, json.loads(d)["connectionId"]) is not None)
    check(len(got) == len(conns), "ids for %d of %d connections" % (len(got), len(conns)))
    c = sd.conn(60)
    t1 = time.time()
    for i, cid in ids.items():
        c.request("POST", "/@connections/" + cid, body=b"push-%d" % i)
        r = c.getresponse()
        r.read()
        if r.status != 200:
            check(False, "push %d -> %d" % (i, r.status))
            break
    deadline = time.time() + 60
    got = drain(lambda i, d: d == b"push-%d" % i)
    print("scale: %d connections, %d ids, %d pushes received" % (len(conns), len(ids), len(got)))
    check(len(got) == len(ids), "pushes received by %d of %d in %.1f s" % (len(got), len(ids), time.time() - t1))
    st, _, body = sd.request("GET", "/_stackd/health")
    check(st == 200, "health after scale")
    for ws in conns:
        ws.close()


CASES = {
    "basic": (case_basic, STACK % "10m"),
    "reject": (case_reject, STACK % "10m"),
    "idle": (case_idle, STACK % "1s"),
    "too_big": (case_too_big, STACK % "10m"),
    "shutdown": (case_shutdown, STACK % "10m"),
    "max_duration": (case_max_duration, (STACK % "10m") + "  max_connection_duration: 2s\n"),
    "no_default": (case_no_default, FUNCTIONS + """
websocket_api:
  routes: {$connect: hello, echo: hello}
"""),
    "scale": (case_scale, FUNCTIONS + """
websocket_api:
  routes: {echo: hello}
"""),
}


def main():
    name = sys.argv[1]
    fn, stack = CASES[name]
    with Stackd(stack) as sd:
        try:
            fn(sd)
        except Exception as e:  # noqa: BLE001 - report and fail, with stackd's log
            failures.append("%s: %r" % (name, e))
            import traceback
            traceback.print_exc()
        code = sd.stop()
        check(code == 0, "stackd exit code %r" % code)
        if failures:
            print(sd.read_log()[-4000:])
    print("%s: %d failures" % (name, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
