// The capture stage: binlog events → transactions → Maxwell messages → publisher. Positions
// become durable only with the publisher's commit, and only at transaction boundaries
// (docs/OPERATIONS.md, "How progress is kept"): restart never begins inside a transaction. An
// outage of the source or the publisher's server restarts the stream from the stored position,
// within the retry budget ("Outages and retries").
//
// This file holds the lifecycle and the binlog state machine (where the reader is, which
// transaction is open); where a capture starts is start-position.ts, rows are shaped in
// row-shaping.ts, DDL followed in ddl-events.ts, and the publisher's transaction and commit
// policy kept in publish-session.ts.

import type { AnyBinlogEvent, QueryEvent, TableMapEvent } from '../source/zongji.js';
import type mysql from 'mysql2/promise';
import { Backoff } from '../core/backoff.js';
import { My2pgError, wrapError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { DdlEventFields } from '../core/maxwell.js';
import { formatPosition, type BinlogPosition } from '../core/position.js';
import type { Publisher } from '../transport/transport.js';
import { BinlogReader, type SourceRowsEvent } from '../source/binlog-reader.js';
import { connectSource, isConnectionLoss, type SourceTls } from '../source/connect.js';
import { GtidTracker } from './gtid-tracker.js';
import type { TableFilter } from '../core/table-filter.js';
import { DEFAULT_OUTPUT, type OutputOptions } from '../core/maxwell-keys.js';
import { checkSourceServer } from '../source/server-check.js';
import { TransactionBuffer } from './transaction-buffer.js';
import { StartPosition } from './start-position.js';
import { RowShaper, type CommitInfo } from './row-shaping.js';
import { DdlEvents, ddlMessages } from './ddl-events.js';
import { PublishSession } from './publish-session.js';

export interface CaptureOptions {
  sourceUrl: string;
  /** TLS and authentication of the source connections (default: PREFERRED). */
  sourceTls?: SourceTls;
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
  private readonly output: OutputOptions;
  /** Origin server and session of the open transaction (Maxwell's server_id, thread_id). */
  private serverId = 0;
  private threadId: number | null = null;
  private gtids: GtidTracker | null = null;

  private readonly session: PublishSession;
  /** Of the stream under way: they know the table definitions as of the position read to. */
  private rows!: RowShaper;
  private ddl!: DdlEvents;
  /** DDL events of the open transaction (CREATE TABLE … SELECT logs rows after its DDL). */
  private pendingDdl: DdlEventFields[] = [];

  private readonly backoff: Backoff;

  constructor(private readonly opts: CaptureOptions) {
    this.output = opts.output ?? DEFAULT_OUTPUT;
    this.backoff = new Backoff(opts.log, opts.retryMaxMs);
    this.session = new PublishSession(opts.publisher, opts, () => this.source?.idle ?? true);
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
    const conn = await connectSource(this.opts.sourceUrl, this.opts.sourceTls);
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
    this.threadId = null;
    this.gtids = null;
    this.session.reset();
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
    const { filter, log } = this.opts;
    const conn = this.conn!;
    const server = await checkSourceServer(conn);
    this.serverId = server.serverId;
    const found = await new StartPosition({ conn, publisher: this.opts.publisher, filter, output: this.output, log, initPosition: this.opts.initPosition }).find(server);
    for (const r of found.records) this.session.recordSchema(r);
    const { tracker, position: start } = found;
    // Table ids are the stream's own: a new stream begins with no table map known.
    this.rows = new RowShaper({ conn, tracker, filter, output: this.output, log });
    this.ddl = new DdlEvents({ conn, tracker, ddlSkip: this.opts.ddlSkip, log });
    const byGtid = this.opts.useGtid !== false && start.gtid !== undefined && start.gtid !== '';
    if (start.gtid !== undefined) this.gtids = new GtidTracker(server.isMariaDb ? 'mariadb' : 'mysql', start.gtid);
    this.file = start.file;
    this.lastEnd = start.pos;
    if (this.stopping) return;
    this.source = new BinlogReader({ url: this.opts.sourceUrl, tls: this.opts.sourceTls, serverId: this.opts.serverId, start, byGtid });
    await this.source.start();
    this.backoff.recovered();
    while (!this.stopping) {
      const ev = await this.source.next(this.session.heartbeatMs);
      if (!ev) break;
      if (ev === 'idle') {
        await this.onIdle();
        continue;
      }
      await this.dispatch(ev);
      // Nothing more to read right now: make what was published visible instead of waiting
      // for the next transaction (it may be a while).
      if (this.source.idle) await this.session.maybeCommit();
    }
  }

  private async dispatch(ev: AnyBinlogEvent): Promise<void> {
    switch (ev.getEventName()) {
      case 'rotate': {
        const r = ev as Extract<AnyBinlogEvent, { getEventName(): 'rotate' }>;
        this.file = r.binlogName;
        this.lastEnd = r.position;
        // The next file may be another server run's, which gives table ids out afresh.
        this.rows.forgetTableIds();
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
        return this.rows.tableMap(ev as TableMapEvent);
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
   * a heartbeat saying so, unless a transaction is open.
   */
  private async onIdle(): Promise<void> {
    if (this.txStart !== null || !this.session.heartbeatDue()) return this.session.maybeCommit();
    await this.session.heartbeat(this.here());
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

  private async onRows(ev: SourceRowsEvent): Promise<void> {
    const entry = ev.table;
    if (!entry) throw new My2pgError('STREAM', `row event for unknown table id ${ev.tableId} at ${formatPosition(this.here())}`);
    if (!this.opts.filter.includesTable(entry.parentSchema, entry.tableName)) return;
    this.txStart ??= this.here();
    const position = `${this.file}:${this.source?.startOf(ev as unknown as AnyBinlogEvent) ?? this.lastEnd}`;
    await this.rows.shape(ev, position, (row) => this.buffer.add(row));
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
    if (ddl.length > 0) await this.session.publish(ddlMessages(ddl, tx, next, this.output, { endsTransaction: total === 0 }));
    await this.session.storeSchemas(next);
    if (total > 0) {
      const commit: CommitInfo = { xid, gtid: txGtid, serverId: this.serverId, threadId: this.threadId };
      let xoffset = 0;
      for await (const chunk of this.buffer.drain(SEND_CHUNK)) {
        await this.session.publish(
          chunk.map((r) => {
            const i = xoffset++;
            // Cursors of the rows come after the transaction's DDL events (CREATE … SELECT).
            return this.rows.message(r, commit, i, { tx, xoffset: ddl.length + i, commit: i === total - 1, next });
          }),
        );
      }
    }
    this.inTransaction = false;
    this.threadId = null;
    this.session.transactionEnded(next);
    await this.session.maybeCommit();
  }

  /**
   * A DDL statement, followed by the schema tracker and published as DDL events. Inside a
   * transaction (CREATE … SELECT) the events wait for the commit and go before its rows.
   */
  private async onDdl(ev: QueryEvent, sql: string, inTransaction: boolean): Promise<void> {
    const tx = this.txStart ?? this.here();
    // Maxwell's own `position` (the statement's event) and `gtid`, when the output options ask for them.
    const o = this.output;
    const start = this.source?.startOf(ev as unknown as AnyBinlogEvent);
    const done = await this.ddl.follow(ev, sql, formatPosition(tx), {
      ...(o.binlogPosition ? { eventPosition: `${this.file}:${start ?? tx.pos}` } : {}),
      ...(o.gtidPosition && this.gtids?.currentGtid !== undefined ? { gtid: this.gtids.currentGtid } : {}),
    });
    for (const r of done.records) this.session.recordSchema(r);
    if (done.tablesChanged) this.rows.forgetTableIds();
    if (inTransaction) {
      this.pendingDdl.push(...done.events);
      return;
    }
    this.txStart = tx;
    await this.commitTransaction(null, ev.nextPosition, done.events);
  }
}

/** A failure of the stream as a my2pg error: a lost source connection is retriable. */
function captureError(err: unknown): My2pgError {
  if (err instanceof My2pgError) return err;
  if (isConnectionLoss(err)) return new My2pgError('UNREACHABLE', `the source connection was lost: ${(err as Error).message}`, { retriable: true, cause: err });
  return wrapError('capture', err);
}
