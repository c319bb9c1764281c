// One source transaction of 1,000,000 rows of the 10-column table, through `run` and through
// capture → Kafka → apply: none of its rows is visible in the replica before all are, and a
// SIGKILL of apply in its middle still converges exactly (the transaction is applied again from
// its start). Each process's peak RSS is printed; the 256 MB goal is checked by the benchmark
// (`npm run bench -- memory`, docs/PERFORMANCE.md "Memory"), as performance goals are.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBigTable } from '../harness/big-table.js';
import { assertReplicaConverges, usePipelineFixture, waitForOpenApply, type PipelineFixture } from '../harness/pipeline.js';
import { kafkaBrokers, mysqlUrl, peakRssMb, pgClient, randomSuffix, sleep, waitFor, type My2pgProcess } from '../harness/servers.js';
import { sampleEvery } from '../harness/sampler.js';
import { waitForCaptureStreaming, waitForRunStreaming } from '../harness/waits.js';

const { fixture, start } = usePipelineFixture();
const ROWS = 1_000_000;

/** Counts the table's rows every 100 ms until stopped; every count seen. */
async function watchCounts(f: PipelineFixture, table: string): Promise<{ stop: () => Promise<number[]> }> {
  const client = pgClient(f.pg.url);
  await client.connect();
  const counts = sampleEvery(100, async () => Number((await client.query(`SELECT count(*) AS n FROM "${f.db}"."${table}"`)).rows[0].n));
  return {
    stop: async () => {
      const seen = await counts.stop();
      await client.end();
      return seen;
    },
  };
}

/**
 * Writes the transaction, kills `apply()`'s process once it is writing the table in its open
 * replica transaction (and a few seconds into it), starts it again, and checks what was seen.
 * `others` are the processes that run throughout (capture), whose memory counts too.
 */
async function assertWholeLargeTransaction(f: PipelineFixture, table: string, apply: () => My2pgProcess, first: My2pgProcess, others: Record<string, My2pgProcess>): Promise<void> {
  const counts = await watchCounts(f, table);
  let seen: number[] = [];
  const peaks: Record<string, number> = {};
  try {
    const writing = createBigTable(f.conn, f.db, ROWS, table);
    await waitForOpenApply(f, table, 0);
    await sleep(3000);
    peaks['apply (killed)'] = peakRssMb(first);
    assert.equal(await first.kill('SIGKILL'), null);
    await writing;
    const again = apply();
    const probe = pgClient(f.pg.url);
    await probe.connect();
    await waitFor('the whole transaction in the replica', async () => Number((await probe.query(`SELECT count(*) AS n FROM "${f.db}"."${table}"`)).rows[0].n) === ROWS, 600_000, 1000).finally(() => probe.end());
    await assertReplicaConverges(f, [table]);
    peaks['apply (again)'] = peakRssMb(again);
    for (const [name, p] of Object.entries(others)) peaks[name] = peakRssMb(p);
    assert.equal(again.child.exitCode, null, again.log());
    await again.kill();
  } finally {
    seen = await counts.stop();
  }
  const partial = seen.filter((n) => n !== 0 && n !== ROWS);
  console.log(`# ${seen.length} counts sampled, ${partial.length} partial; peak RSS MB ${JSON.stringify(peaks)}`);
  assert.ok(seen.includes(0) && seen.includes(ROWS), `the counts never covered the transaction: ${[...new Set(seen)].join(', ')}`);
  assert.deepEqual(partial.slice(0, 5), [], `${partial.length} samples saw part of the transaction`);
}

test('my2pg run: a 1M-row transaction becomes visible at once, through a SIGKILL', { timeout: 1_200_000 }, async () => {
  const f = fixture();
  const run = () => start(['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', `${f.db}.run_big`, '--server-id', f.serverId]);
  const first = run();
  await waitForRunStreaming(first);
  await assertWholeLargeTransaction(f, 'run_big', run, first, {});
});

test('capture → Kafka → apply: a 1M-row transaction becomes visible at once, through a SIGKILL of apply', { timeout: 1_200_000 }, async () => {
  const f = fixture();
  const topic = `t_${randomSuffix()}`;
  const common = ['--kafka', kafkaBrokers(), '--topic', topic, '--topic-partitions', '3', '--include', `${f.db}.kafka_big`];
  const capture = start(['capture', '--source', mysqlUrl(), '--server-id', String(Number(f.serverId) + 1), '--client-id', topic, ...common]);
  const apply = () => start(['apply', '--target', f.pg.url, '--group', `g_${topic}`, ...common]);
  const first = apply();
  await waitForCaptureStreaming(capture);
  await assertWholeLargeTransaction(f, 'kafka_big', apply, first, { capture });
  assert.equal(capture.child.exitCode, null, capture.log());
  await capture.kill();
});
