// Change events as they travel between stages: Maxwell JSON text plus our in-process metadata.

import type { EventCursor } from './position.js';
import type { TableSchema } from './table-schema.js';

export type RowType = 'insert' | 'update' | 'delete';
export type DdlType =
  | 'database-create'
  | 'database-alter'
  | 'database-drop'
  | 'table-create'
  | 'table-alter'
  | 'table-drop'
  | 'table-truncate';

/**
 * One message of the stream. `value` is a Maxwell JSON document (docs/EVENTS.md), `key` the
 * Maxwell key. `cursor` is known wherever the message came straight from capture (embedded mode);
 * over Kafka the consumed offset takes its place.
 */
export interface StreamMessage {
  key: string;
  value: string;
  database: string;
  table: string | null;
  cursor?: EventCursor;
  /** The string whose hash picks the partition (Maxwell's partition string); default: database. */
  partitionKey?: string;
  /** Sent to every partition (heartbeats), not to the one its key picks. */
  broadcast?: boolean;
}

/** A JSON value whose numbers keep their exact decimal text (see src/core/json.ts). */
export type JsonValue = null | boolean | string | JsonNumber | JsonNull | JsonValue[] | { [k: string]: JsonValue };

/** A JSON number kept as its source text, so 2^64-1 and DECIMAL(65,30) survive. */
export class JsonNumber {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/**
 * A JSON column's value that is JSON's `null` literal, where `null` is SQL NULL: an event lists
 * such columns in `json_nulls` (docs/EVENTS.md). Serialises as `null`; Postgres jsonb `'null'`.
 */
export class JsonNull {
  readonly jsonNull = true;
  toString(): string {
    return 'null';
  }
  toJSON(): null {
    return null;
  }
}

export const JSON_NULL = new JsonNull();

export interface RowEvent {
  kind: 'row';
  database: string;
  table: string;
  type: RowType;
  ts: number;
  xid?: string;
  xoffset?: number;
  commit?: boolean;
  /** Column values; a JSON column holding JSON's `null` is JSON_NULL, SQL NULL is null. */
  data: Record<string, JsonValue>;
  old?: Record<string, JsonValue>;
}

export interface DdlEvent {
  kind: 'ddl';
  type: DdlType;
  database: string;
  table?: string;
  def?: TableSchema;
  old?: TableSchema;
  /** table-alter: columns of `old` renamed by the statement (`column-renames`, our addition). */
  renames?: ColumnRename[];
  /**
   * table-create: keep a replica table of that name that already exists (`keep_existing`, our
   * addition); undefined in events of producers that do not write it (Maxwell), whose `sql` says.
   */
  keepExisting?: boolean;
  sql: string;
  ts: number;
  /**
   * Where the statement's transaction starts in the binlog (our `tx_position`; from events
   * without it, Maxwell's `position`); absent in schema snapshots. Apply applies a DDL event
   * once per position.
   */
  position?: string;
}

/** A column renamed by CHANGE or RENAME COLUMN (MySQL names). */
export interface ColumnRename {
  from: string;
  to: string;
}

/** Capture was caught up at `ts` (ms since the epoch) and binlog `position`. */
export interface HeartbeatEvent {
  kind: 'heartbeat';
  ts: number;
  position: string;
}

/** Events that carry no data change for the replica (bootstrap markers, foreign types). */
export interface OtherEvent {
  kind: 'other';
  type: string;
  database: string;
  table?: string;
}

export type ChangeEvent = RowEvent | DdlEvent | HeartbeatEvent | OtherEvent;
