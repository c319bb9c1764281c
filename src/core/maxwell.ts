// The Maxwell wire format (docs/EVENTS.md): building event JSON in Maxwell's field order, and
// reading it back into ChangeEvents. Both directions are lossless for numbers.

import { My2pgError } from './errors.js';
import { jacksonString } from './java-format.js';
import { JSON_NULL, JsonNull, JsonNumber, type ChangeEvent, type ColumnRename, type DdlEvent, type DdlType, type JsonValue, type RowType } from './events.js';
import { parseJson, stringifyJson } from './json.js';
import type { ColumnDef, IndexDef, TableSchema } from './table-schema.js';
import { hasFractionalSeconds, isBinaryFamily, typeFamily } from './mysql-types.js';

/** Maxwell's bootstrap events (docs/EVENTS.md "Bootstrap events"), which share the row events' shape. */
export type BootstrapEventType = 'bootstrap-start' | 'bootstrap-insert' | 'bootstrap-complete';

export interface RowEventFields {
  database: string;
  table: string;
  type: RowType | BootstrapEventType;
  /** Seconds since the epoch. */
  ts: number;
  xid?: string | null;
  /** Written on every row but the commit row, as Maxwell does. */
  xoffset?: number;
  commit?: boolean;
  position?: string;
  gtid?: string;
  serverId?: number;
  threadId?: number;
  /** Serialised JSON array of the key values. */
  primaryKey?: string;
  /** Serialised JSON array of the key column names. */
  primaryKeyColumns?: string;
  /** The `data` object, already serialised (see src/source/row-encoder.ts). */
  data: string;
  /** The `old` object, already serialised. */
  old?: string;
  /** Our `json_nulls` member, already serialised (jsonNullsJson). */
  jsonNulls?: string;
}

/** Serialises a row or bootstrap event exactly as Maxwell orders its fields. */
export function encodeRowEvent(f: RowEventFields): string {
  let out = `{"database":${jacksonString(f.database)},"table":${jacksonString(f.table)},"type":"${f.type}","ts":${f.ts}`;
  if (f.xid != null) out += `,"xid":${f.xid}`;
  if (f.xoffset !== undefined && !f.commit) out += `,"xoffset":${f.xoffset}`;
  if (f.commit) out += ',"commit":true';
  if (f.position !== undefined) out += `,"position":${jacksonString(f.position)}`;
  if (f.gtid !== undefined) out += `,"gtid":${jacksonString(f.gtid)}`;
  if (f.serverId !== undefined) out += `,"server_id":${f.serverId}`;
  if (f.threadId !== undefined) out += `,"thread_id":${f.threadId}`;
  if (f.primaryKey !== undefined) out += `,"primary_key":${f.primaryKey}`;
  if (f.primaryKeyColumns !== undefined) out += `,"primary_key_columns":${f.primaryKeyColumns}`;
  out += `,"data":${f.data}`;
  if (f.old !== undefined) out += `,"old":${f.old}`;
  if (f.jsonNulls !== undefined) out += `,"json_nulls":${f.jsonNulls}`;
  return `${out}}`;
}

/**
 * Our `json_nulls` member (docs/EVENTS.md): the JSON columns of `data` and of `old` whose value
 * is JSON's `null` literal, which Maxwell's `null` cannot tell from SQL NULL. Undefined when none.
 */
export function jsonNullsJson(data: readonly string[] = [], old: readonly string[] = []): string | undefined {
  if (data.length === 0 && old.length === 0) return undefined;
  const list = (names: readonly string[]) => `[${names.map(jacksonString).join(',')}]`;
  const parts = [data.length > 0 ? `"data":${list(data)}` : '', old.length > 0 ? `"old":${list(old)}` : ''];
  return `{${parts.filter(Boolean).join(',')}}`;
}

/** The `database` of heartbeat events; apply records them in `_my2pg.heartbeats`. */
export const HEARTBEAT_DATABASE = '_my2pg';

/**
 * A heartbeat (our addition, docs/EVENTS.md): at `ts` (ms) capture had published everything up
 * to `position`. Published when the binlog is idle, on every partition.
 */
export function encodeHeartbeat(ts: number, position: string, gtid?: string): string {
  return `{"database":"${HEARTBEAT_DATABASE}","table":"heartbeat","type":"heartbeat","ts":${ts},"position":${JSON.stringify(position)}${
    gtid ? `,"gtid":${JSON.stringify(gtid)}` : ''
  }}`;
}

export interface DdlEventFields {
  type: DdlType;
  database: string;
  table?: string;
  old?: TableSchema;
  def?: TableSchema;
  /** Columns of `old` that the statement renamed (table-alter only; our addition). */
  renames?: ColumnRename[];
  /**
   * database-create and database-alter: the database's default character set after the
   * statement (database-alter: the one the statement sets, null when it sets none), as Maxwell.
   */
  charset?: string | null;
  /**
   * table-create: keep a replica table of that name that already exists instead of replacing
   * it (CREATE TABLE IF NOT EXISTS, schema snapshots). Our `keep_existing`, on every table-create.
   */
  keepExisting?: boolean;
  /** Milliseconds since the epoch, as Maxwell writes DDL timestamps. */
  ts: number;
  sql: string;
  /**
   * Where the statement's transaction starts in the binlog (`file:offset`): our `tx_position`,
   * on every DDL event read from the binlog. Apply applies each DDL event once by it, and
   * `ddl_skip` takes it.
   */
  position?: string;
  /** Maxwell's `position` (output_binlog_position): the start of the statement's query event. */
  eventPosition?: string;
  /** Maxwell's `gtid` (output_gtid_position): the GTID of the statement's transaction. */
  gtid?: string;
}

/**
 * Serialises a DDL event as Maxwell does (its keys in its order: type, database, table or
 * charset, old, def, ts, sql, then position and gtid when asked for), with our additions
 * `column-renames` and `tx_position` (docs/EVENTS.md).
 */
export function encodeDdlEvent(f: DdlEventFields): string {
  const doc: Record<string, JsonValue> = { type: f.type, database: f.database };
  if (f.table !== undefined) doc.table = f.table;
  if (f.type === 'database-create' || f.type === 'database-alter') doc.charset = f.charset ?? null;
  if (f.old) doc.old = schemaToJson(f.old);
  if (f.def) doc.def = schemaToJson(f.def);
  if (f.renames && f.renames.length > 0) doc['column-renames'] = f.renames.map((r) => ({ from: r.from, to: r.to }));
  doc.ts = new JsonNumber(String(f.ts));
  doc.sql = f.sql;
  if (f.type === 'table-create') doc.keep_existing = f.keepExisting === true;
  if (f.eventPosition !== undefined) doc.position = f.eventPosition;
  if (f.gtid !== undefined) doc.gtid = f.gtid;
  if (f.position !== undefined) doc.tx_position = f.position;
  return stringifyJson(doc);
}

/** Maxwell's table image, plus our full column metadata (extra keys Maxwell consumers ignore). */
export function schemaToJson(s: TableSchema): JsonValue {
  return {
    database: s.database,
    charset: s.charset,
    table: s.table,
    columns: s.columns.map(columnToJson),
    'primary-key': s.primaryKey,
    // Our addition: secondary indexes, when known.
    ...(s.indexes ? { indexes: s.indexes.map(indexToJson) } : {}),
  };
}

function indexToJson(i: IndexDef): JsonValue {
  const out: Record<string, JsonValue> = { name: i.name, unique: i.unique, columns: i.columns };
  if (i.prefixLengths) out['prefix-lengths'] = i.prefixLengths.map(numOrNull);
  if (i.kind) out.kind = i.kind;
  return out;
}

function indexFromJson(v: JsonValue): IndexDef {
  if (!isObject(v)) throw new My2pgError('BAD_EVENT', 'index definition is not an object');
  const cols = v.columns;
  const prefix = v['prefix-lengths'];
  const out: IndexDef = {
    name: str(v.name, 'index.name'),
    unique: v.unique === true,
    columns: Array.isArray(cols) ? cols.map((c) => str(c, 'index column')) : [],
  };
  if (Array.isArray(prefix)) out.prefixLengths = prefix.map((p) => optInt(p));
  if (v.kind === 'fulltext' || v.kind === 'spatial') out.kind = v.kind;
  return out;
}

/**
 * One column of a table image. First Maxwell's keys, as its ColumnDefSerializer writes them:
 * `type`, `name`, then by type `charset` (text types: the column's character set, inherited
 * ones included; binary types: "binary"), `signed` (integers), `enum-values` (ENUM and SET
 * alike) or `column-length` (DATETIME, TIMESTAMP, TIME: the fractional digits, 0 included).
 * Then our additions (docs/EVENTS.md): everything needed to rebuild the column elsewhere.
 */
function columnToJson(c: ColumnDef): JsonValue {
  const out: Record<string, JsonValue> = { type: c.type, name: c.name };
  const family = typeFamily(c.type);
  if (family === 'char' || family === 'text') out.charset = c.charset;
  else if (isBinaryFamily(family)) out.charset = 'binary';
  else if (family === 'integer') out.signed = !c.unsigned;
  else if (family === 'enum' || family === 'set') out['enum-values'] = c.values ?? [];
  else if (hasFractionalSeconds(family)) out['column-length'] = new JsonNumber(String(c.fsp ?? 0));
  out['column-type'] = c.columnType;
  out.nullable = c.nullable;
  out.default = c.default;
  out.unsigned = c.unsigned;
  out.length = numOrNull(c.length);
  out.precision = numOrNull(c.precision);
  out.scale = numOrNull(c.scale);
  out.fsp = numOrNull(c.fsp);
  if (c.defaultKind) out['default-kind'] = c.defaultKind;
  if (c.autoIncrement) out['auto-increment'] = true;
  return out;
}

function numOrNull(n: number | null): JsonValue {
  return n === null ? null : new JsonNumber(String(n));
}

const ROW_TYPES = new Set<string>(['insert', 'update', 'delete']);
const DDL_TYPES = new Set<string>([
  'database-create', 'database-alter', 'database-drop',
  'table-create', 'table-alter', 'table-drop', 'table-truncate',
]);

/** Parses one Maxwell message; throws BAD_EVENT for anything that is not a valid event. */
export function decodeEvent(text: string): ChangeEvent {
  let doc: JsonValue;
  try {
    doc = parseJson(text);
  } catch (err) {
    throw new My2pgError('BAD_EVENT', `not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(doc)) throw new My2pgError('BAD_EVENT', 'event is not a JSON object');
  const type = str(doc.type, 'type');
  const database = str(doc.database, 'database');
  if (ROW_TYPES.has(type)) {
    const data = doc.data;
    if (!isObject(data)) throw new My2pgError('BAD_EVENT', `${type} event without a "data" object`);
    const old = doc.old;
    if (old !== undefined && old !== null && !isObject(old)) throw new My2pgError('BAD_EVENT', '"old" is not an object');
    if (doc.json_nulls !== undefined) markJsonNulls(doc.json_nulls, data, isObject(old) ? old : undefined);
    return {
      kind: 'row',
      database,
      table: str(doc.table, 'table'),
      type: type as RowType,
      ts: toInt(doc.ts),
      xid: doc.xid instanceof JsonNumber ? doc.xid.text : undefined,
      xoffset: doc.xoffset instanceof JsonNumber ? toInt(doc.xoffset) : undefined,
      commit: doc.commit === true,
      data,
      old: isObject(old) ? old : undefined,
    };
  }
  if (DDL_TYPES.has(type)) return decodeDdl(type as DdlType, database, doc);
  if (type === 'heartbeat') {
    return { kind: 'heartbeat', ts: toInt(doc.ts), position: typeof doc.position === 'string' ? doc.position : '' };
  }
  return { kind: 'other', type, database, table: typeof doc.table === 'string' ? doc.table : undefined };
}

/** Sets the columns `json_nulls` names to JSON_NULL (also those output_nulls false left out). */
function markJsonNulls(v: JsonValue, data: Record<string, JsonValue>, old: Record<string, JsonValue> | undefined): void {
  if (!isObject(v)) throw new My2pgError('BAD_EVENT', '"json_nulls" is not an object');
  for (const [image, row] of [['data', data], ['old', old]] as const) {
    const names = v[image];
    if (names === undefined) continue;
    if (!Array.isArray(names)) throw new My2pgError('BAD_EVENT', `"json_nulls.${image}" is not an array of column names`);
    if (!row) throw new My2pgError('BAD_EVENT', `"json_nulls.${image}" names columns of an event without "${image}"`);
    for (const name of names) {
      const col = str(name, `json_nulls.${image}[]`);
      if (row[col] !== null && row[col] !== undefined) {
        throw new My2pgError('BAD_EVENT', `"json_nulls.${image}" names column "${col}", whose value is not null`);
      }
      row[col] = JSON_NULL;
    }
  }
}

function decodeDdl(type: DdlType, database: string, doc: Record<string, JsonValue>): DdlEvent {
  return {
    kind: 'ddl',
    type,
    database,
    table: typeof doc.table === 'string' ? doc.table : undefined,
    def: isObject(doc.def) ? schemaFromJson(doc.def) : undefined,
    old: isObject(doc.old) ? schemaFromJson(doc.old) : undefined,
    renames: Array.isArray(doc['column-renames']) ? doc['column-renames'].map(renameFromJson) : undefined,
    sql: typeof doc.sql === 'string' ? doc.sql : '',
    keepExisting: typeof doc.keep_existing === 'boolean' ? doc.keep_existing : undefined,
    ts: toInt(doc.ts),
    // Ours, else Maxwell's (output_binlog_position); my2pg before tx_position wrote its own as `position`.
    position: typeof doc.tx_position === 'string' ? doc.tx_position : typeof doc.position === 'string' ? doc.position : undefined,
  };
}

function renameFromJson(v: JsonValue): ColumnRename {
  if (!isObject(v)) throw new My2pgError('BAD_EVENT', 'column rename is not an object');
  return { from: str(v.from, 'column-renames.from'), to: str(v.to, 'column-renames.to') };
}

export function schemaFromJson(doc: Record<string, JsonValue>): TableSchema {
  const cols = doc.columns;
  if (!Array.isArray(cols)) throw new My2pgError('BAD_EVENT', 'table definition without "columns"');
  const pk = doc['primary-key'];
  return {
    database: str(doc.database, 'def.database'),
    table: str(doc.table, 'def.table'),
    charset: typeof doc.charset === 'string' ? doc.charset : null,
    columns: cols.map((c) => columnFromJson(c)),
    primaryKey: Array.isArray(pk) ? pk.map((p) => str(p, 'primary-key')) : [],
    ...(Array.isArray(doc.indexes) ? { indexes: doc.indexes.map(indexFromJson) } : {}),
  };
}

function columnFromJson(c: JsonValue): ColumnDef {
  if (!isObject(c)) throw new My2pgError('BAD_EVENT', 'column definition is not an object');
  const type = str(c.type, 'column.type');
  // `set-values`: SET columns as my2pg wrote them before it wrote Maxwell's `enum-values`.
  const values = c['enum-values'] ?? c['set-values'];
  const signed = c.signed === undefined ? undefined : c.signed === true;
  const fsp = optInt(c.fsp) ?? optInt(c['column-length']);
  return {
    name: str(c.name, 'column.name'),
    type,
    columnType: typeof c['column-type'] === 'string' ? c['column-type'] : type,
    nullable: c.nullable === undefined ? true : c.nullable === true,
    default: typeof c.default === 'string' ? c.default : null,
    unsigned: c.unsigned === true || signed === false,
    // Binary types have no character set of their own (Maxwell's "binary" says so).
    charset: typeof c.charset === 'string' && !isBinaryFamily(typeFamily(type)) ? c.charset : null,
    length: optInt(c.length),
    precision: optInt(c.precision),
    scale: optInt(c.scale),
    fsp,
    values: Array.isArray(values) ? values.map((v) => str(v, 'enum value')) : null,
    ...(c['default-kind'] === 'literal' || c['default-kind'] === 'expression' ? { defaultKind: c['default-kind'] } : {}),
    ...(c['auto-increment'] === true ? { autoIncrement: true } : {}),
  };
}

function isObject(v: JsonValue | undefined): v is Record<string, JsonValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber) && !(v instanceof JsonNull);
}

function str(v: JsonValue | undefined, field: string): string {
  if (typeof v !== 'string') throw new My2pgError('BAD_EVENT', `missing or non-string "${field}"`);
  return v;
}

function toInt(v: JsonValue | undefined): number {
  return v instanceof JsonNumber ? Number(v.text) : 0;
}

function optInt(v: JsonValue | undefined): number | null {
  return v instanceof JsonNumber ? Number(v.text) : null;
}
