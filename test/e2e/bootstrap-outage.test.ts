// `my2pg bootstrap` is a job, but a long one: an outage of the replica in the middle of the copy
// is ridden out in the process (docs/OPERATIONS.md, "Outages and retries"): the chunks being
// copied are rolled back with their connection, copied again once Postgres answers, and the job
// ends with exit 0 and the replica equal to the source. The Postgres is the test's own, so the
// suite's shared one is never interrupted.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createBigTable } from '../harness/big-table.js';
import { createPrivateDatabase, startPrivatePostgres, type CrashableServer } from '../harness/outages.js';
import { assertReplicaConverges, type PipelineFixture } from '../harness/pipeline.js';
import { mysqlConnection, mysqlUrl, pgClient, randomSuffix, sleep, startMy2pg, waitFor, type My2pgProcess } from '../harness/servers.js';

let postgres: CrashableServer;
const running: My2pgProcess[] = [];

before(async () => {
  postgres = await startPrivatePostgres();
});

after(async () => {
  await Promise.all(running.map((p) => p.kill('SIGKILL')));
  await postgres?.stop();
});

/** Chunks of `db.big` copied so far (0 before the bootstrap has recorded its plan or while Postgres is down). */
async function chunksDone(url: string, db: string): Promise<number> {
  const client = pgClient(url);
  await client.connect();
  try {
    const r = await client.query(
      "SELECT count(*)::int AS n FROM _my2pg.bootstrap_chunks WHERE source_db = $1 AND source_table = 'big' AND state = 'done'",
      [db],
    );
    return r.rows[0].n as number;
  } catch {
    return 0;
  } finally {
    await client.end();
  }
}

/**
 * Runs `body` on a fresh source database holding `db.big` with `rows` rows and its replica
 * database on the private Postgres, as a fixture for assertReplicaConverges; drops the source.
 */
async function withBigTable(prefix: string, rows: number, body: (f: PipelineFixture) => Promise<void>): Promise<void> {
  const db = `${prefix}_${randomSuffix()}`;
  const conn = await mysqlConnection(mysqlUrl());
  try {
    await conn.query(`CREATE DATABASE \`${db}\``);
    await createBigTable(conn, db, rows);
    const target = await createPrivateDatabase(postgres, db);
    await body({ db, conn, pg: { url: target, drop: async () => undefined }, serverId: String(2000 + Math.floor(Math.random() * 1_000_000)), cleanup: async () => undefined });
  } finally {
    await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await conn.end();
  }
}

test('a bootstrap rides out a Postgres crash in the middle of its copy and completes', { timeout: 300_000 }, async () => {
  await withBigTable('bsout', 300_000, async (f) => {
    const proc = startMy2pg(['bootstrap', '--source', mysqlUrl(), '--target', f.pg.url, '--include', `${f.db}.big`, '--bootstrap-chunk-rows', '5000', '--retry-max-ms', '120000']);
    running.push(proc);
    await waitFor('a few chunks to be copied', async () => (await chunksDone(f.pg.url, f.db)) >= 3, 120_000, 50);
    await postgres.crash();
    await sleep(3000);
    await postgres.restart();
    assert.equal(await proc.exited, 0, proc.log());
    assert.match(proc.log(), /retrying/, 'the outage was retried');
    await assertReplicaConverges(f, ['big'], 10_000);
  });
});

test("run's first-start copy rides out a 10 s Postgres outage in the middle of its copy while the table is written", { timeout: 300_000 }, async () => {
  await withBigTable('rnout', 200_000, async (f) => {
    const { db, conn } = f;
    const proc = startMy2pg(['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', db, '--server-id', f.serverId, '--bootstrap-chunk-rows', '5000', '--retry-max-ms', '120000']);
    running.push(proc);
    await waitFor('a few chunks to be copied', async () => (await chunksDone(f.pg.url, db)) >= 3, 120_000, 50);
    let writing = true;
    const writes = (async () => {
      for (let i = 1; writing; i++) {
        await conn.query(`UPDATE \`${db}\`.big SET qty = qty + 1 WHERE id = ?`, [2 * ((i * 7919) % 200_000) + 2]);
        if (i % 50 === 0) await conn.query(`INSERT INTO \`${db}\`.big (id, qty) VALUES (?, 1)`, [400_000 + 2 * i + 1]);
        await sleep(5);
      }
    })();
    await postgres.crash();
    await sleep(10_000);
    await postgres.restart();
    await sleep(5_000);
    writing = false;
    await writes;
    await assertReplicaConverges(f, ['big'], 180_000);
    await waitFor('the first-start copy to be done', async () => {
      const client = pgClient(f.pg.url);
      await client.connect();
      try {
        return (await client.query("SELECT 1 FROM _my2pg.initial_bootstraps WHERE state = 'done'")).rows.length === 1;
      } finally {
        await client.end();
      }
    }, 60_000);
    assert.equal(proc.child.exitCode, null, `run exited:\n${proc.log()}`);
    assert.match(proc.log(), /retrying/, 'the outage was retried');
  });
});
