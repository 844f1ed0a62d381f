#!/usr/bin/env python3
"""wsc_it.py CASE: start the server CASE needs, run `wsc_it CASE PORT` against
it, always stop the server. Servers: ws_echo (bench/ws-client) in echo, 404
or silent mode, a closed port (refused), or stackd with the WebSocket API of
deploy/local/stack.yaml (ws-connect, ws-default). Every wait is bounded."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "stackd_lambda"))
from stackd_fixture import Stackd  # noqa: E402

WSC_IT = os.environ["WSC_IT"]
WS_ECHO = os.environ["WS_ECHO"]
SOURCE_DIR = os.environ.get("LG_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "../../..")))

ECHO_MODE = {"echo": "echo", "bounds": "echo", "too_big": "echo", "drop": "echo",
             "ping": "echo", "ping_hdr": "echo", "scale": "echo", "404": "404", "silent": "silent"}


def run_client(case, port, timeout):
    p = subprocess.run([WSC_IT, case, str(port)], timeout=timeout)
    return p.returncode


def with_echo(case, mode):
    d = tempfile.mkdtemp(prefix="wsc-it-")
    port_file = os.path.join(d, "port")
    srv = subprocess.Popen([WS_ECHO, "--port", "0", "--port-file", port_file, "--mode", mode])
    try:
        deadline = time.time() + 10
        while not os.path.exists(port_file):
            if time.time() > deadline or srv.poll() is not None:
                print("ws_echo did not start")
                return 1
            time.sleep(0.01)
        with open(port_file) as f:
            port = int(f.read())
        return run_client(case, port, 240)
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # never listened: connects are refused
    return port


def with_stackd(case):
    with open(os.path.join(SOURCE_DIR, "deploy/local/stack.yaml")) as f:
        stack = f.read()
    with Stackd(stack) as sd:
        rc = run_client(case, sd.port, 120)
        if rc:
            print(sd.read_log()[-4000:])
        return rc


def main():
    case = sys.argv[1]
    if case == "refused":
        return run_client(case, closed_port(), 60)
    if case == "stackd":
        return with_stackd(case)
    return with_echo(case, ECHO_MODE[case])


if __name__ == "__main__":
    sys.exit(main())
