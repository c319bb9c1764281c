// Bootstrap progress in the replica's `_my2pg` schema (sql/003_bootstrap.sql): which tables are
// being copied and their chunks, and the per-table lock a chunk and apply take (docs/BOOTSTRAP.md).

import type { ClientBase } from 'pg';
import { tableKey } from '../core/table-key.js';

export interface BootstrapTable {
  sourceDb: string;
  sourceTable: string;
  targetSchema: string;
  targetTable: string;
  /** `dropped`: the source table went away (dropped or renamed) before its copy ended. */
  state: 'copying' | 'done' | 'dropped';
  /** Source columns the chunks are ranged on; empty = the table is read in one pass. */
  keyColumns: string[];
  where: string | null;
  chunkRows: number;
  rowsEstimated: number;
  plannedUpto: KeyValues | null;
  plannedAll: boolean;
}

/** Key values as read from MySQL: numbers, strings, or binary (base64 in JSON). */
export type KeyValue = string | number | null | { b64: string };
export type KeyValues = KeyValue[];

export interface Chunk {
  chunkNo: number;
  lower: KeyValues | null;
  upper: KeyValues | null;
  state: 'pending' | 'done';
  rows: number;
  worker: string | null;
}

/** Replica tables being bootstrapped, as tableKey()s. */
export type ActiveBootstraps = Set<string>;

export async function activeBootstraps(client: ClientBase): Promise<ActiveBootstraps> {
  const res = await client.query<{ target_schema: string; target_table: string }>(
    "SELECT target_schema, target_table FROM _my2pg.bootstrap_tables WHERE state = 'copying'",
  );
  return new Set(res.rows.map((r) => tableKey(r.target_schema, r.target_table)));
}

/**
 * Serialises, per replica table, apply's writes and a bootstrap chunk (its read of the source
 * and its write) until the end of the transaction (docs/BOOTSTRAP.md).
 */
export async function lockBootstrappedTable(client: ClientBase, schema: string, table: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`my2pg.bootstrap:${schema}.${table}`]);
}

export async function readBootstrap(client: ClientBase, db: string, table: string): Promise<BootstrapTable | null> {
  const res = await client.query('SELECT * FROM _my2pg.bootstrap_tables WHERE source_db = $1 AND source_table = $2', [db, table]);
  return res.rows[0] ? fromRow(res.rows[0]) : null;
}

export async function listBootstraps(client: ClientBase): Promise<BootstrapTable[]> {
  const res = await client.query('SELECT * FROM _my2pg.bootstrap_tables ORDER BY source_db, source_table');
  return res.rows.map(fromRow);
}

function fromRow(r: Record<string, unknown>): BootstrapTable {
  return {
    sourceDb: r.source_db as string,
    sourceTable: r.source_table as string,
    targetSchema: r.target_schema as string,
    targetTable: r.target_table as string,
    state: r.state as BootstrapTable['state'],
    keyColumns: JSON.parse(r.key_columns as string) as string[],
    where: r.where_clause as string | null,
    chunkRows: r.chunk_rows as number,
    rowsEstimated: Number(r.rows_estimated),
    plannedUpto: r.planned_upto === null ? null : (JSON.parse(r.planned_upto as string) as KeyValues),
    plannedAll: r.planned_all as boolean,
  };
}

async function inTransaction(client: ClientBase, work: () => Promise<void>): Promise<void> {
  await client.query('BEGIN');
  try {
    await work();
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Starts (or restarts from nothing) the bootstrap of a table: its row, and no chunks yet. */
export async function registerBootstrap(client: ClientBase, b: Omit<BootstrapTable, 'state' | 'plannedUpto' | 'plannedAll'>): Promise<void> {
  await inTransaction(client, async () => {
    await client.query('DELETE FROM _my2pg.bootstrap_chunks WHERE source_db = $1 AND source_table = $2', [b.sourceDb, b.sourceTable]);
    await client.query('DELETE FROM _my2pg.bootstrap_tables WHERE source_db = $1 AND source_table = $2', [b.sourceDb, b.sourceTable]);
    await client.query(
      `INSERT INTO _my2pg.bootstrap_tables (source_db, source_table, target_schema, target_table, state, key_columns,
         where_clause, chunk_rows, rows_estimated) VALUES ($1, $2, $3, $4, 'copying', $5, $6, $7, $8)`,
      [b.sourceDb, b.sourceTable, b.targetSchema, b.targetTable, JSON.stringify(b.keyColumns), b.where, b.chunkRows, b.rowsEstimated],
    );
  });
}

/** Records the next planned chunk and how far planning got, together. */
export async function addChunk(client: ClientBase, db: string, table: string, chunk: Pick<Chunk, 'chunkNo' | 'lower' | 'upper'>, last: boolean): Promise<void> {
  await inTransaction(client, async () => {
    await client.query(
      'INSERT INTO _my2pg.bootstrap_chunks (source_db, source_table, chunk_no, lower_key, upper_key) VALUES ($1, $2, $3, $4, $5)',
      [db, table, chunk.chunkNo, keyJson(chunk.lower), keyJson(chunk.upper)],
    );
    await client.query(
      'UPDATE _my2pg.bootstrap_tables SET planned_upto = $3, planned_all = $4 WHERE source_db = $1 AND source_table = $2',
      [db, table, keyJson(chunk.upper), last],
    );
  });
}

export async function readChunks(client: ClientBase, db: string, table: string): Promise<Chunk[]> {
  const res = await client.query(
    'SELECT * FROM _my2pg.bootstrap_chunks WHERE source_db = $1 AND source_table = $2 ORDER BY chunk_no',
    [db, table],
  );
  return res.rows.map(chunkFromRow);
}

/** Locks a chunk's row for the copying transaction; null when it does not exist. */
export async function lockChunk(client: ClientBase, db: string, table: string, chunkNo: number): Promise<Chunk | null> {
  const res = await client.query(
    'SELECT * FROM _my2pg.bootstrap_chunks WHERE source_db = $1 AND source_table = $2 AND chunk_no = $3 FOR UPDATE',
    [db, table, chunkNo],
  );
  return res.rows[0] ? chunkFromRow(res.rows[0]) : null;
}

export async function markChunkDone(client: ClientBase, db: string, table: string, chunkNo: number, rows: number, worker: string): Promise<void> {
  await client.query(
    `UPDATE _my2pg.bootstrap_chunks SET state = 'done', rows_copied = $4, worker = $5, done_at = now()
     WHERE source_db = $1 AND source_table = $2 AND chunk_no = $3`,
    [db, table, chunkNo, rows, worker],
  );
}

/** Ends a bootstrap; apply stops taking the table's lock at its next batch. */
export async function completeBootstrap(client: ClientBase, b: BootstrapTable): Promise<void> {
  await client.query(
    "UPDATE _my2pg.bootstrap_tables SET state = 'done', finished_at = now() WHERE source_db = $1 AND source_table = $2",
    [b.sourceDb, b.sourceTable],
  );
}

/** Ends a bootstrap whose source table went away; apply stops taking the table's lock. */
export async function abandonBootstrap(client: ClientBase, db: string, table: string): Promise<void> {
  await client.query(
    "UPDATE _my2pg.bootstrap_tables SET state = 'dropped', finished_at = now() WHERE source_db = $1 AND source_table = $2 AND state = 'copying'",
    [db, table],
  );
}

function chunkFromRow(r: Record<string, unknown>): Chunk {
  return {
    chunkNo: r.chunk_no as number,
    lower: r.lower_key === null ? null : (JSON.parse(r.lower_key as string) as KeyValues),
    upper: r.upper_key === null ? null : (JSON.parse(r.upper_key as string) as KeyValues),
    state: r.state as Chunk['state'],
    rows: Number(r.rows_copied),
    worker: r.worker as string | null,
  };
}

function keyJson(k: KeyValues | null): string | null {
  return k === null ? null : JSON.stringify(k);
}

/** A recorded bootstrap with its chunk counts, as `bootstrap --status` shows it. */
export interface BootstrapStatus {
  source_db: string;
  source_table: string;
  state: string;
  chunks: string;
  done: string;
  rows: string;
  rows_estimated: string;
  planned_all: boolean;
  started_at: Date;
  finished_at: Date | null;
}

export async function bootstrapStatus(client: ClientBase): Promise<BootstrapStatus[]> {
  const res = await client.query<BootstrapStatus>(`
      SELECT t.source_db, t.source_table, t.state, t.rows_estimated, t.planned_all, t.started_at, t.finished_at,
             count(c.chunk_no) AS chunks, count(c.chunk_no) FILTER (WHERE c.state = 'done') AS done,
             coalesce(sum(c.rows_copied), 0) AS rows
      FROM _my2pg.bootstrap_tables t
      LEFT JOIN _my2pg.bootstrap_chunks c USING (source_db, source_table)
      GROUP BY t.source_db, t.source_table ORDER BY t.source_db, t.source_table`);
  return res.rows;
}
