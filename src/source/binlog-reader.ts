// Reads binlog events with @vlasky/zongji as an async stream with backpressure: when the
// consumer falls behind, the replication connection is paused (docs/OPERATIONS.md, "Memory").

import { ZongJi, type AnyBinlogEvent, type RowsEvent, type TableMapEntry, type TableMapEvent } from './zongji.js';
import type { ConnectionOptions } from 'mysql2';
import { My2pgError } from '../core/errors.js';
import type { BinlogPosition } from '../core/position.js';
import { isConnectionLoss, settleSourceTls, sourceConnectionOptions, type SourceTls } from './connect.js';
import { markBinaryJson, markRawText } from './row-encoder.js';

export interface BinlogReaderOptions {
  url: string;
  /** TLS and authentication of the binlog connections (default: PREFERRED). */
  tls?: SourceTls;
  serverId: number;
  start: BinlogPosition;
  /** Start from `start.gtid` instead of file and offset. */
  byGtid?: boolean;
  /** Pause reading when this many rows (other events count one) wait for the consumer. */
  highWaterMark?: number;
}

const EVENTS = [
  'rotate', 'query', 'xid', 'tablemap', 'writerows', 'updaterows', 'deleterows',
  'gtid', 'anonymousgtid', 'mariadbgtid', 'heartbeat',
];

/**
 * The binlog connection's options for a mysql:// URL (also what the capture benchmark's bare
 * decoder uses): zongji's control and binlog connections are mysql2's, with the options of every
 * source connection (TLS, authentication).
 */
export function zongjiOptions(url: string, tls?: SourceTls): ConnectionOptions {
  return {
    ...sourceConnectionOptions(url, tls),
    // Temporal values as text (DATETIME wall clock, TIMESTAMP in UTC) and JSON as raw text, so
    // nothing passes through a JS Date or number on the way to the encoder.
    dateStrings: true,
    timezone: 'Z',
    jsonStrings: true,
  };
}

/**
 * A rows event with the table map it was decoded with. The driver's `tableMap` is shared and
 * keyed by table id, and a restarted server hands the same ids out again to other tables: by
 * the time a queued event is consumed, its id may name a table of a later binlog file.
 */
export type SourceRowsEvent = RowsEvent & { rows: unknown[]; table: TableMapEntry };

const ROWS_EVENTS = new Set(['writerows', 'updaterows', 'deleterows']);

export class BinlogReader {
  private zongji: ZongJi | null = null;
  private readonly queue: Array<AnyBinlogEvent | undefined> = [];
  private head = 0;
  private failure: Error | null = null;
  private ended = false;
  private wake: (() => void) | null = null;
  private paused = false;
  private readonly hwm: number;
  /** Rows (and other events) queued: what the decoded events weigh in memory. */
  private queuedWeight = 0;

  constructor(private readonly opts: BinlogReaderOptions) {
    this.hwm = opts.highWaterMark ?? 1000;
  }

  /** Connects and starts streaming from `opts.start`; resolves once the dump has begun. */
  async start(): Promise<void> {
    // Under PREFERRED, whether the server offers TLS is known before zongji connects.
    await settleSourceTls(this.opts.url, this.opts.tls);
    const zongji = new ZongJi(zongjiOptions(this.opts.url, this.opts.tls));
    this.zongji = zongji;
    zongji.on('binlog', (ev) => this.onEvent(ev));
    zongji.on('error', (err) => this.fail(err));
    const ready = new Promise<void>((resolve, reject) => {
      zongji.once('ready', () => resolve());
      zongji.once('error', reject);
    });
    const { start, byGtid } = this.opts;
    zongji.start({
      serverId: this.opts.serverId,
      ...(byGtid && start.gtid !== undefined ? { gtidSet: start.gtid } : { filename: start.file, position: start.pos }),
      includeEvents: EVENTS,
    });
    await ready;
  }

  /**
   * The next event; 'idle' when none arrived for `idleMs`; null once stopped. Throws the
   * stream's error, classified.
   */
  async next(idleMs = 0): Promise<AnyBinlogEvent | 'idle' | null> {
    for (;;) {
      if (this.head < this.queue.length) {
        const ev = this.queue[this.head]!;
        // Let go of it at once: read events left in the array kept up to a thousand rows
        // events (≈100,000 decoded rows) alive until the next splice.
        this.queue[this.head++] = undefined;
        this.queuedWeight -= weight(ev);
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        if (this.paused && this.queuedWeight < this.hwm / 2) {
          this.paused = false;
          this.zongji?.connection?.resume();
        }
        return ev;
      }
      if (this.failure) throw this.failure;
      if (this.ended) return null;
      const woken = await new Promise<boolean>((resolve) => {
        const timer = idleMs > 0 ? setTimeout(() => resolve(false), idleMs) : undefined;
        this.wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      if (!woken) {
        this.wake = null;
        return 'idle';
      }
    }
  }

  /** Offset of an event's first byte in its binlog file, when the event carries its end. */
  startOf(ev: AnyBinlogEvent): number | null {
    if (ev.nextPosition <= 0) return null;
    const header = 19 + (this.zongji?.useChecksum ? 4 : 0);
    return ev.nextPosition - ev.size - header;
  }

  /** True when no event is waiting: a good moment to make progress durable. */
  get idle(): boolean {
    return this.head >= this.queue.length;
  }

  async stop(): Promise<void> {
    this.ended = true;
    const z = this.zongji;
    this.zongji = null;
    if (z) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        z.once('stopped', () => {
          clearTimeout(t);
          resolve();
        });
        z.stop();
      });
    }
    this.signal();
  }

  private onEvent(ev: AnyBinlogEvent): void {
    const name = ev.getEventName();
    const tableMap = this.zongji?.tableMap;
    if (name === 'tablemap') {
      const entry = tableMap?.[(ev as TableMapEvent).tableId];
      if (entry && this.zongji?.isMariaDb) markRawText(entry);
      else if (entry) markBinaryJson(entry);
    } else if (ROWS_EVENTS.has(name)) {
      const rows = ev as unknown as SourceRowsEvent;
      rows.table = rows.tableMap[rows.tableId]!;
    } else if (name === 'rotate' && tableMap) {
      // Table ids are unique within one server run, and a binlog file is written by one run:
      // the next file's ids may be another run's. Forget them all, or the driver would decode
      // a table with the columns of another of the same name (it compares names, not schemas).
      for (const id of Object.keys(tableMap)) delete tableMap[Number(id)];
    }
    this.queue.push(ev);
    this.queuedWeight += weight(ev);
    if (!this.paused && this.queuedWeight >= this.hwm) {
      this.paused = true;
      this.zongji?.connection?.pause();
    }
    this.signal();
  }

  private fail(err: Error): void {
    this.failure = classifyBinlogError(err, this.opts.start, this.opts.serverId);
    this.signal();
  }

  private signal(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

function classifyBinlogError(err: Error, start: BinlogPosition, serverId: number): My2pgError {
  const msg = err.message ?? String(err);
  const errno = (err as { errno?: number }).errno;
  // MariaDB (4052) and MySQL (1236) end the older of two connections that share a server_id.
  if (/same server_uuid\/server_id/i.test(msg)) {
    return new My2pgError(
      'CONFIG',
      `another replica connected to the source with this one's server_id ${serverId}, and the source dropped this connection. ` +
        'Give every my2pg capture (and every replica) of the source its own server_id (--server-id, or leave it unset: ' +
        `my2pg then derives one from the pipeline, docs/CONFIG.md). (server said: ${msg})`,
      { cause: err },
    );
  }
  if (/purged|could not find first log file|first log file name|not in the (master|source)'s binlog/i.test(msg)) {
    return new My2pgError(
      'BINLOG_PURGED',
      `the source no longer has binlog ${start.file} (position ${start.pos}${start.gtid ? `, GTID ${start.gtid}` : ''}): ` +
        'it was purged before my2pg read it. ' +
        'The replica cannot be brought up to date from the binlog: bootstrap the tables again, then restart. ' +
        `(server said: ${msg})`,
      { cause: err },
    );
  }
  if (errno === 1045 || errno === 1227 || /access denied/i.test(msg)) {
    return new My2pgError('SOURCE_SETTINGS', `the source refused binlog access: ${msg}. Grant REPLICATION SLAVE, REPLICATION CLIENT, SELECT to the my2pg user.`, { cause: err });
  }
  const transient = isConnectionLoss(err);
  return new My2pgError(transient ? 'UNREACHABLE' : 'STREAM', `binlog stream failed: ${msg}`, { retriable: transient, cause: err });
}

/** A rows event weighs its rows (a single event can hold hundreds); anything else one. */
function weight(ev: AnyBinlogEvent): number {
  const rows = (ev as { rows?: unknown[] }).rows;
  return Array.isArray(rows) ? Math.max(rows.length, 1) : 1;
}
