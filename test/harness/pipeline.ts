// Shared steps of the end-to-end tests: a fresh source database and replica, and waiting until
// the replica equals the source.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type mysql from 'mysql2/promise';
import { quoteIdent } from '../../src/target/quote.js';
import { tableSnapshots } from './compare.js';
import { createPgDatabase, mysqlConnection, pgClient, randomSuffix, startMy2pg, waitFor, waitForState, type My2pgProcess } from './servers.js';

export interface PipelineFixture {
  db: string;
  conn: mysql.Connection;
  pg: { url: string; drop: () => Promise<void> };
  /** A server id unique to this test, for the binlog connection. */
  serverId: string;
  cleanup(): Promise<void>;
}

export async function pipelineFixture(): Promise<PipelineFixture> {
  const db = `e2e_${randomSuffix()}`;
  const conn = await mysqlConnection();
  await conn.query(`CREATE DATABASE \`${db}\``);
  const pg = await createPgDatabase();
  return {
    db,
    conn,
    pg,
    serverId: String(1000 + Math.floor(Math.random() * 1_000_000)),
    cleanup: async () => {
      await conn.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
      await conn.end();
      await pg.drop();
    },
  };
}

/**
 * Registers a fresh fixture for the current test file, and a `start` for my2pg processes that
 * are all killed when the file ends.
 */
export function usePipelineFixture(): { fixture: () => PipelineFixture; start: (args: string[]) => My2pgProcess } {
  let f: PipelineFixture | null = null;
  const running: My2pgProcess[] = [];
  before(async () => {
    f = await pipelineFixture();
  });
  after(async () => {
    await Promise.all(running.map((p) => p.kill('SIGKILL')));
    await f?.cleanup();
  });
  return {
    fixture: () => {
      if (!f) throw new Error('fixture used outside a test');
      return f;
    },
    start: (args) => {
      const p = startMy2pg(args);
      running.push(p);
      return p;
    },
  };
}

/** Waits until every table equals its replica, then asserts it (showing the difference). */
export async function assertReplicaConverges(f: PipelineFixture, tables: string[], timeoutMs = 120_000): Promise<void> {
  const client = pgClient(f.pg.url);
  await client.connect();
  try {
    let last: Record<string, { source: string[]; replica: string[] }> = {};
    let failure: unknown = null;
    const equal = async () => {
      last = {};
      try {
        for (const t of tables) last[t] = await tableSnapshots(f.conn, client, f.db, t);
      } catch (err) {
        failure = err;
        throw err;
      }
      return Object.values(last).every((s) => s.source.length === s.replica.length && s.source.every((r, i) => r === s.replica[i]));
    };
    await waitFor('the replica to equal the source', equal, timeoutMs, 1000).catch(() => undefined);
    for (const t of tables) {
      const s = last[t];
      assert.ok(s, `table ${t} was never compared: ${failure instanceof Error ? failure.message : String(failure)}`);
      console.log(`# ${t}: ${s.source.length} source rows, ${s.replica.length} replica rows`);
      const inReplica = new Set(s.replica);
      const inSource = new Set(s.source);
      const missing = s.source.filter((r) => !inReplica.has(r)).slice(0, 3);
      const extra = s.replica.filter((r) => !inSource.has(r)).slice(0, 3);
      assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, `${t} differs (${s.source.length} source rows, ${s.replica.length} replica rows)`);
      assert.equal(s.replica.length, s.source.length, `${t}: row count`);
    }
  } finally {
    await client.end();
  }
}

/**
 * SQL that is true while apply's session holds a write lock on the table named by `relation`
 * (an SQL expression for its qualified name): it is writing into it in a transaction that has
 * not committed.
 */
export function applyWritingInto(relation: string): string {
  return `EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                   WHERE a.application_name = 'my2pg apply' AND l.relation = to_regclass(${relation}) AND l.mode = 'RowExclusiveLock')`;
}

/**
 * Waits until apply writes into a table inside a replica transaction that has not committed
 * (its session holds a write lock on the table) while the table shows exactly the `visible`
 * rows written before the transaction, so that a kill right after lands in the middle of
 * applying it. Times out if any of its rows become visible before its end.
 */
export async function waitForOpenApply(f: PipelineFixture, table: string, visible: number): Promise<void> {
  const client = pgClient(f.pg.url);
  await client.connect();
  try {
    await waitForState(
      `apply writing into ${table} in an open transaction`,
      async () => {
        const res = await client.query<{ writing: boolean; n: string }>(
          `SELECT ${applyWritingInto('$1')} AS writing, (SELECT count(*) FROM ${quoteIdent(f.db)}.${quoteIdent(table)}) AS n`,
          [`${quoteIdent(f.db)}.${quoteIdent(table)}`],
        ).catch(() => ({ rows: [{ writing: false, n: '0' }] }));
        return { writing: res.rows[0].writing, n: Number(res.rows[0].n) };
      },
      (s) => s.writing && s.n === visible,
      { timeoutMs: 60_000, everyMs: 5, show: (s) => `${s.n} rows visible, writing: ${s.writing}` },
    );
  } finally {
    await client.end();
  }
}
