#!/usr/bin/env python3
"""sample.py: run one WebSocket client and watch it from outside, the same
way for every client (ours and Artillery); print one JSON line.

  sample.py --port PORT --n N --hold S --out FILE [--interval 0.05]
            [--timeout 120] -- CMD...

Every interval: the number of established TCP connections to 127.0.0.1:PORT
from the client side (ss, dport filter, minus the count seen at start), and
the client's VmRSS (the count before CMD starts is the baseline). Reports the time from the first connection seen to the
first sample with all N (open rate = N / that time), the RSS just before the
first connection and at the first full sample (memory per session = the
difference / N), the peak RSS, and the fewest established from 1 s after
all N were up to 2 s before the hold (S seconds) ends (sessions held). Sampling resolution
limits the open-rate figure to about +-interval."""
import argparse
import json
import subprocess
import time


def established(port):
    out = subprocess.run(["ss", "-Htn", "state", "established", "( dport = :%d )" % port],
                         capture_output=True, text=True).stdout
    return out.count("\n")


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--hold", type=float, required=True)
    ap.add_argument("--interval", type=float, default=0.05)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--out", required=True, help="the client's stdout and stderr")
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()
    base = established(a.port)
    out = open(a.out, "w")
    proc = subprocess.Popen(a.cmd, stdout=out, stderr=subprocess.STDOUT)
    a.pid = proc.pid
    t0 = time.monotonic()
    first_t = full_t = None
    rss_before = rss_full = peak = None
    max_est = 0
    samples = []
    prev_rss = rss_kb(a.pid)
    while time.monotonic() - t0 < a.timeout:
        rss = rss_kb(a.pid)
        if rss is None or proc.poll() is not None:
            break
        est = max(0, established(a.port) - base)
        now = time.monotonic()
        peak = rss if peak is None or rss > peak else peak
        if est > 0 and first_t is None:
            first_t, rss_before = now, prev_rss
        if est >= a.n and full_t is None:
            full_t, rss_full = now, rss
        max_est = max(max_est, est)
        samples.append((now, est))
        prev_rss = rss
        time.sleep(a.interval)
    held = None
    if full_t is not None:
        win = [e for t, e in samples if full_t + 1 <= t <= full_t + a.hold - 2]
        held = min(win) if win else None
    if proc.poll() is None:
        proc.kill()
    rc = proc.wait()
    out.close()
    res = {"n": a.n, "client_rc": rc, "max_established": max_est, "held": held,
           "rss_before_kb": rss_before, "rss_full_kb": rss_full, "peak_rss_kb": peak}
    if first_t is not None and full_t is not None:
        dt = max(full_t - first_t, a.interval)
        res["open_s"] = round(dt, 3)
        res["open_per_s"] = round(a.n / dt)
        res["bytes_per_session"] = round((rss_full - rss_before) * 1024 / a.n)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
