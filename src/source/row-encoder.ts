// The row encoder: decoded MySQL column values → Maxwell JSON values (docs/EVENTS.md). Each
// column's value is serialised once, so numbers never pass through a JS number they don't fit.

import type { TableMapEntry } from './zongji.js';
import iconv from 'iconv-lite';
import { jacksonString, javaBigDecimalString, javaFloatingString } from '../core/java-format.js';
import { JSON_NULL, JsonNumber, type JsonValue } from '../core/events.js';
import { parseJsonValue } from '../core/json.js';
import { mysqlBinaryJsonText, mysqlJsonTextAsMaxwell } from '../core/mysql-json.js';
import { typeFamily, type TypeFamily } from '../core/mysql-types.js';
import type { TableSchema } from '../core/table-schema.js';

/** How a column's decoded value becomes JSON. */
export type EncodeKind =
  | 'integer'
  | 'float'
  | 'double'
  | 'decimal'
  | 'string'
  /** Text read as raw bytes, decoded here in the column's charset (see markRawText). */
  | 'rawtext'
  | 'enum'
  | 'binary'
  | 'bit'
  | 'year'
  | 'set'
  /** A JSON document stored as text (MariaDB's JSON), written as stored. */
  | 'json'
  /** MySQL's JSON type: its binary form from the binlog, or MySQL's text from SELECT. */
  | 'mysql-json'
  | 'geometry'
  | 'temporal';

export interface RowColumn {
  name: string;
  kind: EncodeKind;
  /** Character set of a `rawtext` column. */
  charset?: string;
  /** `"name":`, the column's member prefix in the `data` object (computed once per table). */
  label: string;
}

export function rowColumn(name: string, kind: EncodeKind, charset?: string): RowColumn {
  return charset === undefined ? { name, kind, label: `${jacksonString(name)}:` } : { name, kind, charset, label: `${jacksonString(name)}:` };
}

export interface EncodedRow {
  /** The whole `data` object as JSON text, in column order. */
  json: string;
  /** Each column's JSON text. */
  values: Record<string, string>;
  /** JSON columns whose value is JSON's `null` literal, not SQL NULL (absent when none). */
  jsonNulls?: string[];
}

// MySQL binlog column type codes (include/field_types.h).
const T = {
  DECIMAL: 0, TINY: 1, SHORT: 2, LONG: 3, FLOAT: 4, DOUBLE: 5, NULL: 6, TIMESTAMP: 7, LONGLONG: 8, INT24: 9,
  DATE: 10, TIME: 11, DATETIME: 12, YEAR: 13, NEWDATE: 14, VARCHAR: 15, BIT: 16, TIMESTAMP2: 17, DATETIME2: 18,
  TIME2: 19, JSON: 245, NEWDECIMAL: 246, ENUM: 247, SET: 248, TINY_BLOB: 249, MEDIUM_BLOB: 250, LONG_BLOB: 251,
  BLOB: 252, VAR_STRING: 253, STRING: 254, GEOMETRY: 255,
} as const;

const columnCache = new WeakMap<TableMapEntry, RowColumn[]>();
const rawText = new WeakMap<TableMapEntry, Set<string>>();
const binaryJson = new WeakMap<TableMapEntry, Set<string>>();

const MYSQL_GEOMETRY = 255;
const TEXT_TYPES = new Set([15, 253, 254, 249, 250, 251, 252]);

/**
 * Works around a decoding fault of the binlog reader on MariaDB: MariaDB lists GEOMETRY columns
 * among the character columns of its table-map metadata and the reader does not, so every text
 * column after a GEOMETRY column gets its neighbour's charset (utf8mb4 text came out as base64,
 * latin1 as U+FFFD). Called synchronously when a table map arrives, before its rows are decoded:
 * the string and blob columns after it are switched to raw bytes, which the encoder decodes in
 * the charset the schema gives, or keeps as binary (`rowColumns(…, charsets)`).
 */
export function markRawText(entry: TableMapEntry): void {
  const cols = entry.columns ?? [];
  const firstGeometry = cols.findIndex((c) => c.type === MYSQL_GEOMETRY);
  if (firstGeometry < 0) return;
  const names = new Set<string>();
  cols.forEach((c, i) => {
    const schema = entry.columnSchemas[i];
    const columnType = (schema?.COLUMN_TYPE ?? '').toLowerCase();
    // Binary columns too: after the shift the reader cannot tell them from text; the schema can.
    if (i <= firstGeometry || !TEXT_TYPES.has(c.type) || /^(enum|set)\(/.test(columnType)) return;
    names.add(c.name);
    c.charset = null; // TEXT/BLOB: raw bytes
    if (schema) schema.COLUMN_TYPE = 'varbinary(65535)'; // CHAR/VARCHAR: raw bytes
  });
  if (names.size > 0) rawText.set(entry, names);
}

/**
 * Makes the binlog reader hand over MySQL's JSON columns as their binary form, which the encoder
 * prints as Maxwell does (src/core/mysql-json.ts): the reader's own JSON text cannot be made
 * Maxwell's, since it prints a double holding 100 as `100`, like the integer. Called
 * synchronously when a table map arrives (MySQL only), before its rows are decoded: the JSON
 * columns are read as the BLOBs they are stored like (the same length prefix).
 */
export function markBinaryJson(entry: TableMapEntry): void {
  const names = new Set<string>();
  for (const c of entry.columns ?? []) {
    if (c.type !== T.JSON) continue;
    c.type = T.BLOB;
    c.charset = null;
    names.add(c.name);
  }
  if (names.size > 0) binaryJson.set(entry, names);
}

/**
 * Describes the columns of a binlog table map for encoding (cached per table map).
 * `jsonColumns` names text columns that hold JSON documents (MariaDB's JSON).
 */
export function rowColumns(
  entry: TableMapEntry,
  jsonColumns: ReadonlySet<string> = new Set(),
  charsets: ReadonlyMap<string, string | null> = new Map(),
): RowColumn[] {
  let cols = columnCache.get(entry);
  if (!cols) {
    const schemas = entry.columnSchemas;
    const raw = rawText.get(entry);
    const binary = binaryJson.get(entry);
    cols = (entry.columns ?? []).map((c, i): RowColumn => {
      if (binary?.has(c.name)) return rowColumn(c.name, 'mysql-json');
      if (jsonColumns.has(c.name)) return rowColumn(c.name, 'json');
      if (raw?.has(c.name)) {
        const charset = charsets.get(c.name);
        return charset ? rowColumn(c.name, 'rawtext', charset) : rowColumn(c.name, 'binary');
      }
      return rowColumn(c.name, kindOf(c.type, (schemas[i]?.COLUMN_TYPE ?? '').toLowerCase(), c.charset));
    });
    columnCache.set(entry, cols);
  }
  return cols;
}

/** The encoding of each family of column types (the others are strings). */
const KIND_BY_FAMILY: Partial<Record<TypeFamily, EncodeKind>> = {
  integer: 'integer', year: 'year', float: 'float', double: 'double', decimal: 'decimal', bit: 'bit', json: 'json', set: 'set',
  enum: 'enum', date: 'temporal', datetime: 'temporal', timestamp: 'temporal', time: 'temporal', binary: 'binary', blob: 'binary',
  geometry: 'geometry',
};

/**
 * Describes a table's columns for encoding from its definition, for rows read with SELECT
 * (bootstrap). Values must come as the binlog reader gives them (mysql2 with dateStrings,
 * supportBigNumbers, bigNumberStrings and jsonStrings, session time_zone '+00:00', FLOAT
 * selected as DOUBLE), so that a row reads the same either way (docs/EVENTS.md, "Bootstrap
 * events"). `server` says whose JSON columns these are: MySQL's JSON text is normalised to what
 * the binlog path writes, MariaDB's is written as stored.
 */
export function rowColumnsFromSchema(def: TableSchema, server: 'mysql' | 'mariadb'): RowColumn[] {
  return def.columns.map((c) => {
    if (c.type === 'json') return rowColumn(c.name, server === 'mysql' ? 'mysql-json' : 'json');
    return rowColumn(c.name, KIND_BY_FAMILY[typeFamily(c.type) ?? 'mariadb'] ?? (c.charset === 'binary' ? 'binary' : 'string'));
  });
}

function kindOf(type: number, columnType: string, charset: string | null): EncodeKind {
  if (columnType.startsWith('set(') || type === T.SET) return 'set';
  if (columnType.startsWith('enum(') || type === T.ENUM) return 'enum';
  switch (type) {
    case T.TINY:
    case T.SHORT:
    case T.LONG:
    case T.LONGLONG:
    case T.INT24:
      return 'integer';
    case T.YEAR:
      return 'year';
    case T.FLOAT:
      return 'float';
    case T.DOUBLE:
      return 'double';
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return 'decimal';
    case T.BIT:
      return 'bit';
    case T.JSON:
      return 'mysql-json';
    case T.GEOMETRY:
      return 'geometry';
    case T.DATE:
    case T.TIME:
    case T.TIME2:
    case T.DATETIME:
    case T.DATETIME2:
    case T.TIMESTAMP:
    case T.TIMESTAMP2:
    case T.NEWDATE:
      return 'temporal';
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB:
      return charset === null ? 'binary' : 'string';
    default:
      return /binary|blob/.test(columnType) || charset === 'binary' ? 'binary' : 'string';
  }
}

/** Encodes one row image, given as decoded by the binlog reader. */
export function encodeRow(cols: RowColumn[], row: Record<string, unknown>): EncodedRow {
  const values: Record<string, string> = {};
  let jsonNulls: string[] | undefined;
  let json = '{';
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i];
    const raw = row[c.name];
    const v = encodeValue(c.kind, raw, c.charset);
    values[c.name] = v;
    if (isJsonNull(c.kind, raw, v)) (jsonNulls ??= []).push(c.name);
    json += i ? `,${c.label}${v}` : `${c.label}${v}`;
  }
  return jsonNulls ? { json: `${json}}`, values, jsonNulls } : { json: `${json}}`, values };
}

/**
 * Whether a value is JSON's `null` literal in a JSON column: encoded `null` like SQL NULL, but
 * read as the text `null` (MariaDB's stored text, white space around it included, and MySQL's
 * JSON, whose empty binary value MySQL reads as null too).
 */
export function isJsonNull(kind: EncodeKind, v: unknown, text: string): boolean {
  return (kind === 'json' || kind === 'mysql-json') && v !== null && v !== undefined && text.trim() === 'null';
}

/** The columns whose value differs between two images of a row (JSON null is not SQL NULL). */
export function changedColumns(names: string[], before: EncodedRow, after: EncodedRow): string[] {
  const jsonNull = (r: EncodedRow, c: string) => r.jsonNulls?.includes(c) ?? false;
  return names.filter((c) => before.values[c] !== after.values[c] || jsonNull(before, c) !== jsonNull(after, c));
}

export function encodeValue(kind: EncodeKind, v: unknown, charset?: string): string {
  // The reader gives undefined for ENUM index 0, MySQL's '' for an invalid value.
  if (v === undefined && kind === 'enum') return '""';
  if (v === null || v === undefined) return 'null';
  switch (kind) {
    case 'integer':
      return String(v);
    case 'decimal':
      return javaBigDecimalString(String(v));
    case 'year':
      // The binlog stores YEAR as an offset from 1900, and 0 for the year 0000.
      return v === 1900 ? '0' : String(v);
    case 'float':
      return finite(v as number, true);
    case 'double':
      return finite(v as number, false);
    case 'bit':
      return Buffer.isBuffer(v) ? bitsToNumber(v) : String(v);
    case 'binary':
      return `"${(Buffer.isBuffer(v) ? v : Buffer.from(String(v))).toString('base64')}"`;
    case 'set':
      return `[${v === '' ? '' : String(v).split(',').map(jacksonString).join(',')}]`;
    case 'json':
      // MariaDB's text, as stored (Maxwell passes it through).
      return Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'string' ? v : JSON.stringify(v);
    case 'mysql-json':
      if (Buffer.isBuffer(v)) return mysqlBinaryJsonText(v);
      return typeof v === 'string' ? mysqlJsonTextAsMaxwell(v) : JSON.stringify(v);
    case 'geometry':
      return jacksonString(toWkt(v));
    case 'rawtext':
      return jacksonString(Buffer.isBuffer(v) ? decodeText(v, charset ?? 'utf8mb4') : String(v));
    case 'temporal':
      return jacksonString(temporalText(v));
    case 'enum':
    case 'string':
      return jacksonString(Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
  }
}

/**
 * The value `parseJsonValue(encodeValue(kind, v))` gives, without writing and reading the JSON
 * text for the kinds where that is only escaping: numbers as their exact text, strings as
 * themselves, and JSON_NULL for JSON's `null` (bootstrap's COPY path;
 * test/unit/row-encoder.test.ts checks they agree).
 */
export function encodeJsonValue(kind: EncodeKind, v: unknown, charset?: string): JsonValue {
  switch (kind) {
    case 'integer':
    case 'decimal':
    case 'year':
    case 'float':
    case 'double':
    case 'bit': {
      const text = encodeValue(kind, v, charset);
      return text === 'null' ? null : new JsonNumber(text);
    }
    case 'temporal':
      return v === null || v === undefined ? null : temporalText(v);
    case 'string':
    case 'enum':
      if (v === undefined && kind === 'enum') return '';
      if (v === null || v === undefined) return null;
      return Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
    default:
      return jsonValueOf(kind, v, encodeValue(kind, v, charset));
  }
}

/** A value's encoded JSON text read back: JSON_NULL for JSON's `null`, SQL NULL as null. */
export function jsonValueOf(kind: EncodeKind, v: unknown, text: string): JsonValue {
  if (isJsonNull(kind, v, text)) return JSON_NULL;
  // MariaDB's stored text may have white space around the value.
  return parseJsonValue(kind === 'json' ? text.trim() : text);
}

/** A DATE, DATETIME, TIMESTAMP or TIME value as text; only a negative TIME starts with '-'. */
function temporalText(v: unknown): string {
  const s = String(v);
  return s.charCodeAt(0) === 45 ? negativeTime(s) : s;
}

/**
 * Repairs the binlog reader's negative TIME: it negates the stored value by flipping its bits and
 * adding 1 to the seconds, without carrying, so a whole minute or hour comes out as seconds 64
 * and minutes 63 (`-01:00:00` as `-00:63:64`; classic TIME as 100 and 99). Carrying restores the
 * value; a value already in range is returned as it is (mysql2 for bootstrap gives it right).
 */
function negativeTime(s: string): string {
  const m = /^-(\d+):(\d\d):(\d+)(\.\d+)?$/.exec(s);
  if (!m || (Number(m[2]) < 60 && Number(m[3]) < 60)) return s;
  let [h, min, sec] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (sec >= 60) [sec, min] = [0, min + 1];
  if (min >= 60) [min, h] = [0, h + 1];
  const two = (n: number) => String(n).padStart(2, '0');
  return `-${two(h)}:${two(min)}:${two(sec)}${m[4] ?? ''}`;
}

/** MySQL charset names that iconv-lite knows by another name. */
const ICONV_NAMES: Record<string, string> = {
  utf8mb3: 'utf8', utf8mb4: 'utf8', utf8: 'utf8', latin1: 'cp1252', ucs2: 'utf16-be', utf16: 'utf16-be',
  utf16le: 'utf16-le', utf32: 'utf32-be', ujis: 'eucjp', eucjpms: 'eucjp', macce: 'maccenteuro',
};

function decodeText(b: Buffer, charset: string): string {
  return iconv.decode(b, ICONV_NAMES[charset] ?? charset, { stripBOM: false });
}

/** FLOAT and DOUBLE as Java prints them (FLOAT never widened: 1.1, not 1.100000023841858). */
function finite(v: number, float: boolean): string {
  return Number.isFinite(v) ? javaFloatingString(v, float) : 'null';
}

function bitsToNumber(b: Buffer): string {
  let n = 0n;
  for (const byte of b) n = (n << 8n) | BigInt(byte);
  return n.toString();
}

type Point = { x: number; y: number };

/** The reader's decoded geometry → WKT as Maxwell (JTS) writes it: `POINT (1 2)`. */
function toWkt(v: unknown): string {
  const pt = (p: Point) => `${wktNumber(p.x)} ${wktNumber(p.y)}`;
  const ring = (r: Point[]) => `(${r.map(pt).join(', ')})`;
  if (isPoint(v)) return `POINT (${pt(v)})`;
  if (Array.isArray(v) && v.every(isPoint)) return `LINESTRING ${ring(v as Point[])}`;
  if (Array.isArray(v) && v.every((r) => Array.isArray(r) && r.every(isPoint))) {
    return `POLYGON (${(v as Point[][]).map(ring).join(', ')})`;
  }
  return JSON.stringify(v);
}

/** JTS's DecimalFormat "0.################": no exponent, at most 16 fraction digits. */
function wktNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return BigInt(n).toString();
  const text = Math.abs(n) < 1e21 ? n.toFixed(16) : BigInt(Math.trunc(n)).toString();
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

function isPoint(v: unknown): v is Point {
  return typeof v === 'object' && v !== null && 'x' in v && 'y' in v;
}
