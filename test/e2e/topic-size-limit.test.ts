// Capture's produce requests fit the topic's max.message.bytes, not only Kafka's default: a
// transaction far bigger than a small limit arrives whole, and a single event bigger than the
// limit stops capture with one clear message (configuration exit code) before anything of its
// transaction is committed.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXIT_CODES } from '../../src/core/errors.js';
import { Kafka, logLevel } from '../../src/transport/kafkajs.js';
import { assertReplicaConverges, usePipelineFixture } from '../harness/pipeline.js';
import { readTopic } from '../harness/kafka-reader.js';
import { kafkaBrokers, mysqlUrl, randomSuffix } from '../harness/servers.js';
import { sourcePosition } from '../harness/waits.js';
import { seqRows } from '../harness/sequence.js';

const { fixture, start } = usePipelineFixture();

const LIMIT = 64_000;

async function createLimitedTopic(topic: string): Promise<void> {
  const admin = new Kafka({ clientId: 'test', brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: String(LIMIT) }] }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

async function setTopicLimit(topic: string, bytes: number): Promise<void> {
  const admin = new Kafka({ clientId: 'test', brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: topic, configEntries: [{ name: 'max.message.bytes', value: String(bytes) }] }] });
  } finally {
    await admin.disconnect();
  }
}

async function binlogEnd(conn: ReturnType<typeof fixture>['conn']): Promise<string> {
  const end = await sourcePosition(conn);
  return `${end.file}:${end.pos}`;
}

test(`a 2 MB transaction reaches the replica through a topic that accepts ${LIMIT} bytes per batch`, { timeout: 300_000 }, async () => {
  const f = fixture();
  const topic = `limit_${randomSuffix()}`;
  await createLimitedTopic(topic);
  const from = await binlogEnd(f.conn);
  await f.conn.query(`CREATE TABLE \`${f.db}\`.wide (id INT PRIMARY KEY, pad VARCHAR(1000))`);
  await f.conn.query(`INSERT INTO \`${f.db}\`.wide SELECT seq, REPEAT(CHAR(65 + seq % 26), 600) FROM ${seqRows(1, 3000)}`);
  const common = ['--kafka', kafkaBrokers(), '--topic', topic];
  const cap = start(['capture', '--source', mysqlUrl(), '--include', f.db, '--server-id', f.serverId, '--client-id', topic, '--init-position', from, ...common]);
  const app = start(['apply', '--target', f.pg.url, '--group', `g_${topic}`, ...common]);
  await assertReplicaConverges(f, ['wide']);
  assert.equal(cap.child.exitCode, null, cap.log());
  assert.equal(await cap.kill(), 0);
  assert.equal(await app.kill(), 0);
});

test('an event bigger than the topic accepts stops capture with the configuration exit code, and nothing of its transaction', { timeout: 120_000 }, async () => {
  const f = fixture();
  const topic = `limit_${randomSuffix()}`;
  await createLimitedTopic(topic);
  await f.conn.query(`CREATE TABLE \`${f.db}\`.blobs (id INT PRIMARY KEY, body MEDIUMTEXT)`);
  const from = await binlogEnd(f.conn);
  await f.conn.query(`INSERT INTO \`${f.db}\`.blobs VALUES (1, 'small')`);
  await f.conn.beginTransaction();
  await f.conn.query(`INSERT INTO \`${f.db}\`.blobs VALUES (2, 'before the big one')`);
  await f.conn.query(`INSERT INTO \`${f.db}\`.blobs VALUES (3, REPEAT('x', ${2 * LIMIT}))`);
  await f.conn.commit();
  const cap = start(['capture', '--source', mysqlUrl(), '--include', f.db, '--server-id', f.serverId, '--client-id', topic, '--kafka', kafkaBrokers(), '--topic', topic, '--init-position', from]);
  assert.equal(await cap.exited, EXIT_CODES.CONFIG, cap.log());
  assert.match(cap.log(), new RegExp(`is \\d+ bytes, more than the ${LIMIT} bytes Kafka topic ${topic} accepts \\(max\\.message\\.bytes\\): raise max\\.message\\.bytes`));
  // The first transaction is in the topic (read-committed); the second one is not, not even its small row.
  const values = await readTopic(topic, (v) => v.some((m) => /"type":"insert"/.test(m)));
  const inserts = values.filter((m) => /"type":"insert"/.test(m));
  assert.equal(inserts.length, 1, inserts.join('\n'));
  assert.match(inserts[0]!, /"id":1/);

  // With the limit raised, capture started again publishes the whole second transaction, once.
  await setTopicLimit(topic, 1024 * 1024);
  const again = start(['capture', '--source', mysqlUrl(), '--include', f.db, '--server-id', f.serverId, '--client-id', topic, '--kafka', kafkaBrokers(), '--topic', topic]);
  const all = (await readTopic(topic, (v) => v.some((m) => /"id":3/.test(m)))).filter((m) => /"type":"insert"/.test(m));
  assert.deepEqual(all.map((m) => /"id":(\d+)/.exec(m)?.[1]), ['1', '2', '3'], all.join('\n'));
  assert.equal(await again.kill(), 0);
});
