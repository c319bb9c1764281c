// Copies one chunk: reads its key range from MySQL and COPYs it into the replica, straight into
// the target when no key is there yet, through staging and a merge otherwise. One Postgres
// transaction per chunk, holding the table's bootstrap lock from before the read until commit,
// so no change committed after the read is applied before the chunk (docs/BOOTSTRAP.md).

import type { Connection } from 'mysql2/promise';
import type { ClientBase } from 'pg';
import { encodeJsonValue, encodeValue, isJsonNull, jsonValueOf, type EncodeKind } from '../source/row-encoder.js';
import { My2pgError } from '../core/errors.js';
import type { JsonValue } from '../core/events.js';
import type { LossCounter } from '../target/loss-counter.js';
import { copyIntoTarget, planMerge, type MergeTable } from '../target/merge-planner.js';
import type { TargetColumn, TargetTable } from '../target/catalog.js';
import { COPY_CHUNK } from '../target/copy.js';
import { from as copyFrom } from 'pg-copy-streams';
import type { Dialect } from '../target/dialect.js';
import type { Naming } from '../target/naming.js';
import { copyField, toPgText } from '../target/pg-value.js';
import { qualify } from '../target/quote.js';
import { fromClause, keyRange, selectList, type SourceTable } from './source-table.js';
import { lockBootstrappedTable, lockChunk, markChunkDone, type BootstrapTable } from '../state/bootstrap-registry.js';

export interface ChunkTarget {
  pg: ClientBase;
  table: TargetTable;
  dialect: Dialect;
  naming: Naming;
  losses: LossCounter;
  /** The chunk's bootstrap-insert events (`bootstrap --kafka`), sent before the chunk commits. */
  events?: ChunkEvents;
  /** Whether the source table still has the shape it was read in; asked once the read is through. */
  unchanged?: () => Promise<boolean>;
}

/** The source table changed shape while a chunk read it: the chunk is read again. */
export class SourceReshaped extends Error {
  constructor() {
    super('the source table changed shape during the chunk read');
  }
}

/** A chunk's bootstrap events: its rows as they are read, sent once the copy is through. */
export interface ChunkEvents {
  /** Takes each row's encoded values (JSON text per column), in definition order, and the JSON columns holding JSON's `null` (when any). */
  readonly row: (values: string[], jsonNulls?: string[]) => void;
  /** Forgets the rows taken so far: the chunk is read again. */
  discard(): void;
  /** Sends the rows taken; resolves once Kafka acknowledged every one. */
  send(): Promise<void>;
}

export interface ChunkResult {
  rows: number;
  /** How the rows went in: `direct` into the target, `merge` through staging, or `skipped` (already done). */
  path: 'direct' | 'merge' | 'skipped';
}

/**
 * Copies chunk `chunkNo` of `b` and marks it done, atomically, once Kafka acknowledged its events
 * (if any). `source` opens a fresh MySQL connection (a failed read leaves its connection
 * unusable). `tryDirect` false forces staging.
 */
export async function copyChunk(
  source: () => Promise<Connection>,
  src: SourceTable,
  b: BootstrapTable,
  chunkNo: number,
  t: ChunkTarget,
  /** Who copies it (`host:pid:slot`), recorded in the chunk's `worker` column. */
  copier: string,
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
    // The replica's table narrowed to the source's columns, in the source's order.
    const table = { ...t.table, columns: targetColumns(src, t) };
    const line = rowLine(src, table.columns, t);
    let result: ChunkResult | null = null;
    if (src.key.length === 0 && t.table.primaryKey.length === 0) {
      // One pass over a table without a usable key: the copy replaces the replica's rows.
      await pg.query(`DELETE FROM ${qualify(t.table.schema, t.table.table)}`);
      result = { rows: await copyRange(pg, copyIntoTarget(table), read, line), path: 'direct' };
    } else if (tryDirect && t.table.primaryKey.length > 0) {
      result = await tryDirectCopy(pg, copyIntoTarget(table), read, line);
      if (!result) t.events?.discard(); // read again, into staging
    }
    // Staging merges by the replica's primary key, or by the chunk key when it has none.
    const mergeKey = table.primaryKey.length > 0 ? table.primaryKey : src.key.map((k) => t.naming.name(k));
    result ??= await mergeThroughStaging({ ...table, primaryKey: mergeKey }, t, read, line, chunkNo);
    // A schema change that committed between the description and the read (ALTER TABLE waits
    // for a running read, so none can land inside it) would leave columns out of the rows.
    if (t.unchanged && !(await t.unchanged())) throw new SourceReshaped();
    // Not done before its events are in Kafka: a failed send leaves the chunk to do again.
    await t.events?.send();
    await markChunkDone(pg, b.sourceDb, b.sourceTable, chunkNo, result.rows, copier);
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

/** Through staging and apply's merge, keyed by `table.primaryKey` (the chunk key without one). */
async function mergeThroughStaging(
  table: MergeTable,
  t: ChunkTarget,
  read: () => Promise<RangeRead>,
  line: (r: unknown[]) => string,
  chunkNo: number,
): Promise<ChunkResult> {
  const plan = planMerge(table, `_my2pg_chunk_${chunkNo}`, t.dialect);
  await t.pg.query(plan.createStaging);
  const rows = await copyRange(t.pg, plan.copyIntoStaging, read, (r) => `U\t${line(r)}`);
  await t.pg.query(plan.deleteMatched);
  await t.pg.query(plan.insertUpserts);
  return { rows, path: 'merge' };
}

/** A started SELECT of a chunk's range: its rows arrive as 'result' events. */
interface RangeRead {
  conn: Connection;
  raw: import('mysql2').Connection;
  query: import('mysql2').Query;
}

async function readRange(source: () => Promise<Connection>, src: SourceTable, b: BootstrapTable, lower: BootstrapTable['plannedUpto'], upper: BootstrapTable['plannedUpto']): Promise<RangeRead> {
  const conn = await source();
  const range = src.key.length > 0 ? keyRange(src.key, lower, upper) : { sql: '1=1', params: [] };
  const sql = `SELECT ${selectList(src.def)} FROM ${fromClause(src.def)} WHERE ${range.sql}${b.where ? ` AND (${b.where})` : ''}`;
  // The callback API underneath: rows as events, and pause()/resume() for backpressure.
  const raw = (conn as unknown as { connection: import('mysql2').Connection }).connection;
  return { conn, raw, query: raw.query({ sql, values: range.params, rowsAsArray: true }) };
}

/**
 * Runs a read into a COPY: rows become lines, sent in chunks of about 64 KiB; the MySQL
 * connection pauses while Postgres catches up. The connection is closed either way (destroyed
 * on failure, which also aborts the COPY). Resolves to the number of rows.
 */
async function copyRange(pg: ClientBase, sql: string, read: () => Promise<RangeRead>, line: (r: unknown[]) => string): Promise<number> {
  const { conn, raw, query } = await read();
  const copy = pg.query(copyFrom(sql));
  let n = 0;
  let buf = '';
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (err: Error) => {
        if (failed) return;
        failed = true;
        copy.destroy(err);
        reject(err);
      };
      query.on('result', (row) => {
        if (failed) return;
        n++;
        try {
          buf += line(row as unknown as unknown[]);
        } catch (err) {
          return fail(err as Error);
        }
        if (buf.length < COPY_CHUNK) return;
        if (!copy.write(buf)) {
          raw.pause();
          copy.once('drain', () => raw.resume());
        }
        buf = '';
      });
      query.on('error', fail);
      query.on('end', () => copy.end(buf || undefined));
      copy.on('error', reject);
      copy.on('finish', resolve);
    });
    await conn.end();
    return n;
  } catch (err) {
    conn.destroy();
    throw err;
  }
}

/** The replica column of each source column, in definition order; a missing one is an error. */
function targetColumns(src: SourceTable, t: ChunkTarget): TargetColumn[] {
  return src.def.columns.map((c) => {
    const col = t.table.byName.get(t.naming.name(c.name));
    if (!col) {
      throw new My2pgError('TARGET', `column "${c.name}" of ${src.def.database}.${src.def.table} does not exist in replica table ${t.table.schema}.${t.table.table}`);
    }
    return col;
  });
}

const PLAIN_SOURCE_KINDS = new Set<EncodeKind>(['integer', 'decimal', 'float', 'double', 'year', 'bit', 'temporal']);

/** A source row (in definition order) → a COPY line, through the same encoder as the binlog path. */
function rowLine(src: SourceTable, columns: TargetColumn[], t: ChunkTarget): (row: unknown[]) => string {
  const targets = columns.map((col, i) => {
    const where = `${t.table.schema}.${t.table.table}.${col.name}`;
    // Numbers and temporals as MySQL formats them never hold a tab, newline or backslash.
    const plain = PLAIN_SOURCE_KINDS.has(src.columns[i].kind);
    return { col, plain, onLoss: (reason: Parameters<LossCounter['record']>[1]) => t.losses.record(where, reason) };
  });
  const cols = src.columns;
  const field = (i: number, v: JsonValue): string => {
    const { col, plain, onLoss } = targets[i];
    const pg = toPgText(v, col.kind, onLoss, col.bits);
    return pg === null ? '\\N' : plain ? pg : copyField(pg);
  };
  const onRow = t.events?.row;
  if (!onRow) {
    // Only the replica wants the row: its values without the JSON text in between.
    return (row) => {
      let line = field(0, encodeJsonValue(cols[0].kind, row[0], cols[0].charset));
      for (let i = 1; i < cols.length; i++) line += `\t${field(i, encodeJsonValue(cols[i].kind, row[i], cols[i].charset))}`;
      return `${line}\n`;
    };
  }
  return (row) => {
    let line = '';
    const values: string[] = [];
    let jsonNulls: string[] | undefined;
    for (let i = 0; i < cols.length; i++) {
      const { kind, charset, name } = cols[i];
      const text = encodeValue(kind, row[i], charset);
      values.push(text);
      if (isJsonNull(kind, row[i], text)) (jsonNulls ??= []).push(name);
      line += `${i ? '\t' : ''}${field(i, jsonValueOf(kind, row[i], text))}`;
    }
    onRow(values, jsonNulls);
    return `${line}\n`;
  };
}
