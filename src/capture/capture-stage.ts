// The capture stage: binlog events → transactions → Maxwell messages → publisher. Positions
// become durable only with the publisher's commit, and only at transaction boundaries
// (docs/OPERATIONS.md, "How progress is kept"): restart never begins inside a transaction. An
// outage of the source or the publisher's server restarts the stream from the stored position,
// within the retry budget ("Outages and retries").

import type { AnyBinlogEvent, QueryEvent, TableMapEvent } from '../source/zongji.js';
import mysql from 'mysql2/promise';
import { Backoff } from '../core/backoff.js';
import { My2pgError, wrapError } from '../core/errors.js';
import type { StreamMessage } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { encodeDdlEvent, encodeHashKey, encodeHeartbeat, encodeRowEvent, HEARTBEAT_DATABASE, jsonNullsJson, type DdlEventFields } from '../core/maxwell.js';
import { formatPosition, type BinlogPosition, type EventCursor } from '../core/position.js';
import type { Publisher } from '../transport/transport.js';
import { BinlogReader, type SourceRowsEvent } from '../source/binlog-reader.js';
import { connectSource, isConnectionLoss } from '../source/connect.js';
import { GtidTracker } from './gtid-tracker.js';
import type { TableFilter } from '../core/table-filter.js';
import { DEFAULT_OUTPUT, ddlKey, ddlPartitionString, objectJson, rowKey, rowPartitionString, type OutputOptions } from '../core/maxwell-keys.js';
import { changedColumns, encodeRow, rowColumns, type RowColumn } from '../source/row-encoder.js';
import { jacksonString } from '../core/java-format.js';
import { listDatabases, listTables, readCharsetDefaults, readTableSchema } from '../source/schema-reader.js';
import { ddlFingerprint, SchemaTracker } from './schema-tracker.js';
import { isCharType } from '../ddl/parse.js';
import type { SchemaRecord, TableSchema } from '../core/table-schema.js';
import { checkSourceServer } from '../source/server-check.js';
import { TransactionBuffer, type PendingRow } from './transaction-buffer.js';

export interface CaptureOptions {
  sourceUrl: string;
  serverId: number;
  filter: TableFilter;
  publisher: Publisher;
  log: Logger;
  /** Maxwell's output options (defaults: Maxwell's). */
  output?: OutputOptions;
  /** Publish a heartbeat after this long without binlog events (0: never). */
  heartbeatMs?: number;
  /** Resume by GTID when the stored position has one (default true). */
  useGtid?: boolean;
  /** Where a capture with no stored position starts (`init_position`); default: the binlog's end. */
  initPosition?: string;
  /** Make progress durable after this many rows, or this long, at a transaction boundary. */
  commitEveryRows?: number;
  commitEveryMs?: number;
  /**
   * DDL statements to pass over without parsing or tracking (`ddl_skip`): fingerprints
   * (ddlFingerprint) or binlog positions `file:pos` of the statement's transaction.
   */
  ddlSkip?: string[];
  /** How long one outage is retried before capture fails (`retry_max_ms`). */
  retryMaxMs?: number;
}

const SEND_CHUNK = 1000;

interface TableInfo {
  primaryKey: string[];
  jsonColumns: Set<string>;
  charsets: Map<string, string | null>;
}

export class CaptureStage {
  private conn: mysql.Connection | null = null;
  private source: BinlogReader | null = null;
  private stopping = false;

  // Where the reader is: the current file, and the end of the last event outside a transaction.
  private file = '';
  private lastEnd = 0;
  private txStart: BinlogPosition | null = null;
  /** Inside a BEGIN…COMMIT group (not a standalone DDL group). */
  private inTransaction = false;
  private readonly buffer = new TransactionBuffer();
  private readonly primaryKeys = new Map<number, string[]>();
  private readonly tables = new Map<number, TableInfo>();
  private readonly output: OutputOptions;
  /** Origin server and session of the open transaction (Maxwell's server_id, thread_id). */
  private serverId = 0;
  private threadId: number | null = null;
  private gtids: GtidTracker | null = null;

  // The publisher's open transaction.
  private publishing = false;
  private publishedSince = 0;
  private publishStartedAt = 0;
  private lastCommitAt = 0;
  private uncommitted: BinlogPosition | null = null;

  private lastHeartbeatAt = 0;

  /** Table definitions as of the position read to (src/capture/schema-tracker.ts). */
  private tracker!: SchemaTracker;
  /** Definitions to store with the next publisher commit. */
  private schemaRecords = new Map<string, SchemaRecord>();
  /** DDL events of the open transaction (CREATE TABLE … SELECT logs rows after its DDL). */
  private pendingDdl: DdlEventFields[] = [];

  private readonly backoff: Backoff;

  constructor(private readonly opts: CaptureOptions) {
    this.output = opts.output ?? DEFAULT_OUTPUT;
    this.backoff = new Backoff(opts.log, opts.retryMaxMs);
  }

  private get heartbeatMs(): number {
    return this.opts.heartbeatMs ?? 1000;
  }

  /**
   * Streams until stopped. A retriable failure (a connection to the source or to the
   * publisher's server lost or refused) starts over from the stored position, which only
   * advances with acknowledged data, so nothing is lost or published twice.
   */
  async run(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        // What was published since the last commit is dropped: it is read again.
        if (attempt > 0) await this.opts.publisher.restart?.();
        await this.streamOnce();
        return;
      } catch (err) {
        if (this.stopping) throw err;
        await this.backoff.failed('capture', captureError(err));
        if (this.stopping) return;
        await this.forgetStream();
      }
    }
  }

  private async streamOnce(): Promise<void> {
    const conn = await connectSource(this.opts.sourceUrl);
    // A lost connection fails its next query; without a listener its 'error' would end the process.
    conn.on('error', () => undefined);
    this.conn = conn;
    try {
      await this.stream();
    } finally {
      await this.source?.stop();
      this.source = null;
      await conn.end().catch(() => undefined);
      this.conn = null;
    }
  }

  /** Before reading again from the stored position: nothing of the abandoned stream is kept. */
  private async forgetStream(): Promise<void> {
    await this.buffer.reset();
    this.txStart = null;
    this.inTransaction = false;
    this.primaryKeys.clear();
    this.tables.clear();
    this.threadId = null;
    this.gtids = null;
    this.publishing = false;
    this.publishedSince = 0;
    this.uncommitted = null;
    this.schemaRecords.clear();
    this.pendingDdl = [];
  }

  /**
   * Stops reading; run() then closes what it opened. A stop during start-up lets the step under
   * way finish (closing its connection under it would fail the run) and ends before streaming.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.backoff.cancel();
    await this.source?.stop();
  }

  private async stream(): Promise<void> {
    const { log } = this.opts;
    const conn = this.conn!;
    const server = await checkSourceServer(conn);
    this.serverId = server.serverId;
    let start = await this.opts.publisher.storedPosition();
    if (start) {
      log.info({ position: formatPosition(start), gtid: start.gtid, server: server.version }, 'capture resuming');
      await this.loadSchemas();
    } else if (this.opts.initPosition) {
      start = await binlogPositionAt(conn, server.isMariaDb, this.opts.initPosition);
      log.info({ position: formatPosition(start), gtid: start.gtid, server: server.version }, 'capture starting at init_position');
      await this.publishSchemaSnapshot(start);
    } else {
      start = await currentBinlogEnd(conn, server.isMariaDb);
      log.info({ position: formatPosition(start), gtid: start.gtid, server: server.version }, 'capture starting at the end of the binlog');
      await this.publishSchemaSnapshot(start);
    }
    const byGtid = this.opts.useGtid !== false && start.gtid !== undefined && start.gtid !== '';
    if (start.gtid !== undefined) this.gtids = new GtidTracker(server.isMariaDb ? 'mariadb' : 'mysql', start.gtid);
    this.file = start.file;
    this.lastEnd = start.pos;
    if (this.stopping) return;
    this.source = new BinlogReader({ url: this.opts.sourceUrl, serverId: this.opts.serverId, start, byGtid });
    await this.source.start();
    this.backoff.recovered();
    while (!this.stopping) {
      const ev = await this.source.next(this.heartbeatMs);
      if (!ev) break;
      if (ev === 'idle') {
        await this.onIdle();
        continue;
      }
      await this.dispatch(ev);
      // Nothing more to read right now: make what was published visible instead of waiting
      // for the next transaction (it may be a while).
      if (this.source.idle) await this.maybeCommit();
    }
  }

  /** The tracked definitions stored with the position, or (stored by an older my2pg) the source's now. */
  private async loadSchemas(): Promise<void> {
    const stored = (await this.opts.publisher.storedSchemas?.()) ?? null;
    // Database defaults are not stored with the position: they are read as they are now.
    const charsets = await readCharsetDefaults(this.conn!);
    if (stored) {
      this.tracker = new SchemaTracker(this.opts.filter, stored, charsets);
      this.opts.log.info({ tables: stored.length }, 'schema tracker loaded the definitions stored with the position');
      return;
    }
    const now = await this.readIncludedSchemas();
    this.tracker = new SchemaTracker(this.opts.filter, now, charsets);
    for (const def of now) this.recordSchema({ database: def.database, table: def.table, def });
    this.opts.log.warn(
      { tables: now.length },
      'no table definitions stored with the position: read them from information_schema; DDL between the stored position and now is described as the tables are now',
    );
  }

  private recordSchema(r: SchemaRecord): void {
    this.schemaRecords.set(JSON.stringify([r.database, r.table]), r);
  }

  /** Every included table's definition, read from information_schema. */
  private async readIncludedSchemas(): Promise<TableSchema[]> {
    const conn = this.conn!;
    const out: TableSchema[] = [];
    for (const db of await listDatabases(conn)) {
      if (!this.opts.filter.includesDatabase(db)) continue;
      for (const table of await listTables(conn, db)) {
        if (!this.opts.filter.includesTable(db, table)) continue;
        const def = await readTableSchema(conn, db, table);
        if (def) out.push(def);
      }
    }
    return out;
  }

  private async dispatch(ev: AnyBinlogEvent): Promise<void> {
    switch (ev.getEventName()) {
      case 'rotate': {
        const r = ev as Extract<AnyBinlogEvent, { getEventName(): 'rotate' }>;
        this.file = r.binlogName;
        this.lastEnd = r.position;
        // The next file may be another server run's, which gives table ids out afresh.
        this.primaryKeys.clear();
        this.tables.clear();
        return;
      }
      case 'gtid':
        this.txStart = this.transactionStart(ev);
        this.gtids?.beginMysql((ev as Extract<AnyBinlogEvent, { getEventName(): 'gtid' }>).gtid);
        return;
      case 'anonymousgtid':
        this.txStart = this.transactionStart(ev);
        return;
      case 'mariadbgtid': {
        // MariaDB's GTID event replaces BEGIN; `standalone` marks a DDL group with no commit.
        const g = ev as Extract<AnyBinlogEvent, { getEventName(): 'mariadbgtid' }>;
        this.txStart = this.transactionStart(ev);
        this.inTransaction = !g.standalone;
        this.serverId = g.serverId;
        this.threadId = g.threadId ?? null;
        this.gtids?.beginMariadb(g.domainId, g.serverId, g.seqNo);
        return;
      }
      case 'query':
        return this.onQuery(ev as QueryEvent);
      case 'tablemap':
        return this.onTableMap(ev as TableMapEvent);
      case 'writerows':
      case 'updaterows':
      case 'deleterows':
        return this.onRows(ev as unknown as SourceRowsEvent);
      case 'xid': {
        const x = ev as Extract<AnyBinlogEvent, { getEventName(): 'xid' }>;
        return this.commitTransaction(String(x.xid), ev.nextPosition);
      }
      default:
        return this.advance(ev);
    }
  }

  private here(): BinlogPosition {
    const gtid = this.gtids?.toString();
    return gtid === undefined ? { file: this.file, pos: this.lastEnd } : { file: this.file, pos: this.lastEnd, gtid };
  }

  /**
   * Where the transaction that `ev` (its GTID event) opens begins. Taken from the event itself:
   * after a start by GTID the server skips to the transaction without telling where it is.
   */
  private transactionStart(ev: AnyBinlogEvent): BinlogPosition {
    const start = this.source?.startOf(ev);
    if (start !== null && start !== undefined) this.lastEnd = start;
    return this.here();
  }

  /**
   * Nothing came from the binlog for a while: everything read so far is published, so publish
   * a heartbeat saying so (docs/EVENTS.md), which apply records to make lag measurable.
   */
  private async onIdle(): Promise<void> {
    if (this.txStart !== null || this.heartbeatMs <= 0 || Date.now() - this.lastHeartbeatAt < this.heartbeatMs) {
      return this.maybeCommit();
    }
    this.lastHeartbeatAt = Date.now();
    const at = this.here();
    await this.beginPublishing();
    await this.opts.publisher.send([
      {
        key: encodeHashKey(HEARTBEAT_DATABASE, 'heartbeat', []),
        value: encodeHeartbeat(Date.now(), formatPosition(at), at.gtid),
        database: HEARTBEAT_DATABASE,
        table: null,
        broadcast: true,
        // Sorts before the transaction that will start at `at`, after everything before it.
        cursor: { tx: at, xoffset: -1, commit: true, next: at },
      },
    ]);
    // The heartbeat goes in the same Kafka transaction as anything still uncommitted.
    this.uncommitted = at;
    await this.maybeCommit();
  }

  /** Moves the position past an event outside any transaction (format, heartbeat, …). */
  private advance(ev: AnyBinlogEvent): void {
    if (this.txStart === null && ev.nextPosition > 0) this.lastEnd = ev.nextPosition;
  }

  private async onQuery(ev: QueryEvent): Promise<void> {
    const sql = ev.query.trim();
    const upper = sql.toUpperCase();
    if (upper === 'BEGIN') {
      this.txStart ??= this.here();
      this.inTransaction = true;
      this.threadId = ev.slaveProxyId;
      return;
    }
    if (upper === 'COMMIT') return this.commitTransaction(null, ev.nextPosition);
    if (upper === 'ROLLBACK') {
      await this.buffer.reset();
      return this.commitTransaction(null, ev.nextPosition);
    }
    // Inside a transaction a statement is not DDL (SAVEPOINT, XA END, statement-logged DML),
    // except the CREATE TABLE that row-based logging writes before the rows of CREATE … SELECT.
    if (this.inTransaction) {
      if (/^CREATE\s/i.test(sql)) await this.onDdl(ev, sql, true);
      return;
    }
    await this.onDdl(ev, sql, false);
  }

  private onTableMap(ev: TableMapEvent): void {
    if (ev.primaryKey && ev.columnNames) {
      this.primaryKeys.set(ev.tableId, ev.primaryKey.map((i) => ev.columnNames![i]));
    }
  }

  private async onRows(ev: SourceRowsEvent): Promise<void> {
    const entry = ev.table;
    if (!entry) throw new My2pgError('STREAM', `row event for unknown table id ${ev.tableId} at ${formatPosition(this.here())}`);
    const database = entry.parentSchema;
    const table = entry.tableName;
    if (!this.opts.filter.includesTable(database, table)) return;
    this.txStart ??= this.here();
    const info = await this.tableInfo(ev.tableId, database, table);
    const cols = rowColumns(entry, info.jsonColumns, info.charsets);
    const ts = Math.floor(ev.timestamp / 1000);
    const type = ev.getEventName() === 'writerows' ? 'insert' : ev.getEventName() === 'updaterows' ? 'update' : 'delete';
    const position = `${this.file}:${this.source?.startOf(ev as unknown as AnyBinlogEvent) ?? this.lastEnd}`;
    for (const raw of ev.rows) {
      const row = this.pendingRow({ database, table, type, ts, position }, cols, info.primaryKey, raw as Record<string, unknown>);
      if (row) await this.buffer.add(row);
    }
  }

  private pendingRow(
    head: Pick<PendingRow, 'database' | 'table' | 'type' | 'ts' | 'position'>,
    cols: RowColumn[],
    primaryKey: string[],
    raw: Record<string, unknown>,
  ): PendingRow | null {
    const o = this.output;
    const isUpdate = head.type === 'update';
    const after = encodeRow(cols, isUpdate ? (raw as { after: Record<string, unknown> }).after : raw);
    const filter = this.opts.filter;
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
    let schema = this.tracker.get(database, table) ?? null;
    if (!schema && this.conn) {
      schema = await readTableSchema(this.conn, database, table);
      this.opts.log.warn({ database, table }, 'row event for an included table the schema tracker does not know; read its definition from information_schema');
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
    const unknown = schema.columns.some((c) => c.charset === null && isCharType(c.type));
    const fallback = unknown ? schema.charset ?? this.tracker.databaseCharset(schema.database) ?? (await databaseCharset(this.conn, schema.database)) : null;
    return new Map(schema.columns.map((c) => [c.name, c.charset ?? (isCharType(c.type) ? fallback : null)]));
  }

  /** A row event with the optional fields the output options ask for (Maxwell's order). */
  private rowEvent(r: PendingRow, xid: string | null, xoffset: number, commit: boolean, gtid: string | undefined): string {
    const o = this.output;
    return encodeRowEvent({
      database: r.database,
      table: r.table,
      type: r.type,
      ts: r.ts,
      xid: o.commitInfo ? xid : null,
      xoffset: o.commitInfo && o.xoffset ? xoffset : undefined,
      commit: o.commitInfo && commit,
      position: o.binlogPosition ? r.position : undefined,
      gtid: o.gtidPosition ? gtid : undefined,
      serverId: o.serverId ? this.serverId : undefined,
      threadId: o.threadId && this.threadId !== null ? this.threadId : undefined,
      primaryKey: o.primaryKeys ? r.primaryKey : undefined,
      primaryKeyColumns: o.primaryKeyColumns ? r.primaryKeyColumns : undefined,
      data: r.data,
      old: r.old,
      jsonNulls: r.jsonNulls,
    });
  }

  /** Ends the open transaction at `nextPos`, publishing its rows, or the DDL events given. */
  private async commitTransaction(xid: string | null, nextPos: number, ddl: DdlEventFields[] = []): Promise<void> {
    const tx = this.txStart ?? this.here();
    const txGtid = this.gtids?.currentGtid;
    this.gtids?.commit();
    this.lastEnd = nextPos > 0 ? nextPos : this.lastEnd;
    this.txStart = null;
    const next = this.here();
    const total = this.buffer.size;
    ddl = [...this.pendingDdl, ...ddl];
    this.pendingDdl = [];
    if (ddl.length > 0) {
      await this.beginPublishing();
      await this.opts.publisher.send(ddlMessages(ddl, tx, next, this.output, total === 0));
      this.publishedSince += ddl.length;
    }
    if (this.schemaRecords.size > 0) {
      // Stored in the same publisher transaction as the events and the position after them.
      await this.beginPublishing();
      await this.opts.publisher.recordSchemas?.([...this.schemaRecords.values()], next);
      this.schemaRecords.clear();
    }
    if (total > 0) {
      await this.beginPublishing();
      let xoffset = 0;
      for await (const chunk of this.buffer.drain(SEND_CHUNK)) {
        const messages = chunk.map((r): StreamMessage => {
          const i = xoffset++;
          // Cursors of the rows come after the transaction's DDL events (CREATE … SELECT).
          const cursor: EventCursor = { tx, xoffset: ddl.length + i, commit: i === total - 1, next };
          return {
            key: r.key,
            value: this.rowEvent(r, xid, i, cursor.commit, txGtid),
            database: r.database,
            table: r.table,
            partitionKey: typeof r.partition === 'string' ? r.partition : String(r.partition.by === 'transaction_id' ? xid : this.threadId),
            cursor,
          };
        });
        await this.opts.publisher.send(messages);
      }
      this.publishedSince += total;
    }
    this.inTransaction = false;
    this.threadId = null;
    this.uncommitted = next;
    await this.maybeCommit();
  }

  /**
   * A DDL statement: parsed, applied to the schema tracker, published as DDL events. Inside a
   * transaction (CREATE … SELECT) the events wait for the commit and go before its rows.
   * Unparseable statements on included objects stop capture here (docs/OPERATIONS.md "Schema
   * changes"), unless listed
   * in `ddl_skip`.
   */
  private async onDdl(ev: QueryEvent, sql: string, inTransaction: boolean): Promise<void> {
    const tx = this.txStart ?? this.here();
    const position = formatPosition(tx);
    // Maxwell's own `position` and `gtid`, when the output options ask for them.
    const o = this.output;
    const start = this.source?.startOf(ev as AnyBinlogEvent);
    const eventPosition = o.binlogPosition ? `${this.file}:${start ?? tx.pos}` : undefined;
    const gtid = o.gtidPosition ? this.gtids?.currentGtid : undefined;
    const fingerprint = ddlFingerprint(sql);
    const skip = this.opts.ddlSkip ?? [];
    let events: DdlEventFields[] = [];
    if (skip.includes(fingerprint) || skip.includes(position)) {
      this.opts.log.warn({ sql, position, fingerprint }, 'DDL statement skipped (ddl_skip): the schema tracker and the replica do not see it');
    } else {
      try {
        const op = this.tracker.parse(sql, ev.schema);
        const base = { ts: ev.timestamp, sql, position, ...(eventPosition !== undefined ? { eventPosition } : {}), ...(gtid !== undefined ? { gtid } : {}) };
        const done = await this.tracker.apply(op, base, (db, table) => readTableSchema(this.conn!, db, table));
        events = done.events;
        for (const r of done.records) this.recordSchema(r);
        if (op.op !== 'ignored') {
          this.primaryKeys.clear();
          this.tables.clear();
        }
        this.opts.log.debug({ op: op.op, sql, position, events: events.length }, 'DDL statement');
      } catch (err) {
        if (!(err instanceof My2pgError) || err.code !== 'UNSUPPORTED_DDL') throw err;
        throw new My2pgError(
          'UNSUPPORTED_DDL',
          `capture stopped at binlog position ${position} on a DDL statement it cannot follow (${err.message}). ` +
            `Statement: ${sql} — to move past it, add "${fingerprint}" (its fingerprint) or "${position}" to ddl_skip ` +
            '(docs/OPERATIONS.md) and make the replica match by hand',
          { cause: err },
        );
      }
    }
    if (inTransaction) {
      this.pendingDdl.push(...events);
      return;
    }
    this.txStart = tx;
    await this.commitTransaction(null, ev.nextPosition, events);
  }

  private async beginPublishing(): Promise<void> {
    if (this.publishing) return;
    await this.opts.publisher.begin();
    this.publishing = true;
    this.publishStartedAt = Date.now();
  }

  /** Commits the publisher's transaction when enough has gathered, or when the reader is idle. */
  private async maybeCommit(): Promise<void> {
    const pos = this.uncommitted;
    if (!pos) return;
    const idle = this.source?.idle ?? true;
    if (!this.publishing) {
      // Only filtered or empty transactions passed: persist the position now and then.
      if (idle && Date.now() - this.lastCommitAt > 1000) {
        await this.beginPublishing();
      } else {
        return;
      }
    }
    const due =
      idle ||
      this.publishedSince >= (this.opts.commitEveryRows ?? 5000) ||
      Date.now() - this.publishStartedAt >= (this.opts.commitEveryMs ?? 100);
    if (!due) return;
    await this.opts.publisher.commit(pos);
    this.publishing = false;
    this.publishedSince = 0;
    this.lastCommitAt = Date.now();
    this.uncommitted = null;
  }

  /** Publishes the current definition of every included table, on a first start. */
  private async publishSchemaSnapshot(at: BinlogPosition): Promise<void> {
    const conn = this.conn!;
    const f = this.opts.filter;
    const events: DdlEventFields[] = [];
    const now = Date.now();
    const defs = await this.readIncludedSchemas();
    const charsets = await readCharsetDefaults(conn);
    for (const db of await listDatabases(conn)) {
      if (!f.includesDatabase(db)) continue;
      const charset = charsets.databases.get(db) ?? null;
      events.push({ type: 'database-create', database: db, charset, ts: now, sql: `-- my2pg schema snapshot of database ${db}` });
      for (const def of defs.filter((d) => d.database === db)) {
        events.push({ type: 'table-create', database: db, table: def.table, def, ts: now, sql: `-- my2pg schema snapshot of ${db}.${def.table}` });
      }
    }
    this.tracker = new SchemaTracker(f, defs, charsets);
    // Snapshot events sort just before the first transaction read at `at` (see EventCursor).
    const tx = { file: at.file, pos: at.pos - 1 };
    await this.opts.publisher.begin();
    await this.opts.publisher.send(ddlMessages(events, tx, at, this.output));
    await this.opts.publisher.recordSchemas?.(defs.map((def) => ({ database: def.database, table: def.table, def })), at);
    await this.opts.publisher.commit(at);
    await this.opts.publisher.flush?.();
    this.opts.log.info({ tables: events.filter((e) => e.table).length }, 'published the schema snapshot');
  }
}

/** DDL events of one transaction starting at `tx`, as messages. */
function ddlMessages(events: DdlEventFields[], tx: BinlogPosition, next: BinlogPosition, o: OutputOptions, endsTransaction = true): StreamMessage[] {
  return events.map((e, i) => ({
    key: ddlKey(),
    partitionKey: ddlPartitionString(e.database, e.table ?? null, o),
    value: encodeDdlEvent(e),
    database: e.database,
    table: e.table ?? null,
    cursor: { tx, xoffset: i, commit: endsTransaction && i === events.length - 1, next },
  }));
}

/** A failure of the stream as a my2pg error: a lost source connection is retriable. */
function captureError(err: unknown): My2pgError {
  if (err instanceof My2pgError) return err;
  if (isConnectionLoss(err)) return new My2pgError('UNREACHABLE', `the source connection was lost: ${(err as Error).message}`, { retriable: true, cause: err });
  return wrapError('capture', err);
}

/** The default character set of a database (null when unknown). */
async function databaseCharset(conn: mysql.Connection | null, database: string): Promise<string | null> {
  if (!conn) return null;
  const [rows] = await conn.query('SELECT DEFAULT_CHARACTER_SET_NAME AS cs FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]);
  return (rows as Array<{ cs: string }>)[0]?.cs ?? null;
}

/** The current end of the binlog, with the GTID state at exactly that point when there is one. */
async function currentBinlogEnd(conn: mysql.Connection, isMariaDb: boolean): Promise<BinlogPosition> {
  let rows: unknown;
  try {
    [rows] = await conn.query('SHOW MASTER STATUS');
  } catch {
    [rows] = await conn.query('SHOW BINARY LOG STATUS');
  }
  const r = (rows as Array<{ File: string; Position: number | string; Executed_Gtid_Set?: string }>)[0];
  if (!r) throw new My2pgError('SOURCE_SETTINGS', 'SHOW MASTER STATUS returned nothing: is log_bin enabled?');
  const pos: BinlogPosition = { file: r.File, pos: Number(r.Position) };
  if (isMariaDb) {
    await addMariaDbGtid(conn, pos);
  } else if (r.Executed_Gtid_Set !== undefined) {
    const [m] = await conn.query('SELECT @@GLOBAL.gtid_mode AS mode');
    if ((m as Array<{ mode: string }>)[0]?.mode === 'ON') pos.gtid = r.Executed_Gtid_Set.replace(/\s+/g, '');
  }
  return pos;
}

/** MariaDB knows the GTID state at any binlog offset. */
async function addMariaDbGtid(conn: mysql.Connection, pos: BinlogPosition): Promise<void> {
  const [g] = await conn.query('SELECT BINLOG_GTID_POS(?, ?) AS gtid', [pos.file, pos.pos]);
  const gtid = (g as Array<{ gtid: string | null }>)[0]?.gtid;
  if (gtid !== null && gtid !== undefined) pos.gtid = gtid;
}

/**
 * `init_position` (file:offset) checked against the server's binlogs. On MariaDB the position
 * gets its GTID state, so it resumes by GTID like any other; on MySQL, which cannot tell the GTID
 * set at an offset, positions stay file/offset (docs/CONFIG.md).
 */
async function binlogPositionAt(conn: mysql.Connection, isMariaDb: boolean, spec: string): Promise<BinlogPosition> {
  const at = spec.lastIndexOf(':');
  const pos: BinlogPosition = { file: spec.slice(0, at), pos: Number(spec.slice(at + 1)) };
  const [rows] = await conn.query('SHOW BINARY LOGS');
  const logs = rows as Array<{ Log_name: string; File_size: number | string }>;
  const log = logs.find((l) => l.Log_name === pos.file);
  if (!log || pos.pos < 4 || pos.pos > Number(log.File_size)) {
    throw new My2pgError(
      'CONFIG',
      `init_position ${spec} is not in the source's binlogs (${logs.map((l) => `${l.Log_name}: 4…${l.File_size}`).join(', ')}); ` +
        'give a file SHOW BINARY LOGS lists and an event offset inside it, or leave init_position out to start at the end of the binlog',
    );
  }
  if (isMariaDb) await addMariaDbGtid(conn, pos);
  return pos;
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
