// Heartbeats make lag measurable on an idle source: apply keeps `_my2pg.heartbeats` current on
// every partition, over Kafka and embedded. A heartbeat at a position apply holds already (the
// source idle) still counts. Fresh means: each time the test reads the source's clock, heartbeats
// sent after that moment reach the replica on every partition, each within 2 s of being sent.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type mysql from 'mysql2/promise';
import { usePipelineFixture } from '../harness/pipeline.js';
import { assertRunning, kafkaBrokers, logTail, mysqlUrl, pgClient, randomSuffix, waitForState, type My2pgProcess } from '../harness/servers.js';

const { fixture, start } = usePipelineFixture();

interface Heartbeat {
  stream: string;
  part: string;
  position: string;
  /** When capture sent it (ms since the epoch). */
  sentMs: number;
  /** Seconds from its sending to apply recording it. */
  lag: number;
}

async function heartbeats(url: string): Promise<Heartbeat[]> {
  const c = pgClient(url);
  await c.connect();
  try {
    const r = await c
      .query('SELECT stream, part, position, extract(epoch from ts) * 1000 AS sent, extract(epoch from applied_at - ts) AS lag FROM _my2pg.heartbeats ORDER BY 1, 2')
      .catch(() => ({ rows: [] }));
    return r.rows.map((b) => ({ stream: b.stream, part: b.part, position: b.position, sentMs: Number(b.sent), lag: Number(b.lag) }));
  } finally {
    await c.end();
  }
}

/** The source's clock now, in ms since the epoch. */
async function sourceNow(conn: mysql.Connection): Promise<number> {
  const [[{ now }]] = (await conn.query('SELECT UNIX_TIMESTAMP(NOW(6)) * 1000 AS now')) as unknown as [[{ now: string }]];
  return Number(now);
}

/** Waits until `parts` heartbeats (selected by `mine`) were all sent after the source's clock now; returns them. */
async function heartbeatsAfterNow(f: { conn: mysql.Connection; pg: { url: string } }, run: My2pgProcess, parts: number, mine: (b: Heartbeat) => boolean): Promise<Heartbeat[]> {
  const since = await sourceNow(f.conn);
  return waitForState(
    `${parts} heartbeat(s) sent after ${new Date(since).toISOString()} (the source's clock)`,
    async () => {
      assertRunning(run);
      return (await heartbeats(f.pg.url)).filter(mine);
    },
    (beats) => beats.length === parts && beats.every((b) => b.sentMs > since),
    { timeoutMs: 30_000, show: (beats) => `${beats.map((b) => `${b.part} sent at ${new Date(b.sentMs).toISOString()}`).join(', ') || 'no heartbeats'}` },
  );
}

test('an idle source keeps heartbeats fresh in the replica (run --kafka, 3 partitions)', { timeout: 120_000 }, async () => {
  const f = fixture();
  const topic = `t_${randomSuffix()}`;
  const run = start([
    'run', '--source', mysqlUrl(), '--target', f.pg.url, '--kafka', kafkaBrokers(), '--topic', topic, '--topic-partitions', '3',
    '--include', f.db, '--server-id', f.serverId, '--client-id', topic, '--group', `g_${topic}`, '--heartbeat-interval-ms', '500',
  ]);
  await waitForState('heartbeats on all three partitions', () => heartbeats(f.pg.url), (b) => b.length === 3, {
    timeoutMs: 60_000,
    show: (b) => `${JSON.stringify(b)}; the log ends:\n${logTail(run)}`,
  });
  // Twice: the heartbeats advance past the source's time whenever it is read.
  for (let round = 1; round <= 2; round++) {
    const beats = await heartbeatsAfterNow(f, run, 3, () => true);
    assert.deepEqual(beats.map((b) => b.part), [`${topic}:0`, `${topic}:1`, `${topic}:2`]);
    console.log(`# round ${round}: lags ${beats.map((b) => `${b.lag.toFixed(3)}s`).join(', ')}`);
    for (const b of beats) assert.ok(b.lag < 2, `round ${round}: the heartbeat of partition ${b.part} reached the replica ${b.lag}s after capture sent it`);
  }
  await run.kill();
});

test('an idle source keeps the heartbeat fresh in the replica (run without Kafka)', { timeout: 120_000 }, async () => {
  const f = fixture();
  const run = start(['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', f.db, '--server-id', f.serverId, '--heartbeat-interval-ms', '500']);
  const embedded = (b: Heartbeat) => b.stream === 'binlog';
  const [first] = await waitForState('a heartbeat', async () => (await heartbeats(f.pg.url)).filter(embedded), (b) => b.length === 1, {
    timeoutMs: 60_000,
    show: () => `none; the log ends:\n${logTail(run)}`,
  });
  // Nothing is written: every heartbeat from now on is at the same binlog position, and still recorded.
  for (let round = 1; round <= 6; round++) {
    const [b] = await heartbeatsAfterNow(f, run, 1, embedded);
    console.log(`# round ${round}: at ${b.position}, lag ${b.lag.toFixed(3)}s`);
    assert.equal(b.position, first.position, `round ${round}: the heartbeat moved on an idle source`);
    assert.ok(b.lag < 2, `round ${round}: the heartbeat reached the replica ${b.lag}s after capture sent it`);
  }
  await run.kill();
});
