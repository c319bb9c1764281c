// Compares a MySQL table with its replica row for row, each value rendered to a canonical text
// on both servers (so a difference in meaning shows up, a difference in output format does not).

import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { testSource } from './servers.js';

interface SourceColumn {
  name: string;
  dataType: string;
  columnType: string;
}

const BINARY_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);
const GEOMETRY_TYPES = new Set(['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection']);
const ZERO_DATE = /^0000-|^\d{4}-00-|^\d{4}-\d{2}-00/;

const myIdent = (name: string) => `\`${name.replace(/`/g, '``')}\``;
const pgIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

function mysqlExpr(c: SourceColumn): string {
  const q = myIdent(c.name);
  if (BINARY_TYPES.has(c.dataType)) return `LOWER(HEX(${q}))`;
  switch (c.dataType) {
    case 'datetime':
    case 'timestamp':
      return `DATE_FORMAT(${q}, '%Y-%m-%d %H:%i:%s.%f')`;
    case 'bit':
      return `LPAD(BIN(${q} + 0), ${/\((\d+)\)/.exec(c.columnType)?.[1] ?? 1}, '0')`;
    case 'float':
      return `CAST(CAST(${q} AS DOUBLE) AS CHAR)`;
    default:
      return GEOMETRY_TYPES.has(c.dataType) ? `ST_AsText(${q})` : `CAST(${q} AS CHAR)`;
  }
}

function pgExpr(c: SourceColumn, target: string): string {
  const q = pgIdent(target);
  if (BINARY_TYPES.has(c.dataType)) return `encode(${q}, 'hex')`;
  switch (c.dataType) {
    case 'datetime':
      return `to_char(${q}, 'YYYY-MM-DD HH24:MI:SS.US')`;
    case 'timestamp':
      return `to_char(${q} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`;
    case 'set':
      return `array_to_string(${q}, ',')`;
    case 'float':
      return `(${q}::double precision)::text`;
    default:
      return `${q}::text`;
  }
}

/** Canonical form of a value rendered by either server. */
function canon(dataType: string, v: unknown): string {
  if (v === null || v === undefined) return '∅';
  let s = String(v);
  // docs/TYPES.md: zero and partial-zero dates become NULL in the replica.
  if ((dataType === 'date' || dataType === 'datetime' || dataType === 'timestamp') && ZERO_DATE.test(s)) return '∅';
  if (dataType === 'year') return String(Number(s));
  if (GEOMETRY_TYPES.has(dataType)) return s.replace(/\s+/g, '');
  if (dataType === 'datetime' || dataType === 'timestamp') s = s.replace(/\.?0+$/, '');
  if (dataType === 'json') s = sortedJson(JSON.parse(s));
  if (dataType === 'time') s = normaliseTime(s);
  if (dataType === 'float' || dataType === 'double') s = String(Number(s));
  return s;
}

/** JSON with object keys sorted (jsonb reorders them). */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${sortedJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** MySQL TIME and Postgres interval both as signed total seconds. */
function normaliseTime(s: string): string {
  const m = /^(-)?(?:(\d+) days? )?(-)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(s);
  if (!m) return s;
  const secs = Number(m[2] ?? 0) * 86400 + Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]);
  return `${m[1] || m[3] ? '-' : ''}${secs}`;
}

export async function sourceColumns(conn: mysql.Connection, db: string, table: string): Promise<SourceColumn[]> {
  const [rows] = await conn.query(
    'SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [db, table],
  );
  // MariaDB's JSON is LONGTEXT with a json_valid() check, which my2pg replicates as jsonb
  // (MySQL's JSON is its own type, and its CHECK_CONSTRAINTS has no TABLE_NAME).
  if (testSource() === 'mysql') return rows as SourceColumn[];
  const [checks] = await conn.query('SELECT CHECK_CLAUSE AS c FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?', [db, table]);
  const json = new Set((checks as Array<{ c: string }>).map((r) => /^json_valid\(`(.+)`\)$/.exec(r.c)?.[1]).filter(Boolean));
  return (rows as SourceColumn[]).map((c) => (json.has(c.name) ? { ...c, dataType: 'json' } : c));
}

/** Rows of both sides as sorted canonical lines; equal lists mean equal tables (duplicates count). */
export async function tableSnapshots(
  conn: mysql.Connection,
  client: pg.Client,
  db: string,
  table: string,
): Promise<{ source: string[]; replica: string[] }> {
  const cols = await sourceColumns(conn, db, table);
  const [srows] = await conn.query({
    sql: `SELECT ${cols.map(mysqlExpr).join(', ')} FROM ${myIdent(db)}.${myIdent(table)}`,
    rowsAsArray: true,
  });
  const source = (srows as unknown[][]).map((r) => r.map((v, i) => canon(cols[i].dataType, v)).join('|')).sort();
  const res = await client.query({
    text: `SELECT ${cols.map((c) => pgExpr(c, c.name.toLowerCase())).join(', ')} FROM ${pgIdent(db.toLowerCase())}.${pgIdent(table.toLowerCase())}`,
    rowMode: 'array',
  });
  const replica = (res.rows as unknown[][]).map((r) => r.map((v, i) => canon(cols[i].dataType, v)).join('|')).sort();
  return { source, replica };
}
