// The replica shows only whole source transactions: 40,000 accounts whose balances always sum to
// 4,000,000 in MySQL; five transactions each move 1 from 20,000 accounts to the other 20,000
// (40,000 row changes each, several apply batches). A query on the replica every 50 ms while
// they stream must always see the same sum (docs/OPERATIONS.md, "What the replica shows").

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import { applyWritingInto, assertReplicaConverges, usePipelineFixture, waitForOpenApply, type PipelineFixture } from '../harness/pipeline.js';
import { assertRunning, kafkaBrokers, logTail, mysqlUrl, pgClient, randomSuffix, sleep, waitFor, waitForState } from '../harness/servers.js';
import { waitForCaptureStreaming, waitForRunStreaming } from '../harness/waits.js';
import { sampleEvery } from '../harness/sampler.js';
import { seqRows } from '../harness/sequence.js';
import { partitionFor } from '../../src/transport/partitioner.js';

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
  return sampleEvery(50, async () => {
    const r = await client.query<{ sum: string | null; count: string; first: string | null }>(
      `SELECT sum(bal) AS sum, count(*) AS count, (SELECT bal FROM ${table} WHERE id = 1) AS first FROM ${table}`,
    );
    return { sum: Number(r.rows[0].sum), count: Number(r.rows[0].count), first: r.rows[0].first === null ? null : Number(r.rows[0].first) };
  });
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

test("partitioned by table: a transaction's share of a partition without its commit row shows once its Kafka transaction ends", { timeout: 300_000 }, async () => {
  const f = fixture();
  const topic = `t_${randomSuffix()}`;
  const partitions = 4;
  // Two tables in different partitions; the transaction's commit row goes to the second one's.
  const first = 'split_a';
  const second = ['split_b', 'split_c', 'split_d', 'split_e', 'split_f'].find((t) => partitionFor(t, partitions) !== partitionFor(first, partitions))!;
  // No heartbeats: nothing else arrives in the first table's partition after the transaction.
  const common = ['--kafka', kafkaBrokers(), '--topic', topic, '--topic-partitions', String(partitions), '--include', `${f.db}./^split_/`];
  const capture = start(['capture', '--source', mysqlUrl(), '--server-id', String(Number(f.serverId) + 2), '--client-id', topic, '--producer-partition-by', 'table', '--heartbeat-interval-ms', '0', ...common]);
  const apply = start(['apply', '--target', f.pg.url, '--group', `g_${topic}`, ...common]);
  await waitForCaptureStreaming(capture);
  for (const t of [first, second]) await f.conn.query(`CREATE TABLE \`${f.db}\`.\`${t}\` (id INT PRIMARY KEY, v INT)`);
  await f.conn.query('BEGIN');
  await f.conn.query(`INSERT INTO \`${f.db}\`.\`${first}\` VALUES (1, 1), (2, 2), (3, 3)`);
  await f.conn.query(`INSERT INTO \`${f.db}\`.\`${second}\` VALUES (1, 1)`);
  await f.conn.query('COMMIT');
  const client = pgClient(f.pg.url);
  await client.connect();
  try {
    const count = async (t: string) => Number((await client.query(`SELECT count(*) AS n FROM "${f.db}"."${t}"`).catch(() => ({ rows: [{ n: -1 }] }))).rows[0].n);
    await waitFor(`the transaction's rows in ${first} and ${second}`, async () => (await count(first)) === 3 && (await count(second)) === 1, 60_000, 100);
  } finally {
    await client.end();
  }
  assert.equal(apply.child.exitCode, null, apply.log());
  await capture.kill();
  await apply.kill();
});

test('a large transaction in one partition does not hold back the commits of another', { timeout: 600_000 }, async () => {
  const f = fixture();
  const topic = `t_${randomSuffix()}`;
  const partitions = 8;
  // A second database in another partition (partitioned by database, the default).
  const other = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `${f.db}_o${i}`).find((d) => partitionFor(d, partitions) !== partitionFor(f.db, partitions))!;
  await f.conn.query(`CREATE DATABASE \`${other}\``);
  const ROWS = 200_000;
  try {
    const common = ['--kafka', kafkaBrokers(), '--topic', topic, '--topic-partitions', String(partitions), '--include', `${f.db}.lane_big,${other}.lane_small`];
    const capture = start(['capture', '--source', mysqlUrl(), '--server-id', String(Number(f.serverId) + 3), '--client-id', topic, ...common]);
    const apply = start(['apply', '--target', f.pg.url, '--group', `g_${topic}`, '--batch-max-rows', '2000', ...common]);
    await waitForCaptureStreaming(capture);
    await f.conn.query(`CREATE TABLE \`${f.db}\`.lane_big (id INT PRIMARY KEY, v INT)`);
    await f.conn.query(`CREATE TABLE \`${other}\`.lane_small (id INT PRIMARY KEY, v INT)`);
    const client = pgClient(f.pg.url);
    await client.connect();
    const big = `"${f.db}".lane_big`;
    const small = `"${other}".lane_small`;
    try {
      const exist = async () => {
        const r = (await client.query<{ big: string | null; small: string | null }>(`SELECT to_regclass('${big}')::text AS big, to_regclass('${small}')::text AS small`)).rows[0];
        return r.big !== null && r.small !== null;
      };
      await waitFor('both tables in the replica', exist, 60_000).catch((err) => {
        throw new Error(`${(err as Error).message}\ncapture:\n${logTail(capture)}\napply:\n${logTail(apply)}`);
      });
      await f.conn.query(`INSERT INTO \`${f.db}\`.lane_big SELECT seq, seq FROM ${seqRows(1, ROWS)}`);
      // Small transactions in the other database while the large one is applied; samples of both.
      const samples: Array<{ big: number; small: number; open: boolean }> = [];
      let id = 0;
      for (;;) {
        await f.conn.query(`INSERT INTO \`${other}\`.lane_small VALUES (${++id}, 1)`);
        const r = await client.query<{ big: string; small: string; open: boolean }>(
          `SELECT (SELECT count(*) FROM ${big}) AS big, (SELECT count(*) FROM ${small}) AS small, ${applyWritingInto(`'${big}'`)} AS open`,
        );
        const s = { big: Number(r.rows[0].big), small: Number(r.rows[0].small), open: r.rows[0].open };
        samples.push(s);
        if (s.big === ROWS || samples.length > 3000) break;
        await sleep(50);
      }
      const during = samples.filter((s) => s.open && s.big === 0);
      const partial = samples.filter((s) => s.big !== 0 && s.big !== ROWS);
      console.log(`# ${samples.length} samples, ${during.length} while the large transaction was open; the other table went from ${during[0]?.small} to ${during.at(-1)?.small} rows meanwhile`);
      assert.deepEqual(partial.slice(0, 3), [], 'part of the large transaction was visible');
      assert.ok(during.length >= 2, 'no sample caught the large transaction being applied');
      assert.ok(during.at(-1)!.small > during[0].small, 'the other partition committed nothing while the large transaction was open');
      await waitFor('the last small row', async () => Number((await client.query(`SELECT count(*) AS n FROM ${small}`)).rows[0].n) === id, 60_000);
    } finally {
      await client.end();
    }
    assert.equal(apply.child.exitCode, null, apply.log());
    await capture.kill();
    await apply.kill();
  } finally {
    await f.conn.query(`DROP DATABASE IF EXISTS \`${other}\``);
  }
});

// With rows partitioned by a column, a table's DDL goes by database and its rows by their group,
// so they are in different partitions; apply needs a table's DDL before its rows
// (docs/CONFIG.md, producer_partition_by). The table is in the replica before rows are written.
test('a large transaction on a connection of its own is taken over by the main one when another partition writes its table', { timeout: 600_000 }, async () => {
  const f = fixture();
  const topic = `t_${randomSuffix()}`;
  const partitions = 4;
  // Rows partitioned by a column: one table's rows go to two partitions, by their group.
  const groups = [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const big = groups[0];
  const small = groups.find((g) => partitionFor(String(g), partitions) !== partitionFor(String(big), partitions))!;
  const common = ['--kafka', kafkaBrokers(), '--topic', topic, '--topic-partitions', String(partitions), '--include', `${f.db}.fold_t`];
  const capture = start(['capture', '--source', mysqlUrl(), '--server-id', String(Number(f.serverId) + 4), '--client-id', topic, '--producer-partition-by', 'column', '--producer-partition-columns', 'grp', ...common]);
  const apply = start(['apply', '--target', f.pg.url, '--group', `g_${topic}`, '--batch-max-rows', '5000', ...common]);
  await waitForCaptureStreaming(capture);
  const table = `\`${f.db}\`.fold_t`;
  await f.conn.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, grp INT NOT NULL, v INT NOT NULL)`);
  const client = pgClient(f.pg.url);
  await client.connect();
  const target = `"${f.db}".fold_t`;
  /** The rows of the replica's table (-1 while it does not exist); fails at once if apply has exited. */
  const replicaRows = async () => {
    assertRunning(apply);
    return Number((await client.query(`SELECT count(*) AS n FROM ${target}`).catch(() => ({ rows: [{ n: -1 }] }))).rows[0].n);
  };
  const ROWS = 200_000;
  let bigRows: ReturnType<typeof sampleEvery<number>> | undefined;
  let seen: number[] = [];
  try {
    await waitForState('the table in the replica', replicaRows, (n) => n === 0);
    // One row in each partition first, so that apply has seen both.
    await f.conn.query(`INSERT INTO ${table} VALUES (1, ${big}, 0), (2, ${small}, 0)`);
    await waitForState('the first rows in the replica', replicaRows, (n) => n === 2);
    bigRows = sampleEvery(50, async () => Number((await client.query(`SELECT count(*) AS n FROM ${target} WHERE grp = ${big}`)).rows[0].n));
    const writing = f.conn.query(`INSERT INTO ${table} SELECT seq + 10, ${big}, seq FROM ${seqRows(1, ROWS)}`);
    // The large transaction is being applied on its own connection; then the other partition
    // writes the same table.
    await waitForOpenApply(f, 'fold_t', 2);
    await f.conn.query(`INSERT INTO ${table} VALUES (3, ${small}, 1), (4, ${small}, 1)`);
    await waitForState('apply taking the large transaction over', async () => (assertRunning(apply), apply.log().includes('applied with the others')), (taken) => taken, { timeoutMs: 120_000, everyMs: 100, show: () => logTail(apply) });
    await writing;
    await waitForState('every row in the replica', replicaRows, (n) => n === ROWS + 4, { timeoutMs: 300_000, everyMs: 500 });
    await assertReplicaConverges(f, ['fold_t']);
    assert.equal(apply.child.exitCode, null, apply.log());
    await apply.kill();
  } finally {
    seen = (await bigRows?.stop()) ?? [];
    await client.end();
  }
  const partial = seen.filter((n) => n !== 1 && n !== ROWS + 1);
  console.log(`# ${seen.length} samples of the large transaction's rows, ${partial.length} partial`);
  assert.ok(seen.includes(1) && seen.includes(ROWS + 1), `the samples never covered the transaction: ${[...new Set(seen)].join(', ')}`);
  assert.deepEqual(partial.slice(0, 5), [], `${partial.length} samples saw part of the large transaction`);
  await capture.kill();
});
