// Copies one chunk: reads its key range from MySQL and COPYs it into the replica, straight into
// the target when nothing can conflict, through staging otherwise, leaving alone the keys the
// stream changed meanwhile (docs/BOOTSTRAP.md). One Postgres transaction per chunk.

import type { Readable } from 'node:stream';
import type { Connection } from 'mysql2/promise';
import type { ClientBase } from 'pg';
import { encodeValue } from '../capture/row-encoder.js';
import { My2pgError } from '../core/errors.js';
import { parseJsonValue } from '../core/json.js';
import type { LossCounter } from '../apply/loss-counter.js';
import { planMerge } from '../apply/merge-planner.js';
import type { TargetTable } from '../target/catalog.js';
import { copyRows } from '../target/copy.js';
import type { Dialect } from '../target/dialect.js';
import type { Naming } from '../target/naming.js';
import { copyField, toPgText } from '../target/pg-value.js';
import { qualify, quoteIdent } from '../target/quote.js';
import { fromClause, keyRange, selectList, type SourceTable } from './source-table.js';
import { lockBootstrappedTable, lockChunk, markChunkDone, type BootstrapTable } from './registry.js';

export interface ChunkTarget {
  pg: ClientBase;
  table: TargetTable;
  dialect: Dialect;
  naming: Naming;
  losses: LossCounter;
  /** Called with every row's encoded values (JSON text per column), for bootstrap-insert events. */
  onRow?: (values: string[]) => void;
}

export interface ChunkResult {
  rows: number;
  /** How the rows went in: `direct` into the target, `merge` through staging, or `skipped` (already done). */
  path: 'direct' | 'merge' | 'skipped';
}

/**
 * Copies chunk `chunkNo` of `b` and marks it done, atomically. `source` opens a fresh MySQL
 * connection (a failed read leaves its connection unusable). `tryDirect` false forces staging.
 */
export async function copyChunk(
  source: () => Promise<Connection>,
  src: SourceTable,
  b: BootstrapTable,
  chunkNo: number,
  t: ChunkTarget,
  worker: string,
  tryDirect: boolean,
): Promise<ChunkResult> {
  const { pg } = t;
  await pg.query('BEGIN');
  try {
    const chunk = await lockChunk(pg, b.sourceDb, b.sourceTable, chunkNo);
    if (!chunk || chunk.state === 'done') {
      await pg.query('COMMIT');
      return { rows: 0, path: 'skipped' };
    }
    await lockBootstrappedTable(pg, t.table.schema, t.table.table);
    const read = () => readRange(source, src, b, chunk.lower, chunk.upper);
    const line = rowLine(src, t);
    let result: ChunkResult | null = null;
    if (src.key.length === 0 && t.table.primaryKey.length === 0) {
      // One pass over a table without a usable key: the copy replaces the replica's rows.
      await pg.query(`DELETE FROM ${qualify(t.table.schema, t.table.table)}`);
      result = { rows: await copyRange(pg, copyIntoTargetSql(src, t), read, line), path: 'direct' };
    } else if (tryDirect && t.table.primaryKey.length > 0 && !(await anyTouched(pg, b))) {
      result = await tryDirectCopy(pg, copyIntoTargetSql(src, t), read, line);
    }
    result ??= await mergeThroughStaging(src, b, t, read, line, chunkNo);
    await markChunkDone(pg, b.sourceDb, b.sourceTable, chunkNo, result.rows, worker);
    await pg.query('COMMIT');
    return result;
  } catch (err) {
    await pg.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Straight into the target; a key already there (a unique violation) means staging instead. */
async function tryDirectCopy(pg: ClientBase, sql: string, read: () => Promise<RangeRead>, line: (r: unknown[]) => string): Promise<ChunkResult | null> {
  await pg.query('SAVEPOINT direct');
  try {
    return { rows: await copyRange(pg, sql, read, line), path: 'direct' };
  } catch (err) {
    if ((err as { code?: string }).code !== '23505') throw err;
    await pg.query('ROLLBACK TO SAVEPOINT direct');
    return null;
  }
}

async function mergeThroughStaging(
  src: SourceTable,
  b: BootstrapTable,
  t: ChunkTarget,
  read: () => Promise<RangeRead>,
  line: (r: unknown[]) => string,
  chunkNo: number,
): Promise<ChunkResult> {
  const key = t.table.primaryKey.length > 0 ? t.table.primaryKey : src.key.map((k) => t.naming.name(k));
  const columns = src.def.columns.map((c) => t.table.byName.get(t.naming.name(c.name))!);
  const touched = b.touchedTable ? { table: b.touchedTable, mode: 'skip' as const } : undefined;
  const plan = planMerge({ ...t.table, columns, primaryKey: key }, `_my2pg_chunk_${chunkNo}`, t.dialect, touched);
  await t.pg.query(plan.createStaging);
  const rows = await copyRange(t.pg, plan.copyIntoStaging, read, (r) => `U\t${line(r)}`);
  await t.pg.query(plan.deleteMatched);
  await t.pg.query(plan.insertUpserts);
  return { rows, path: 'merge' };
}

async function anyTouched(pg: ClientBase, b: BootstrapTable): Promise<boolean> {
  if (!b.touchedTable) return false;
  const res = await pg.query(`SELECT EXISTS (SELECT 1 FROM ${b.touchedTable}) AS any`);
  return res.rows[0].any as boolean;
}

interface RangeRead {
  rows: Readable;
  conn: Connection;
}

async function readRange(source: () => Promise<Connection>, src: SourceTable, b: BootstrapTable, lower: BootstrapTable['plannedUpto'], upper: BootstrapTable['plannedUpto']): Promise<RangeRead> {
  const conn = await source();
  const range = src.key.length > 0 ? keyRange(src.key, lower, upper) : { sql: '1=1', params: [] };
  const sql = `SELECT ${selectList(src.def)} FROM ${fromClause(src.def)} WHERE ${range.sql}${b.where ? ` AND (${b.where})` : ''}`;
  // The callback API underneath streams rows with backpressure.
  const raw = (conn as unknown as { connection: import('mysql2').Connection }).connection;
  const rows = raw.query({ sql, values: range.params, rowsAsArray: true }).stream({ highWaterMark: 2000 });
  return { rows, conn };
}

/** Runs a read into a COPY; the MySQL connection is closed either way (destroyed on failure). */
async function copyRange(pg: ClientBase, sql: string, read: () => Promise<RangeRead>, line: (r: unknown[]) => string): Promise<number> {
  const { rows, conn } = await read();
  try {
    const n = await copyRows<unknown[]>(pg, sql, rows, line);
    await conn.end();
    return n;
  } catch (err) {
    conn.destroy();
    throw err;
  }
}

function copyIntoTargetSql(src: SourceTable, t: ChunkTarget): string {
  const cols = src.def.columns.map((c) => quoteIdent(t.naming.name(c.name)));
  return `COPY ${qualify(t.table.schema, t.table.table)} (${cols.join(', ')}) FROM STDIN`;
}

/** A source row (in definition order) → a COPY line, through the same encoder as the binlog path. */
function rowLine(src: SourceTable, t: ChunkTarget): (row: unknown[]) => string {
  const targets = src.def.columns.map((c) => {
    const col = t.table.byName.get(t.naming.name(c.name));
    if (!col) {
      throw new My2pgError('TARGET', `column "${c.name}" of ${src.def.database}.${src.def.table} does not exist in replica table ${t.table.schema}.${t.table.table}`);
    }
    const where = `${t.table.schema}.${t.table.table}.${col.name}`;
    return { col, onLoss: (reason: Parameters<LossCounter['record']>[1]) => t.losses.record(where, reason) };
  });
  const cols = src.columns;
  return (row) => {
    let line = '';
    const values: string[] = [];
    for (let i = 0; i < cols.length; i++) {
      const text = encodeValue(cols[i].kind, row[i], cols[i].charset);
      if (t.onRow) values.push(text);
      const { col, onLoss } = targets[i];
      line += `${i ? '\t' : ''}${copyField(toPgText(parseJsonValue(text), col.kind, onLoss, col.bits))}`;
    }
    t.onRow?.(values);
    return `${line}\n`;
  };
}
