// The source side of a bootstrap: how a table is read from MySQL in key ranges, with values in
// the form the row encoder expects (the same JSON as the binlog path, docs/BOOTSTRAP.md "How a
// table is copied").

import type { Connection } from 'mysql2/promise';
import { connectSource, type SourceTls } from '../source/connect.js';
import { rowColumnsFromSchema, type RowColumn } from '../source/row-encoder.js';
import { readTableSchema } from '../source/schema-reader.js';
import { My2pgError } from '../core/errors.js';
import type { TableSchema } from '../core/table-schema.js';
import type { KeyValue, KeyValues } from '../state/bootstrap-registry.js';

/** A connection whose values read exactly as the row encoder needs them: TIMESTAMP in UTC. */
export async function connectForBootstrap(url: string, tls?: SourceTls): Promise<Connection> {
  const conn = await connectSource(url, tls, { jsonStrings: true, charset: 'utf8mb4' });
  await conn.query("SET time_zone = '+00:00'");
  return conn;
}

export interface SourceTable {
  def: TableSchema;
  columns: RowColumn[];
  /** Chunk key: the primary key, else a unique key over NOT NULL columns, else none. */
  key: string[];
  rowsEstimated: number;
}

export async function describeSourceTable(conn: Connection, db: string, table: string): Promise<SourceTable> {
  const src = await findSourceTable(conn, db, table);
  if (!src) throw new My2pgError('CONFIG', `bootstrap: table ${db}.${table} does not exist in the source`);
  return src;
}

/** The table as the source holds it now; null when it no longer exists (dropped or renamed). */
export async function findSourceTable(conn: Connection, db: string, table: string): Promise<SourceTable | null> {
  const def = await readTableSchema(conn, db, table);
  if (!def) return null;
  const key = def.primaryKey.length > 0 ? def.primaryKey : await uniqueNotNullKey(conn, db, table);
  const [rows] = await conn.query('SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, table]);
  const [version] = await conn.query('SELECT VERSION() AS v');
  const server = /mariadb/i.test(String((version as Array<{ v: unknown }>)[0]?.v)) ? 'mariadb' : 'mysql';
  return { def, columns: rowColumnsFromSchema(def, server), key, rowsEstimated: Number((rows as Array<{ TABLE_ROWS: unknown }>)[0]?.TABLE_ROWS ?? 0) };
}

/** What a chunk's read depends on: the columns (names and types, in order) and the chunk key. */
export function shapeOf(src: SourceTable): string {
  return JSON.stringify([src.def.columns.map((c) => [c.name, c.columnType, c.charset]), src.key]);
}

export const sameKey = (a: string[], b: string[]): boolean => a.length === b.length && a.every((k, i) => k === b[i]);

/** The shortest unique index whose columns are all NOT NULL, or []. */
async function uniqueNotNullKey(conn: Connection, db: string, table: string): Promise<string[]> {
  const [rows] = await conn.query(
    `SELECT s.INDEX_NAME AS idx, s.COLUMN_NAME AS col, c.IS_NULLABLE AS nullable
          FROM information_schema.STATISTICS s
          JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME
          WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND s.NON_UNIQUE = 0 AND s.SUB_PART IS NULL
          ORDER BY s.INDEX_NAME, s.SEQ_IN_INDEX`,
    [db, table],
  );
  const byIndex = new Map<string, { cols: string[]; ok: boolean }>();
  for (const r of rows as Array<{ idx: string; col: string; nullable: string }>) {
    const e = byIndex.get(r.idx) ?? { cols: [], ok: true };
    e.cols.push(r.col);
    e.ok &&= r.nullable === 'NO';
    byIndex.set(r.idx, e);
  }
  const usable = [...byIndex.values()].filter((e) => e.ok).sort((a, b) => a.cols.length - b.cols.length);
  return usable[0]?.cols ?? [];
}

const q = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/** SELECT list in definition order; FLOAT read as DOUBLE so it encodes as the binlog's float does. */
export function selectList(def: TableSchema): string {
  return def.columns.map((c) => (c.type === 'float' ? `CAST(${q(c.name)} AS DOUBLE)` : q(c.name))).join(', ');
}

export function fromClause(def: TableSchema): string {
  return `${q(def.database)}.${q(def.table)}`;
}

/**
 * `key > lower AND key <= upper` for a (composite) key, as an expanded OR so every MySQL
 * version can use a range scan; either bound may be null (unbounded).
 */
export function keyRange(key: string[], lower: KeyValues | null, upper: KeyValues | null): { sql: string; params: unknown[] } {
  const sides = [lower && bound(key, lower, '>'), upper && bound(key, upper, '<')].filter((b) => b !== null);
  if (sides.length === 0) return { sql: '1=1', params: [] };
  return { sql: sides.map((b) => b.sql).join(' AND '), params: sides.flatMap((b) => b.params) };
}

/** `key > b` or `key <= b`: the leading column's bound first, so the optimiser sees a range on it. */
function bound(key: string[], b: KeyValues, op: '>' | '<'): { sql: string; params: unknown[] } {
  const params: unknown[] = [keyParam(b[0])];
  const ors: string[] = [];
  for (let i = 0; i < key.length; i++) {
    const cmp = i === key.length - 1 && op === '<' ? '<=' : op;
    ors.push(`(${[...key.slice(0, i).map((k) => `${q(k)} = ?`), `${q(key[i])} ${cmp} ?`].join(' AND ')})`);
    params.push(...b.slice(0, i + 1).map(keyParam));
  }
  return { sql: `${q(key[0])} ${op}= ? AND (${ors.join(' OR ')})`, params };
}

function keyParam(v: KeyValue): unknown {
  return v !== null && typeof v === 'object' ? Buffer.from(v.b64, 'base64') : v;
}

export function keyValue(v: unknown): KeyValue {
  if (Buffer.isBuffer(v)) return { b64: v.toString('base64') };
  if (v === null || typeof v === 'number' || typeof v === 'string') return v;
  return String(v);
}
