// capture → Kafka → apply, each killed with SIGKILL mid-stream and restarted, while a mixed
// workload with a 20,000-row transaction runs; afterwards the replica equals the source.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openTopicReader } from '../harness/kafka-reader.js';
import { assertReplicaConverges, usePipelineFixture, waitForOpenApply } from '../harness/pipeline.js';
import { kafkaBrokers, mysqlUrl, randomSuffix } from '../harness/servers.js';
import { waitForCaptureStreaming, waitForRunStreaming } from '../harness/waits.js';
import { createWorkloadTables, Workload, WORKLOAD_TABLES } from '../harness/workload.js';

const { fixture, start } = usePipelineFixture();

test('replica equals the source after SIGKILL of capture and of apply', { timeout: 600_000 }, async () => {
  const f = fixture();
  const topic = `t_${randomSuffix()}`;
  const common = ['--kafka', kafkaBrokers(), '--topic', topic, '--topic-partitions', '3'];
  const capture = () => start(['capture', '--source', mysqlUrl(), '--include', f.db, '--server-id', f.serverId, '--client-id', topic, ...common]);
  const apply = () => start(['apply', '--target', f.pg.url, '--group', `g_${topic}`, '--batch-max-rows', '2000', ...common]);

  let cap = capture();
  let app = apply();
  await waitForCaptureStreaming(cap);

  await createWorkloadTables(f.conn, f.db);
  const w = new Workload(f.conn, f.db, 7);
  for (let i = 0; i < 150; i++) await w.step();
  const [[{ n, last }]] = (await f.conn.query(`SELECT count(*) AS n, max(order_id) AS last FROM \`${f.db}\`.order_items`)) as unknown as [[{ n: string; last: string }]];
  const written = await openTopicReader(topic, { readUncommitted: true });
  await w.bigTransaction(20_000);

  // Kill capture while it publishes the big transaction (the topic has some of its rows, not all), and restart it.
  const inBig = (v: string) => v.includes('"table":"order_items","type":"insert"') && JSON.parse(v).data.order_id > Number(last);
  await written.until('capture to publish part of the big transaction', (ms) => {
    const k = ms.filter((m) => inBig(m.value)).length;
    return k > 0 && k < 20_000;
  }, 60_000, 10);
  assert.equal(await cap.kill('SIGKILL'), null);
  await written.close();
  console.log(`# capture killed with ${written.messages.filter((m) => inBig(m.value)).length} of the 20000 rows on the topic`);
  cap = capture();

  // Kill apply while the big transaction is half applied, keep writing, restart it.
  await waitForOpenApply(f, 'order_items', Number(n));
  assert.equal(await app.kill('SIGKILL'), null);
  for (let i = 0; i < 150; i++) await w.step();
  app = apply();
  for (let i = 0; i < 150; i++) await w.step();

  await assertReplicaConverges(f, WORKLOAD_TABLES);
  assert.equal(cap.child.exitCode, null, `capture died:\n${cap.log()}`);
  assert.equal(app.child.exitCode, null, `apply died:\n${app.log()}`);
  await cap.kill();
  await app.kill();
});

test('my2pg run --kafka runs both stages in one process', { timeout: 300_000 }, async () => {
  const f = fixture();
  await f.conn.query(`DROP DATABASE IF EXISTS \`${f.db}\``);
  await f.conn.query(`CREATE DATABASE \`${f.db}\``);
  const topic = `t_${randomSuffix()}`;
  const run = start([
    'run', '--source', mysqlUrl(), '--target', f.pg.url, '--kafka', kafkaBrokers(), '--topic', topic,
    '--include', f.db, '--server-id', f.serverId, '--client-id', topic, '--group', `g_${topic}`,
  ]);
  await waitForRunStreaming(run);
  await createWorkloadTables(f.conn, f.db);
  const w = new Workload(f.conn, f.db, 3);
  for (let i = 0; i < 200; i++) await w.step();
  await assertReplicaConverges(f, WORKLOAD_TABLES);
  assert.equal(run.child.exitCode, null, run.log());
  await run.kill();
});
