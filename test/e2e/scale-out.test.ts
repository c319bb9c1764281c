// Scale-out over Kafka: rows partitioned by table over 6 partitions, three apply processes of one
// consumer group started together with capture (apply waits for the topic capture creates), one
// of them killed mid-stream and another joining; the replica ends equal to the source and the
// work was spread over the partitions.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertReplicaConverges, usePipelineFixture } from '../harness/pipeline.js';
import { kafkaBrokers, mysqlUrl, pgClient, randomSuffix } from '../harness/servers.js';
import { createWorkloadTables, Workload, WORKLOAD_TABLES } from '../harness/workload.js';
import { consumerGroup, waitForCaptureStreaming, waitForConsumerGroup } from '../harness/waits.js';

const { fixture, start } = usePipelineFixture();
const EXTRA = ['s0', 's1', 's2', 's3', 's4', 's5'];

test('three apply processes share 6 partitions; one killed, one joining: the replica equals the source', { timeout: 600_000 }, async () => {
  const f = fixture();
  await createWorkloadTables(f.conn, f.db);
  for (const t of EXTRA) await f.conn.query(`CREATE TABLE \`${f.db}\`.${t} (id INT PRIMARY KEY, n INT)`);
  const topic = `so_${randomSuffix()}`;
  const group = `g_${topic}`;
  const common = ['--kafka', kafkaBrokers(), '--topic', topic, '--topic-partitions', '6'];
  const apply = () => start(['apply', '--target', f.pg.url, '--group', group, '--batch-max-rows', '500', ...common]);
  const applies = [apply(), apply(), apply()];
  const cap = start(['capture', '--source', mysqlUrl(), '--include', f.db, '--client-id', topic, '--producer-partition-by', 'table', ...common]);
  await waitForCaptureStreaming(cap);

  const w = new Workload(f.conn, f.db, 23);
  let id = 0;
  const step = async () => {
    await w.step();
    const t = EXTRA[id % EXTRA.length];
    await f.conn.query(`INSERT INTO \`${f.db}\`.${t} VALUES (?, ?) ON DUPLICATE KEY UPDATE n = n + 1`, [id++, id]);
  };
  for (let i = 0; i < 300; i++) await step();
  // One apply dies mid-stream; its partitions move to the others, and a new one joins.
  assert.equal(await applies[1].kill('SIGKILL'), null);
  for (let i = 0; i < 200; i++) await step();
  const before = new Set((await consumerGroup(group)).members.map((m) => m.memberId));
  applies.push(apply());
  // The new one has joined: the group settled with a member it did not have, holding partitions.
  await waitForConsumerGroup('the new apply to be assigned partitions', group, (members) => members.some((m) => !before.has(m.memberId) && m.partitions.length > 0));
  for (let i = 0; i < 300; i++) await step();

  await assertReplicaConverges(f, [...WORKLOAD_TABLES, ...EXTRA], 120_000).catch((err: Error) => {
    assert.fail(`${err.message}\n${[cap, ...applies].map((p) => p.log().slice(-4000)).join('\n---\n')}`);
  });
  for (const p of [applies[0], applies[2], applies[3]]) assert.equal(p.child.exitCode, null, `an apply died:\n${p.log()}`);
  assert.equal(cap.child.exitCode, null, `capture died:\n${cap.log()}`);
  const client = pgClient(f.pg.url);
  await client.connect();
  const parts = await client.query('SELECT part FROM _my2pg.checkpoints WHERE stream = $1 ORDER BY part', [`kafka:${group}`]);
  await client.end();
  console.log(`# partitions applied: ${parts.rows.map((r) => r.part).join(', ')}`);
  assert.ok(parts.rows.length >= 3, `only ${parts.rows.length} partitions were applied`);
  await Promise.all([cap.kill(), ...[applies[0], applies[2], applies[3]].map((p) => p.kill())]);
});
