// A restarted capture never publishes again a transaction Kafka acknowledged, and a capture
// killed in the middle of a transaction publishes it exactly once after restart (consumers
// read committed). Resumes by binlog file and offset (use_gtid=false).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openTopicReader, publishedThrough, readTopic, readTopicMessages } from '../harness/kafka-reader.js';
import { usePipelineFixture } from '../harness/pipeline.js';
import { kafkaBrokers, mysqlUrl, randomSuffix } from '../harness/servers.js';
import { kafkaProxy, type KafkaProxy } from '../harness/tcp-proxy.js';
import { sourcePosition, waitForCaptureStreaming } from '../harness/waits.js';

const { fixture, start } = usePipelineFixture();
// Capture reaches Kafka through a proxy that can slow it down and hold it still.
let proxy: KafkaProxy;
before(async () => {
  proxy = await kafkaProxy(kafkaBrokers());
});
after(() => proxy?.close());

interface Row {
  type: string;
  table?: string;
  xid?: number;
  xoffset?: number;
  data?: { id: number };
}

test('restart publishes every transaction exactly once', { timeout: 300_000 }, async () => {
  const f = fixture();
  const topic = `t_${randomSuffix()}`;
  const capture = () =>
    // By binlog file and offset: the GTID path has its own test (gtid-failover).
    start(['capture', '--source', mysqlUrl(), '--kafka', proxy.brokers, '--topic', topic, '--include', f.db, '--server-id', f.serverId, '--client-id', topic, '--use-gtid', 'false']);
  const rowsIn = (values: string[]) => values.map((v) => JSON.parse(v) as Row).filter((r) => r.type === 'insert');

  let cap = capture();
  await waitForCaptureStreaming(cap);
  await f.conn.query(`CREATE TABLE \`${f.db}\`.t (id INT PRIMARY KEY, v VARCHAR(10))`);
  let id = 0;
  for (let i = 0; i < 50; i++) {
    await f.conn.query('BEGIN');
    for (let k = 0; k <= i % 3; k++) await f.conn.query(`INSERT INTO \`${f.db}\`.t VALUES (?, 'a')`, [++id]);
    await f.conn.query('COMMIT');
  }
  const firstCount = id;
  await readTopic(topic, (v) => rowsIn(v).length >= firstCount);

  // Everything so far is acknowledged: a restart must not publish it again.
  assert.equal(await cap.kill('SIGKILL'), null);
  cap = capture();
  await waitForCaptureStreaming(cap);

  // A big transaction, with capture killed while publishing it: every Kafka request and answer
  // of capture's is delayed, so that publishing takes several round trips; once the topic holds
  // some of the transaction's rows (uncommitted), Kafka is held still and capture killed.
  const bigFrom = id + 1;
  const isBig = (v: string) => v.includes('"type":"insert"') && JSON.parse(v).data.id >= bigFrom;
  const values = Array.from({ length: 5000 }, () => [++id, 'big']);
  const written = await openTopicReader(topic, { readUncommitted: true });
  proxy.delayMs = 250;
  await f.conn.query('BEGIN');
  for (let i = 0; i < values.length; i += 1000) await f.conn.query(`INSERT INTO \`${f.db}\`.t VALUES ?`, [values.slice(i, i + 1000)]);
  await f.conn.query('COMMIT');
  await written.until('capture to publish part of the big transaction', (ms) => ms.some((m) => isBig(m.value)), 60_000, 10);
  proxy.pause();
  assert.equal(await cap.kill('SIGKILL'), null);
  await written.close();
  const seen = written.messages.filter((m) => isBig(m.value)).length;
  assert.ok(seen < 5000, `capture had written all ${seen} rows of the big transaction before the kill`);
  // Not all of it was committed: capture was killed in the middle of publishing it.
  const committed = (await readTopic(topic, () => true)).filter(isBig).length;
  console.log(`# killed with ${seen} of the 5000 rows written to the topic, ${committed} of them committed`);
  assert.ok(committed < 5000, `the big transaction was committed (${committed} rows) before the kill`);
  proxy.delayMs = 0;
  proxy.resume();
  cap = capture();
  for (let i = 0; i < 10; i++) await f.conn.query(`INSERT INTO \`${f.db}\`.t VALUES (?, 'after')`, [++id]);
  // Everything the source holds is published once a heartbeat at its end is on the topic.
  const end = await sourcePosition(f.conn);

  const messages = await readTopicMessages(topic, (v) => rowsIn(v).length >= id && publishedThrough(v, end));
  const all = rowsIn(messages.map((m) => m.value));
  // Maxwell's hash key, and every event of the database in one partition.
  const first = messages.find((m) => JSON.parse(m.value).type === 'insert')!;
  assert.equal(first.key, `{"database":"${f.db}","table":"t","pk.id":${JSON.parse(first.value).data.id}}`);
  assert.equal(new Set(messages.filter((m) => JSON.parse(m.value).database === f.db).map((m) => m.partition)).size, 1);
  const ids = all.map((r) => r.data!.id);
  assert.equal(ids.length, id, 'each row published exactly once');
  assert.deepEqual([...new Set(ids)].sort((a, b) => a - b), Array.from({ length: id }, (_, i) => i + 1));
  // The big transaction keeps one xid and consecutive xoffsets, with commit on its last row.
  const big = all.filter((r) => r.data!.id >= bigFrom && r.data!.id < bigFrom + 5000);
  assert.equal(new Set(big.map((r) => r.xid)).size, 1);
  // Maxwell writes xoffset on every row but the commit row.
  assert.deepEqual(big.map((r) => r.xoffset ?? 'commit'), [...Array.from({ length: 4999 }, (_, i) => i), 'commit']);
  assert.ok(/capture resuming/.test(cap.log()));
  await cap.kill();
});
