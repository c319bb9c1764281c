// Heartbeats make lag measurable on an idle source: apply keeps `_my2pg.heartbeats` current on
// every partition, over Kafka and embedded. A heartbeat at a position apply holds already (the
// source idle) still counts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { usePipelineFixture } from '../harness/pipeline.js';
import { kafkaBrokers, mysqlUrl, pgClient, randomSuffix, sleep, waitFor } from '../harness/servers.js';

const { fixture, start } = usePipelineFixture();

async function heartbeats(url: string): Promise<Array<{ stream: string; part: string; age: string }>> {
  const c = pgClient(url);
  await c.connect();
  try {
    return (await c.query("SELECT stream, part, extract(epoch from now() - ts) AS age FROM _my2pg.heartbeats ORDER BY 1, 2").catch(() => ({ rows: [] }))).rows;
  } finally {
    await c.end();
  }
}

test('an idle source keeps heartbeats fresh in the replica (run --kafka, 3 partitions)', { timeout: 120_000 }, async () => {
  const f = fixture();
  const topic = `t_${randomSuffix()}`;
  const run = start([
    'run', '--source', mysqlUrl(), '--target', f.pg.url, '--kafka', kafkaBrokers(), '--topic', topic, '--topic-partitions', '3',
    '--include', f.db, '--server-id', f.serverId, '--client-id', topic, '--group', `g_${topic}`, '--heartbeat-interval-ms', '500',
  ]);
  await waitFor('heartbeats on all three partitions', async () => (await heartbeats(f.pg.url)).length === 3, 60_000);
  await sleep(2000);
  const beats = await heartbeats(f.pg.url);
  assert.deepEqual(beats.map((b) => b.part), [`${topic}:0`, `${topic}:1`, `${topic}:2`]);
  for (const b of beats) assert.ok(Number(b.age) < 2, `heartbeat of partition ${b.part} is ${b.age}s old`);
  await run.kill();
});

test('an idle source keeps the heartbeat fresh in the replica (run without Kafka)', { timeout: 120_000 }, async () => {
  const f = fixture();
  const run = start(['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', f.db, '--server-id', f.serverId, '--heartbeat-interval-ms', '500']);
  const embedded = async () => (await heartbeats(f.pg.url)).filter((b) => b.stream === 'binlog');
  await waitFor('a heartbeat', async () => (await embedded()).length === 1, 60_000).catch((err: Error) => assert.fail(`${err.message}\n${run.log()}`));
  // Nothing is written: every heartbeat from now on is at the same binlog position.
  for (let i = 0; i < 6; i++) {
    await sleep(1000);
    const [b] = await embedded();
    assert.ok(Number(b.age) < 2, `the heartbeat is ${b.age}s old after ${i + 1} s of an idle source`);
  }
  await run.kill();
});
