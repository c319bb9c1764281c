// Stopped tables and their parked events in the replica's control schema (`_my2pg.stopped_tables`,
// `_my2pg.parked_events`, docs/OPERATIONS.md "Stopped tables"). A table stops when the replica
// refuses one of its DDL statements or row changes; from that event on, every event of the table
// is parked here in stream order, in the batch's transaction, instead of being applied. Once an
// operator deletes the table's `stopped_tables` row, apply replays the parked events a page per
// batch, before the batch's own events, and the table's new events queue behind them until none
// is left: the table resumes from its own position, nothing skipped.

import type { ClientBase } from 'pg';
import { tableKey } from '../core/table-key.js';
import type { DeliveredMessage } from '../transport/transport.js';

/** A parked message read back for replay; parked again under the same `seq` if it fails again. */
export interface ParkedMessage extends DeliveredMessage {
  seq: string;
  database: string;
  table: string;
}

export interface StopRecord {
  database: string;
  table: string;
  kind: 'ddl' | 'data';
  /** Position of the failing event in its part. */
  position: string;
  /** What failed: the DDL statement, or the row event as it came. */
  statement: string;
  /** The failing row's primary key (data stops), as JSON. */
  rowKey?: string;
  error: string;
}

interface Parked {
  database: string;
  table: string;
  seq: string | null;
  message: DeliveredMessage;
}

/** Replayed per table and batch: bounds the work a resume adds to one transaction. */
export const REPLAY_PAGE = 5000;

export class ParkedEvents {
  /** Tables whose events are parked now: stopped, or resuming with parked events left. */
  private held = new Set<string>();
  private stopped = new Set<string>();
  private buffer: Parked[] = [];

  constructor(
    private readonly client: ClientBase,
    private readonly stream: string,
  ) {}

  /** Reads the stops at the start of a batch; returns the tables to replay (resumed, events parked). */
  async begin(): Promise<Array<{ database: string; table: string }>> {
    this.buffer = [];
    const stops = await this.client.query<{ source_db: string; source_table: string }>('SELECT source_db, source_table FROM _my2pg.stopped_tables');
    this.stopped = new Set(stops.rows.map((r) => tableKey(r.source_db, r.source_table)));
    const parked = await this.client.query<{ source_db: string; source_table: string }>('SELECT DISTINCT source_db, source_table FROM _my2pg.parked_events');
    this.held = new Set([...this.stopped, ...parked.rows.map((r) => tableKey(r.source_db, r.source_table))]);
    return parked.rows.filter((r) => !this.stopped.has(tableKey(r.source_db, r.source_table))).map((r) => ({ database: r.source_db, table: r.source_table }));
  }

  isStopped(database: string, table: string): boolean {
    return this.stopped.has(tableKey(database, table));
  }

  isHeld(database: string, table: string): boolean {
    return this.held.has(tableKey(database, table));
  }

  /** Parks a message of a held table (a replayed one keeps its place in the order). */
  park(database: string, table: string, message: DeliveredMessage): void {
    const replayed = isParked(message) ? message : null;
    this.buffer.push({ database: replayed?.database ?? database, table: replayed?.table ?? table, seq: replayed?.seq ?? null, message });
  }

  /**
   * The next page of a resumed table's parked events, taken out of the table (they are parked
   * again if they fail again). While more are left, the table stays held.
   */
  async takePage(database: string, table: string): Promise<ParkedMessage[]> {
    const res = await this.client.query<{ seq: string; part: string; position: string; message: string }>(
      `SELECT seq, part, position, message FROM _my2pg.parked_events WHERE source_db = $1 AND source_table = $2 ORDER BY seq LIMIT ${REPLAY_PAGE + 1}`,
      [database, table],
    );
    const page = res.rows.slice(0, REPLAY_PAGE);
    const key = tableKey(database, table);
    if (page.length === 0) {
      this.held.delete(key);
      return [];
    }
    await this.client.query('DELETE FROM _my2pg.parked_events WHERE source_db = $1 AND source_table = $2 AND seq <= $3', [database, table, page[page.length - 1].seq]);
    if (res.rows.length <= REPLAY_PAGE) this.held.delete(key);
    return page.map((r) => ({ seq: r.seq, database, table, value: r.message, part: r.part, position: r.position }));
  }

  /** Stops a table: its stop row, and from now on its events are parked. */
  async stop(s: StopRecord): Promise<void> {
    await this.client.query(
      'INSERT INTO _my2pg.stopped_tables (source_db, source_table, stream, position, statement, error, kind, row_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [s.database, s.table, this.stream, s.position, s.statement, s.error, s.kind, s.rowKey ?? null],
    );
    const key = tableKey(s.database, s.table);
    this.stopped.add(key);
    this.held.add(key);
  }

  /** The stream replaces the table (DROP, or CREATE anew): its stop and parked events go. */
  async release(database: string, table: string): Promise<void> {
    await this.client.query('DELETE FROM _my2pg.stopped_tables WHERE source_db = $1 AND source_table = $2', [database, table]);
    await this.client.query('DELETE FROM _my2pg.parked_events WHERE source_db = $1 AND source_table = $2', [database, table]);
    this.buffer = this.buffer.filter((p) => p.database !== database || p.table !== table);
    const key = tableKey(database, table);
    this.stopped.delete(key);
    this.held.delete(key);
  }

  /** A held table was renamed: its stop and parked events follow it to the new name. */
  async rename(database: string, table: string, toDatabase: string, toTable: string): Promise<void> {
    const params = [database, table, toDatabase, toTable];
    await this.client.query('UPDATE _my2pg.stopped_tables SET source_db = $3, source_table = $4 WHERE source_db = $1 AND source_table = $2', params);
    await this.client.query('UPDATE _my2pg.parked_events SET source_db = $3, source_table = $4 WHERE source_db = $1 AND source_table = $2', params);
    for (const p of this.buffer) {
      if (p.database === database && p.table === table) [p.database, p.table] = [toDatabase, toTable];
    }
    for (const set of [this.stopped, this.held]) {
      if (set.delete(tableKey(database, table))) set.add(tableKey(toDatabase, toTable));
    }
  }

  /** Writes the batch's parked events and counts them on their tables' stops. */
  async end(): Promise<void> {
    const parked = this.buffer;
    this.buffer = [];
    for (let i = 0; i < parked.length; i += 1000) {
      const rows = parked.slice(i, i + 1000);
      await this.client.query(
        `INSERT INTO _my2pg.parked_events (seq, source_db, source_table, stream, part, position, message)
         SELECT coalesce(seq::bigint, nextval(pg_get_serial_sequence('_my2pg.parked_events', 'seq'))), db, tb, $1, part, pos, msg
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS p(seq, db, tb, part, pos, msg)`,
        [
          this.stream,
          rows.map((p) => p.seq),
          rows.map((p) => p.database),
          rows.map((p) => p.table),
          rows.map((p) => p.message.part),
          rows.map((p) => p.message.position),
          rows.map((p) => p.message.value),
        ],
      );
    }
    const counts = new Map<string, number>();
    for (const p of parked) if (p.seq === null) counts.set(tableKey(p.database, p.table), (counts.get(tableKey(p.database, p.table)) ?? 0) + 1);
    for (const [key, n] of counts) {
      const [db, table] = key.split('\u0000');
      await this.client.query('UPDATE _my2pg.stopped_tables SET skipped_events = skipped_events + $3 WHERE source_db = $1 AND source_table = $2', [db, table, n]);
    }
  }
}

function isParked(m: DeliveredMessage): m is ParkedMessage {
  return typeof (m as Partial<ParkedMessage>).seq === 'string';
}
