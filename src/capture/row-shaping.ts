// Rows events → pending rows: each row's values encoded, its key and partition string, the
// fields the output options ask for; and at the commit, a pending row as its message. What the
// binlog's table maps do not say is cached per table id, for the current binlog file only.

import type { Connection } from 'mysql2/promise';
import type { TableMapEvent } from '../source/zongji.js';
import type { StreamMessage } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { encodeRowEvent, jsonNullsJson } from '../core/maxwell.js';
import { objectJson, rowKey, rowPartitionString, type OutputOptions } from '../core/maxwell-keys.js';
import { jacksonString } from '../core/java-format.js';
import type { EventCursor } from '../core/position.js';
import type { TableFilter } from '../core/table-filter.js';
import type { TableSchema } from '../core/table-schema.js';
import { hasCharset } from '../core/mysql-types.js';
import type { SourceRowsEvent } from '../source/binlog-reader.js';
import { changedColumns, encodeRow, rowColumns, type RowColumn } from '../source/row-encoder.js';
import { databaseCharset, readTableSchema } from '../source/schema-reader.js';
import type { SchemaTracker } from './schema-tracker.js';
import type { PendingRow } from './transaction-buffer.js';

export interface RowShaperOptions {
  conn: Connection;
  /** Table definitions as of the position read to. */
  tracker: SchemaTracker;
  filter: TableFilter;
  output: OutputOptions;
  log: Logger;
}

/** What the commit of a transaction gives each of its rows. */
export interface CommitInfo {
  xid: string | null;
  gtid: string | undefined;
  /** Origin server and session of the transaction (Maxwell's server_id, thread_id). */
  serverId: number;
  threadId: number | null;
}

interface TableInfo {
  primaryKey: string[];
  jsonColumns: Set<string>;
  charsets: Map<string, string | null>;
}

export class RowShaper {
  /** Primary keys the table maps name (binlog_row_metadata=FULL), by table id. */
  private readonly primaryKeys = new Map<number, string[]>();
  private readonly tables = new Map<number, TableInfo>();

  constructor(private readonly o: RowShaperOptions) {}

  /**
   * Table ids may name other tables from here on: at a rotate (the next file may be another
   * server run's, which gives table ids out afresh) and after DDL (the tracked definitions the
   * cached facts come from may have changed).
   */
  forgetTableIds(): void {
    this.primaryKeys.clear();
    this.tables.clear();
  }

  tableMap(ev: TableMapEvent): void {
    if (ev.primaryKey && ev.columnNames) {
      this.primaryKeys.set(ev.tableId, ev.primaryKey.map((i) => ev.columnNames![i]));
    }
  }

  /**
   * The rows of an included table's rows event, starting at `position`, as pending rows (those
   * the column filters keep), each given to `add`. The columns are those of the table map the
   * event was decoded with (`ev.table`, see SourceRowsEvent), not the driver's map by table id.
   */
  async shape(ev: SourceRowsEvent, position: string, add: (row: PendingRow) => Promise<void>): Promise<void> {
    const entry = ev.table;
    const database = entry.parentSchema;
    const table = entry.tableName;
    const info = await this.tableInfo(ev.tableId, database, table);
    const cols = rowColumns(entry, info.jsonColumns, info.charsets);
    const ts = Math.floor(ev.timestamp / 1000);
    const type = ev.getEventName() === 'writerows' ? 'insert' : ev.getEventName() === 'updaterows' ? 'update' : 'delete';
    for (const raw of ev.rows) {
      const row = this.pendingRow({ database, table, type, ts, position }, cols, info.primaryKey, raw as Record<string, unknown>);
      if (row) await add(row);
    }
  }

  /** A pending row as the message its transaction's commit publishes (`xoffset`: its place in the transaction). */
  message(r: PendingRow, c: CommitInfo, xoffset: number, cursor: EventCursor): StreamMessage {
    return {
      key: r.key,
      value: this.rowEvent(r, c, xoffset, cursor.commit),
      database: r.database,
      table: r.table,
      partitionKey: typeof r.partition === 'string' ? r.partition : String(r.partition.by === 'transaction_id' ? c.xid : c.threadId),
      cursor,
    };
  }

  private pendingRow(
    head: Pick<PendingRow, 'database' | 'table' | 'type' | 'ts' | 'position'>,
    cols: RowColumn[],
    primaryKey: string[],
    raw: Record<string, unknown>,
  ): PendingRow | null {
    const o = this.o.output;
    const isUpdate = head.type === 'update';
    const after = encodeRow(cols, isUpdate ? (raw as { after: Record<string, unknown> }).after : raw);
    const filter = this.o.filter;
    if (filter.hasColumnRules && !filter.includesRow(head.database, head.table, after.values)) return null;
    const names = columnNames(cols);
    const shape = { database: head.database, table: head.table, columns: names, values: after.values, primaryKey };
    const row: PendingRow = {
      database: head.database,
      table: head.table,
      type: head.type,
      ts: head.ts,
      position: head.position,
      data: flat(o.nulls ? after.json : objectJson(names, after.values, false)),
      key: flat(rowKey(shape, o.keyFormat)),
      partition: rowPartitionString(shape, o),
    };
    if (o.primaryKeys) row.primaryKey = `[${primaryKey.map((c) => after.values[c]).join(',')}]`;
    if (o.primaryKeyColumns) row.primaryKeyColumns = `[${primaryKey.map(jacksonString).join(',')}]`;
    if (isUpdate) {
      const before = encodeRow(cols, (raw as { before: Record<string, unknown> }).before);
      const changed = changedColumns(names, before, after);
      row.old = flat(objectJson(changed, before.values, o.nulls));
      row.jsonNulls = jsonNullsJson(after.jsonNulls, before.jsonNulls?.filter((c) => changed.includes(c)));
    } else {
      row.jsonNulls = after.jsonNulls && jsonNullsJson(after.jsonNulls);
    }
    return row;
  }

  /**
   * What the binlog's table map does not say: the primary key when the server omits it, and
   * MariaDB's JSON columns (LONGTEXT in the binlog), from the tracked definition (the one the
   * row was written under). Kept per table id, reset by DDL.
   */
  private async tableInfo(tableId: number, database: string, table: string): Promise<TableInfo> {
    const known = this.tables.get(tableId);
    if (known) return known;
    let schema = this.o.tracker.get(database, table) ?? null;
    if (!schema) {
      schema = await readTableSchema(this.o.conn, database, table);
      this.o.log.warn({ database, table }, 'row event for an included table the schema tracker does not know; read its definition from information_schema');
    }
    const info: TableInfo = {
      primaryKey: this.primaryKeys.get(tableId) ?? schema?.primaryKey ?? [],
      jsonColumns: new Set(schema?.columns.filter((c) => c.type === 'json').map((c) => c.name)),
      charsets: await this.columnCharsets(schema),
    };
    this.tables.set(tableId, info);
    return info;
  }

  /**
   * Column charsets for decoding raw text. A table the tracker created from a statement without
   * DEFAULT CHARSET has no charset of its own: its character columns take the database's.
   */
  private async columnCharsets(schema: TableSchema | null): Promise<Map<string, string | null>> {
    if (!schema) return new Map();
    const unknown = schema.columns.some((c) => c.charset === null && hasCharset(c.type));
    const fallback = unknown ? schema.charset ?? this.o.tracker.databaseCharset(schema.database) ?? (await databaseCharset(this.o.conn, schema.database)) : null;
    return new Map(schema.columns.map((c) => [c.name, c.charset ?? (hasCharset(c.type) ? fallback : null)]));
  }

  /** A row event with the optional fields the output options ask for (Maxwell's order). */
  private rowEvent(r: PendingRow, c: CommitInfo, xoffset: number, commit: boolean): string {
    const o = this.o.output;
    return encodeRowEvent({
      database: r.database,
      table: r.table,
      type: r.type,
      ts: r.ts,
      xid: o.commitInfo ? c.xid : null,
      xoffset: o.commitInfo && o.xoffset ? xoffset : undefined,
      commit: o.commitInfo && commit,
      position: o.binlogPosition ? r.position : undefined,
      gtid: o.gtidPosition ? c.gtid : undefined,
      serverId: o.serverId ? c.serverId : undefined,
      threadId: o.threadId && c.threadId !== null ? c.threadId : undefined,
      primaryKey: o.primaryKeys ? r.primaryKey : undefined,
      primaryKeyColumns: o.primaryKeyColumns ? r.primaryKeyColumns : undefined,
      data: r.data,
      old: r.old,
      jsonNulls: r.jsonNulls,
    });
  }
}

const namesOf = new WeakMap<RowColumn[], string[]>();

/** The column names of a table's (cached) encoding columns. */
function columnNames(cols: RowColumn[]): string[] {
  let names = namesOf.get(cols);
  if (!names) namesOf.set(cols, (names = cols.map((c) => c.name)));
  return names;
}

/**
 * The string as one flat copy instead of the tree of pieces `+=` builds. A row waits in memory
 * until its transaction commits: as a tree it keeps every piece alive through each young
 * collection, which then copies them all (most of capture's GC time). V8 flattens a string it
 * converts to a number; the conversion itself fails at once on JSON text.
 */
function flat(s: string): string {
  Number(s);
  return s;
}
