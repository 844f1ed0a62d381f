#!/usr/bin/env python3
"""The lean HTTP/1.1 engine: lean_test.py CASE LOADGEN NGINX

engines: one scenario (POST with a JSON body, a JSON capture and a header
  capture feeding a later GET, a 503 endpoint, correlation headers) runs once
  with http.engine: lean and once with http.engine: curl against nginx; both
  must send well-formed requests (nginx's access log), render the captures,
  and count the same statuses and errors.
framing: a scripted loopback server answers with chunked bodies (extensions,
  trailers), a 100 Continue first, HTTP/1.0 read-to-close, Connection: close,
  and a 204: the lean engine counts every one as a success, reconnecting where
  the server closed.
https_target: http.engine: lean with an https:// target is a usage error
  (exit 2) naming the key, before anything is contacted.
"""
import os
import re
import socket
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "loadgen_nginx"))
import nginx_test as nt  # noqa: E402  (the nginx fixture and helpers)

UUID7 = nt.UUID7


def run_engine(tmp, ng, engine):
    path = nt.scenario(tmp, """target: %s
lag_tolerance: 1s
http: {engine: %s, connections: 4}
phases: [{duration: 2s, rate: 100/s}]
requests:
  - name: create
    method: POST
    path: /orders
    body: {sku: "{{uuid}}", qty: 2}
    expect: 201
    capture: {id: $.id, len: "header:content-length"}
  - name: get
    path: "/orders/{{id}}?n={{len}}"
    weight: 2
  - name: down
    path: /fail
    weight: 1
""" % (ng.url(), engine), name="%s.yaml" % engine)
    out = os.path.join(tmp, "out-" + engine)
    r = nt.loadgen("run", path, "--out", out, "--quiet")
    nt.expect_exit(r, 0, engine + " run")
    return nt.summary(out)


def case_engines(tmp):
    ng = nt.Nginx(tmp)
    try:
        res = {}
        for engine in ("lean", "curl"):
            before = len(ng.access())
            res[engine] = run_engine(tmp, ng, engine)
            lines = ng.access()[before:]
            gets = [l for l in lines if l.startswith("GET /orders/")]
            posts = [l for l in lines if l.startswith("POST /orders HTTP/1.1 201")]
            if not gets or not posts:
                nt.fail("%s: no GET after the capture or no POST: %s" % (engine, lines[:5]))
            for l in lines:
                m = re.match(r'^(\S+) (\S+) HTTP/1.1 (\d+) "([^"]*)"', l)
                if not m or not UUID7.match(m.group(4)):
                    nt.fail("%s: access log line: %s" % (engine, l))
                if m.group(1) == "GET" and m.group(2).startswith("/orders/") and \
                        m.group(2) != "/orders/o-42?n=37":
                    nt.fail("%s: capture rendered as %s" % (engine, m.group(2)))
        for engine, s in res.items():
            h = s["http"]
            eps = h["endpoints"]
            if eps["down"]["requests"] <= 0 or eps["create"]["requests"] <= 0:
                nt.fail("%s: endpoint counts %s" % (engine, {k: v["requests"] for k, v in eps.items()}))
            # the only errors are the 503s, all counted as unexpected statuses
            if h["errors"] != eps["down"]["requests"]:
                nt.fail("%s: errors %d, 503s sent %d" % (engine, h["errors"], eps["down"]["requests"]))
            if s["schedule"]["sent"] != 200:
                nt.fail("%s: sent %d of 200" % (engine, s["schedule"]["sent"]))
        a, b = res["lean"]["http"], res["curl"]["http"]
        if a["errors"] == 0 or abs(a["errors"] - b["errors"]) > 40:
            nt.fail("lean vs curl errors: %d vs %d" % (a["errors"], b["errors"]))
    finally:
        ng.stop()


RESPONSES = [
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"a\"\r\n"
    b"3\r\n:1}\r\n0\r\nX-Trailer: t\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
    b"HTTP/1.0 200 OK\r\n\r\nread to the close",
]
CLOSES = {3, 4}


def serve(lsock, stop, counts):
    def conn(c):
        buf = b""
        try:
            while not stop.is_set():
                d = c.recv(65536)
                if not d:
                    return
                buf += d
                while b"\r\n\r\n" in buf:
                    _, buf = buf.split(b"\r\n\r\n", 1)
                    k = counts["n"] % len(RESPONSES)
                    counts["n"] += 1
                    c.sendall(RESPONSES[k])
                    if k in CLOSES:
                        return
        finally:
            c.close()
    lsock.settimeout(0.2)
    while not stop.is_set():
        try:
            c, _ = lsock.accept()
        except socket.timeout:
            continue
        threading.Thread(target=conn, args=(c,), daemon=True).start()


def case_framing(tmp):
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    port = ls.getsockname()[1]
    stop, counts = threading.Event(), {"n": 0}
    th = threading.Thread(target=serve, args=(ls, stop, counts), daemon=True)
    th.start()
    try:
        path = nt.scenario(tmp, """target: http://127.0.0.1:%d
lag_tolerance: 1s
http: {engine: lean, connections: 2}
phases: [{duration: 1s, rate: 200/s}]
requests: [{name: any, path: /x, expect: [200, 204]}]
""" % port)
        out = os.path.join(tmp, "out")
        r = nt.loadgen("run", path, "--out", out, "--quiet")
        nt.expect_exit(r, 0, "framing run")
        h = nt.summary(out)["http"]
        if h["errors"] != 0 or h["completed"] != 200:
            nt.fail("framing: completed %d, errors %d" % (h["completed"], h["errors"]))
        if counts["n"] < 200:
            nt.fail("server answered %d requests" % counts["n"])
    finally:
        stop.set()
        th.join(2)
        ls.close()


def case_https_target(tmp):
    path = nt.scenario(tmp, """target: https://127.0.0.1:9/
http: {engine: lean}
phases: [{duration: 1s, rate: 10/s}]
requests: [{name: any, path: /x}]
""")
    r = nt.loadgen("run", path, "--out", os.path.join(tmp, "out"), "--quiet")
    nt.expect_exit(r, 2, "lean engine with https")
    if "http.engine: lean needs an http:// target" not in r.stderr or path not in r.stderr:
        nt.fail("unclear error: %r" % r.stderr)
    if os.path.exists(os.path.join(tmp, "out", "summary.json")):
        nt.fail("a run folder was written for a rejected scenario")


def main():
    case, nt.LOADGEN, nt.NGINX = sys.argv[1:4]
    with tempfile.TemporaryDirectory(prefix="lg-lean-") as tmp:
        globals()["case_" + case](tmp)
    print("ok")


if __name__ == "__main__":
    main()
