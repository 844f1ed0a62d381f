#!/usr/bin/env python3
"""Conformance: unmodified AWS clients against stackd's DynamoDB.

Usage: ddb_conformance.py awscli|boto3|boto3_new|concurrency|durability
  awscli:      Debian /usr/bin/aws (2.9): create/describe/list tables, put-item with
               attribute_not_exists (ok, then ConditionalCheckFailedException), get-item,
               update-item (ADD/SET/if_not_exists, ALL_NEW), query with key condition and
               filter, batch-write/get, delete-item, update-time-to-live, delete-table.
  boto3:       the same through boto3 1.26 (run under Debian /usr/bin/python3), which
               also checks x-amz-crc32, plus error shapes and pagination.
  boto3_new:   the newer python3 first on PATH (boto3 1.43) re-runs this file in mode
               "newer": put/get/query.
  concurrency: several processes do conditional increments of one counter; the final
               count equals the number of successful updates.
  durability:  write, kill -9 stackd, restart on the same --data-dir, read back.
Every stackd is stopped by the fixture (SIGTERM, then SIGKILL); every wait is bounded.
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../../integration/stackd_lambda"))
from stackd_fixture import Stackd  # noqa: E402

STACK = """
stack:
  region: us-east-1
  account_id: "000000000000"
tables:
  declared:
    hash_key: id
    hash_type: S
    range_key: at
    range_type: N
    ttl_attribute: expires
"""

ENV = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="secret",
           AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_CONFIG_FILE="/dev/null",
           AWS_SHARED_CREDENTIALS_FILE="/dev/null")
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def aws(sd, *args, ok=True):
    cmd = ["/usr/bin/aws", "--endpoint-url", "http://127.0.0.1:%d" % sd.port, "--region", "us-east-1",
           "--output", "json", "dynamodb"] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=ENV)
    if ok and r.returncode != 0:
        raise AssertionError("%s -> %d: %s" % (" ".join(args[:1]), r.returncode, r.stderr.strip()))
    if not ok:
        return r
    return json.loads(r.stdout) if r.stdout.strip() else {}


def j(v):
    return json.dumps(v)


def run_awscli(sd):
    t = aws(sd, "create-table", "--table-name", "orders",
            "--attribute-definitions", "AttributeName=pk,AttributeType=S", "AttributeName=sk,AttributeType=N",
            "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
            "--billing-mode", "PAY_PER_REQUEST")["TableDescription"]
    check(t["TableStatus"] == "ACTIVE" and t["TableArn"] == "arn:aws:dynamodb:us-east-1:000000000000:table/orders",
          "create-table: %r" % t)
    r = aws(sd, "create-table", "--table-name", "orders", "--attribute-definitions",
            "AttributeName=pk,AttributeType=S", "--key-schema", "AttributeName=pk,KeyType=HASH",
            "--billing-mode", "PAY_PER_REQUEST", ok=False)
    check(r.returncode != 0 and "ResourceInUseException" in r.stderr, "duplicate table: %r" % r.stderr)
    d = aws(sd, "describe-table", "--table-name", "orders")["Table"]
    check([k["KeyType"] for k in d["KeySchema"]] == ["HASH", "RANGE"], "describe-table: %r" % d)
    check(aws(sd, "list-tables")["TableNames"] == ["declared", "orders"], "list-tables")
    d = aws(sd, "describe-table", "--table-name", "declared")["Table"]
    check(d["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}]
          and d["AttributeDefinitions"][1] == {"AttributeName": "at", "AttributeType": "N"}, "declared table: %r" % d)
    d = aws(sd, "describe-time-to-live", "--table-name", "declared")["TimeToLiveDescription"]
    check(d == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}, "declared ttl: %r" % d)
    item = {"pk": {"S": "u1"}, "sk": {"N": "1.50"}, "m": {"M": {"a": {"L": [{"N": "1"}, {"S": "x"}]}}},
            "b": {"B": "AAEC"}, "ok": {"BOOL": True}, "nul": {"NULL": True}, "ss": {"SS": ["a", "b"]}}
    aws(sd, "put-item", "--table-name", "orders", "--item", j(item), "--condition-expression",
        "attribute_not_exists(pk)")
    r = aws(sd, "put-item", "--table-name", "orders", "--item", j(item), "--condition-expression",
            "attribute_not_exists(pk)", ok=False)
    check(r.returncode != 0 and "ConditionalCheckFailedException" in r.stderr, "conditional put: %r" % r.stderr)
    g = aws(sd, "get-item", "--table-name", "orders", "--key", j({"pk": {"S": "u1"}, "sk": {"N": "1.5"}}),
            "--consistent-read")
    check(g.get("Item", {}).get("sk") == {"N": "1.5"} and g["Item"]["m"]["M"]["a"]["L"][1] == {"S": "x"},
          "get-item (number normalised): %r" % g)
    g = aws(sd, "get-item", "--table-name", "orders", "--key", j({"pk": {"S": "u1"}, "sk": {"N": "1.5"}}),
            "--projection-expression", "m.a[1], #o", "--expression-attribute-names", j({"#o": "ok"}))
    check(g.get("Item") == {"m": {"M": {"a": {"L": [{"S": "x"}]}}}, "ok": {"BOOL": True}}, "projection: %r" % g)
    u = aws(sd, "update-item", "--table-name", "orders", "--key", j({"pk": {"S": "u1"}, "sk": {"N": "2"}}),
            "--update-expression", "SET #c = if_not_exists(#c, :z) + :one, note = :n ADD tags :t",
            "--expression-attribute-names", j({"#c": "count"}),
            "--expression-attribute-values", j({":z": {"N": "0"}, ":one": {"N": "1"}, ":t": {"SS": ["x"]},
                                                ":n": {"S": "hi"}}),
            "--return-values", "ALL_NEW")["Attributes"]
    check(u.get("count") == {"N": "1"} and u.get("tags") == {"SS": ["x"]} and u.get("note") == {"S": "hi"},
          "update-item ALL_NEW: %r" % u)
    u = aws(sd, "update-item", "--table-name", "orders", "--key", j({"pk": {"S": "u1"}, "sk": {"N": "2"}}),
            "--update-expression", "ADD #c :big, tags :t2 REMOVE note", "--expression-attribute-names",
            j({"#c": "count"}), "--expression-attribute-values",
            j({":big": {"N": "99999999999999999999999999999999999998"}, ":t2": {"SS": ["y"]}}),
            "--return-values", "UPDATED_NEW")["Attributes"]
    check(u.get("count") == {"N": "99999999999999999999999999999999999999"} and
          sorted(u.get("tags", {}).get("SS", [])) == ["x", "y"] and "note" not in u, "ADD exact: %r" % u)
    for sk, n in (("-3", "5"), ("20", "7"), ("100", "1")):
        aws(sd, "put-item", "--table-name", "orders", "--item", j({"pk": {"S": "u1"}, "sk": {"N": sk}, "n": {"N": n}}))
    q = aws(sd, "query", "--table-name", "orders", "--key-condition-expression", "pk = :p AND sk BETWEEN :a AND :b",
            "--filter-expression", "n > :m", "--expression-attribute-values",
            j({":p": {"S": "u1"}, ":a": {"N": "-10"}, ":b": {"N": "50"}, ":m": {"N": "4"}}))
    check([i["sk"]["N"] for i in q["Items"]] == ["-3", "20"] and q["ScannedCount"] == 4, "query: %r" % q)
    q = aws(sd, "query", "--table-name", "orders", "--key-condition-expression", "pk = :p",
            "--expression-attribute-values", j({":p": {"S": "u1"}}), "--no-scan-index-forward",
            "--select", "COUNT")
    check(q.get("Count") == 5 and "Items" not in q, "query COUNT: %r" % q)
    q = aws(sd, "query", "--table-name", "orders", "--key-condition-expression", "pk = :p",
            "--expression-attribute-values", j({":p": {"S": "u1"}}), "--no-scan-index-forward",
            "--page-size", "2", "--projection-expression", "sk")
    check([i["sk"]["N"] for i in q["Items"]] == ["100", "20", "2", "1.5", "-3"], "paged query desc: %r" % q)
    bw = aws(sd, "batch-write-item", "--request-items", j({"orders": [
        {"PutRequest": {"Item": {"pk": {"S": "u2"}, "sk": {"N": str(i)}}}} for i in range(5)] + [
        {"DeleteRequest": {"Key": {"pk": {"S": "u1"}, "sk": {"N": "100"}}}}]}))
    check(bw.get("UnprocessedItems") == {}, "batch-write: %r" % bw)
    bg = aws(sd, "batch-get-item", "--request-items", j({"orders": {"Keys": [
        {"pk": {"S": "u2"}, "sk": {"N": "3"}}, {"pk": {"S": "u1"}, "sk": {"N": "100"}},
        {"pk": {"S": "u1"}, "sk": {"N": "20"}}]}}))
    got = sorted((i["pk"]["S"], i["sk"]["N"]) for i in bg["Responses"]["orders"])
    check(got == [("u1", "20"), ("u2", "3")] and bg.get("UnprocessedKeys") == {}, "batch-get: %r" % bg)
    dl = aws(sd, "delete-item", "--table-name", "orders", "--key", j({"pk": {"S": "u1"}, "sk": {"N": "20"}}),
             "--return-values", "ALL_OLD")
    check(dl.get("Attributes", {}).get("n") == {"N": "7"}, "delete-item ALL_OLD: %r" % dl)
    check(aws(sd, "get-item", "--table-name", "orders", "--key",
              j({"pk": {"S": "u1"}, "sk": {"N": "20"}})) == {}, "deleted item is gone")
    r = aws(sd, "get-item", "--table-name", "orders", "--key", j({"pk": {"S": "u1"}}), ok=False)
    check(r.returncode != 0 and "ValidationException" in r.stderr, "bad key: %r" % r.stderr)
    r = aws(sd, "query", "--table-name", "orders", "--key-condition-expression", "pk = :p AND",
            "--expression-attribute-values", j({":p": {"S": "u1"}}), ok=False)
    check("Invalid KeyConditionExpression: Syntax error; token: \"<EOF>\"" in r.stderr, "syntax error: %r" % r.stderr)
    ttl = aws(sd, "update-time-to-live", "--table-name", "orders", "--time-to-live-specification",
              "Enabled=true,AttributeName=expires")
    check(ttl.get("TimeToLiveSpecification") == {"Enabled": True, "AttributeName": "expires"}, "ttl: %r" % ttl)
    d = aws(sd, "describe-time-to-live", "--table-name", "orders")
    check(d["TimeToLiveDescription"].get("TimeToLiveStatus") == "ENABLED", "describe ttl: %r" % d)
    aws(sd, "put-item", "--table-name", "orders", "--item",
        j({"pk": {"S": "ttl"}, "sk": {"N": "1"}, "expires": {"N": str(int(time.time()) - 5)}}))
    check(aws(sd, "get-item", "--table-name", "orders", "--key", j({"pk": {"S": "ttl"}, "sk": {"N": "1"}})) == {},
          "expired item is not returned")
    r = aws(sd, "delete-table", "--table-name", "orders")
    check(r["TableDescription"]["TableStatus"] == "DELETING", "delete-table: %r" % r)
    r = aws(sd, "describe-table", "--table-name", "orders", ok=False)
    check(r.returncode != 0 and "ResourceNotFoundException" in r.stderr, "deleted table: %r" % r.stderr)


def client(sd, retries=1):
    import boto3
    from botocore.config import Config
    return boto3.client("dynamodb", endpoint_url="http://127.0.0.1:%d" % sd.port, region_name="us-east-1",
                        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                        config=Config(retries={"max_attempts": retries}))


def create(c, name, range_key=True):
    ad = [{"AttributeName": "pk", "AttributeType": "S"}]
    ks = [{"AttributeName": "pk", "KeyType": "HASH"}]
    if range_key:
        ad.append({"AttributeName": "sk", "AttributeType": "S"})
        ks.append({"AttributeName": "sk", "KeyType": "RANGE"})
    return c.create_table(TableName=name, AttributeDefinitions=ad, KeySchema=ks, BillingMode="PAY_PER_REQUEST")


def run_boto3(sd):
    from botocore.exceptions import ClientError
    c = client(sd)
    create(c, "events")
    c.get_waiter("table_exists").wait(TableName="events", WaiterConfig={"Delay": 1, "MaxAttempts": 5})
    c.put_item(TableName="events", Item={"pk": {"S": "a"}, "sk": {"S": "2024-01"}, "n": {"N": "1"}},
               ConditionExpression="attribute_not_exists(pk)")
    try:
        c.put_item(TableName="events", Item={"pk": {"S": "a"}, "sk": {"S": "2024-01"}},
                   ConditionExpression="attribute_not_exists(pk)")
        check(False, "conditional put did not raise")
    except c.exceptions.ConditionalCheckFailedException as e:
        check(e.response["Error"]["Message"] == "The conditional request failed", "message: %r" % e.response)
        check(e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, "status 400")
    for i in range(2, 13):
        c.put_item(TableName="events", Item={"pk": {"S": "a"}, "sk": {"S": "2024-%02d" % i}, "n": {"N": str(i)},
                                             "tags": {"SS": ["t%d" % (i % 3)]}})
    r = c.get_item(TableName="events", Key={"pk": {"S": "a"}, "sk": {"S": "2024-05"}}, ConsistentRead=True,
                   ReturnConsumedCapacity="TOTAL")
    check(r["Item"]["n"] == {"N": "5"} and r["ConsumedCapacity"]["CapacityUnits"] == 1.0, "get_item: %r" % r)
    u = c.update_item(TableName="events", Key={"pk": {"S": "a"}, "sk": {"S": "2024-05"}},
                      UpdateExpression="SET n = n - :d, l = list_append(if_not_exists(l, :e), :v) DELETE tags :t",
                      ConditionExpression="n BETWEEN :lo AND :hi AND contains(tags, :s) AND NOT begins_with(sk, :x)",
                      ExpressionAttributeValues={":d": {"N": "0.5"}, ":e": {"L": []}, ":v": {"L": [{"S": "z"}]},
                                                 ":t": {"SS": ["t2"]}, ":lo": {"N": "1"}, ":hi": {"N": "9"},
                                                 ":s": {"S": "t2"}, ":x": {"S": "1999"}},
                      ReturnValues="UPDATED_OLD")
    check(u["Attributes"] == {"n": {"N": "5"}, "tags": {"SS": ["t2"]}}, "UPDATED_OLD: %r" % u)
    g = c.get_item(TableName="events", Key={"pk": {"S": "a"}, "sk": {"S": "2024-05"}})["Item"]
    check(g["n"] == {"N": "4.5"} and g["l"] == {"L": [{"S": "z"}]} and "tags" not in g, "after update: %r" % g)
    q = c.query(TableName="events", KeyConditionExpression="pk = :p AND begins_with(sk, :y)",
                FilterExpression="size(tags) = :one OR attribute_type(n, :ty) AND n >= :ten",
                ExpressionAttributeValues={":p": {"S": "a"}, ":y": {"S": "2024-1"}, ":one": {"N": "1"},
                                           ":ty": {"S": "N"}, ":ten": {"N": "10"}})
    check([i["sk"]["S"] for i in q["Items"]] == ["2024-10", "2024-11", "2024-12"], "query begins_with: %r" % q)
    pages = c.get_paginator("query").paginate(
        TableName="events", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}},
        Limit=5, ScanIndexForward=False)
    sks = [i["sk"]["S"] for p in pages for i in p["Items"]]
    check(sks == ["2024-%02d" % i for i in range(12, 0, -1)], "paginated: %r" % sks)
    n = sum(p["Count"] for p in c.get_paginator("scan").paginate(TableName="events", Limit=4))
    check(n == 12, "scan count %d" % n)
    try:
        c.update_item(TableName="events", Key={"pk": {"S": "a"}, "sk": {"S": "2024-05"}},
                      UpdateExpression="SET a = :v,", ExpressionAttributeValues={":v": {"S": "x"}})
        check(False, "bad update did not raise")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "ValidationException" and
              e.response["Error"]["Message"].startswith("Invalid UpdateExpression: Syntax error; token: \"<EOF>\""),
              "bad update: %r" % e.response["Error"])
    try:
        c.put_item(TableName="events", Item={"pk": {"N": "1"}, "sk": {"S": "x"}})
        check(False, "type mismatch did not raise")
    except ClientError as e:
        check("Type mismatch for key pk expected: S actual: N" in e.response["Error"]["Message"], "%r" % e.response)
    try:
        c.put_item(TableName="events", Item={"pk": {"S": "a"}, "sk": {"S": "big"}, "x": {"S": "y" * 410000}})
        check(False, "oversized item did not raise")
    except ClientError as e:
        check("Item size has exceeded the maximum allowed size" in e.response["Error"]["Message"], "%r" % e.response)
    try:
        c.get_item(TableName="nope", Key={"pk": {"S": "a"}})
        check(False, "missing table did not raise")
    except c.exceptions.ResourceNotFoundException as e:
        check(e.response["Error"]["Message"] == "Requested resource not found", "%r" % e.response)
    c.batch_write_item(RequestItems={"events": [{"PutRequest": {"Item": {"pk": {"S": "b"}, "sk": {"S": str(i)}}}}
                                                for i in range(25)]})
    r = c.batch_get_item(RequestItems={"events": {"Keys": [{"pk": {"S": "b"}, "sk": {"S": str(i)}} for i in range(0, 25, 5)],
                                                  "ProjectionExpression": "sk"}})
    check(sorted(i["sk"]["S"] for i in r["Responses"]["events"]) == ["0", "10", "15", "20", "5"], "batch get: %r" % r)
    c.update_time_to_live(TableName="events", TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
    c.put_item(TableName="events", Item={"pk": {"S": "t"}, "sk": {"S": "1"}, "ttl": {"N": str(int(time.time()) + 2)}})
    check("Item" in c.get_item(TableName="events", Key={"pk": {"S": "t"}, "sk": {"S": "1"}}), "live ttl item")
    deadline = time.time() + 15
    while time.time() < deadline:
        if c.scan(TableName="events", FilterExpression="pk = :t",
                  ExpressionAttributeValues={":t": {"S": "t"}})["ScannedCount"] == 0 and \
           c.describe_table(TableName="events")["Table"]["ItemCount"] == 12 + 25:
            break
        time.sleep(0.5)
    check(c.describe_table(TableName="events")["Table"]["ItemCount"] == 12 + 25, "TTL sweep deleted the item")
    c.delete_table(TableName="events")
    check(c.list_tables()["TableNames"] == ["declared"], "list after delete")


def run_newer(sd):
    import botocore
    c = client(sd)
    print("botocore", botocore.__version__)
    create(c, "newer")
    c.put_item(TableName="newer", Item={"pk": {"S": "k"}, "sk": {"S": "1"}, "v": {"N": "3.14"}})
    r = c.get_item(TableName="newer", Key={"pk": {"S": "k"}, "sk": {"S": "1"}})
    check(r["Item"]["v"] == {"N": "3.14"}, "newer get: %r" % r)
    q = c.query(TableName="newer", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "k"}})
    check(q["Count"] == 1, "newer query: %r" % q)


def worker(port, n, out):
    import boto3
    from botocore.config import Config
    c = boto3.client("dynamodb", endpoint_url="http://127.0.0.1:%d" % port, region_name="us-east-1",
                     aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                     config=Config(retries={"max_attempts": 1}))
    ok = fail = 0
    for _ in range(n):
        cur = c.get_item(TableName="counter", Key={"pk": {"S": "c"}}, ConsistentRead=True)["Item"]["n"]["N"]
        try:
            c.update_item(TableName="counter", Key={"pk": {"S": "c"}}, UpdateExpression="SET n = n + :one",
                          ConditionExpression="n = :cur",
                          ExpressionAttributeValues={":one": {"N": "1"}, ":cur": {"N": cur}})
            ok += 1
        except c.exceptions.ConditionalCheckFailedException:
            fail += 1
    out.put((ok, fail))


def run_concurrency(sd):
    import multiprocessing as mp
    c = client(sd)
    create(c, "counter", range_key=False)
    c.put_item(TableName="counter", Item={"pk": {"S": "c"}, "n": {"N": "0"}})
    q = mp.Queue()
    procs = [mp.Process(target=worker, args=(sd.port, 40, q)) for _ in range(4)]
    for p in procs:
        p.start()
    res = [q.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    ok = sum(r[0] for r in res)
    n = int(c.get_item(TableName="counter", Key={"pk": {"S": "c"}})["Item"]["n"]["N"])
    print("successes %d, conditional failures %d, final %d" % (ok, sum(r[1] for r in res), n))
    check(n == ok and ok > 0, "final count %d != successes %d" % (n, ok))


def run_durability(sd):
    c = client(sd)
    create(c, "durable")
    for i in range(20):
        c.put_item(TableName="durable", Item={"pk": {"S": "p"}, "sk": {"S": "%03d" % i}, "v": {"N": str(i * 1.5)}})
    c.update_item(TableName="durable", Key={"pk": {"S": "p"}, "sk": {"S": "000"}}, UpdateExpression="SET w = :w",
                  ExpressionAttributeValues={":w": {"S": "last write"}})
    sd.proc.kill()  # SIGKILL: no shutdown path runs
    sd.proc.wait(timeout=10)
    os.unlink(sd.port_file)
    sd2 = Stackd(STACK)
    sd2.dir = sd.dir  # same --data-dir
    with sd2:
        c = client(sd2)
        q = c.query(TableName="durable", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
        check(q["Count"] == 20, "items after kill -9: %r" % q["Count"])
        g = c.get_item(TableName="durable", Key={"pk": {"S": "p"}, "sk": {"S": "000"}})["Item"]
        check(g.get("w") == {"S": "last write"}, "last update survived: %r" % g)
        check(c.describe_table(TableName="durable")["Table"]["ItemCount"] == 20, "ItemCount")


def newer_python():
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d, "python3")
        if os.access(p, os.X_OK) and os.path.realpath(p) != os.path.realpath("/usr/bin/python3"):
            return p
    return None


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "awscli"
    if mode == "boto3_new":
        py = newer_python()
        if not py:
            print("no newer python3 on PATH")
            return 1
        return subprocess.run([py, os.path.abspath(__file__), "newer"], timeout=280).returncode
    fn = {"awscli": run_awscli, "boto3": run_boto3, "newer": run_newer, "concurrency": run_concurrency,
          "durability": run_durability}[mode]
    with Stackd(STACK) as sd:
        try:
            fn(sd)
        except Exception as e:  # noqa: BLE001
            failures.append(repr(e))
            print("FAIL: exception", repr(e))
        if failures:
            print("---- stackd log ----\n" + sd.read_log()[-3000:])
    print("%s: %d failed" % (mode, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
