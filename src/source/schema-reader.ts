// Reads table definitions from the source's information_schema into TableSchema.

import type { Connection } from 'mysql2/promise';
import { hasFractionalSeconds, typeFamily } from '../core/mysql-types.js';
import type { ColumnDef, IndexDef, TableSchema } from '../core/table-schema.js';

interface ColumnRow {
  TABLE_SCHEMA: string;
  TABLE_NAME: string;
  COLUMN_NAME: string;
  DATA_TYPE: string;
  COLUMN_TYPE: string;
  IS_NULLABLE: string;
  COLUMN_DEFAULT: string | null;
  CHARACTER_MAXIMUM_LENGTH: number | string | null;
  NUMERIC_PRECISION: number | string | null;
  NUMERIC_SCALE: number | string | null;
  DATETIME_PRECISION: number | string | null;
  CHARACTER_SET_NAME: string | null;
  COLUMN_KEY: string;
  EXTRA: string | null;
}

const COLUMNS_SQL = `
  SELECT c.TABLE_SCHEMA, c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.IS_NULLABLE,
         c.COLUMN_DEFAULT, c.CHARACTER_MAXIMUM_LENGTH, c.NUMERIC_PRECISION, c.NUMERIC_SCALE,
         c.DATETIME_PRECISION, c.CHARACTER_SET_NAME, c.COLUMN_KEY, c.EXTRA
  FROM information_schema.COLUMNS c
  WHERE c.TABLE_SCHEMA = ? AND c.TABLE_NAME = ?
  ORDER BY c.ORDINAL_POSITION`;

const PK_SQL = `
  SELECT COLUMN_NAME FROM information_schema.STATISTICS
  WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY'
  ORDER BY SEQ_IN_INDEX`;

const INDEX_SQL = `
  SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE
  FROM information_schema.STATISTICS
  WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME <> 'PRIMARY'
  ORDER BY INDEX_NAME, SEQ_IN_INDEX`;

const TABLE_SQL = `
  SELECT ccsa.CHARACTER_SET_NAME AS charset
  FROM information_schema.TABLES t
  LEFT JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY ccsa ON ccsa.COLLATION_NAME = t.TABLE_COLLATION
  WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = ?`;

/** The table's current definition, or null when it does not exist (any more). */
export async function readTableSchema(conn: Connection, database: string, table: string): Promise<TableSchema | null> {
  const [tables] = await conn.query(TABLE_SQL, [database, table]);
  const t = (tables as Array<{ charset: string | null }>)[0];
  if (!t) return null;
  const [cols] = await conn.query(COLUMNS_SQL, [database, table]);
  const [pk] = await conn.query(PK_SQL, [database, table]);
  const json = await mariadbJsonColumns(conn, database, table);
  const [idx] = await conn.query(INDEX_SQL, [database, table]);
  return {
    database,
    table,
    charset: t.charset,
    columns: (cols as ColumnRow[]).map((r) => {
      const def = toColumnDef(r);
      return json.has(def.name) ? { ...def, type: 'json', columnType: 'json', charset: null, length: null } : def;
    }),
    primaryKey: (pk as Array<{ COLUMN_NAME: string }>).map((r) => r.COLUMN_NAME),
    indexes: toIndexes(idx as IndexRow[]),
  };
}

interface IndexRow {
  INDEX_NAME: string;
  NON_UNIQUE: number | string;
  COLUMN_NAME: string | null;
  SUB_PART: number | string | null;
  INDEX_TYPE: string;
}

/** Secondary indexes in the shape the DDL evolver keeps (a functional key part has no column). */
function toIndexes(rows: IndexRow[]): IndexDef[] {
  const out: IndexDef[] = [];
  for (const r of rows) {
    let idx = out.find((i) => i.name === r.INDEX_NAME);
    if (!idx) {
      idx = { name: r.INDEX_NAME, unique: Number(r.NON_UNIQUE) === 0, columns: [] };
      const kind = r.INDEX_TYPE.toLowerCase();
      if (kind === 'fulltext' || kind === 'spatial') idx.kind = kind;
      out.push(idx);
    }
    const sub = intOrNull(r.SUB_PART);
    if (sub !== null || idx.prefixLengths) idx.prefixLengths = [...(idx.prefixLengths ?? idx.columns.map(() => null)), sub];
    idx.columns.push(r.COLUMN_NAME ?? '');
  }
  return out;
}

/**
 * MariaDB's JSON is LONGTEXT with a `json_valid(col)` check: such columns are JSON to us, as
 * they are to MySQL (docs/TYPES.md). MySQL has no CHECK_CONSTRAINTS rows of that shape.
 */
async function mariadbJsonColumns(conn: Connection, database: string, table: string): Promise<Set<string>> {
  let rows: unknown;
  try {
    [rows] = await conn.query(
      'SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?',
      [database, table],
    );
  } catch {
    return new Set(); // servers without CHECK_CONSTRAINTS.TABLE_NAME
  }
  const out = new Set<string>();
  for (const { clause } of rows as Array<{ clause: string }>) {
    const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(clause.trim());
    if (m) out.add(m[1].replace(/``/g, '`'));
  }
  return out;
}

/** Names of the base tables of a database. */
export async function listTables(conn: Connection, database: string): Promise<string[]> {
  const [rows] = await conn.query(
    "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [database],
  );
  return (rows as Array<{ name: string }>).map((r) => r.name);
}

/**
 * What tables inherit their character set from: each database's default and the server's
 * (`@@character_set_server`, the default of a CREATE DATABASE that names none).
 */
export async function readCharsetDefaults(conn: Connection): Promise<{ databases: Map<string, string>; server: string | null }> {
  const [rows] = await conn.query('SELECT SCHEMA_NAME AS name, DEFAULT_CHARACTER_SET_NAME AS cs FROM information_schema.SCHEMATA');
  const [server] = await conn.query('SELECT @@character_set_server AS cs');
  return {
    databases: new Map((rows as Array<{ name: string; cs: string | null }>).filter((r) => r.cs !== null).map((r) => [r.name, r.cs!])),
    server: (server as Array<{ cs: string | null }>)[0]?.cs ?? null,
  };
}

export async function listDatabases(conn: Connection): Promise<string[]> {
  const [rows] = await conn.query('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA ORDER BY SCHEMA_NAME');
  return (rows as Array<{ name: string }>).map((r) => r.name);
}

/** The default character set of a database (null when unknown). */
export async function databaseCharset(conn: Connection, database: string): Promise<string | null> {
  const [rows] = await conn.query('SELECT DEFAULT_CHARACTER_SET_NAME AS cs FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]);
  return (rows as Array<{ cs: string }>)[0]?.cs ?? null;
}

function toColumnDef(r: ColumnRow): ColumnDef {
  const type = r.DATA_TYPE.toLowerCase();
  const columnType = r.COLUMN_TYPE.toLowerCase();
  return {
    name: r.COLUMN_NAME,
    type,
    columnType: r.COLUMN_TYPE,
    nullable: r.IS_NULLABLE === 'YES',
    default: normaliseDefault(r.COLUMN_DEFAULT),
    unsigned: /\bunsigned\b/.test(columnType),
    charset: r.CHARACTER_SET_NAME,
    length: type === 'bit' ? intOrNull(r.NUMERIC_PRECISION) : intOrNull(r.CHARACTER_MAXIMUM_LENGTH),
    precision: type === 'bit' ? null : intOrNull(r.NUMERIC_PRECISION),
    scale: intOrNull(r.NUMERIC_SCALE),
    fsp: hasFractionalSeconds(typeFamily(type)) ? intOrNull(r.DATETIME_PRECISION) ?? 0 : null,
    values: type === 'enum' || type === 'set' ? parseValueList(r.COLUMN_TYPE) : null,
    ...defaultKind(r),
    ...(/\bauto_increment\b/i.test(r.EXTRA ?? '') ? { autoIncrement: true } : {}),
  };
}

/**
 * MySQL 8 marks expression defaults DEFAULT_GENERATED; MariaDB quotes literal strings. Otherwise
 * the kind stays open and the translator decides from the text (src/ddl/pg-default.ts).
 */
function defaultKind(r: ColumnRow): Pick<ColumnDef, 'defaultKind'> {
  if (r.COLUMN_DEFAULT === null || r.COLUMN_DEFAULT === 'NULL') return {};
  if (/\bDEFAULT_GENERATED\b/i.test(r.EXTRA ?? '')) return { defaultKind: 'expression' };
  if (/^'.*'$/s.test(r.COLUMN_DEFAULT)) return { defaultKind: 'literal' };
  return {};
}

/** MariaDB reports NULL defaults as the text NULL and quotes string literals; MySQL does neither. */
function normaliseDefault(d: string | null): string | null {
  if (d === null || d === 'NULL') return null;
  const m = /^'(.*)'$/s.exec(d);
  return m ? m[1].replace(/''/g, "'").replace(/\\\\/g, '\\') : d;
}

function intOrNull(v: number | string | null): number | null {
  return v === null ? null : Number(v);
}

/** enum('a','b''c') → ['a', "b'c"] */
export function parseValueList(columnType: string): string[] {
  const body = columnType.slice(columnType.indexOf('(') + 1, columnType.lastIndexOf(')'));
  const out: string[] = [];
  const re = /'((?:[^']|'')*)'/g;
  for (let m = re.exec(body); m; m = re.exec(body)) out.push(m[1].replace(/''/g, "'"));
  return out;
}
