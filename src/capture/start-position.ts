// Where a capture starts, and the table definitions it starts with: the position stored with
// the publisher's last commit (with the definitions stored beside it), or on a first start
// `init_position` or the end of the binlog, where a snapshot of every included table's
// definition is published first.

import type { Connection } from 'mysql2/promise';
import type { Logger } from '../core/logger.js';
import type { DdlEventFields } from '../core/maxwell.js';
import type { OutputOptions } from '../core/maxwell-keys.js';
import { formatPosition, type BinlogPosition } from '../core/position.js';
import type { TableFilter } from '../core/table-filter.js';
import type { SchemaRecord, TableSchema } from '../core/table-schema.js';
import { binlogPositionAt, currentBinlogEnd } from '../source/binlog-position.js';
import { listDatabases, listTables, readCharsetDefaults, readTableSchema } from '../source/schema-reader.js';
import type { ServerInfo } from '../source/server-check.js';
import type { Publisher } from '../transport/transport.js';
import { ddlMessages } from './ddl-events.js';
import { SchemaTracker } from './schema-tracker.js';

export interface StartPositionOptions {
  conn: Connection;
  publisher: Publisher;
  filter: TableFilter;
  output: OutputOptions;
  log: Logger;
  /** Where a capture with no stored position starts (`init_position`); default: the binlog's end. */
  initPosition?: string;
}

export interface CaptureStart {
  position: BinlogPosition;
  /** Table definitions as of `position`. */
  tracker: SchemaTracker;
  /** Definitions to store with the next publisher commit (read from the source when none were stored). */
  records: SchemaRecord[];
}

export class StartPosition {
  constructor(private readonly o: StartPositionOptions) {}

  async find(server: ServerInfo): Promise<CaptureStart> {
    const { conn, log, initPosition } = this.o;
    const stored = await this.o.publisher.storedPosition();
    if (stored) {
      log.info({ position: formatPosition(stored), gtid: stored.gtid, server: server.version }, 'capture resuming');
      return { position: stored, ...(await this.loadSchemas()) };
    }
    let start: BinlogPosition;
    if (initPosition) {
      start = await binlogPositionAt(conn, server.isMariaDb, initPosition);
      log.info({ position: formatPosition(start), gtid: start.gtid, server: server.version }, 'capture starting at init_position');
    } else {
      start = await currentBinlogEnd(conn, server.isMariaDb);
      log.info({ position: formatPosition(start), gtid: start.gtid, server: server.version }, 'capture starting at the end of the binlog');
    }
    return { position: start, tracker: await this.publishSchemaSnapshot(start), records: [] };
  }

  /** The tracked definitions stored with the position, or (stored by an older my2pg) the source's now. */
  private async loadSchemas(): Promise<{ tracker: SchemaTracker; records: SchemaRecord[] }> {
    const stored = (await this.o.publisher.storedSchemas?.()) ?? null;
    // Database defaults are not stored with the position: they are read as they are now.
    const charsets = await readCharsetDefaults(this.o.conn);
    if (stored) {
      this.o.log.info({ tables: stored.length }, 'schema tracker loaded the definitions stored with the position');
      return { tracker: new SchemaTracker(this.o.filter, stored, charsets), records: [] };
    }
    const now = await this.readIncludedSchemas();
    this.o.log.warn(
      { tables: now.length },
      'no table definitions stored with the position: read them from information_schema; DDL between the stored position and now is described as the tables are now',
    );
    return { tracker: new SchemaTracker(this.o.filter, now, charsets), records: now.map((def) => ({ database: def.database, table: def.table, def })) };
  }

  /** Every included table's definition, read from information_schema. */
  private async readIncludedSchemas(): Promise<TableSchema[]> {
    const { conn, filter } = this.o;
    const out: TableSchema[] = [];
    for (const db of await listDatabases(conn)) {
      if (!filter.includesDatabase(db)) continue;
      for (const table of await listTables(conn, db)) {
        if (!filter.includesTable(db, table)) continue;
        const def = await readTableSchema(conn, db, table);
        if (def) out.push(def);
      }
    }
    return out;
  }

  /** Publishes the current definition of every included table, on a first start. */
  private async publishSchemaSnapshot(at: BinlogPosition): Promise<SchemaTracker> {
    const { conn, filter: f, publisher } = this.o;
    const events: DdlEventFields[] = [];
    const now = Date.now();
    const defs = await this.readIncludedSchemas();
    const charsets = await readCharsetDefaults(conn);
    for (const db of await listDatabases(conn)) {
      if (!f.includesDatabase(db)) continue;
      const charset = charsets.databases.get(db) ?? null;
      events.push({ type: 'database-create', database: db, charset, ts: now, sql: `-- my2pg schema snapshot of database ${db}` });
      for (const def of defs.filter((d) => d.database === db)) {
        events.push({ type: 'table-create', database: db, table: def.table, def, keepExisting: true, ts: now, sql: `-- my2pg schema snapshot of ${db}.${def.table}` });
      }
    }
    const tracker = new SchemaTracker(f, defs, charsets);
    // Snapshot events sort just before the first transaction read at `at` (see EventCursor), by
    // offset and by GTID state: their indexes end at -2, below a heartbeat at `at` (-1).
    const tx = { ...at, pos: at.pos - 1 };
    await publisher.begin();
    await publisher.send(ddlMessages(events, tx, at, this.o.output, { firstXoffset: -events.length - 1 }));
    await publisher.recordSchemas?.(defs.map((def) => ({ database: def.database, table: def.table, def })), at);
    await publisher.commit(at);
    await publisher.flush?.();
    this.o.log.info({ tables: events.filter((e) => e.table).length }, 'published the schema snapshot');
    return tracker;
  }
}
