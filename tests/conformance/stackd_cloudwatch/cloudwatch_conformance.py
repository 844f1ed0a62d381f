#!/usr/bin/env python3
"""Conformance: unmodified AWS clients against stackd's CloudWatch metrics and Logs.

Usage: cloudwatch_conformance.py awscli|boto3|awscli_json|boto3_json
  awscli:      Debian /usr/bin/aws 2.9 (CloudWatch over awsQuery, Logs over awsJson1_1)
  boto3:       boto3 1.26 of the interpreter running this script (Debian /usr/bin/python3)
  awscli_json: the newer `aws` first on PATH (botocore >= 1.33 sends CloudWatch as awsJson1_0)
  boto3_json:  the newer `python3` first on PATH, running this file in mode boto3
Every mode starts a real stackd (port 0, temp dir, always stopped), writes
metrics and log events with the client, reads them back and checks values,
errors and pagination; awscli and boto3 also check EMF from a real function's
log output turning into metrics. Each client call is bounded (60 s).
"""
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../integration/stackd_lambda"))
from stackd_fixture import HELLO, Stackd  # noqa: E402

STACK = """
functions:
  hello:
    bootstrap: @HELLO@
    memory_mb: 128
    timeout: 3s
"""

ENV = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
           AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_CONFIG_FILE="/dev/null",
           AWS_SHARED_CREDENTIALS_FILE="/dev/null")
failures = []
# A whole minute five minutes ago: every datapoint lands in one known window.
T0 = (int(time.time()) // 60) * 60 - 300


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def near(a, b, rel=0.011):
    return a is not None and abs(a - b) <= abs(b) * rel + 1e-9


def epoch(ts):
    """Timestamps come back as datetime (boto3) or ISO text (CLI)."""
    if hasattr(ts, "timestamp"):
        return int(ts.timestamp())
    if isinstance(ts, (int, float)) or str(ts).replace(".", "", 1).isdigit():
        return int(float(ts))  # awscli v1 prints epoch seconds as they came
    import datetime
    s = str(ts).replace("Z", "+00:00")
    return int(datetime.datetime.fromisoformat(s).timestamp())


# ---- a thin layer so both CLI and boto3 run the same checks -----------------------

class CliClient:
    def __init__(self, exe, port, service):
        self.exe, self.port, self.service = exe, port, service

    def call(self, op, *extra, **params):
        """op in snake case; params in the CLI's JSON input form."""
        cmd = [self.exe, "--endpoint-url", "http://127.0.0.1:%d" % self.port, "--region",
               "us-east-1", "--output", "json", self.service, op.replace("_", "-"),
               "--cli-input-json", json.dumps(params, default=str)] + list(extra)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=ENV)
        if r.returncode != 0:
            raise ClientError(r.stderr.strip())
        return json.loads(r.stdout) if r.stdout.strip() else {}

    def paginate(self, op, key, page_size=None, **params):
        # The CLI follows nextToken itself; --page-size forces several pages.
        extra = ["--page-size", str(page_size)] if page_size else []
        return self.call(op, *extra, **params).get(key, [])


class ClientError(Exception):
    pass


class BotoClient:
    def __init__(self, port, service):
        import boto3
        import botocore.config
        self.c = boto3.client(service, endpoint_url="http://127.0.0.1:%d" % port, region_name="us-east-1",
                              aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                              config=botocore.config.Config(retries={"max_attempts": 1}))
        sm = self.c.meta.service_model
        # botocore >= 1.35 lists several protocols and picks one (resolved_protocol)
        self.protocol = getattr(sm, "resolved_protocol", None) or sm.protocol

    def call(self, op, **params):
        import botocore.exceptions
        try:
            r = getattr(self.c, op)(**params)
        except botocore.exceptions.ClientError as e:
            raise ClientError("%s: %s" % (e.response["Error"]["Code"], e.response["Error"].get("Message")))
        r.pop("ResponseMetadata", None)
        return r

    def paginate(self, op, key, page_size=None, **params):
        out = []
        if page_size:
            params["PaginationConfig"] = {"PageSize": page_size}
        for page in self.c.get_paginator(op).paginate(**params):
            out.extend(page.get(key, []))
        return out


def expect_error(fn, code, what):
    try:
        fn()
    except ClientError as e:
        check(code in str(e), "%s: expected %s, got %s" % (what, code, e))
        return
    check(False, "%s: expected %s, got success" % (what, code))


# ---- CloudWatch metrics --------------------------------------------------------------

def metrics_checks(cw, full=True):
    dims = [{"Name": "Fn", "Value": "f1"}]
    cw.call("put_metric_data", Namespace="Conf", MetricData=[
        {"MetricName": "Lat", "Dimensions": dims, "Timestamp": iso(T0 + 10), "Values": [10, 20, 30],
         "Counts": [1, 1, 2], "Unit": "Milliseconds"},
        {"MetricName": "Lat", "Dimensions": dims, "Timestamp": iso(T0 + 130), "Value": 100,
         "Unit": "Milliseconds"},
        {"MetricName": "Req", "Dimensions": dims, "Timestamp": iso(T0 + 5), "Value": 4, "Unit": "Count"},
        {"MetricName": "Req", "Dimensions": dims, "Timestamp": iso(T0 + 125), "Value": 6, "Unit": "Count"},
        {"MetricName": "Set", "Timestamp": iso(T0), "StatisticValues":
         {"SampleCount": 4, "Sum": 20, "Minimum": 2, "Maximum": 8}},
        {"MetricName": "Fast", "Timestamp": iso(T0 + 3), "Value": 1, "StorageResolution": 1},
    ])
    # 1000 samples for real percentiles: 0.5, 1.0, ... 500.0 ms, 100 per datum
    data = []
    for d in range(10):
        data.append({"MetricName": "Dist", "Timestamp": iso(T0 + 20),
                     "Values": [0.5 * (d * 100 + i + 1) for i in range(100)]})
    cw.call("put_metric_data", Namespace="Conf", MetricData=data)

    r = cw.call("get_metric_statistics", Namespace="Conf", MetricName="Lat", Dimensions=dims,
                StartTime=iso(T0), EndTime=iso(T0 + 300), Period=60,
                Statistics=["Sum", "SampleCount", "Average", "Maximum", "Minimum"],
                ExtendedStatistics=["p50", "p99"])
    dps = sorted(r.get("Datapoints", []), key=lambda p: epoch(p["Timestamp"]))
    check(r.get("Label") == "Lat", "get-metric-statistics label: %r" % r.get("Label"))
    check(len(dps) == 2, "get-metric-statistics: 2 datapoints, got %r" % dps)
    if len(dps) == 2:
        p = dps[0]
        check(epoch(p["Timestamp"]) == T0, "datapoint time %r" % p["Timestamp"])
        check(p.get("Sum") == 90 and p.get("SampleCount") == 4 and p.get("Average") == 22.5,
              "Sum/SampleCount/Average: %r" % p)
        check(p.get("Minimum") == 10 and p.get("Maximum") == 30, "Min/Max: %r" % p)
        check(p.get("Unit") == "Milliseconds", "unit: %r" % p.get("Unit"))
        ext = p.get("ExtendedStatistics", {})
        check(ext.get("p50") == 20 and ext.get("p99") == 30, "percentiles: %r" % ext)
        check(dps[1].get("Sum") == 100, "second minute: %r" % dps[1])

    q = [{"Id": "lat", "MetricStat": {"Metric": {"Namespace": "Conf", "MetricName": "Lat", "Dimensions": dims},
                                      "Period": 60, "Stat": "Maximum"}},
         {"Id": "req", "MetricStat": {"Metric": {"Namespace": "Conf", "MetricName": "Req", "Dimensions": dims},
                                      "Period": 60, "Stat": "Sum"}, "ReturnData": False},
         {"Id": "ratio", "Expression": "lat / req", "Label": "per request"},
         {"Id": "tot", "Expression": "SUM([lat, req]) * 2"},
         {"Id": "p90", "MetricStat": {"Metric": {"Namespace": "Conf", "MetricName": "Dist"},
                                      "Period": 300, "Stat": "p90"}},
         {"Id": "p999", "MetricStat": {"Metric": {"Namespace": "Conf", "MetricName": "Dist"},
                                       "Period": 60, "Stat": "p99.9"}},
         {"Id": "fast", "MetricStat": {"Metric": {"Namespace": "Conf", "MetricName": "Fast"},
                                       "Period": 1, "Stat": "SampleCount"}}]
    r = cw.call("get_metric_data", MetricDataQueries=q, StartTime=iso(T0), EndTime=iso(T0 + 300))
    res = {m["Id"]: m for m in r.get("MetricDataResults", [])}
    check(set(res) == {"lat", "ratio", "tot", "p90", "p999", "fast"}, "get-metric-data ids: %r" % sorted(res))
    lat = res.get("lat", {})
    # default ScanBy TimestampDescending: newest first
    check(lat.get("Values") == [100, 30], "lat values: %r" % lat.get("Values"))
    check([epoch(t) for t in lat.get("Timestamps", [])] == [T0 + 120, T0], "lat timestamps: %r" % lat.get("Timestamps"))
    check(lat.get("StatusCode") == "Complete" and lat.get("Label") == "Lat", "lat status/label: %r" % lat)
    check(res.get("ratio", {}).get("Values") == [100 / 6, 30 / 4], "ratio: %r" % res.get("ratio"))
    check(res.get("ratio", {}).get("Label") == "per request", "ratio label")
    check(res.get("tot", {}).get("Values") == [212, 68], "tot: %r" % res.get("tot"))
    # exact p90 of 0.5..500 (nearest rank) is 450, p99.9 is 499.5; histogram precision 1%
    p90 = (res.get("p90", {}).get("Values") or [None])[0]
    p999 = (res.get("p999", {}).get("Values") or [None])[0]
    check(near(p90, 450), "p90 %r vs 450" % p90)
    check(near(p999, 499.5), "p99.9 %r vs 499.5" % p999)
    fast = res.get("fast", {})
    check([epoch(t) for t in fast.get("Timestamps", [])] == [T0 + 3], "per-second: %r" % fast)

    r = cw.call("get_metric_data", MetricDataQueries=q[:1], StartTime=iso(T0), EndTime=iso(T0 + 300),
                ScanBy="TimestampAscending")
    check(r["MetricDataResults"][0].get("Values") == [30, 100], "ascending: %r" % r)

    if full:
        metrics = cw.paginate("list_metrics", "Metrics", Namespace="Conf")
        names = sorted(m["MetricName"] for m in metrics)
        check(names == ["Dist", "Fast", "Lat", "Req", "Set"], "list-metrics: %r" % names)
        with_fn = cw.paginate("list_metrics", "Metrics", Namespace="Conf", Dimensions=[{"Name": "Fn"}])
        check(sorted(m["MetricName"] for m in with_fn) == ["Lat", "Req"], "list-metrics by dim: %r" % with_fn)
        lat_m = [m for m in with_fn if m["MetricName"] == "Lat"]
        check(lat_m and lat_m[0].get("Dimensions") == dims, "dimensions: %r" % lat_m)
        r = cw.call("get_metric_statistics", Namespace="Conf", MetricName="Set", StartTime=iso(T0),
                    EndTime=iso(T0 + 60), Period=60, Statistics=["Average", "Minimum", "Maximum"])
        p = (r.get("Datapoints") or [{}])[0]
        check(p.get("Average") == 5 and p.get("Minimum") == 2 and p.get("Maximum") == 8, "statistic set: %r" % p)
        expect_error(lambda: cw.call("put_metric_data", Namespace="AWS/Lambda",
                                     MetricData=[{"MetricName": "x", "Value": 1}]),
                     "InvalidParameterValue", "AWS/ namespace")
        expect_error(lambda: cw.call("get_metric_statistics", Namespace="Conf", MetricName="Lat",
                                     StartTime=iso(T0), EndTime=iso(T0 + 300), Period=7, Statistics=["Sum"]),
                     "InvalidParameterValue", "bad period")
        expect_error(lambda: cw.call("get_metric_data", StartTime=iso(T0), EndTime=iso(T0 + 300),
                                     MetricDataQueries=[{"Id": "e1", "Expression": "nope * 2"}]),
                     "InvalidParameterValue", "unknown id in expression")


# ---- CloudWatch Logs -----------------------------------------------------------------

def logs_checks(lg, full=True):
    now_ms = int(time.time() * 1000)
    lg.call("create_log_group", logGroupName="/conf/app")
    for s in ("api", "worker"):
        lg.call("create_log_stream", logGroupName="/conf/app", logStreamName=s)
    events = [{"timestamp": now_ms - 60000 + i * 1000,
               "message": json.dumps({"level": "ERROR" if i % 5 == 0 else "INFO", "n": i, "msg": "event %d" % i})}
              for i in range(25)]
    r = lg.call("put_log_events", logGroupName="/conf/app", logStreamName="api", logEvents=events)
    check("nextSequenceToken" in r, "put-log-events: %r" % r)
    lg.call("put_log_events", logGroupName="/conf/app", logStreamName="worker",
            logEvents=[{"timestamp": now_ms - 59500, "message": "worker ERROR timeout"},
                       {"timestamp": now_ms - 500, "message": "worker ok"}])

    r = lg.call("filter_log_events", logGroupName="/conf/app", filterPattern='{ $.level = "ERROR" }')
    check([json.loads(e["message"])["n"] for e in r.get("events", [])] == [0, 5, 10, 15, 20],
          "filter JSON pattern: %r" % r.get("events"))
    evs = lg.paginate("filter_log_events", "events", page_size=2, logGroupName="/conf/app",
                      filterPattern="ERROR")
    check(len(evs) == 6, "filter ERROR across streams and pages: %d events" % len(evs))
    check([e["timestamp"] for e in evs] == sorted(e["timestamp"] for e in evs), "interleaved by time")
    check(evs and evs[1]["logStreamName"] == "worker", "worker event second: %r" % evs[:2])
    check(all("eventId" in e and "ingestionTime" in e for e in evs), "event fields: %r" % evs[:1])
    if not full:
        return
    r = lg.call("filter_log_events", logGroupName="/conf/app", logStreamNames=["worker"],
                filterPattern='?timeout ?missing -INFO')
    check([e["message"] for e in r.get("events", [])] == ["worker ERROR timeout"], "OR/NOT terms: %r" % r)

    groups = lg.paginate("describe_log_groups", "logGroups", logGroupNamePrefix="/conf/")
    check([g["logGroupName"] for g in groups] == ["/conf/app"], "describe-log-groups: %r" % groups)
    check(groups and groups[0].get("arn", "").startswith("arn:aws:logs:us-east-1:"), "group arn")
    r = lg.call("describe_log_streams", logGroupName="/conf/app", orderBy="LastEventTime", descending=True)
    names = [s["logStreamName"] for s in r.get("logStreams", [])]
    check(names == ["worker", "api"], "describe-log-streams by last event: %r" % names)
    api = [s for s in r.get("logStreams", []) if s["logStreamName"] == "api"]
    check(api and api[0].get("firstEventTimestamp") == now_ms - 60000, "firstEventTimestamp: %r" % api)

    r = lg.call("get_log_events", logGroupName="/conf/app", logStreamName="api", startFromHead=True, limit=10)
    first = [json.loads(e["message"])["n"] for e in r.get("events", [])]
    check(first == list(range(10)), "get-log-events head: %r" % first)
    r2 = lg.call("get_log_events", logGroupName="/conf/app", logStreamName="api",
                 nextToken=r["nextForwardToken"], limit=10)
    check([json.loads(e["message"])["n"] for e in r2.get("events", [])] == list(range(10, 20)),
          "get-log-events forward token: %r" % r2.get("events"))
    r3 = lg.call("get_log_events", logGroupName="/conf/app", logStreamName="api", limit=5)
    check([json.loads(e["message"])["n"] for e in r3.get("events", [])] == list(range(20, 25)),
          "get-log-events tail: %r" % r3.get("events"))
    r4 = lg.call("get_log_events", logGroupName="/conf/app", logStreamName="api",
                 startTime=now_ms - 55000, endTime=now_ms - 52000, startFromHead=True)
    check([json.loads(e["message"])["n"] for e in r4.get("events", [])] == [5, 6, 7], "time range: %r" % r4)

    expect_error(lambda: lg.call("create_log_group", logGroupName="/conf/app"),
                 "ResourceAlreadyExistsException", "duplicate group")
    expect_error(lambda: lg.call("get_log_events", logGroupName="/conf/none", logStreamName="x"),
                 "ResourceNotFoundException", "missing group")
    expect_error(lambda: lg.call("put_log_events", logGroupName="/conf/app", logStreamName="api",
                                 logEvents=[{"timestamp": now_ms, "message": "b"},
                                            {"timestamp": now_ms - 1000, "message": "a"}]),
                 "InvalidParameterException", "out-of-order batch")


# ---- EMF from a real function's log lines -------------------------------------------

def emf_checks(sd, cw):
    st, _, _, _ = sd.invoke("hello", b'{"k":1}', tail=False)
    check(st == 200, "invoke hello: %d" % st)
    deadline = time.time() + 20
    metrics = []
    while time.time() < deadline:
        metrics = cw.paginate("list_metrics", "Metrics", Namespace="Orders", MetricName="Hellos")
        if metrics:
            break
        time.sleep(0.2)
    check(metrics, "EMF metric Orders/Hellos from the hello function")
    if not metrics:
        return
    now = int(time.time())
    r = cw.call("get_metric_statistics", Namespace="Orders", MetricName="Hellos",
                Dimensions=metrics[0].get("Dimensions", []), StartTime=iso(now - 600),
                EndTime=iso(now + 60), Period=600, Statistics=["Sum"])
    total = sum(p.get("Sum", 0) for p in r.get("Datapoints", []))
    check(total >= 1, "EMF Hellos sum: %r" % r)
    lam = cw.paginate("list_metrics", "Metrics", Namespace="AWS/Lambda")
    check(any(m["MetricName"] == "Duration" for m in lam), "AWS/Lambda Duration listed: %r" % lam[:3])


def newer_aws():
    """The `aws` first on PATH when it is not Debian's."""
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d, "aws")
        if os.access(p, os.X_OK) and os.path.realpath(p) != "/usr/bin/aws":
            return p
    return None


def newer_python():
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d, "python3")
        if os.access(p, os.X_OK) and os.path.realpath(p) != os.path.realpath("/usr/bin/python3"):
            return p
    return None


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "awscli"
    if mode == "boto3_json":
        py = newer_python()
        if not py:
            print("no newer python3 on PATH; need one with botocore >= 1.33")
            return 1
        r = subprocess.run([py, os.path.abspath(__file__), "boto3", "--expect-json"], timeout=280)
        return r.returncode
    if not os.path.exists(HELLO):
        print("hello bootstrap missing:", HELLO)
        return 1
    with Stackd(STACK) as sd:
        try:
            if mode == "awscli":
                metrics_checks(CliClient("/usr/bin/aws", sd.port, "cloudwatch"))
                logs_checks(CliClient("/usr/bin/aws", sd.port, "logs"))
                emf_checks(sd, CliClient("/usr/bin/aws", sd.port, "cloudwatch"))
            elif mode == "awscli_json":
                exe = newer_aws()
                if not exe:
                    print("no newer aws on PATH")
                    return 1
                v = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60, env=ENV)
                print("client:", (v.stdout + v.stderr).strip())
                metrics_checks(CliClient(exe, sd.port, "cloudwatch"), full=False)
                logs_checks(CliClient(exe, sd.port, "logs"), full=False)
            else:
                cw, lg = BotoClient(sd.port, "cloudwatch"), BotoClient(sd.port, "logs")
                import botocore
                print("client: botocore %s, cloudwatch protocol %s" % (botocore.__version__, cw.protocol))
                if "--expect-json" in sys.argv:
                    check(cw.protocol == "json", "newer botocore should speak JSON, got %s" % cw.protocol)
                else:
                    check(cw.protocol == "query", "boto3 1.26 should speak query, got %s" % cw.protocol)
                metrics_checks(cw)
                logs_checks(lg)
                emf_checks(sd, cw)
        except (ClientError, AssertionError, subprocess.TimeoutExpired) as e:
            failures.append(str(e))
            print("FAIL:", e)
            print(sd.read_log()[-3000:])
    print("%s: %d failed" % (mode, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
