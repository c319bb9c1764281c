// Bootstrap (docs/BOOTSTRAP.md): existing rows are copied in key-range chunks while the stream
// runs, and the replica ends equal to the source, through a live workload, a SIGKILL mid-copy,
// and chunks shared by two bullmq workers. The type corpus reads the same as through the binlog.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type mysql from 'mysql2/promise';
import { publishedData, TYPE_CASES } from '../fixtures/golden-types.js';
import { readTopic } from '../harness/kafka-reader.js';
import { assertReplicaConverges, usePipelineFixture } from '../harness/pipeline.js';
import { createPgDatabase, kafkaBrokers, mysqlConnection, mysqlUrl, pgClient, randomSuffix, redisUrl, testSource, waitFor, waitForState, type My2pgProcess } from '../harness/servers.js';
import { rng } from '../harness/workload.js';
import { createBigTable } from '../harness/big-table.js';
import { waitForBootstrapWorker, waitForRunStreaming } from '../harness/waits.js';
import { seqRows } from '../harness/sequence.js';

const { fixture, start } = usePipelineFixture();

const BIG_ROWS = 1_000_000;

/** Updates, deletes and inserts rows of `big` until stopped; returns the statement count. */
function startWorkload(conn: mysql.Connection, db: string, seed: number): { stop: () => Promise<number> } {
  const rand = rng(seed);
  let running = true;
  let n = 0;
  const loop = (async () => {
    while (running) {
      const id = 2 * (1 + Math.floor(rand() * BIG_ROWS));
      const pick = rand();
      if (pick < 0.5) await conn.query(`UPDATE \`${db}\`.big SET qty = qty + 1, name = CONCAT(name, '+'), price = price * 2 WHERE id = ?`, [id]);
      else if (pick < 0.7) await conn.query(`DELETE FROM \`${db}\`.big WHERE id = ?`, [id]);
      else await conn.query(`INSERT INTO \`${db}\`.big (id, qty, name, created) VALUES (?, -1, 'new', NOW(6)) ON DUPLICATE KEY UPDATE qty = -2`, [id + 1]);
      n++;
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return n;
    },
  };
}

async function bootstrapState(url: string, db: string, table: string): Promise<{ state: string; done: number; chunks: number } | null> {
  const client = pgClient(url);
  await client.connect();
  try {
    const r = await client.query(
      `SELECT t.state, count(c.*) FILTER (WHERE c.state = 'done') AS done, count(c.*) AS chunks
       FROM _my2pg.bootstrap_tables t LEFT JOIN _my2pg.bootstrap_chunks c USING (source_db, source_table)
       WHERE t.source_db = $1 AND t.source_table = $2 GROUP BY t.state`,
      [db, table],
    ).catch(() => ({ rows: [] }));
    const row = r.rows[0];
    return row ? { state: row.state, done: Number(row.done), chunks: Number(row.chunks) } : null;
  } finally {
    await client.end();
  }
}

/** The state of `run`'s first-start copy of the embedded stream, or null. */
async function initialBootstrapState(url: string): Promise<string | null> {
  const client = pgClient(url);
  await client.connect();
  try {
    const r = await client.query("SELECT state FROM _my2pg.initial_bootstraps WHERE stream = 'binlog'").catch(() => ({ rows: [] }));
    return r.rows[0]?.state ?? null;
  } finally {
    await client.end();
  }
}

test('run bootstraps 1M existing rows on first start while a workload writes, and ends equal', { timeout: 600_000 }, async () => {
  const f = fixture();
  await createBigTable(f.conn, f.db, BIG_ROWS);
  const writer = await mysqlConnection();
  const workload = startWorkload(writer, f.db, 7);
  const proc = start(['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', f.db, '--server-id', f.serverId, '--bootstrap-chunk-rows', '50000']);
  try {
    await waitFor('the bootstrap to finish', async () => (await bootstrapState(f.pg.url, f.db, 'big'))?.state === 'done', 400_000, 1000);
  } finally {
    console.log(`# workload statements during the bootstrap: ${await workload.stop()}`);
    await writer.end();
  }
  await waitForState('the first-start copy to be recorded as done', () => initialBootstrapState(f.pg.url), (state) => state === 'done', { timeoutMs: 10_000 });
  await assertReplicaConverges(f, ['big'], 120_000);
  await proc.kill();
});

test('a bootstrap killed mid-copy resumes at the next unfinished chunk and ends equal', { timeout: 600_000 }, async () => {
  const f = fixture();
  const replica = await createPgDatabase();
  const fix = { ...f, pg: replica };
  const writer = await mysqlConnection();
  let workload: { stop: () => Promise<number> } | null = null;
  let stream: My2pgProcess | null = null;
  try {
    await f.conn.query(`DROP TABLE IF EXISTS \`${f.db}\`.big`);
    await createBigTable(f.conn, f.db, BIG_ROWS);
    // The stream first (no automatic bootstrap), then the bootstrap command beside it.
    stream = start(['run', '--source', mysqlUrl(), '--target', replica.url, '--include', f.db, '--server-id', String(Number(f.serverId) + 1), '--initial-bootstrap', 'false']);
    await waitForRunStreaming(stream);
    workload = startWorkload(writer, f.db, 11);
    const args = ['bootstrap', '--source', mysqlUrl(), '--target', replica.url, '--include', `${f.db}.big`, '--bootstrap-chunk-rows', '25000'];
    const first = start(args);
    await waitFor('some chunks copied', async () => ((await bootstrapState(replica.url, f.db, 'big'))?.done ?? 0) >= 5, 300_000, 100);
    await first.kill('SIGKILL');
    const killedAt = (await bootstrapState(replica.url, f.db, 'big'))!;
    console.log(`# killed with ${killedAt.done} of ${killedAt.chunks} planned chunks done`);
    assert.equal(killedAt.state, 'copying');
    const second = start(args);
    assert.equal(await second.exited, 0, second.log());
    assert.match(second.log(), /resuming bootstrap/);
    console.log(`# workload statements: ${await workload.stop()}`);
    workload = null;
    const client = pgClient(replica.url);
    await client.connect();
    const chunks = await client.query("SELECT count(*) AS n, count(DISTINCT worker) AS workers FROM _my2pg.bootstrap_chunks WHERE source_table = 'big'");
    await client.end();
    assert.ok(Number(chunks.rows[0].workers) >= 2, 'chunks were copied by both runs');
    await assertReplicaConverges(fix, ['big'], 120_000);
  } finally {
    await workload?.stop();
    await writer.end();
    await stream?.kill();
    await replica.drop();
  }
});

test('two bullmq workers share one table\'s chunks', { timeout: 300_000 }, async () => {
  const f = fixture();
  const replica = await createPgDatabase();
  const queue = `my2pg-test-${randomSuffix()}`;
  try {
    await f.conn.query(`CREATE TABLE \`${f.db}\`.shared (a INT NOT NULL, b VARCHAR(20) NOT NULL, v DOUBLE, PRIMARY KEY (a, b))`);
    await f.conn.query(`INSERT INTO \`${f.db}\`.shared SELECT seq DIV 4, CONCAT('k', seq % 4), seq / 3 FROM ${seqRows(1, 60000)}`);
    const common = ['--source', mysqlUrl(), '--target', replica.url, '--redis', redisUrl(), '--bootstrap-queue', queue, '--bootstrap-concurrency', '1'];
    const helper = start(['bootstrap', '--worker', ...common]);
    await waitForBootstrapWorker(helper, queue, redisUrl());
    const main = start(['bootstrap', ...common, '--include', `${f.db}.shared`, '--bootstrap-chunk-rows', '2000']);
    assert.equal(await main.exited, 0, main.log());
    await helper.kill();
    const client = pgClient(replica.url);
    await client.connect();
    const r = await client.query("SELECT split_part(worker, ':', 2) AS pid, count(*) AS n FROM _my2pg.bootstrap_chunks WHERE source_table = 'shared' GROUP BY 1");
    await client.end();
    console.log(`# chunks per worker process: ${JSON.stringify(r.rows)}`);
    assert.equal(r.rows.length, 2, 'both worker processes copied chunks');
    await assertReplicaConverges({ ...f, pg: replica }, ['shared'], 30_000);
  } finally {
    await replica.drop();
  }
});

test('the type corpus reads the same through bootstrap (with and without Kafka) as through the binlog, and as bootstrap-insert events', { timeout: 300_000 }, async () => {
  const f = fixture();
  const streamed = await createPgDatabase();
  const copied = await createPgDatabase();
  // Without Kafka, bootstrap writes COPY lines from the values without their JSON text.
  const direct = await createPgDatabase();
  const topic = `boot_${randomSuffix()}`;
  try {
    const proc = start(['run', '--source', mysqlUrl(), '--target', streamed.url, '--include', `${f.db}./^g_/`, '--server-id', String(Number(f.serverId) + 2)]);
    await waitForRunStreaming(proc);
    await f.conn.query("SET time_zone = '+05:30', sql_mode = ''");
    const tables = TYPE_CASES.map((c) => `g_${c.name}`);
    for (const c of TYPE_CASES) {
      await f.conn.query(`CREATE TABLE \`${f.db}\`.\`g_${c.name}\` (id INT PRIMARY KEY, v ${c.column})`);
      await f.conn.query(`INSERT INTO \`${f.db}\`.\`g_${c.name}\` VALUES ${c.values.map(([sql], i) => `(${i + 1}, ${sql})`).join(', ')}`);
    }
    await f.conn.query("SET time_zone = '+00:00', sql_mode = DEFAULT");
    await assertReplicaConverges({ ...f, pg: streamed }, tables, 60_000);
    await proc.kill();

    const boot = start(['bootstrap', '--source', mysqlUrl(), '--target', copied.url, '--include', `${f.db}./^g_/`, '--kafka', kafkaBrokers(), '--topic', topic]);
    assert.equal(await boot.exited, 0, boot.log());
    await assertReplicaConverges({ ...f, pg: copied }, tables, 30_000);
    const plain = start(['bootstrap', '--source', mysqlUrl(), '--target', direct.url, '--include', `${f.db}./^g_/`]);
    assert.equal(await plain.exited, 0, plain.log());
    const a = pgClient(streamed.url);
    const b = pgClient(copied.url);
    const d = pgClient(direct.url);
    await Promise.all([a.connect(), b.connect(), d.connect()]);
    try {
      for (const t of tables) {
        const sql = `SELECT t::text AS row FROM "${f.db}"."${t}" AS t ORDER BY id`;
        const binlog = (await a.query(sql)).rows;
        assert.ok(binlog.length > 0, `${t}: nothing streamed`);
        assert.deepEqual((await b.query(sql)).rows, binlog, `${t}: bootstrap with Kafka and binlog disagree`);
        assert.deepEqual((await d.query(sql)).rows, binlog, `${t}: bootstrap without Kafka and binlog disagree`);
      }
    } finally {
      await Promise.all([a.end(), b.end(), d.end()]);
    }

    const events = await readTopic(topic, (vs) => vs.filter((v) => v.includes('"bootstrap-complete"')).length >= tables.length);
    const inserts = events.map((v) => JSON.parse(v) as { type: string; table: string }).filter((e) => e.type === 'bootstrap-insert');
    assert.equal(inserts.length, TYPE_CASES.reduce((n, c) => n + c.values.length, 0));
    for (const c of TYPE_CASES) {
      const mine = events.filter((v) => v.includes(`"table":"g_${c.name}","type":"bootstrap-insert"`));
      const data = mine.map((v) => v.slice(v.indexOf('"data":') + 7, -1)).sort();
      const want = c.values.map((v, i) => publishedData(i + 1, v, testSource())).sort();
      assert.deepEqual(data, want, `bootstrap-insert data of ${c.name}`);
    }
    assert.equal(events.filter((v) => v.includes('"bootstrap-start"')).length, tables.length);
  } finally {
    await streamed.drop();
    await copied.drop();
    await direct.drop();
  }
});

test('a --where the source refuses fails at once with exit code 2 naming it; the corrected one copies', { timeout: 120_000 }, async () => {
  const f = fixture();
  const replica = await createPgDatabase();
  try {
    await f.conn.query(`CREATE TABLE \`${f.db}\`.filtered (id INT PRIMARY KEY, v INT)`);
    await f.conn.query(`INSERT INTO \`${f.db}\`.filtered SELECT seq, seq % 3 FROM ${seqRows(1, 100)}`);
    const args = ['bootstrap', '--source', mysqlUrl(), '--target', replica.url, '--include', `${f.db}.filtered`];
    const bad = start([...args, '--where', 'v = = 1']);
    assert.equal(await bad.exited, 2, bad.log());
    assert.match(bad.log(), /the source refused the chunk query \(check --where "v = = 1"\)/);
    const good = start([...args, '--where', 'v = 1']);
    assert.equal(await good.exited, 0, good.log());
    const status = start(['bootstrap', '--status', '--target', replica.url]);
    assert.equal(await status.exited, 0, status.log());
    assert.match(status.log(), new RegExp(`^${f.db}\\.filtered: done at \\S+; 34 of ~\\d+ rows; chunks 1 done, 0 left$`, 'm'));
    const client = pgClient(replica.url);
    await client.connect();
    const r = await client.query(`SELECT count(*) AS n, min(v) AS lo, max(v) AS hi FROM "${f.db}".filtered`);
    await client.end();
    assert.deepEqual(r.rows[0], { n: '34', lo: '1', hi: '1' }); // 1, 4, …, 100
  } finally {
    await replica.drop();
  }
});
