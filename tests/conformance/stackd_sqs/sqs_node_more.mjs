// sqs_node_more.mjs: the SQS operations sqs_node.mjs leaves out, through the JS SDK v3
// (@aws-sdk/client-sqs, awsJson1_0): ListQueues (prefix, pagination), GetQueueUrl,
// SetQueueAttributes (read back), DeleteMessageBatch and ChangeMessageVisibilityBatch
// (one good and one bad receipt handle each: partial failure), PurgeQueue emptying the
// queue, and a DLQ redrive after 3 receives with ApproximateReceiveCount. The SDK checks
// MD5OfMessageBody on send and MD5OfBody on receive.
// Usage: node sqs_node_more.mjs PORT   (run by sqs_node_more.py)
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.LG_SOURCE_DIR || process.cwd(), "package.json"));
const sqs = require("@aws-sdk/client-sqs");
const port = process.argv[2];
const c = new sqs.SQSClient({
  endpoint: `http://127.0.0.1:${port}`, region: "us-east-1", maxAttempts: 1,
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
});
const failures = [];
let passed = 0;
const check = (cond, msg) => {
  if (cond) passed++;
  else { failures.push(msg); console.log("FAIL:", msg); }
};
const send = (cmd) => c.send(cmd);
const j = (v) => JSON.stringify(v);
const base = `http://127.0.0.1:${port}/000000000000`;

for (let i = 0; i < 5; i++) await send(new sqs.CreateQueueCommand({ QueueName: `more-${i}` }));
await send(new sqs.CreateQueueCommand({ QueueName: "other" }));
const all = await send(new sqs.ListQueuesCommand({}));
check(all.QueueUrls.length === 6, `ListQueues ${j(all.QueueUrls)}`);
const pre = await send(new sqs.ListQueuesCommand({ QueueNamePrefix: "more-" }));
check(j([...pre.QueueUrls].sort()) === j([0, 1, 2, 3, 4].map((i) => `${base}/more-${i}`)),
      `ListQueues prefix ${j(pre.QueueUrls)}`);
const seen = [];
let token;
let pages = 0;
do {
  const p = await send(new sqs.ListQueuesCommand({ QueueNamePrefix: "more-", MaxResults: 2, NextToken: token }));
  check(p.QueueUrls.length <= 2, `page size ${p.QueueUrls.length}`);
  seen.push(...p.QueueUrls);
  token = p.NextToken;
  pages++;
} while (token && pages < 10);
check(seen.length === 5 && new Set(seen).size === 5 && pages === 3, `ListQueues pages ${pages}: ${j(seen)}`);
const url = (await send(new sqs.GetQueueUrlCommand({ QueueName: "more-0" }))).QueueUrl;
check(url === `${base}/more-0`, `GetQueueUrl ${url}`);

await send(new sqs.SetQueueAttributesCommand({ QueueUrl: url, Attributes: {
  VisibilityTimeout: "45", DelaySeconds: "0", MessageRetentionPeriod: "3600", ReceiveMessageWaitTimeSeconds: "1",
} }));
const a = (await send(new sqs.GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }))).Attributes;
check(a.VisibilityTimeout === "45" && a.MessageRetentionPeriod === "3600" && a.ReceiveMessageWaitTimeSeconds === "1",
      `SetQueueAttributes read back ${j(a)}`);
try {
  await send(new sqs.SetQueueAttributesCommand({ QueueUrl: url, Attributes: { VisibilityTimeout: "99999" } }));
  check(false, "VisibilityTimeout 99999 accepted");
} catch (e) {
  check(e.name === "InvalidAttributeValue" || e.name === "InvalidParameterValueException" ||
        e.name === "InvalidParameterValue", `bad attribute: ${e.name}`);
}

// DeleteMessageBatch / ChangeMessageVisibilityBatch with a partial failure
const entries = [];
for (let i = 0; i < 10; i++) entries.push({ Id: `m${i}`, MessageBody: `body ${i} \u00e9` });
const sb = await send(new sqs.SendMessageBatchCommand({ QueueUrl: url, Entries: entries }));
check(sb.Successful.length === 10, `SendMessageBatch ${j(sb.Failed)}`);
const got = [];
for (let k = 0; k < 10 && got.length < 10; k++) {
  const r = await send(new sqs.ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  got.push(...(r.Messages || []));
}
check(got.length === 10, `received ${got.length}`);
const del = await send(new sqs.DeleteMessageBatchCommand({ QueueUrl: url, Entries: [
  { Id: "d0", ReceiptHandle: got[0].ReceiptHandle }, { Id: "d1", ReceiptHandle: got[1].ReceiptHandle },
  { Id: "bad", ReceiptHandle: "not-a-receipt-handle" }] }));
check(j(del.Successful.map((s) => s.Id).sort()) === j(["d0", "d1"]), `DeleteMessageBatch ok ${j(del)}`);
check(del.Failed && del.Failed.length === 1 && del.Failed[0].Id === "bad" && del.Failed[0].SenderFault === true &&
      del.Failed[0].Code === "ReceiptHandleIsInvalid", `DeleteMessageBatch failed ${j(del.Failed)}`);
const cv = await send(new sqs.ChangeMessageVisibilityBatchCommand({ QueueUrl: url, Entries: [
  { Id: "c2", ReceiptHandle: got[2].ReceiptHandle, VisibilityTimeout: 0 },
  { Id: "c3", ReceiptHandle: got[3].ReceiptHandle, VisibilityTimeout: 0 },
  { Id: "bad", ReceiptHandle: "nope", VisibilityTimeout: 0 }] }));
check(j(cv.Successful.map((s) => s.Id).sort()) === j(["c2", "c3"]) && cv.Failed && cv.Failed.length === 1 &&
      cv.Failed[0].Id === "bad", `ChangeMessageVisibilityBatch ${j(cv)}`);
const back = await send(new sqs.ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 2,
                                                         MessageSystemAttributeNames: ["ApproximateReceiveCount"] }));
const backIds = (back.Messages || []).map((m) => m.MessageId).sort();
check(j(backIds) === j([got[2].MessageId, got[3].MessageId].sort()), `visible again ${j(backIds)}`);
check((back.Messages || []).every((m) => m.Attributes.ApproximateReceiveCount === "2"), "receive count 2");
let counts = (await send(new sqs.GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [
  "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }))).Attributes;
check(counts.ApproximateNumberOfMessagesNotVisible === "8" && counts.ApproximateNumberOfMessages === "0",
      `counts before purge ${j(counts)}`);
await send(new sqs.PurgeQueueCommand({ QueueUrl: url }));
counts = (await send(new sqs.GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }))).Attributes;
check(counts.ApproximateNumberOfMessagesNotVisible === "0" && counts.ApproximateNumberOfMessages === "0",
      `counts after purge ${j(counts)}`);

// Redrive after 3 receives (like the orders queue)
const dlq = (await send(new sqs.CreateQueueCommand({ QueueName: "more-dlq" }))).QueueUrl;
const dlqArn = (await send(new sqs.GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ["QueueArn"] })))
  .Attributes.QueueArn;
await send(new sqs.SetQueueAttributesCommand({ QueueUrl: url, Attributes: {
  RedrivePolicy: j({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }), VisibilityTimeout: "0" } }));
const rp = (await send(new sqs.GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["RedrivePolicy"] })))
  .Attributes.RedrivePolicy;
check(rp && JSON.parse(rp).maxReceiveCount === 3 && JSON.parse(rp).deadLetterTargetArn === dlqArn, `RedrivePolicy ${rp}`);
const poison = await send(new sqs.SendMessageCommand({ QueueUrl: url, MessageBody: "not json" }));
const recvCounts = [];
for (let k = 0; k < 10; k++) {
  const r = await send(new sqs.ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1,
                                                       MessageSystemAttributeNames: ["All"] }));
  for (const m of r.Messages || []) recvCounts.push(m.Attributes.ApproximateReceiveCount);
  if (!r.Messages && recvCounts.length >= 3) break;
}
check(j(recvCounts) === j(["1", "2", "3"]), `receives before the DLQ ${j(recvCounts)}`);
const d = await send(new sqs.ReceiveMessageCommand({ QueueUrl: dlq, WaitTimeSeconds: 2, MessageSystemAttributeNames: ["All"] }));
check(d.Messages && d.Messages.length === 1 && d.Messages[0].MessageId === poison.MessageId &&
      d.Messages[0].Body === "not json" && d.Messages[0].Attributes.DeadLetterQueueSourceArn.endsWith(":more-0"),
      `in the DLQ ${j(d.Messages)}`);

await send(new sqs.DeleteQueueCommand({ QueueUrl: `${base}/other` }));
try {
  await send(new sqs.GetQueueUrlCommand({ QueueName: "other" }));
  check(false, "deleted queue still has a URL");
} catch (e) {
  check(e.name === "QueueDoesNotExist", `deleted queue: ${e.name}`);
}
console.log(`node: ${passed} passed, ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
