// Only capture creates the data topic, with --topic-partitions: an apply started first waits for
// it (kafkajs would otherwise auto-create it with the broker's default of one partition), and a
// capture that finds the topic with fewer partitions says how to add them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kafka, logLevel } from '../../src/transport/kafkajs.js';
import { assertReplicaConverges, usePipelineFixture } from '../harness/pipeline.js';
import { kafkaBrokers, mysqlUrl, randomSuffix, sleep, waitFor } from '../harness/servers.js';
import { createWorkloadTables, Workload, WORKLOAD_TABLES } from '../harness/workload.js';
import { waitForCaptureStreaming } from '../harness/waits.js';

const { fixture, start } = usePipelineFixture();

async function partitionsOf(topic: string): Promise<number | null> {
  const admin = new Kafka({ clientId: 'test', brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return null;
    return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.length;
  } finally {
    await admin.disconnect();
  }
}

test('apply started before capture waits for the topic; capture creates it with --topic-partitions', { timeout: 300_000 }, async () => {
  const f = fixture();
  const topic = `tc_${randomSuffix()}`;
  const app = start(['apply', '--target', f.pg.url, '--kafka', kafkaBrokers(), '--topic', topic, '--group', `g_${topic}`]);
  await waitFor('apply to wait for the topic', async () => new RegExp(`waiting for Kafka topic.*${topic}`).test(app.log()), 60_000);
  await sleep(3000);
  assert.equal(await partitionsOf(topic), null, 'apply created the topic');
  const cap = start(['capture', '--source', mysqlUrl(), '--kafka', kafkaBrokers(), '--topic', topic, '--topic-partitions', '6', '--include', f.db, '--server-id', f.serverId, '--client-id', topic]);
  await waitForCaptureStreaming(cap);
  await createWorkloadTables(f.conn, f.db);
  const w = new Workload(f.conn, f.db, 3);
  for (let i = 0; i < 100; i++) await w.step();
  await assertReplicaConverges(f, WORKLOAD_TABLES);
  assert.equal(await partitionsOf(topic), 6);
  assert.equal(app.log().match(/waiting for Kafka topic/g)?.length, 1, 'the wait is logged once');
  assert.equal(app.child.exitCode, null, app.log());
  assert.equal(await cap.kill(), 0);
  assert.equal(await app.kill(), 0);
});

test('capture warns when the existing topic has fewer partitions than --topic-partitions', { timeout: 120_000 }, async () => {
  const f = fixture();
  const topic = `tc_${randomSuffix()}`;
  const admin = new Kafka({ clientId: 'test', brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const cap = start(['capture', '--source', mysqlUrl(), '--kafka', kafkaBrokers(), '--topic', topic, '--topic-partitions', '6', '--include', f.db, '--server-id', f.serverId, '--client-id', topic]);
  await waitForCaptureStreaming(cap);
  const warning = cap.log().split('\n').find((l) => /fewer than topic_partitions/.test(l));
  assert.ok(warning, cap.log());
  assert.match(warning, /"level":40/);
  assert.match(warning, new RegExp(`kafka-topics\\.sh --alter --topic ${topic} --partitions 6`));
  assert.equal(await cap.kill(), 0);
});
