// One topic per table (`%{database}_%{table}`): capture creates each table's topic on first use,
// apply subscribes to every matching topic, including ones created while it runs, and the
// replica equals the source.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kafka, logLevel } from '../../src/transport/kafkajs.js';
import { assertReplicaConverges, usePipelineFixture } from '../harness/pipeline.js';
import { kafkaBrokers, mysqlUrl, randomSuffix } from '../harness/servers.js';
import { createWorkloadTables, Workload, WORKLOAD_TABLES } from '../harness/workload.js';
import { waitForCaptureStreaming } from '../harness/waits.js';

const { fixture, start } = usePipelineFixture();

test('per-table topics end to end', { timeout: 300_000 }, async () => {
  const f = fixture();
  const prefix = `pt${randomSuffix()}`;
  const template = `${prefix}.%{database}.%{table}`;
  const common = ['--kafka', kafkaBrokers(), '--topic', template, '--topic-partitions', '2'];
  const cap = start(['capture', '--source', mysqlUrl(), '--include', f.db, '--server-id', f.serverId, '--client-id', prefix, ...common]);
  const app = start(['apply', '--target', f.pg.url, '--group', `g_${prefix}`, ...common]);
  await waitForCaptureStreaming(cap);
  await createWorkloadTables(f.conn, f.db);
  const w = new Workload(f.conn, f.db, 5);
  for (let i = 0; i < 200; i++) await w.step();
  await assertReplicaConverges(f, WORKLOAD_TABLES);

  const admin = new Kafka({ clientId: 'test', brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}.`) && !t.endsWith('.my2pg-positions')).sort();
  await admin.disconnect();
  assert.deepEqual(topics, WORKLOAD_TABLES.map((t) => `${prefix}.${f.db}.${t}`).sort());
  assert.equal(app.child.exitCode, null, app.log());
  assert.equal(cap.child.exitCode, null, cap.log());
});
