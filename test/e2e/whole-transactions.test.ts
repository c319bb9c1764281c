// The replica shows only whole source transactions: 40,000 accounts whose balances always sum to
// 4,000,000 in MySQL; five transactions each move 1 from 20,000 accounts to the other 20,000
// (40,000 row changes each, several apply batches). A query on the replica every 50 ms while
// they stream must always see the same sum (docs/OPERATIONS.md, "What the replica shows").

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import { assertReplicaConverges, usePipelineFixture, type PipelineFixture } from '../harness/pipeline.js';
import { kafkaBrokers, mysqlUrl, pgClient, randomSuffix, sleep, waitFor } from '../harness/servers.js';
import { waitForCaptureStreaming, waitForRunStreaming } from '../harness/waits.js';
import { seqRows } from '../harness/sequence.js';

const { fixture, start } = usePipelineFixture();
const ACCOUNTS = 40_000;
const TOTAL = ACCOUNTS * 100;

interface Sample {
  sum: number;
  count: number;
  /** The balance of account 1, which each transaction lowers by 1. */
  first: number | null;
}

/** Samples the replica every 50 ms until stopped. */
function sampler(client: pg.Client, table: string): { stop: () => Promise<Sample[]> } {
  const samples: Sample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await client.query<{ sum: string | null; count: string; first: string | null }>(
        `SELECT sum(bal) AS sum, count(*) AS count, (SELECT bal FROM ${table} WHERE id = 1) AS first FROM ${table}`,
      );
      samples.push({ sum: Number(r.rows[0].sum), count: Number(r.rows[0].count), first: r.rows[0].first === null ? null : Number(r.rows[0].first) });
      await sleep(50);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

/** Creates the accounts, lets them reach the replica, then moves money in five transactions while sampling. */
async function assertOnlyWholeTransactions(f: PipelineFixture, table: string): Promise<void> {
  await f.conn.query(`CREATE TABLE \`${f.db}\`.\`${table}\` (id INT PRIMARY KEY, bal BIGINT NOT NULL)`);
  await f.conn.query(`INSERT INTO \`${f.db}\`.\`${table}\` SELECT seq, 100 FROM ${seqRows(1, ACCOUNTS)}`);
  const client = pgClient(f.pg.url);
  await client.connect();
  const target = `"${f.db}"."${table}"`;
  try {
    await waitFor(
      'the accounts in the replica',
      async () => Number((await client.query(`SELECT count(*) AS n FROM ${target}`).catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n) === ACCOUNTS,
      120_000,
    );
    const s = sampler(client, target);
    let samples: Sample[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        await f.conn.query('BEGIN');
        await f.conn.query(`UPDATE \`${f.db}\`.\`${table}\` SET bal = bal - 1 WHERE id <= ${ACCOUNTS / 2}`);
        await f.conn.query(`UPDATE \`${f.db}\`.\`${table}\` SET bal = bal + 1 WHERE id > ${ACCOUNTS / 2}`);
        await f.conn.query('COMMIT');
      }
      await waitFor('the last transfer in the replica', async () => Number((await client.query(`SELECT bal FROM ${target} WHERE id = 1`)).rows[0].bal) === 95, 300_000);
    } finally {
      samples = await s.stop();
    }
    const wrong = samples.filter((x) => x.sum !== TOTAL || x.count !== ACCOUNTS);
    const seen = new Set(samples.map((x) => x.first));
    console.log(`# ${samples.length} samples, ${wrong.length} with a wrong sum; account 1 seen at ${[...seen].join(', ')}`);
    assert.ok(samples.length >= 10, `only ${samples.length} samples`);
    assert.ok(seen.size >= 2, 'no sample was taken while the transfers streamed');
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${samples.length} samples saw part of a transaction`);
  } finally {
    await client.end();
  }
  await assertReplicaConverges(f, [table]);
}

test('my2pg run: every sample of the replica sees whole transactions only', { timeout: 600_000 }, async () => {
  const f = fixture();
  const run = start(['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', `${f.db}.run_accounts`, '--server-id', f.serverId, '--batch-max-rows', '5000']);
  await waitForRunStreaming(run);
  await assertOnlyWholeTransactions(f, 'run_accounts');
  assert.equal(run.child.exitCode, null, run.log());
  await run.kill();
});

test('capture → Kafka → apply: every sample of the replica sees whole transactions only', { timeout: 600_000 }, async () => {
  const f = fixture();
  const topic = `t_${randomSuffix()}`;
  // Partitioned by database (the default): the database is one ordered stream.
  const common = ['--kafka', kafkaBrokers(), '--topic', topic, '--topic-partitions', '3', '--include', `${f.db}.kafka_accounts`];
  const capture = start(['capture', '--source', mysqlUrl(), '--server-id', String(Number(f.serverId) + 1), '--client-id', topic, ...common]);
  const apply = start(['apply', '--target', f.pg.url, '--group', `g_${topic}`, '--batch-max-rows', '5000', ...common]);
  await waitForCaptureStreaming(capture);
  await assertOnlyWholeTransactions(f, 'kafka_accounts');
  assert.equal(capture.child.exitCode, null, capture.log());
  assert.equal(apply.child.exitCode, null, apply.log());
  await capture.kill();
  await apply.kill();
});
