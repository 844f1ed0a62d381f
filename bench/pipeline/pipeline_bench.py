#!/usr/bin/env python3
"""pipeline_bench.py: throughput of stackd's SQS, DynamoDB, the order pipeline and the
WebSocket API, driven by loadgen (scenarios in this folder) and a WebSocket opener.

Usage (from the repository root, after building BUILD, e.g. build-pipeline):
  bench/pipeline/pipeline_bench.py [--build BUILD] sqs|ddb|orders|ws|all
      [--rates 250,500,1000,2000] [--ws-n 15000] [--ws-parallel 64] [--duration 10s]

Each part starts its own stackd on deploy/local/stack.yaml (port 0, temp --data-dir,
stopped at the end) and prints one line per measurement:
- sqs:    SendMessageBatch (10 x ~100 B) and ReceiveMessage (10 at a time) messages/s
          (loadgen sqs_send_batch.yaml / sqs_receive.yaml, closed model, 4 connections);
- ddb:    PutItem and consistent GetItem requests/s (ddb_put.yaml / ddb_get.yaml);
- orders: POST /orders at each rate (orders.yaml with its rate rewritten): accepted/s as
          loadgen saw it, and confirmed/s = accepted orders / (time from the first POST until
          the `orders` queue is empty), with a final DynamoDB Scan counting CONFIRMED;
- ws:     WebSocket connections opened (handshake answered only after ws-connect ran) per
          second, with --ws-parallel handshakes in flight, all N held open at the end, and
          stackd's RSS.
All traffic is to 127.0.0.1; every wait is bounded.
"""
import argparse
import base64
import http.client
import json
import os
import re
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
HERE = os.path.join(ROOT, "bench/pipeline")


class Stack:
    """stackd on the default stack with a private data dir."""

    def __init__(self, build):
        self.build = build
        self.dir = tempfile.mkdtemp(prefix="pipeline-bench-")
        self.port_file = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "stackd.log"), "w")
        env = dict(os.environ, LG_BINARY_DIR=build)
        self.proc = subprocess.Popen(
            [os.path.join(build, "deploy/local/stackd"), "--stack", os.path.join(ROOT, "deploy/local/stack.yaml"),
             "--port", "0", "--port-file", self.port_file, "--data-dir", os.path.join(self.dir, "data")],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 15
        self.port = None
        while time.time() < deadline and self.proc.poll() is None:
            if os.path.exists(self.port_file) and open(self.port_file).read().strip():
                self.port = int(open(self.port_file).read().strip())
                break
            time.sleep(0.02)
        if self.port is None:
            self.stop()
            raise SystemExit("stackd did not start (log in %s)" % self.dir)
        self.url = "http://127.0.0.1:%d" % self.port
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def call(self, target, body):
        self.conn.request("POST", "/", json.dumps(body).encode(),
                          {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"})
        r = self.conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise SystemExit("%s: %d %s" % (target, r.status, data[:300]))
        return json.loads(data) if data.strip() else {}

    def sqs(self, op, **body):
        return self.call("AmazonSQS." + op, body)

    def ddb(self, op, **body):
        return self.call("DynamoDB_20120810." + op, body)

    def depth(self, queue):
        url = "http://127.0.0.1:4566/000000000000/" + queue
        a = self.sqs("GetQueueAttributes", QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            m = re.search(r"VmRSS:\s+(\d+)", f.read())
        return int(m.group(1)) if m else 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()


def loadgen(build, stack, scenario_path, duration=None, extra=()):
    """Run loadgen on a scenario against stack; the parsed summary.json."""
    out = tempfile.mkdtemp(prefix="lg-out-")
    cmd = [os.path.join(build, "loadgen/loadgen"), "run", scenario_path, "--target", stack.url, "--out", out,
           "--quiet"] + list(extra)
    if duration:
        cmd += ["--duration", duration]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    try:
        with open(os.path.join(out, "summary.json")) as f:
            s = json.load(f)
    except OSError:
        raise SystemExit("loadgen %s failed (%d): %s" % (scenario_path, p.returncode, p.stderr[-2000:]))
    s["_exit"] = p.returncode
    s["_out"] = out
    return s


def fmt(s):
    h = s["http"]
    lat = h["latency"]
    return ("rps %.0f, p50 %.2f ms, p99 %.2f ms, errors %d, valid %s, exit %d" %
            (h["rps"], lat["p50"], lat["p99"], h["errors"], s.get("valid"), s["_exit"]))


def uptime_load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def part_sqs(args):
    st = Stack(args.build)
    try:
        st.sqs("CreateQueue", QueueName="bench-q")
        s = loadgen(args.build, st, os.path.join(HERE, "sqs_send_batch.yaml"), args.duration)
        sent = sum(st.depth("bench-q"))
        print("sqs send-batch: %s -> %.0f messages/s (queue holds %d)" % (fmt(s), 10 * s["http"]["rps"], sent))
        before = st.depth("bench-q")
        s = loadgen(args.build, st, os.path.join(HERE, "sqs_receive.yaml"), args.duration)
        after = st.depth("bench-q")
        taken = after[1] - before[1]
        print("sqs receive: %s -> %.0f messages/s (%d taken in %.1f s, %.1f per receive; %d still visible)" %
              (fmt(s), taken / s["duration_s"], taken, s["duration_s"],
               taken / max(1, s["http"]["completed"] if "completed" in s["http"] else s["http"]["requests"]),
               after[0]))
    finally:
        st.stop()


def part_ddb(args):
    st = Stack(args.build)
    try:
        st.ddb("CreateTable", TableName="bench-t", BillingMode="PAY_PER_REQUEST",
               AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
               KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        s = loadgen(args.build, st, os.path.join(HERE, "ddb_put.yaml"), args.duration)
        print("ddb PutItem: %s" % fmt(s))
        for b in range(400):
            st.ddb("BatchWriteItem", RequestItems={"bench-t": [
                {"PutRequest": {"Item": {"id": {"S": "k-%d" % (b * 25 + i + 1)}, "status": {"S": "PENDING"},
                                         "total": {"N": str(i)}}}} for i in range(25)]})
        s = loadgen(args.build, st, os.path.join(HERE, "ddb_get.yaml"), args.duration)
        print("ddb GetItem: %s" % fmt(s))
    finally:
        st.stop()


def part_orders(args):
    with open(os.path.join(HERE, "orders.yaml")) as f:
        template = f.read()
    for rate in args.rates:
        st = Stack(args.build)
        try:
            path = os.path.join(st.dir, "orders-%d.yaml" % rate)
            with open(path, "w") as f:
                f.write(re.sub(r"rate: \d+/s", "rate: %d/s" % rate, template))
            extra = ["--set", "http.connections=%d" % args.connections]
            # Warm the functions (cold starts are not what this measures).
            loadgen(args.build, st, path, "2s", extra)
            wait_empty(st, time.time() + 120)
            base_q = st.depth("orders")
            conf0 = count_confirmed(st)
            t0 = time.time()
            res = {}
            th = threading.Thread(target=lambda: res.update(s=loadgen(args.build, st, path, args.duration, extra)))
            th.start()
            peak = 0
            samples = []
            poll = http.client.HTTPConnection("127.0.0.1", st.port, timeout=60)
            while th.is_alive():
                time.sleep(0.5)
                d = 0
                try:
                    poll.request("POST", "/", json.dumps({
                        "QueueUrl": "http://127.0.0.1:4566/000000000000/orders",
                        "AttributeNames": ["All"]}).encode(),
                        {"X-Amz-Target": "AmazonSQS.GetQueueAttributes",
                         "Content-Type": "application/x-amz-json-1.0"})
                    a = json.loads(poll.getresponse().read())["Attributes"]
                    d = int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])
                except (OSError, ValueError, KeyError, http.client.HTTPException):
                    poll.close()
                peak = max(peak, d)
                samples.append(d)
            th.join()
            t_load = time.time() - t0
            s = res["s"]
            wait_empty(st, time.time() + 180)
            t_drain = time.time() - t0
            left = sum(st.depth("orders"))
            accepted = s["http"]["ok"]
            n_conf = count_confirmed(st) - conf0
            dlq = sum(st.depth("orders-dlq"))
            print("orders %d/s (%d connections): POST %s; accepted %d; queue peak %d (start %d); drained "
                  "%.1f s after the first POST (load %.1f s), left %d, DLQ %d; newly CONFIRMED %d -> "
                  "%.0f confirmed/s" % (rate, args.connections, fmt(s), accepted, peak, sum(base_q), t_drain,
                                        t_load, left, dlq, n_conf, n_conf / t_drain))
        finally:
            st.stop()


def wait_empty(st, deadline):
    while sum(st.depth("orders")) > 0 and time.time() < deadline:
        time.sleep(0.2)


def count_confirmed(st):
    """Orders with status CONFIRMED (a paginated Scan with Select COUNT)."""
    n, esk = 0, None
    for _ in range(10000):
        body = {"TableName": "orders", "Select": "COUNT", "FilterExpression": "#s = :c",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":c": {"S": "CONFIRMED"}}}
        if esk:
            body["ExclusiveStartKey"] = esk
        r = st.ddb("Scan", **body)
        n += r["Count"]
        esk = r.get("LastEvaluatedKey")
        if not esk:
            break
    return n


def ws_open(port, n, parallel, deadline):
    """Open n WebSocket connections with `parallel` handshakes in flight; (socks, failures, secs)."""
    sel = selectors.DefaultSelector()
    done, failed, started = [], 0, 0
    pending = {}
    t0 = time.time()

    def start_one(i):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET /prod?customer=bench-%d HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (i % 100, key))
        pending[s] = [req.encode(), b""]
        sel.register(s, selectors.EVENT_WRITE)

    while (len(done) + failed < n) and time.time() < deadline:
        while started < n and len(pending) < parallel:
            start_one(started)
            started += 1
        for key, ev in sel.select(timeout=1):
            s = key.fileobj
            st = pending[s]
            try:
                if ev & selectors.EVENT_WRITE:
                    k = s.send(st[0])
                    st[0] = st[0][k:]
                    if not st[0]:
                        sel.modify(s, selectors.EVENT_READ)
                    continue
                d = s.recv(4096)
                if not d:
                    raise OSError("closed")
                st[1] += d
                if b"\r\n\r\n" in st[1]:
                    sel.unregister(s)
                    del pending[s]
                    if st[1].startswith(b"HTTP/1.1 101"):
                        done.append(s)
                    else:
                        failed += 1
                        s.close()
            except OSError:
                sel.unregister(s)
                del pending[s]
                failed += 1
                s.close()
    for s in list(pending):
        s.close()
    return done, failed + len(pending), time.time() - t0


def part_ws(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    st = Stack(args.build)
    try:
        rss0 = st.rss_kb()
        # warm-up: ws-connect environments start (cold starts are not the rate measured)
        warm, _, _ = ws_open(st.port, args.ws_parallel, args.ws_parallel, time.time() + 60)
        for s in warm:
            s.close()
        time.sleep(2)
        socks, failed, secs = ws_open(st.port, args.ws_n, args.ws_parallel, time.time() + 600)
        rss1 = st.rss_kb()
        # every connection still open? a ping on a sample gets a pong
        alive = 0
        sample = socks[:: max(1, len(socks) // 200)]
        for s in sample:
            s.setblocking(True)
            s.settimeout(10)
            try:
                s.sendall(b"\x89\x80" + os.urandom(4))  # masked ping, empty payload
                if s.recv(2)[:1] == b"\x8a":
                    alive += 1
            except OSError:
                pass
        print("ws $connect: %d opened, %d failed in %.1f s -> %.0f connections/s (%d in flight); "
              "held %d, %d/%d sampled answered a ping; stackd RSS %d -> %d kB" %
              (len(socks), failed, secs, len(socks) / secs, args.ws_parallel, len(socks), alive, len(sample),
               rss0, rss1))
        # Stop stackd first: closing 15,000 clients while it runs starts 15,000 $disconnect
        # invocations (up to the account concurrency of ws-disconnect processes at once).
        st.stop()
        for s in socks:
            s.close()
    finally:
        st.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("part", choices=["sqs", "ddb", "orders", "ws", "all"])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rates", default="250,500,1000,2000")
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--connections", type=int, default=64, help="orders: loadgen http.connections")
    ap.add_argument("--ws-n", type=int, default=15000)
    ap.add_argument("--ws-parallel", type=int, default=64)
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    args.rates = [int(r) for r in args.rates.split(",")]
    print("load average before: %s (%s)" % (uptime_load(), time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())))
    parts = ["sqs", "ddb", "orders", "ws"] if args.part == "all" else [args.part]
    for p in parts:
        globals()["part_" + p](args)
        print("load average after %s: %s" % (p, uptime_load()))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
