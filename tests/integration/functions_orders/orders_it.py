#!/usr/bin/env python3
"""Integration tests of the order-system functions against a real stackd.

Usage: orders_it.py CASE  (create_get | idempotency | validation | process | websocket |
                      ingest_producer | esm | deadline)

`deadline` and `validation` need no DynamoDB or SQS: get-order talks to a socket
that never answers, and 400s are decided before any AWS call.

Each case:
- starts its own stackd hosting create-order, get-order and process-orders;
- creates the tables and the queue through the AWS APIs with the Debian awscli
  (/usr/bin/aws), exactly as one would on AWS;
- drives the HTTP API, asserts, and always stops stackd.

The queue URL has to be in the functions' environment before they start, so
the port is chosen first: a free 127.0.0.1 port is reserved and released, and
stackd gets it with --port. If the bind races, stackd is retried on another
port. All traffic stays on 127.0.0.1, and every wait is bounded.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../stackd_lambda"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../stackd_ws"))
import stackd_fixture  # noqa: E402
from stackd_fixture import Stackd, wait_until  # noqa: E402
from ws_it import WS  # noqa: E402  (a minimal RFC 6455 client)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../lib"))
from orders_lib import aws_cli, post_order, recv_json  # noqa: E402,F401

BIN = stackd_fixture.BINARY_DIR
QUEUE = "orders-it"

STACK = """
stack:
  account_concurrency: 20
functions:
  create-order:
    bootstrap: {bin}/functions/create-order/bootstrap
    timeout: 10s
    environment: {{STACKD_TEST_MARKER: "@MARKER@", ORDERS_TABLE: orders, IDEMPOTENCY_TABLE: idempotency,
                  ORDERS_QUEUE_URL: "{queue_url}", POWERTOOLS_LOG_LEVEL: DEBUG}}
  get-order:
    bootstrap: {bin}/functions/get-order/bootstrap
    timeout: 10s
    environment: {{STACKD_TEST_MARKER: "@MARKER@", ORDERS_TABLE: orders}}
  process-orders:
    bootstrap: {bin}/functions/process-orders/bootstrap
    timeout: 10s
    environment: {{STACKD_TEST_MARKER: "@MARKER@", ORDERS_TABLE: orders, ORDER_MAX_TOTAL: "5000",
                  CONNECTIONS_TABLE: connections}}
  ws-connect:
    bootstrap: {bin}/functions/ws-connect/bootstrap
    timeout: 10s
    environment: {{STACKD_TEST_MARKER: "@MARKER@", CONNECTIONS_TABLE: connections}}
  ws-disconnect:
    bootstrap: {bin}/functions/ws-disconnect/bootstrap
    timeout: 10s
    environment: {{STACKD_TEST_MARKER: "@MARKER@", CONNECTIONS_TABLE: connections}}
  ws-default:
    bootstrap: {bin}/functions/ws-default/bootstrap
    timeout: 10s
    environment: {{STACKD_TEST_MARKER: "@MARKER@", CONNECTIONS_TABLE: connections}}
  ingest:
    bootstrap: {bin}/functions/ingest/bootstrap
    timeout: 10s
    environment: {{STACKD_TEST_MARKER: "@MARKER@", INGEST_QUEUE_URL: "{queue_url}"}}
  producer:
    bootstrap: {bin}/functions/producer/bootstrap
    timeout: 20s
    environment: {{STACKD_TEST_MARKER: "@MARKER@", ORDERS_TABLE: orders, ORDERS_QUEUE_URL: "{queue_url}",
                  PRODUCER_BATCH: "12"}}
http_api:
  routes:
    "POST /orders": create-order
    "GET /orders/{{id}}": get-order
    "POST /ingest": ingest
websocket_api:
  stage: prod
  routes:
    $connect: ws-connect
    $disconnect: ws-disconnect
    $default: ws-default
    subscribe: ws-default
"""

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)
    return cond


class OrdersStack(Stackd):
    """stackd on a port chosen before start (the queue URL needs it)."""

    def __init__(self, port):
        self.fixed_port = port
        url = "http://127.0.0.1:%d/000000000000/%s" % (port, QUEUE)
        super().__init__(STACK.format(bin=BIN, queue_url=url))
        self.queue_url = url

    def __enter__(self):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [stackd_fixture.STACKD, "--stack", self.stack_path, "--port", str(self.fixed_port),
             "--port-file", self.port_file, "--data-dir", os.path.join(self.dir, "data")],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if os.path.exists(self.port_file) and open(self.port_file).read().strip():
                self.port = int(open(self.port_file).read().strip())
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise OSError("stackd did not start on port %d; log:\n%s" % (self.fixed_port, self.read_log()))

    def aws(self, *args, check_rc=True):
        return aws_cli(self.port, *args, check_rc=check_rc)

    def setup_resources(self):
        self.aws("dynamodb", "create-table", "--table-name", "orders",
                 "--attribute-definitions", "AttributeName=id,AttributeType=S",
                 "--key-schema", "AttributeName=id,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
        self.aws("dynamodb", "create-table", "--table-name", "idempotency",
                 "--attribute-definitions", "AttributeName=id,AttributeType=S",
                 "--key-schema", "AttributeName=id,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
        self.aws("dynamodb", "create-table", "--table-name", "connections",
                 "--attribute-definitions", "AttributeName=pk,AttributeType=S", "AttributeName=sk,AttributeType=S",
                 "--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE",
                 "--billing-mode", "PAY_PER_REQUEST")
        url = self.aws("sqs", "create-queue", "--queue-name", QUEUE)["QueueUrl"]
        if url != self.queue_url:
            raise AssertionError("stackd's queue URL %s differs from the one the functions were "
                                 "given (%s)" % (url, self.queue_url))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start():
    last = None
    for _ in range(3):
        st = OrdersStack(free_port())
        try:
            st.__enter__()
            st.setup_resources()
            return st
        except OSError as e:
            last = e
        except Exception:
            st.stop()
            raise
    raise last


ORDER = {"customerName": "Ann", "items": [{"sku": "A-1", "qty": 2, "price": 19.99}, {"sku": "B", "qty": 1, "price": 0.5}]}


def receive_all(st, want, timeout=10):
    """Messages from the queue (attributes included) until `want` arrived or the timeout."""
    got = []
    deadline = time.time() + timeout
    while len(got) < want and time.time() < deadline:
        r = st.aws("sqs", "receive-message", "--queue-url", st.queue_url, "--max-number-of-messages", "10",
                   "--message-attribute-names", "All", "--attribute-names", "All", "--wait-time-seconds", "1")
        got += r.get("Messages", [])
    return got


def case_create_get(st):
    corr = str(uuid.uuid4())
    tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    status, hd, js = post_order(st, ORDER, {"x-correlation-id": corr, "traceparent": tp})
    if not check(status == 201, "POST /orders: %d %s" % (status, js)):
        return
    oid = js["id"]
    check(js == {"id": oid, "status": "PENDING"}, "201 body %s" % js)
    check(hd.get("location") == "/orders/" + oid, "Location %s" % hd.get("location"))
    check(hd.get("x-correlation-id") == corr, "x-correlation-id echoed: %s" % hd.get("x-correlation-id"))
    status, _, data = st.request("GET", "/orders/" + oid)
    check(status == 200, "GET: %d %s" % (status, data))
    o = json.loads(data)
    check(o["status"] == "PENDING" and o["customerName"] == "Ann" and o["total"] == 40.48,
          "order %s" % o)
    check(o["items"] == ORDER["items"], "items %s" % o["items"])
    check(o.get("correlationId") == corr, "correlationId %s" % o.get("correlationId"))
    status, _, data = st.request("GET", "/orders/" + str(uuid.uuid4()))
    check(status == 404 and json.loads(data) == {"message": "order not found"}, "unknown id: %d %s" % (status, data))
    msgs = receive_all(st, 1)
    mine = [m for m in msgs if json.loads(m["Body"]).get("orderId") == oid]
    if check(len(mine) == 1, "one OrderCreated for %s in %s" % (oid, msgs)):
        m = mine[0]
        body = json.loads(m["Body"])
        check(body == {"type": "OrderCreated", "orderId": oid, "customerName": "Ann", "total": 40.48},
              "message body %s" % body)
        attrs = m.get("MessageAttributes", {})
        check(attrs.get("correlation_id", {}).get("StringValue") == corr, "correlation_id attr %s" % attrs)
        check(attrs.get("correlation_id", {}).get("DataType") == "String", "attr type %s" % attrs)
        check(attrs.get("traceparent", {}).get("StringValue") == tp, "traceparent attr %s" % attrs)


def case_idempotency(st):
    key = "it-" + uuid.uuid4().hex
    s1, h1, j1 = post_order(st, ORDER, {"Idempotency-Key": key})
    check(s1 == 201, "first: %d %s" % (s1, j1))
    # Same order with other whitespace and key order: the same order.
    same = b'{ "items": [{"price": 19.99, "qty": 2, "sku": "A-1"}, {"sku": "B", "qty": 1, "price": 0.50}], "customerName": "Ann" }'
    s2, h2, j2 = post_order(st, same, {"Idempotency-Key": key})
    check(s2 == 201 and j2 == j1, "replay: %d %s vs %s" % (s2, j2, j1))
    check(h2.get("idempotency-replayed") == "true", "replay header %s" % h2)
    check(h2.get("location") == h1.get("location"), "replay Location %s" % h2.get("location"))
    s3, _, j3 = post_order(st, dict(ORDER, customerName="Bob"), {"Idempotency-Key": key})
    check(s3 == 422 and j3.get("field") == "Idempotency-Key", "other body: %d %s" % (s3, j3))
    s4, _, j4 = post_order(st, ORDER, {"Idempotency-Key": "other-" + key})
    check(s4 == 201 and j4["id"] != j1["id"], "new key, new order: %d %s" % (s4, j4))
    # Two orders were created, so two messages (the replay sent none).
    msgs = receive_all(st, 3, timeout=5)
    ids = sorted(json.loads(m["Body"]).get("orderId") for m in msgs)
    check(ids == sorted([j1["id"], j4["id"]]), "messages for %s: %s" % ([j1["id"], j4["id"]], ids))


def case_validation(st):
    cases = [
        (b"", "request body is required", None),
        (b"{", "request body is not valid JSON", None),
        ({"items": ORDER["items"]}, "customerName is required", "customerName"),
        ({"customerName": "x" * 201, "items": ORDER["items"]}, "customerName must be at most 200 characters", "customerName"),
        ({"customerName": "A", "items": []}, "items must contain at least 1 item", "items"),
        ({"customerName": "A", "items": [{"sku": "a", "qty": 1, "price": 1}] * 2 + [{"sku": "c", "qty": 1.5, "price": 1}]},
         "items[2].qty must be an integer", "items[2].qty"),
        ({"customerName": "A", "items": [{"sku": "a", "qty": 1, "price": 1.001}]},
         "items[0].price must have at most 2 decimal places", "items[0].price"),
    ]
    for body, msg, field in cases:
        status, _, js = post_order(st, body)
        want = {"message": msg} if field is None else {"message": msg, "field": field}
        check(status == 400 and js == want, "%r: %d %s" % (body if isinstance(body, bytes) else json.dumps(body)[:60], status, js))
    status, _, data = st.request("GET", "/orders/not-a-uuid")
    check(status == 400 and json.loads(data) == {"message": "id must be a UUID", "field": "id"}, "bad id: %d %s" % (status, data))


def sqs_event(records):
    now = str(int(time.time() * 1000))
    return {"Records": [{
        "messageId": mid, "receiptHandle": "rh-" + mid, "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": now,
                       "ApproximateFirstReceiveTimestamp": now, "SenderId": "AIDTEST"},
        "messageAttributes": {"correlation_id": {"stringValue": "corr-" + mid, "stringListValues": [],
                                                 "binaryListValues": [], "dataType": "String"}},
        "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:" + QUEUE, "awsRegion": "us-east-1"}
        for mid, body in records]}


def invoke(st, fn, payload):
    d = tempfile.mkdtemp(prefix="orders-it-")
    inp, out = os.path.join(d, "in.json"), os.path.join(d, "out.json")
    with open(inp, "w") as f:
        json.dump(payload, f)
    meta = st.aws("lambda", "invoke", "--function-name", fn, "--payload", "fileb://" + inp, out)
    with open(out) as f:
        return meta, json.load(f)


def case_process(st):
    _, _, ok = post_order(st, ORDER)
    _, _, bad = post_order(st, {"customerName": "Ann", "items": [{"sku": "FAIL-1", "qty": 1, "price": 1}]})
    _, _, big = post_order(st, {"customerName": "Ann", "items": [{"sku": "X", "qty": 1000, "price": 6}]})
    if not check(ok and bad and big, "orders created: %s %s %s" % (ok, bad, big)):
        return
    created = lambda o: json.dumps({"type": "OrderCreated", "orderId": o["id"], "customerName": "Ann", "total": 1})
    ev = sqs_event([("m-ok", created(ok)), ("m-poison", "not json"), ("m-noid", '{"type":"OrderCreated"}'),
                    ("m-fail", created(bad)), ("m-big", created(big))])
    meta, resp = invoke(st, "process-orders", ev)
    check("FunctionError" not in meta, "no function error: %s" % meta)
    failed = sorted(f["itemIdentifier"] for f in resp.get("batchItemFailures", []))
    check(failed == ["m-noid", "m-poison"], "batchItemFailures %s" % resp)
    states = {}
    for name, o in (("ok", ok), ("bad", bad), ("big", big)):
        _, _, data = st.request("GET", "/orders/" + o["id"])
        states[name] = json.loads(data)
    check(states["ok"]["status"] == "CONFIRMED" and "updatedAt" in states["ok"], "ok: %s" % states["ok"])
    check(states["bad"]["status"] == "FAILED" and states["bad"].get("reason") == "sku rejected (FAIL-*)", "bad: %s" % states["bad"])
    check(states["big"]["status"] == "FAILED" and states["big"].get("reason") == "total over the limit", "big: %s" % states["big"])
    # A duplicate delivery is a success and changes nothing.
    meta, resp = invoke(st, "process-orders", sqs_event([("m-ok-again", created(ok))]))
    check(resp.get("batchItemFailures") == [], "duplicate: %s" % resp)
    _, _, data = st.request("GET", "/orders/" + ok["id"])
    check(json.loads(data)["updatedAt"] == states["ok"]["updatedAt"], "duplicate left the order alone")
    # An unknown order is retried (listed), not dropped.
    meta, resp = invoke(st, "process-orders", sqs_event([("m-unknown", json.dumps({"orderId": str(uuid.uuid4())}))]))
    check([f["itemIdentifier"] for f in resp.get("batchItemFailures", [])] == ["m-unknown"], "unknown order: %s" % resp)


def conn_items(st, conn_id):
    """Items of the connections table that mention conn_id (a Scan)."""
    r = st.aws("dynamodb", "scan", "--table-name", "connections", "--consistent-read")
    return [i for i in r.get("Items", []) if i.get("connectionId", {}).get("S") == conn_id]


def case_websocket(st):
    """ws-connect (?customer=), ws-default subscribe + errors, process-orders
    pushing OrderUpdated to order and customer subscribers with the record's
    correlation id, a 410 Gone dropping a stale subscription, and
    ws-disconnect removing a connection's items."""
    ann = WS(st.port, "/prod?customer=Ann")
    bob = WS(st.port, "/prod")
    check(ann.status == 101 and bob.status == 101, "handshakes %d %d" % (ann.status, bob.status))
    _, _, o_bob = post_order(st, {"customerName": "Bob", "items": [{"sku": "B", "qty": 1, "price": 2}]})
    _, _, o_ann = post_order(st, {"customerName": "Ann", "items": [{"sku": "A", "qty": 1, "price": 3}]})
    bob.send_text(json.dumps({"action": "subscribe", "orderId": o_bob["id"]}))
    check(recv_json(bob) == {"type": "subscribed", "orderId": o_bob["id"]}, "subscribed reply")
    bob.send_text(json.dumps({"action": "dance"}))
    m = recv_json(bob)
    check(m == {"type": "error", "message": "unknown action; expected subscribe"}, "unknown action: %s" % m)
    bob.send_text("not json")
    m = recv_json(bob)
    check(m == {"type": "error", "message": "message is not a JSON object"}, "not json: %s" % m)
    # A stale subscriber: its connection does not exist, so the push gets 410 and drops it.
    st.aws("dynamodb", "put-item", "--table-name", "connections", "--item",
           json.dumps({"pk": {"S": "customer#Ann"}, "sk": {"S": "conn#gone-1"}, "connectionId": {"S": "gone-1"}}))
    created = lambda o, name: json.dumps({"type": "OrderCreated", "orderId": o["id"], "customerName": name})
    _, resp = invoke(st, "process-orders", sqs_event([("m-ann", created(o_ann, "Ann")), ("m-bob", created(o_bob, "Bob"))]))
    check(resp.get("batchItemFailures") == [], "process: %s" % resp)
    m = recv_json(ann)
    check(m == {"type": "OrderUpdated", "orderId": o_ann["id"], "status": "CONFIRMED",
                "correlationId": "corr-m-ann", "customerName": "Ann"}, "Ann's push: %s" % m)
    m = recv_json(bob)
    check(m == {"type": "OrderUpdated", "orderId": o_bob["id"], "status": "CONFIRMED",
                "correlationId": "corr-m-bob", "customerName": "Bob"}, "Bob's push: %s" % m)
    check(conn_items(st, "gone-1") == [], "stale subscription dropped after 410")
    # Bob leaves: $disconnect deletes his connection, subscription and reverse entry.
    bob_items = [i for i in st.aws("dynamodb", "scan", "--table-name", "connections")["Items"]
                 if i["pk"]["S"] == "order#" + o_bob["id"]]
    check(len(bob_items) == 1, "Bob's subscription stored: %s" % bob_items)
    bob_conn = bob_items[0]["connectionId"]["S"] if bob_items else ""
    check(len(conn_items(st, bob_conn)) == 3, "meta + subscription + reverse for Bob")
    bob.send_frame(8, struct.pack("!H", 1000))
    bob.close()
    check(wait_until(lambda: conn_items(st, bob_conn) == [], 20, 0.5), "Bob's items deleted on $disconnect")
    ann.close()


def case_ingest_producer(st):
    """ingest: 202 + the body unchanged in the queue with its correlation id;
    400 for a non-object. producer: a scheduled event creates PRODUCER_BATCH
    PENDING orders and one OrderCreated per order (SendMessageBatch in 10s),
    each with its own correlation id that matches the order's."""
    corr = str(uuid.uuid4())
    body = b'{"orderId":"x","note":"hi"}'
    status, _, data = st.request("POST", "/ingest", body, {"x-correlation-id": corr})
    js = json.loads(data)
    check(status == 202 and js.get("accepted") is True and js.get("messageId") and js.get("correlationId") == corr,
          "ingest: %d %s" % (status, js))
    status, _, data = st.request("POST", "/ingest", b"[1]")
    check(status == 400 and json.loads(data) == {"message": "request body must be a JSON object"},
          "ingest non-object: %d %s" % (status, data))
    msgs = receive_all(st, 1)
    check(len(msgs) == 1 and msgs[0]["Body"] == body.decode() and msgs[0]["MessageId"] == js.get("messageId") and
          msgs[0]["MessageAttributes"]["correlation_id"]["StringValue"] == corr, "ingested message %s" % msgs)
    for m in msgs:
        st.aws("sqs", "delete-message", "--queue-url", st.queue_url, "--receipt-handle", m["ReceiptHandle"])
    scheduled = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                 "source": "aws.events", "account": "000000000000", "time": "2026-11-22T08:00:00Z",
                 "region": "us-east-1", "resources": ["arn:aws:events:us-east-1:000000000000:rule/produce"],
                 "detail": {}}
    meta, resp = invoke(st, "producer", scheduled)
    check(resp == {"produced": 12, "failed": 0}, "producer: %s %s" % (meta, resp))
    msgs = receive_all(st, 12)
    check(len(msgs) == 12, "12 messages, got %d" % len(msgs))
    corrs = set()
    for m in msgs:
        b = json.loads(m["Body"])
        c = m["MessageAttributes"]["correlation_id"]["StringValue"]
        corrs.add(c)
        status, _, data = st.request("GET", "/orders/" + b["orderId"])
        o = json.loads(data) if status == 200 else {}
        check(status == 200 and o["status"] == "PENDING" and o["correlationId"] == c and
              o["total"] == b["total"] and o["customerName"] == b["customerName"],
              "produced order %s: %d %s" % (b, status, o))
    check(len(corrs) == len(msgs), "one correlation id per message")


ESM_STACK = """
functions:
  create-order:
    bootstrap: {bin}/functions/create-order/bootstrap
    timeout: 10s
    environment: {{STACKD_TEST_MARKER: "@MARKER@", ORDERS_TABLE: orders,
                  ORDERS_QUEUE_URL: "http://127.0.0.1:1/000000000000/esm-orders"}}
  get-order:
    bootstrap: {bin}/functions/get-order/bootstrap
    timeout: 10s
    environment: {{STACKD_TEST_MARKER: "@MARKER@", ORDERS_TABLE: orders}}
  process-orders:
    bootstrap: {bin}/functions/process-orders/bootstrap
    timeout: 5s
    environment: {{STACKD_TEST_MARKER: "@MARKER@", ORDERS_TABLE: orders}}
http_api:
  routes:
    "POST /orders": create-order
    "GET /orders/{{id}}": get-order
tables:
  orders: {{hash_key: id}}
queues:
  esm-orders:
    visibility_timeout: 1s
    redrive_policy: {{dead_letter_queue: esm-dlq, max_receive_count: 2}}
  esm-dlq: {{}}
event_source_mappings:
  - {{queue: esm-orders, function: process-orders, batch_size: 10, report_batch_item_failures: true}}
"""


def case_esm():
    """Through stackd's real event source mapping (tables and queues from the
    stack file): a created order is confirmed without any manual invoke, and a
    poison message is reported as a batch item failure on every receive until
    the redrive policy moves it to the DLQ (max_receive_count 2)."""
    with Stackd(ESM_STACK.format(bin=BIN)) as st:
        st.aws = lambda *a, **k: OrdersStack.aws(st, *a, **k)
        status, _, js = post_order(st, ORDER)
        check(status == 201, "POST: %d %s" % (status, js))
        oid = (js or {}).get("id", "")

        def confirmed():
            s2, _, data = st.request("GET", "/orders/" + oid)
            return s2 == 200 and json.loads(data)["status"] == "CONFIRMED"
        check(wait_until(confirmed, 30, 0.2), "order confirmed through the mapping")
        url = st.aws("sqs", "get-queue-url", "--queue-name", "esm-orders")["QueueUrl"]
        dlq = st.aws("sqs", "get-queue-url", "--queue-name", "esm-dlq")["QueueUrl"]
        st.aws("sqs", "send-message", "--queue-url", url, "--message-body", "not json",
               "--message-attributes", "correlation_id={DataType=String,StringValue=poison-1}")
        got = []
        deadline = time.time() + 60
        while not got and time.time() < deadline:
            got = st.aws("sqs", "receive-message", "--queue-url", dlq, "--wait-time-seconds", "2",
                         "--attribute-names", "All", "--message-attribute-names", "All").get("Messages", [])
        if check(len(got) == 1, "poison message in the DLQ"):
            m = got[0]
            check(m["Body"] == "not json", "DLQ body %s" % m["Body"])
            check(m["Attributes"].get("DeadLetterQueueSourceArn", "").endswith(":esm-orders"),
                  "moved by the redrive policy: %s" % m["Attributes"])
            check(m["MessageAttributes"]["correlation_id"]["StringValue"] == "poison-1", "attrs %s" % m)
        rc = st.stop()
        check(rc == 0, "stackd exit code %s" % rc)


DEADLINE_STACK = """
functions:
  get-order:
    bootstrap: {bin}/functions/get-order/bootstrap
    timeout: 3s
    environment: {{STACKD_TEST_MARKER: "@MARKER@", ORDERS_TABLE: orders,
                  AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:{bh}", ORDERS_AWS_TIMEOUT_MS: "60000"}}
http_api:
  routes:
    "GET /orders/{{id}}": get-order
"""


def case_deadline():
    """DynamoDB that accepts and never answers: get-order must still answer
    503 before its 3 s timeout (calls are bounded by the invocation deadline,
    not by the 60 s per-attempt timeout), and the next request must work the
    same way (the stuck connection is not reused)."""
    bh = socket.socket()
    bh.bind(("127.0.0.1", 0))
    bh.listen(16)
    held = []
    stop = threading.Event()

    def hold():
        bh.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(bh.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    try:
        with Stackd(DEADLINE_STACK.format(bin=BIN, bh=bh.getsockname()[1])) as st:
            for i in range(2):
                t0 = time.time()
                status, _, data = st.request("GET", "/orders/" + str(uuid.uuid4()), timeout=30)
                took = time.time() - t0
                check(status == 503 and json.loads(data) == {"message": "could not read the order"},
                      "request %d: %d %s" % (i, status, data))
                # Generous: 3 s function timeout plus cold start on a loaded machine.
                check(took < 10, "request %d took %.1f s" % (i, took))
            check(len(held) >= 1, "the function reached the blackhole (%d connections)" % len(held))
            rc = st.stop()
            check(rc == 0, "stackd exit code %s" % rc)
    finally:
        stop.set()
        t.join(timeout=5)
        for c in held:
            c.close()
        bh.close()


CASES = {"create_get": case_create_get, "idempotency": case_idempotency,
         "validation": case_validation, "process": case_process, "websocket": case_websocket,
         "ingest_producer": case_ingest_producer}


def main():
    if len(sys.argv) != 2 or (sys.argv[1] not in CASES and sys.argv[1] not in ("deadline", "esm")):
        print("usage: orders_it.py %s|deadline|esm" % "|".join(CASES))
        return 2
    if sys.argv[1] == "esm":
        case_esm()
        print("esm: %d failures" % len(failures))
        return 1 if failures else 0
    if sys.argv[1] == "deadline":
        case_deadline()
        print("deadline: %d failures" % len(failures))
        return 1 if failures else 0
    if sys.argv[1] == "validation":
        # 400s are decided before any AWS call: no tables or queue needed.
        with Stackd(STACK.format(bin=BIN, queue_url="http://127.0.0.1:9/000000000000/none")) as st:
            case_validation(st)
            rc = st.stop()
        check(rc == 0, "stackd exit code %s" % rc)
        print("validation: %d failures" % len(failures))
        return 1 if failures else 0
    st = start()
    try:
        CASES[sys.argv[1]](st)
    finally:
        rc = st.stop()
        if failures:
            print(st.read_log()[-4000:])
    check(rc == 0, "stackd exit code %s" % rc)
    print("%s: %d failures" % (sys.argv[1], len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
