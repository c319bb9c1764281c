// Maxwell's Kafka keys and partition strings (docs/EVENTS.md "Keys and partitions"), and the
// output options that shape them and the row events (docs/CONFIG.md): which optional fields row
// events carry, the key format, and the partition string each event is hashed by.

import { randomUUID } from 'node:crypto';
import { jacksonString } from './java-format.js';

export type PartitionBy = 'database' | 'table' | 'primary_key' | 'transaction_id' | 'thread_id' | 'column' | 'random';

export interface OutputOptions {
  binlogPosition: boolean;
  gtidPosition: boolean;
  serverId: boolean;
  threadId: boolean;
  primaryKeys: boolean;
  primaryKeyColumns: boolean;
  nulls: boolean;
  commitInfo: boolean;
  xoffset: boolean;
  keyFormat: 'hash' | 'array';
  partitionBy: PartitionBy;
  partitionColumns: string[];
  partitionFallback: 'database' | 'table' | 'primary_key' | 'transaction_id';
}

/** Maxwell's defaults. */
export const DEFAULT_OUTPUT: OutputOptions = {
  binlogPosition: false,
  gtidPosition: false,
  serverId: false,
  threadId: false,
  primaryKeys: false,
  primaryKeyColumns: false,
  nulls: true,
  commitInfo: true,
  xoffset: true,
  keyFormat: 'hash',
  partitionBy: 'database',
  partitionColumns: [],
  partitionFallback: 'database',
};

/** A row's encoded values (JSON text per column, in column order) and its key columns. */
export interface RowShape {
  database: string;
  table: string;
  columns: string[];
  values: Record<string, string>;
  primaryKey: string[];
}

/** The `data` (or `old`) object; with output_nulls off, null members are left out. */
export function objectJson(columns: string[], values: Record<string, string>, nulls: boolean): string {
  let out = '';
  for (const c of columns) {
    const v = values[c];
    if (v === undefined || (!nulls && v === 'null')) continue;
    out += `${out ? ',' : ''}${jacksonString(c)}:${v}`;
  }
  return `{${out}}`;
}

/** The Kafka key: Maxwell's `hash` (`{"database","table","pk.col":…}`) or `array` format. */
export function rowKey(r: RowShape, format: OutputOptions['keyFormat']): string {
  if (format === 'array') {
    const head = `${jacksonString(r.database)},${jacksonString(r.table)}`;
    return `[${head},[${r.primaryKey.map((c) => `{${jacksonString(c.toLowerCase())}:${r.values[c]}}`).join(',')}]]`;
  }
  let key = hashKeyHead(r.database, r.table);
  if (r.primaryKey.length === 0) return `${key},"_uuid":"${randomUUID()}"}`;
  for (const c of r.primaryKey) key += `,${pkLabel(c)}:${r.values[c]}`;
  return `${key}}`;
}

/** The key of an event about a whole table (bootstrap start and complete, heartbeats): `{"database","table"}`. */
export function tableKey(database: string, table: string): string {
  return `${hashKeyHead(database, table)}}`;
}

/** `{"database":…,"table":…` of a table's hash keys, and `"pk.<col>"` of its key columns, kept (names repeat on every row). */
const labels = new Map<string, string>();
function hashKeyHead(database: string, table: string): string {
  return remembered(`h\u0000${database}\u0000${table}`, () => `{"database":${jacksonString(database)},"table":${jacksonString(table)}`);
}
function pkLabel(column: string): string {
  return remembered(`p\u0000${column}`, () => jacksonString(`pk.${column.toLowerCase()}`));
}
function remembered(key: string, make: () => string): string {
  let v = labels.get(key);
  if (v === undefined) {
    if (labels.size >= 10_000) labels.clear();
    labels.set(key, (v = make()));
  }
  return v;
}

/** DDL events are keyed by a random UUID, as Maxwell does. */
export function ddlKey(): string {
  return randomUUID();
}

/**
 * The partition string of a row (Maxwell's getHashString). `transaction_id` and `thread_id`
 * are only known at commit: they are resolved there from the returned marker.
 */
export function rowPartitionString(r: RowShape, o: OutputOptions, by: PartitionBy = o.partitionBy): string | { at: 'commit'; by: 'transaction_id' | 'thread_id' } {
  switch (by) {
    case 'database':
      return r.database;
    case 'table':
      return r.table;
    case 'primary_key':
      return primaryKeyString(r);
    case 'transaction_id':
    case 'thread_id':
      return { at: 'commit', by };
    case 'column': {
      const s = o.partitionColumns.map((c) => javaToString(r.values[c])).join('');
      return s.length > 0 ? s : rowPartitionString(r, o, o.partitionFallback);
    }
    case 'random':
      return randomUUID().replace(/-/g, '').slice(0, 10);
  }
}

/**
 * The partition string of a `bootstrap-insert`: the same row's (so both land in one partition),
 * the database for `transaction_id` and `thread_id`, which a row read by SELECT does not have.
 */
export function bootstrapPartitionString(r: RowShape, o: OutputOptions): string {
  const by = rowPartitionString(r, o);
  return typeof by === 'string' ? by : r.database;
}

/** DDL is hashed by database, or by table (falling back to database) when rows are by table. */
export function ddlPartitionString(database: string, table: string | null, o: OutputOptions): string {
  return o.partitionBy === 'table' && table !== null ? table : database;
}

/** RowIdentity.toConcatString: the key values' Java toString, concatenated. */
function primaryKeyString(r: RowShape): string {
  if (r.primaryKey.length === 0) return `${r.database}${r.table}`;
  const s = r.primaryKey.map((c) => javaToString(r.values[c])).join('');
  return s.length ? s : 'None';
}

/** The Java toString of a value Maxwell holds, from our JSON text of it (null/missing → ''). */
function javaToString(json: string | undefined): string {
  if (json === undefined || json === 'null') return '';
  if (json.startsWith('"')) return JSON.parse(json) as string;
  if (json.startsWith('[')) return `[${(JSON.parse(json) as string[]).join(', ')}]`;
  return json;
}
