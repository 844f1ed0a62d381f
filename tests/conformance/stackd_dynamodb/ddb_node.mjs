// ddb_node.mjs: the JS SDK v3 (@aws-sdk/client-dynamodb, awsJson1_0) against a running
// stackd, one call per operation stackd's DynamoDB supports. Unlike boto3 and the v2 SDK, the
// v3 SDK does not check DynamoDB's x-amz-crc32 header, so the request handler below (the SDK's
// own NodeHttpHandler, wrapped) reads every response body and checks it against the header
// (zlib.crc32, unsigned decimal) before the SDK deserializes it.
// Usage: node ddb_node.mjs PORT   (run by ddb_node.py)
import { createRequire } from "node:module";
import path from "node:path";
import { Readable } from "node:stream";
import zlib from "node:zlib";

const require = createRequire(path.join(process.env.LG_SOURCE_DIR || process.cwd(), "package.json"));
const ddb = require("@aws-sdk/client-dynamodb");
const { NodeHttpHandler } = require("@smithy/node-http-handler");
const port = process.argv[2];
const failures = [];
let passed = 0;
const check = (cond, msg) => {
  if (cond) passed++;
  else { failures.push(msg); console.log("FAIL:", msg); }
};

let crcChecked = 0;
class CrcCheckingHandler {
  constructor() { this.inner = new NodeHttpHandler(); this.metadata = { handlerProtocol: "http/1.1" }; }
  async handle(request, options) {
    const out = await this.inner.handle(request, options);
    const res = out.response;
    const chunks = [];
    for await (const ch of res.body) chunks.push(ch);
    const body = Buffer.concat(chunks);
    const want = res.headers["x-amz-crc32"];
    const got = String(zlib.crc32(body) >>> 0);
    if (want !== got) {
      failures.push(`x-amz-crc32 ${want} != crc32(body) ${got} for ${request.headers["x-amz-target"]}`);
      console.log("FAIL:", failures[failures.length - 1]);
    } else {
      crcChecked++;
    }
    res.body = Readable.from([body]);
    return out;
  }
  updateHttpClientConfig(k, v) { this.inner.updateHttpClientConfig(k, v); }
  httpHandlerConfigs() { return this.inner.httpHandlerConfigs(); }
  destroy() { this.inner.destroy(); }
}
const c = new ddb.DynamoDBClient({
  endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", maxAttempts: 1,
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
  requestHandler: new CrcCheckingHandler(),
});
const send = (cmd) => c.send(cmd);
const j = (v) => JSON.stringify(v);
const T = "node-orders";

// CreateTable (hash + range), DescribeTable, ListTables
const ct = await send(new ddb.CreateTableCommand({
  TableName: T, BillingMode: "PAY_PER_REQUEST",
  AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "N" }],
  KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
}));
check(ct.TableDescription.TableName === T && ["ACTIVE", "CREATING"].includes(ct.TableDescription.TableStatus),
      `CreateTable ${j(ct.TableDescription)}`);
check(/^arn:aws:dynamodb:us-east-1:000000000000:table\/node-orders$/.test(ct.TableDescription.TableArn),
      `TableArn ${ct.TableDescription.TableArn}`);
try {
  await send(new ddb.CreateTableCommand({
    TableName: T, BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
    KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
  }));
  check(false, "second CreateTable succeeded");
} catch (e) {
  check(e.name === "ResourceInUseException", `second CreateTable: ${e.name}`);
}
const dt = (await send(new ddb.DescribeTableCommand({ TableName: T }))).Table;
check(dt.TableStatus === "ACTIVE" && j(dt.KeySchema) === j([{ AttributeName: "pk", KeyType: "HASH" },
                                                             { AttributeName: "sk", KeyType: "RANGE" }]),
      `DescribeTable ${j(dt)}`);
try {
  await send(new ddb.DescribeTableCommand({ TableName: "missing" }));
  check(false, "DescribeTable of a missing table succeeded");
} catch (e) {
  check(e.name === "ResourceNotFoundException", `DescribeTable missing: ${e.name}`);
}
const lt = await send(new ddb.ListTablesCommand({}));
check(lt.TableNames.includes(T), `ListTables ${j(lt)}`);

// PutItem, then a conditional put that fails with ConditionalCheckFailedException
const item = {
  pk: { S: "cust#ann" }, sk: { N: "1" }, status: { S: "PENDING" }, total: { N: "40.48" },
  items: { L: [{ M: { sku: { S: "A-1" }, qty: { N: "2" } } }] }, tags: { SS: ["a", "b"] },
  blob: { B: Buffer.from([0, 1, 2, 255]) }, ok: { BOOL: true }, none: { NULL: true },
  note: { S: "h\u00e9llo \u{1F600}" },
};
await send(new ddb.PutItemCommand({ TableName: T, Item: item, ConditionExpression: "attribute_not_exists(pk)" }));
try {
  await send(new ddb.PutItemCommand({ TableName: T, Item: item, ConditionExpression: "attribute_not_exists(pk)" }));
  check(false, "conditional PutItem on an existing item succeeded");
} catch (e) {
  check(e.name === "ConditionalCheckFailedException" && e.$metadata.httpStatusCode === 400,
        `conditional PutItem: ${e.name} ${e.$metadata.httpStatusCode}`);
}
try {
  await send(new ddb.PutItemCommand({
    TableName: T, Item: item, ConditionExpression: "attribute_not_exists(pk)",
    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
  }));
  check(false, "conditional PutItem (ALL_OLD) on an existing item succeeded");
} catch (e) {
  // DynamoDB returns the existing item with the error when asked; stackd may not (reported).
  check(e.name === "ConditionalCheckFailedException", `conditional PutItem ALL_OLD: ${e.name}`);
}

// GetItem (consistent, projection)
const g = await send(new ddb.GetItemCommand({ TableName: T, Key: { pk: { S: "cust#ann" }, sk: { N: "1" } },
                                              ConsistentRead: true }));
check(g.Item && g.Item.status.S === "PENDING" && g.Item.total.N === "40.48" && g.Item.note.S === item.note.S,
      `GetItem ${j(g.Item)}`);
check(g.Item && Buffer.from(g.Item.blob.B).equals(Buffer.from([0, 1, 2, 255])), "binary round trip");
check(g.Item && j([...g.Item.tags.SS].sort()) === j(["a", "b"]) && g.Item.ok.BOOL === true &&
      g.Item.none.NULL === true && g.Item.items.L[0].M.qty.N === "2", `types ${j(g.Item)}`);
const gp = await send(new ddb.GetItemCommand({
  TableName: T, Key: { pk: { S: "cust#ann" }, sk: { N: "1" } }, ProjectionExpression: "#s, #t",
  ExpressionAttributeNames: { "#s": "status", "#t": "total" },
}));
check(j(Object.keys(gp.Item).sort()) === j(["status", "total"]), `projection ${j(gp.Item)}`);
const gm = await send(new ddb.GetItemCommand({ TableName: T, Key: { pk: { S: "nobody" }, sk: { N: "1" } } }));
check(gm.Item === undefined, `GetItem of a missing item ${j(gm)}`);

// UpdateItem with each ReturnValues
const key = { pk: { S: "cust#ann" }, sk: { N: "1" } };
const u1 = await send(new ddb.UpdateItemCommand({
  TableName: T, Key: key, UpdateExpression: "SET #s = :c ADD n :one", ConditionExpression: "#s = :p",
  ExpressionAttributeNames: { "#s": "status" },
  ExpressionAttributeValues: { ":c": { S: "CONFIRMED" }, ":p": { S: "PENDING" }, ":one": { N: "1" } },
  ReturnValues: "ALL_NEW",
}));
check(u1.Attributes.status.S === "CONFIRMED" && u1.Attributes.n.N === "1" && u1.Attributes.total.N === "40.48",
      `UpdateItem ALL_NEW ${j(u1.Attributes)}`);
const u2 = await send(new ddb.UpdateItemCommand({
  TableName: T, Key: key, UpdateExpression: "ADD n :one", ExpressionAttributeValues: { ":one": { N: "1" } },
  ReturnValues: "UPDATED_OLD",
}));
check(j(u2.Attributes) === j({ n: { N: "1" } }), `UpdateItem UPDATED_OLD ${j(u2.Attributes)}`);
const u3 = await send(new ddb.UpdateItemCommand({
  TableName: T, Key: key, UpdateExpression: "SET #t = #t + :d REMOVE #n",
  ExpressionAttributeNames: { "#t": "total", "#n": "none" }, ExpressionAttributeValues: { ":d": { N: "0.52" } }, ReturnValues: "UPDATED_NEW",
}));
check(j(u3.Attributes) === j({ total: { N: "41" } }), `UpdateItem UPDATED_NEW ${j(u3.Attributes)}`);
const u4 = await send(new ddb.UpdateItemCommand({
  TableName: T, Key: key, UpdateExpression: "SET #n = if_not_exists(#n, :x)",
  ExpressionAttributeNames: { "#n": "note" }, ExpressionAttributeValues: { ":x": { S: "x" } }, ReturnValues: "ALL_OLD",
}));
check(u4.Attributes.n.N === "2" && u4.Attributes.none === undefined, `UpdateItem ALL_OLD ${j(u4.Attributes)}`);
const u5 = await send(new ddb.UpdateItemCommand({
  TableName: T, Key: key, UpdateExpression: "SET seen = :t", ExpressionAttributeValues: { ":t": { BOOL: true } },
}));
check(u5.Attributes === undefined, `UpdateItem NONE ${j(u5)}`);
try {
  await send(new ddb.UpdateItemCommand({
    TableName: T, Key: key, UpdateExpression: "SET #s = :c", ConditionExpression: "#s = :p",
    ExpressionAttributeNames: { "#s": "status" },
    ExpressionAttributeValues: { ":c": { S: "X" }, ":p": { S: "PENDING" } },
  }));
  check(false, "conditional UpdateItem succeeded");
} catch (e) {
  check(e.name === "ConditionalCheckFailedException", `conditional UpdateItem: ${e.name}`);
}
try {
  await send(new ddb.UpdateItemCommand({ TableName: T, Key: key, UpdateExpression: "SET = broken" }));
  check(false, "bad UpdateExpression accepted");
} catch (e) {
  check(e.name === "ValidationException", `bad expression: ${e.name}`);
}

// BatchWriteItem: 25 puts in two partitions, then BatchGetItem
const puts = [];
for (let i = 0; i < 25; i++) {
  const pk = i < 20 ? "cust#bob" : "cust#cy";
  puts.push({ PutRequest: { Item: { pk: { S: pk }, sk: { N: String(i) }, even: { BOOL: i % 2 === 0 },
                                    v: { N: String(i * 10) } } } });
}
const bw = await send(new ddb.BatchWriteItemCommand({ RequestItems: { [T]: puts } }));
check(Object.keys(bw.UnprocessedItems || {}).length === 0, `BatchWriteItem ${j(bw)}`);
const bw2 = await send(new ddb.BatchWriteItemCommand({ RequestItems: { [T]: [
  { DeleteRequest: { Key: { pk: { S: "cust#cy" }, sk: { N: "24" } } } }] } }));
check(Object.keys(bw2.UnprocessedItems || {}).length === 0, `BatchWriteItem delete ${j(bw2)}`);
const bg = await send(new ddb.BatchGetItemCommand({ RequestItems: { [T]: {
  Keys: [{ pk: { S: "cust#bob" }, sk: { N: "3" } }, { pk: { S: "cust#cy" }, sk: { N: "20" } },
         { pk: { S: "cust#cy" }, sk: { N: "24" } }, key],
  ProjectionExpression: "pk, sk, v",
} } }));
const got = (bg.Responses[T] || []).map((it) => `${it.pk.S}/${it.sk.N}`).sort();
check(j(got) === j(["cust#ann/1", "cust#bob/3", "cust#cy/20"]), `BatchGetItem ${j(got)}`);
check(Object.keys(bg.UnprocessedKeys || {}).length === 0, "no UnprocessedKeys");

// Query: key condition + filter + pagination
const qAll = [];
let esk;
let pages = 0;
do {
  const q = await send(new ddb.QueryCommand({
    TableName: T, KeyConditionExpression: "pk = :p AND sk BETWEEN :a AND :b", FilterExpression: "even = :t",
    ExpressionAttributeValues: { ":p": { S: "cust#bob" }, ":a": { N: "2" }, ":b": { N: "17" }, ":t": { BOOL: true } },
    Limit: 5, ExclusiveStartKey: esk,
  }));
  check(q.ScannedCount <= 5 && q.Count === q.Items.length, `page ${pages}: ${q.Count}/${q.ScannedCount}`);
  qAll.push(...q.Items.map((it) => Number(it.sk.N)));
  esk = q.LastEvaluatedKey;
  pages++;
} while (esk && pages < 20);
check(j(qAll) === j([2, 4, 6, 8, 10, 12, 14, 16]), `Query filtered+paged ${j(qAll)} in ${pages} pages`);
check(pages >= 3, `Query pagination: ${pages} pages`);
const qd = await send(new ddb.QueryCommand({
  TableName: T, KeyConditionExpression: "pk = :p AND sk < :b", ScanIndexForward: false, Limit: 3,
  ExpressionAttributeValues: { ":p": { S: "cust#bob" }, ":b": { N: "10" } },
}));
check(j(qd.Items.map((it) => Number(it.sk.N))) === j([9, 8, 7]), `Query descending ${j(qd.Items)}`);
const qc = await send(new ddb.QueryCommand({
  TableName: T, KeyConditionExpression: "pk = :p", Select: "COUNT",
  ExpressionAttributeValues: { ":p": { S: "cust#bob" } },
}));
check(qc.Count === 20 && qc.Items === undefined, `Query COUNT ${j(qc)}`);

// Scan with a filter, paginated
let scanned = 0;
const sAll = [];
esk = undefined;
pages = 0;
do {
  const s = await send(new ddb.ScanCommand({
    TableName: T, Limit: 7, ExclusiveStartKey: esk, FilterExpression: "v >= :m",
    ExpressionAttributeValues: { ":m": { N: "150" } },
  }));
  scanned += s.ScannedCount;
  sAll.push(...s.Items.map((it) => Number(it.sk.N)));
  esk = s.LastEvaluatedKey;
  pages++;
} while (esk && pages < 20);
check(scanned === 25 && j(sAll.sort((a, b) => a - b)) === j([15, 16, 17, 18, 19, 20, 21, 22, 23]),
      `Scan: scanned ${scanned}, kept ${j(sAll)}`);

// DeleteItem with ReturnValues and a condition
const d = await send(new ddb.DeleteItemCommand({ TableName: T, Key: key, ReturnValues: "ALL_OLD" }));
check(d.Attributes && d.Attributes.status.S === "CONFIRMED", `DeleteItem ALL_OLD ${j(d.Attributes)}`);
try {
  await send(new ddb.DeleteItemCommand({ TableName: T, Key: key, ConditionExpression: "attribute_exists(pk)" }));
  check(false, "conditional DeleteItem of a missing item succeeded");
} catch (e) {
  check(e.name === "ConditionalCheckFailedException", `conditional DeleteItem: ${e.name}`);
}

// Time to live
const ttl0 = await send(new ddb.DescribeTimeToLiveCommand({ TableName: T }));
check(ttl0.TimeToLiveDescription.TimeToLiveStatus === "DISABLED", `DescribeTimeToLive ${j(ttl0)}`);
const ttl = await send(new ddb.UpdateTimeToLiveCommand({
  TableName: T, TimeToLiveSpecification: { AttributeName: "expires", Enabled: true },
}));
check(ttl.TimeToLiveSpecification.AttributeName === "expires" && ttl.TimeToLiveSpecification.Enabled === true,
      `UpdateTimeToLive ${j(ttl)}`);
const ttl1 = await send(new ddb.DescribeTimeToLiveCommand({ TableName: T }));
check(ttl1.TimeToLiveDescription.TimeToLiveStatus === "ENABLED" &&
      ttl1.TimeToLiveDescription.AttributeName === "expires", `DescribeTimeToLive after ${j(ttl1)}`);

// DeleteTable
const del = await send(new ddb.DeleteTableCommand({ TableName: T }));
check(del.TableDescription.TableName === T, `DeleteTable ${j(del)}`);
const lt2 = await send(new ddb.ListTablesCommand({}));
check(!lt2.TableNames.includes(T), `ListTables after delete ${j(lt2)}`);

check(crcChecked >= 35, `x-amz-crc32 checked on ${crcChecked} responses`);
console.log(`node: ${passed} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
