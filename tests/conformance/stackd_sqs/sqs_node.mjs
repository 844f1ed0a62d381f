// sqs_node.mjs: the JS SDK v3 (@aws-sdk/client-sqs, awsJson1_0 with
// x-amzn-query-mode) against a running stackd. The SDK itself verifies
// MD5OfMessageBody (send, batch) and MD5OfBody (receive). Usage:
//   node sqs_node.mjs PORT      (run by sqs_conformance.py node)
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
const check = (cond, msg) => { if (!cond) { failures.push(msg); console.log("FAIL:", msg); } };
const send = (cmd) => c.send(cmd);

const dlq = (await send(new sqs.CreateQueueCommand({ QueueName: "node-dlq" }))).QueueUrl;
const arn = (await send(new sqs.GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ["QueueArn"] })))
  .Attributes.QueueArn;
const q = (await send(new sqs.CreateQueueCommand({
  QueueName: "node-q",
  Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 1 }) },
}))).QueueUrl;
check(q === `http://127.0.0.1:${port}/000000000000/node-q`, `queue url ${q}`);

const r = await send(new sqs.SendMessageCommand({
  QueueUrl: q, MessageBody: "hello \u00e9 \u{1F600}",
  MessageAttributes: { attribName1: { DataType: "String", StringValue: "attribValue 1" },
                       bin: { DataType: "Binary", BinaryValue: Buffer.from("Hello binary world!") } },
}));
check(/^[0-9a-f]{32}$/.test(r.MD5OfMessageAttributes), `MD5OfMessageAttributes ${r.MD5OfMessageAttributes}`);
const b = await send(new sqs.SendMessageBatchCommand({
  QueueUrl: q, Entries: [{ Id: "a", MessageBody: "one" }, { Id: "b", MessageBody: "two" }],
}));
check(b.Successful.length === 2 && (b.Failed || []).length === 0, `batch ${JSON.stringify(b)}`);

const got = await send(new sqs.ReceiveMessageCommand({
  QueueUrl: q, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"], MessageSystemAttributeNames: ["All"],
  VisibilityTimeout: 30,
}));
const msgs = got.Messages || [];
check(msgs.length === 3, `received ${msgs.length}`);
const hello = msgs.find((m) => m.Body.startsWith("hello"));
check(hello && hello.MessageAttributes.attribName1.StringValue === "attribValue 1", "string attribute");
check(hello && Buffer.from(hello.MessageAttributes.bin.BinaryValue).toString() === "Hello binary world!",
      "binary attribute");
check(hello && hello.MD5OfMessageAttributes === r.MD5OfMessageAttributes, "attribute MD5 round trip");
check(hello && hello.Attributes.ApproximateReceiveCount === "1", "receive count");

await send(new sqs.DeleteMessageCommand({ QueueUrl: q, ReceiptHandle: msgs[0].ReceiptHandle }));
await send(new sqs.ChangeMessageVisibilityCommand({ QueueUrl: q, ReceiptHandle: msgs[1].ReceiptHandle,
                                                    VisibilityTimeout: 0 }));
// msgs[1] was received once = maxReceiveCount: the next receive moves it to the DLQ
const none = await send(new sqs.ReceiveMessageCommand({ QueueUrl: q, WaitTimeSeconds: 1 }));
check(!none.Messages, `nothing from the source ${JSON.stringify(none.Messages)}`);
const inDlq = await send(new sqs.ReceiveMessageCommand({ QueueUrl: dlq }));
check(inDlq.Messages && inDlq.Messages[0].MessageId === msgs[1].MessageId, "moved to the DLQ");

// long poll answered by a send from another client
const t0 = Date.now();
const poll = send(new sqs.ReceiveMessageCommand({ QueueUrl: dlq, WaitTimeSeconds: 20 }));
await new Promise((res) => setTimeout(res, 1000));
await send(new sqs.SendMessageCommand({ QueueUrl: dlq, MessageBody: "wake" }));
const woke = await poll;
check(woke.Messages && woke.Messages[0].Body === "wake" && Date.now() - t0 < 15000, "long poll woken");

try {
  await send(new sqs.GetQueueUrlCommand({ QueueName: "missing" }));
  check(false, "GetQueueUrl of a missing queue succeeded");
} catch (e) {
  check(e.name === "QueueDoesNotExist", `error name ${e.name}`);
}
const attrs = (await send(new sqs.GetQueueAttributesCommand({ QueueUrl: q, AttributeNames: ["All"] }))).Attributes;
check(attrs.ApproximateNumberOfMessagesNotVisible === "1", `counts ${JSON.stringify(attrs)}`);
await send(new sqs.PurgeQueueCommand({ QueueUrl: q }));
await send(new sqs.DeleteQueueCommand({ QueueUrl: q }));
console.log(`node: ${failures.length} failed`);
process.exit(failures.length ? 1 : 0);
