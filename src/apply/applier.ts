// Applies batches to the replica: in one Postgres transaction the data, the DDL in stream order,
// and the consumed positions; a transaction holds one batch or, for a large source transaction,
// several (applyBatch's `commit`, src/apply/transaction-cut.ts). Redelivered messages are dropped. A table whose
// DDL or data the replica refuses stops alone; its events are parked until it resumes
// (state/parked-events.ts, docs/OPERATIONS.md "Stopped tables").

import type { Client } from 'pg';
import { activeBootstraps, lockBootstrappedTable, type ActiveBootstraps } from '../state/bootstrap-registry.js';
import { My2pgError, wrapError } from '../core/errors.js';
import type { ChangeEvent, DdlEvent, HeartbeatEvent, RowEvent } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { tableKey } from '../core/table-key.js';
import { stringifyJson } from '../core/json.js';
import { decodeEvent } from '../core/maxwell.js';
import { keepsExistingTable, translateDdlEvent } from '../ddl/translate.js';
import type { TypeOverrides } from '../ddl/type-overrides.js';
import { Catalog, type TargetTable } from '../target/catalog.js';
import type { Dialect } from '../target/dialect.js';
import type { Naming } from '../target/naming.js';
import type { DeliveredMessage, Subscriber } from '../transport/transport.js';
import { readCheckpoints, writeCheckpoints } from '../state/checkpoints.js';
import { recordDeadLetter } from '../state/dead-letters.js';
import { recordHeartbeat } from '../state/heartbeats.js';
import { ddlApplied, recordDdlHistory } from '../state/ddl-history.js';
import { recordSourceSchema } from '../state/source-schemas.js';
import { ParkedEvents } from '../state/parked-events.js';
import { LossCounter } from '../target/loss-counter.js';
import { encodeKeyedChanges, stagingTable, writeTableChanges, type EncodedChanges, type WriteContext } from './table-writer.js';

export interface ApplierOptions {
  dialect: Dialect;
  naming: Naming;
  /** Per-column Postgres types instead of the default mapping (docs/TYPES.md). */
  typeOverrides?: TypeOverrides;
  /** Create, rebuild and drop secondary indexes with DDL (default true). */
  ddlIndexes?: boolean;
  log: Logger;
}

/** SQLSTATE classes of a statement the replica refuses for good (not a lost connection). */
const PERMANENT_SQLSTATE = /^(0A|22|23|42|2B|44)/;

/** An error retrying cannot cure: the replica refused the statement, or the event does not fit the table. */
function refusedForGood(err: unknown): boolean {
  if (err instanceof My2pgError) return !err.retriable && (err.code === 'UNSUPPORTED_DDL' || err.code === 'BAD_EVENT' || err.code === 'TARGET');
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && PERMANENT_SQLSTATE.test(code);
}

/** A unique violation on Postgres' own catalog: two sessions created the same object at once. */
function createdConcurrently(err: unknown): boolean {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && typeof e.constraint === 'string' && e.constraint.startsWith('pg_');
}

/** A table's row events waiting to be merged, with the messages they came in. */
interface Pending {
  events: RowEvent[];
  messages: DeliveredMessage[];
}

/** A consumed message, decoded ahead of its transaction (or the reason it is not an event). */
export interface PreparedMessage {
  message: DeliveredMessage;
  event: ChangeEvent | My2pgError;
}

/** Decodes a batch; done outside the Postgres transaction so it can overlap the previous one. */
export function prepareBatch(batch: DeliveredMessage[]): PreparedMessage[] {
  return batch.map((message) => {
    try {
      return { message, event: decodeEvent(message.value) };
    } catch (err) {
      if (err instanceof My2pgError && err.code === 'BAD_EVENT') return { message, event: err };
      throw err;
    }
  });
}

export interface DeadLetter {
  message: DeliveredMessage;
  error: string;
}

export interface BatchResult {
  applied: number;
  skipped: number;
  /** Invalid messages of the batch, recorded in `_my2pg.dead_letters` with it. */
  deadLetters: DeadLetter[];
  positions: Map<string, string>;
}

export class Applier {
  private readonly catalog = new Catalog();
  readonly losses: LossCounter;
  deadLetters = 0;
  private batchNo = 0;
  /** Staging tables live until COMMIT, so their names must be unique per transaction. */
  private stagingSeq = 0;
  /** A replica transaction is open: batches applied without `commit` are in it. */
  private inTransaction = false;
  private bootstrapping: ActiveBootstraps = new Set();
  /** Stopped tables and their parked events (state/parked-events.ts). */
  private readonly parked: ParkedEvents;

  constructor(
    private readonly client: Client,
    private readonly subscriber: Subscriber,
    private readonly opts: ApplierOptions,
  ) {
    this.losses = new LossCounter(opts.log);
    this.parked = new ParkedEvents(client, subscriber.stream);
  }

  /** A later batch's changes, encoded ahead (prepareAhead), by the first event of each table. */
  private ahead: { batch: PreparedMessage[]; tables: Map<RowEvent, EncodedChanges> } | null = null;
  /** Set for the duration of applyBatch: see WriteContext.whilePostgresWorks. */
  private whilePostgresWorks: (() => void) | undefined;

  /**
   * Reduces and encodes a batch's row changes per table before its turn, from the cached table
   * shapes: JavaScript work that can run while Postgres merges the batch before it. Only what
   * precedes the batch's first DDL, and only tables with a primary key. applyBatch uses a table's
   * result only if its inputs are still the same (the same cached shape, the same events, i.e.
   * nothing was redelivered, stopped or changed meanwhile); otherwise it encodes again.
   */
  prepareAhead(batch: PreparedMessage[]): void {
    const groups = new Map<string, RowEvent[]>();
    for (const { event: ev } of batch) {
      if (ev instanceof My2pgError || ev.kind !== 'row') {
        if (!(ev instanceof My2pgError) && ev.kind === 'ddl') break;
        continue;
      }
      const key = `${ev.database}\u0000${ev.table}`;
      const list = groups.get(key);
      if (list) list.push(ev);
      else groups.set(key, [ev]);
    }
    const tables = new Map<RowEvent, EncodedChanges>();
    for (const events of groups.values()) {
      const first = events[0];
      const table = this.catalog.cached(this.opts.naming.name(first.database), this.opts.naming.name(first.table));
      if (!table || table.primaryKey.length === 0) continue;
      try {
        tables.set(first, encodeKeyedChanges(this.opts.naming, table, events));
      } catch {
        // Reported when the batch is applied, in its place.
      }
    }
    this.ahead = { batch, tables };
  }

  /**
   * Applies one batch; safe to call again with the same messages. Without `commit` the batch's
   * changes and positions stay in an open replica transaction that the next batches join, until
   * one commits. `whilePostgresWorks` runs (at most once per table) while Postgres merges on its own.
   */
  async applyBatch(batch: PreparedMessage[], whilePostgresWorks?: () => void, commit = true): Promise<BatchResult> {
    const n = ++this.batchNo;
    this.whilePostgresWorks = whilePostgresWorks;
    const { client, subscriber } = this;
    if (!this.inTransaction) {
      await client.query('BEGIN');
      this.inTransaction = true;
      this.stagingSeq = 0;
    }
    const firstStage = this.stagingSeq;
    try {
      // A message at or before the stored position, or not after one already taken in this batch
      // (a consumer that restarted delivers again), is applied already. A heartbeat is recorded
      // all the same: it says capture was caught up at its position, which the replica holds.
      const stored = await readCheckpoints(client, subscriber.stream, [...new Set(batch.map((p) => p.message.part))]);
      /** Per part, the last message taken. */
      const taken = new Map<string, DeliveredMessage>();
      const fresh: PreparedMessage[] = [];
      const lateHeartbeats: Array<{ part: string; ev: HeartbeatEvent }> = [];
      for (const p of batch) {
        const m = p.message;
        const prev = taken.get(m.part);
        const s = stored.get(m.part);
        if (prev ? !subscriber.follows(m, prev) : s !== undefined && subscriber.alreadyApplied(m, s)) {
          if (!(p.event instanceof My2pgError) && p.event.kind === 'heartbeat') lateHeartbeats.push({ part: m.part, ev: p.event });
          continue;
        }
        taken.set(m.part, m);
        fresh.push(p);
      }
      const positions = new Map([...taken].map(([part, m]) => [part, subscriber.positionAfter(m)]));
      const dead = await this.applyMessages(fresh);
      for (const { part, ev } of lateHeartbeats) await recordHeartbeat(client, subscriber.stream, part, ev.ts, ev.position);
      await writeCheckpoints(client, subscriber.stream, positions);
      if (commit) {
        await client.query('COMMIT');
        this.inTransaction = false;
      } else {
        // The transaction goes on: this batch's staging tables are not needed any more.
        const staged = Array.from({ length: this.stagingSeq - firstStage }, (_, i) => `pg_temp.${stagingTable(firstStage + i)}`);
        if (staged.length > 0) await client.query(`DROP TABLE IF EXISTS ${staged.join(', ')}`);
      }
      if (this.ahead?.batch === batch) this.ahead = null;
      this.deadLetters += dead.length;
      return { applied: fresh.length - dead.length, skipped: batch.length - fresh.length, deadLetters: dead, positions };
    } catch (err) {
      this.catalog.invalidate();
      this.ahead = null;
      this.inTransaction = false;
      await client.query('ROLLBACK').catch(() => undefined);
      throw wrapError(`applying batch ${n} (${batch.length} messages)`, err);
    }
  }

  /** Applies messages in order, after replaying resumed tables; returns those that went to the dead-letter table. */
  private async applyMessages(messages: PreparedMessage[]): Promise<DeadLetter[]> {
    // Read inside the transaction, after the batch arrived: a bootstrap registered later than
    // this read only copies rows written after every change of this batch (docs/BOOTSTRAP.md).
    this.bootstrapping = await activeBootstraps(this.client);
    for (const t of await this.parked.begin()) await this.replay(t.database, t.table);
    const dead = await this.dispatch(messages, false);
    await this.parked.end();
    return dead;
  }

  /** The next page of a resumed table's parked events, applied as they came (the table stays held while more are left). */
  private async replay(database: string, table: string): Promise<void> {
    const page = await this.parked.takePage(database, table);
    if (page.length === 0) return;
    this.opts.log.info({ database, table, events: page.length }, 'resumed table: replaying its parked events');
    await this.dispatch(prepareBatch(page), true);
  }

  /**
   * Row events gather per table and merge at the next DDL or at the end; events of held tables
   * are parked. `replayed`: parked messages read back (their source definitions are stored already).
   */
  private async dispatch(messages: PreparedMessage[], replayed: boolean): Promise<DeadLetter[]> {
    const pending = new Map<string, Pending>();
    const dead: DeadLetter[] = [];
    for (const { message: m, event: ev } of messages) {
      if (ev instanceof My2pgError) {
        await recordDeadLetter(this.client, this.subscriber.stream, m, ev.message);
        this.opts.log.error({ part: m.part, position: m.position, error: ev.message }, 'invalid event sent to _my2pg.dead_letters');
        dead.push({ message: m, error: ev.message });
        continue;
      }
      if (ev.kind === 'row') {
        if (this.held(ev.database, ev.table, replayed)) {
          this.parked.park(ev.database, ev.table, m);
          continue;
        }
        const key = tableKey(ev.database, ev.table);
        const p = pending.get(key);
        if (p) {
          p.events.push(ev);
          p.messages.push(m);
        } else {
          pending.set(key, { events: [ev], messages: [m] });
        }
      } else if (ev.kind === 'ddl') {
        // Rows before the statement are merged under the old shape, rows after it under the new.
        await this.flush(pending);
        if (!replayed) await recordSourceSchema(this.client, this.subscriber.stream, m.position, ev);
        await this.applyDdl(ev, m, replayed);
      } else if (ev.kind === 'heartbeat') {
        await recordHeartbeat(this.client, this.subscriber.stream, m.part, ev.ts, ev.position);
      }
    }
    await this.flush(pending);
    return dead;
  }

  /**
   * Whether an event of the table is parked instead of applied: the table is stopped, or resuming
   * with parked events left (its replayed events are held only if it stopped again).
   */
  private held(database: string, table: string, replayed: boolean): boolean {
    return replayed ? this.parked.isStopped(database, table) : this.parked.isHeld(database, table);
  }

  private async flush(pending: Map<string, Pending>): Promise<void> {
    for (const p of pending.values()) {
      const first = p.events[0];
      const schema = this.opts.naming.name(first.database);
      const name = this.opts.naming.name(first.table);
      const table = await this.catalog.table(this.client, schema, name);
      if (!table) {
        throw new My2pgError(
          'TARGET',
          `table ${first.database}.${first.table} is not in the replica (expected ${schema}.${name}); it existed ` +
            'before my2pg started reading the binlog: create it with a bootstrap, then restart',
        );
      }
      if (this.bootstrapping.has(tableKey(schema, name))) await lockBootstrappedTable(this.client, schema, name);
      await this.writeOrStop(table, p);
    }
    pending.clear();
  }

  private context(): WriteContext {
    return {
      client: this.client,
      dialect: this.opts.dialect,
      naming: this.opts.naming,
      losses: this.losses,
      stagingSeq: this.stagingSeq++,
      whilePostgresWorks: this.whilePostgresWorks,
    };
  }

  /**
   * Writes a table's changes. If the replica refuses them for good, they are written again one
   * at a time to find the first it refuses: those before it stay written, and the table stops
   * at it (it and the rest are parked).
   */
  private async writeOrStop(table: TargetTable, p: Pending): Promise<void> {
    const where = `${table.schema}.${table.table}`;
    try {
      await this.inSavepoint('my2pg_rows', () => writeTableChanges(this.context(), table, p.events, this.ahead?.tables.get(p.events[0])));
      return;
    } catch (err) {
      if (!refusedForGood(err)) throw wrapError(`writing ${p.events.length} changes into ${where}`, err);
    }
    for (let i = 0; i < p.events.length; i++) {
      const ev = p.events[i];
      try {
        await this.inSavepoint('my2pg_rows', () => writeTableChanges(this.context(), table, [ev]));
      } catch (err) {
        if (!refusedForGood(err)) throw wrapError(`writing a change into ${where}`, err);
        const m = p.messages[i];
        const rowKey = table.primaryKey.length > 0 ? stringifyJson(Object.fromEntries(table.primaryKey.map((k) => [k, ev.data[keySource(ev, k)] ?? null]))) : undefined;
        const error = (err as Error).message;
        await this.parked.stop({ database: ev.database, table: ev.table, kind: 'data', position: m.position, statement: m.value, rowKey, error });
        for (let j = i; j < p.events.length; j++) this.parked.park(ev.database, ev.table, p.messages[j]);
        this.opts.log.error(
          { database: ev.database, table: ev.table, part: m.part, position: m.position, key: rowKey, event: m.value, error },
          'the replica refuses this row change: table stopped, its events are kept (see _my2pg.stopped_tables); other tables go on',
        );
        return;
      }
    }
  }

  /** Runs `fn` inside a savepoint; on failure rolls back to it and rethrows. */
  private async inSavepoint(name: string, fn: () => Promise<unknown>): Promise<void> {
    await this.client.query(`SAVEPOINT ${name}`);
    try {
      await fn();
    } catch (err) {
      await this.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
      this.catalog.invalidate();
      throw err;
    }
    await this.client.query(`RELEASE SAVEPOINT ${name}`);
  }

  /**
   * Runs one DDL event's statements, once: an event already in `_my2pg.ddl_history` (the same
   * statement delivered again, e.g. on every topic of a database) is passed over. A table event
   * the replica cannot take (no translation, or Postgres refuses a statement) stops that table
   * instead of apply, and the event is parked with the table's later ones (docs/OPERATIONS.md).
   * A DROP, or a CREATE that replaces the table, ends a stop: the stream starts the table anew.
   */
  private async applyDdl(ev: DdlEvent, m: DeliveredMessage, replayed: boolean): Promise<void> {
    if (ev.table !== undefined && this.held(ev.database, ev.table, replayed)) {
      const replaces = ev.type === 'table-drop' || (ev.type === 'table-create' && !keepsExistingTable(ev));
      if (!replaces) {
        const renamed = ev.type === 'table-alter' && ev.def && (ev.def.database !== ev.database || ev.def.table !== ev.table);
        if (renamed) await this.parked.rename(ev.database, ev.table, ev.def!.database, ev.def!.table);
        this.parked.park(renamed ? ev.def!.database : ev.database, renamed ? ev.def!.table : ev.table, m);
        return;
      }
      await this.parked.release(ev.database, ev.table);
      this.opts.log.warn({ database: ev.database, table: ev.table, type: ev.type }, 'stopped table resumed: the statement replaces it');
    }
    // A database's statement comes on every topic of a template: sessions that apply them at once
    // (lanes, or apply processes sharing a consumer group) take turns, so one runs it and the
    // others find it in the history.
    if (ev.table === undefined) await this.client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`my2pg ddl ${this.subscriber.stream} ${ev.database}`]);
    if (ev.position && (await ddlApplied(this.client, this.subscriber.stream, ev))) {
      this.opts.log.info({ type: ev.type, database: ev.database, table: ev.table, position: ev.position }, 'DDL event applied already: passed over');
      return;
    }
    const options = { indexes: this.opts.ddlIndexes !== false };
    let statements: string[] = [];
    try {
      await this.inSavepoint('my2pg_ddl', async () => {
        const t = translateDdlEvent(ev, this.opts.dialect, this.opts.naming, this.opts.typeOverrides, options);
        statements = t.statements;
        for (const sql of statements) await this.client.query(sql);
        if (t.notes.length > 0) this.opts.log.warn({ database: ev.database, table: ev.table, notes: t.notes }, 'DDL applied with differences the replica cannot express');
      });
    } catch (err) {
      if (createdConcurrently(err)) {
        // Another apply (a consumer group shares a replica) created the same schema or table
        // at the same moment: IF NOT EXISTS does not cover that. The batch is applied again.
        throw new My2pgError('TARGET', `${ev.type} of ${ev.database}${ev.table ? `.${ev.table}` : ''} met a concurrent creator: ${(err as Error).message}`, { retriable: true, cause: err });
      }
      if (!refusedForGood(err) || ev.table === undefined) throw err;
      const error = (err as Error).message;
      await this.parked.stop({ database: ev.database, table: ev.table, kind: 'ddl', position: m.position, statement: ev.sql, error });
      this.parked.park(ev.database, ev.table, m);
      this.opts.log.error(
        { database: ev.database, table: ev.table, position: m.position, sql: ev.sql, statements, error },
        'the replica cannot take this DDL: table stopped, its events are kept (see _my2pg.stopped_tables); other tables go on',
      );
      return;
    }
    await recordDdlHistory(this.client, this.subscriber.stream, m.position, ev, statements);
    this.catalog.invalidate();
    this.opts.log.info({ type: ev.type, database: ev.database, table: ev.table, statements }, 'applied DDL');
  }
}

/** The source column a target primary-key column's value comes under (names may differ in case). */
function keySource(ev: RowEvent, target: string): string {
  return Object.keys(ev.data).find((k) => k.toLowerCase() === target.toLowerCase()) ?? target;
}
