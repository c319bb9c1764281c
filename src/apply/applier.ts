// Applies batches to the replica: one Postgres transaction per batch holding the data, the DDL
// in stream order, and the consumed positions (DESIGN §6.3). Redelivered messages are dropped.

import type { Client } from 'pg';
import { activeBootstraps, lockBootstrappedTable, tableKey, type ActiveBootstraps } from '../bootstrap/registry.js';
import { My2pgError, wrapError } from '../core/errors.js';
import type { ChangeEvent, DdlEvent, RowEvent } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { decodeEvent } from '../core/maxwell.js';
import { keepsExistingTable, translateDdlEvent } from '../ddl/translate.js';
import type { TypeOverrides } from '../ddl/type-overrides.js';
import { Catalog } from '../target/catalog.js';
import type { Dialect } from '../target/dialect.js';
import type { Naming } from '../target/naming.js';
import type { DeliveredMessage, Subscriber } from '../transport/transport.js';
import { readCheckpoints, recordDeadLetter, recordHeartbeat, writeCheckpoints } from './checkpoint-store.js';
import { countSkipped, recordDdlHistory, recordSourceSchema, readStoppedTables, stopTable, stoppedKey } from './ddl-store.js';
import { LossCounter } from './loss-counter.js';
import { encodeKeyedChanges, writeTableChanges, type EncodedChanges, type WriteContext } from './table-writer.js';

export interface ApplierOptions {
  dialect: Dialect;
  naming: Naming;
  /** Per-column Postgres types instead of the default mapping (docs/TYPES.md). */
  typeOverrides?: TypeOverrides;
  /** Create, rebuild and drop secondary indexes with DDL (default true). */
  ddlIndexes?: boolean;
  log: Logger;
}

/** SQLSTATE classes of a DDL statement the replica refuses for good (not a lost connection). */
const PERMANENT_SQLSTATE = /^(0A|22|23|42|2B|44)/;

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
  private bootstrapping: ActiveBootstraps = new Set();
  /** Tables stopped on a DDL the replica could not take (`_my2pg.stopped_tables`), and events skipped for them. */
  private stopped = new Set<string>();
  private skipped = new Map<string, number>();

  constructor(
    private readonly client: Client,
    private readonly subscriber: Subscriber,
    private readonly opts: ApplierOptions,
  ) {
    this.losses = new LossCounter(opts.log);
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
   * Applies one batch atomically; safe to call again with the same messages. `whilePostgresWorks`
   * runs (at most once per table) while Postgres merges on its own.
   */
  async applyBatch(batch: PreparedMessage[], whilePostgresWorks?: () => void): Promise<BatchResult> {
    const n = ++this.batchNo;
    this.whilePostgresWorks = whilePostgresWorks;
    const { client, subscriber } = this;
    await client.query('BEGIN');
    this.stagingSeq = 0;
    try {
      const stored = await readCheckpoints(client, subscriber.stream, true);
      const fresh = batch.filter(({ message: m }) => {
        const s = stored.get(m.part);
        return s === undefined || !subscriber.alreadyApplied(m, s);
      });
      // The position after each part's last message (messages of a part come in order).
      const last = new Map<string, DeliveredMessage>();
      for (const { message: m } of fresh) last.set(m.part, m);
      const positions = new Map<string, string>();
      for (const [part, m] of last) positions.set(part, subscriber.positionAfter(m));
      const dead = await this.applyMessages(fresh);
      await writeCheckpoints(client, subscriber.stream, positions);
      await client.query('COMMIT');
      if (this.ahead?.batch === batch) this.ahead = null;
      this.deadLetters += dead.length;
      return { applied: fresh.length - dead.length, skipped: batch.length - fresh.length, deadLetters: dead, positions };
    } catch (err) {
      this.catalog.invalidate();
      this.ahead = null;
      await client.query('ROLLBACK').catch(() => undefined);
      throw wrapError(`applying batch ${n} (${batch.length} messages)`, err);
    }
  }

  /** Applies messages in order; returns those that went to the dead-letter table. */
  private async applyMessages(messages: PreparedMessage[]): Promise<DeadLetter[]> {
    // Read inside the transaction, after the batch arrived: a bootstrap registered later than
    // this read only copies rows written after every change of this batch (docs/BOOTSTRAP.md).
    this.bootstrapping = await activeBootstraps(this.client);
    this.stopped = await readStoppedTables(this.client);
    this.skipped.clear();
    const pending = new Map<string, RowEvent[]>();
    const dead: DeadLetter[] = [];
    for (const { message: m, event: ev } of messages) {
      if (ev instanceof My2pgError) {
        await recordDeadLetter(this.client, this.subscriber.stream, m, ev.message);
        this.opts.log.error({ part: m.part, position: m.position, error: ev.message }, 'invalid event sent to _my2pg.dead_letters');
        dead.push({ message: m, error: ev.message });
        continue;
      }
      if (ev.kind === 'row') {
        if (this.skipStopped(ev.database, ev.table)) continue;
        const key = `${ev.database}\u0000${ev.table}`;
        const list = pending.get(key);
        if (list) list.push(ev);
        else pending.set(key, [ev]);
      } else if (ev.kind === 'ddl') {
        // Rows before the statement are merged under the old shape, rows after it under the new.
        await this.flush(pending);
        await recordSourceSchema(this.client, this.subscriber.stream, m.position, ev);
        await this.applyDdl(ev, m.position);
      } else if (ev.kind === 'heartbeat') {
        await recordHeartbeat(this.client, this.subscriber.stream, m.part, ev.ts, ev.position);
      }
    }
    await this.flush(pending);
    await countSkipped(this.client, this.skipped);
    return dead;
  }

  /** True (and counted) for an event of a stopped table. */
  private skipStopped(database: string, table: string | undefined): boolean {
    if (table === undefined) return false;
    const key = stoppedKey(database, table);
    if (!this.stopped.has(key)) return false;
    this.skipped.set(key, (this.skipped.get(key) ?? 0) + 1);
    return true;
  }

  private async flush(pending: Map<string, RowEvent[]>): Promise<void> {
    for (const events of pending.values()) {
      const first = events[0];
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
      const ctx: WriteContext = {
        client: this.client,
        dialect: this.opts.dialect,
        naming: this.opts.naming,
        losses: this.losses,
        stagingSeq: this.stagingSeq++,
        whilePostgresWorks: this.whilePostgresWorks,
      };
      if (this.bootstrapping.has(tableKey(schema, name))) await lockBootstrappedTable(this.client, schema, name);
      try {
        await writeTableChanges(ctx, table, events, this.ahead?.tables.get(first));
      } catch (err) {
        throw wrapError(`writing ${events.length} changes into ${schema}.${name}`, err);
      }
    }
    pending.clear();
  }

  /**
   * Runs one DDL event's statements. A table event the replica cannot take (no translation, or
   * Postgres refuses a statement) stops that table instead of apply: a `_my2pg.stopped_tables`
   * row and an error log; later events of the table are skipped until an operator deletes the
   * row (docs/OPERATIONS.md). A DROP, or a CREATE that replaces the table, resumes it.
   */
  private async applyDdl(ev: DdlEvent, position: string): Promise<void> {
    const key = ev.table === undefined ? null : stoppedKey(ev.database, ev.table);
    if (key && this.stopped.has(key)) {
      const resumes = ev.type === 'table-drop' || (ev.type === 'table-create' && !keepsExistingTable(ev.sql));
      if (!resumes) {
        this.skipStopped(ev.database, ev.table);
        if (ev.type === 'table-alter' && ev.def && (ev.def.database !== ev.database || ev.def.table !== ev.table)) {
          // The stop follows the table to its new name.
          await this.client.query('UPDATE _my2pg.stopped_tables SET source_db = $3, source_table = $4 WHERE source_db = $1 AND source_table = $2', [
            ev.database,
            ev.table,
            ev.def.database,
            ev.def.table,
          ]);
          this.stopped.delete(key);
          this.stopped.add(stoppedKey(ev.def.database, ev.def.table));
        }
        return;
      }
      await this.client.query('DELETE FROM _my2pg.stopped_tables WHERE source_db = $1 AND source_table = $2', [ev.database, ev.table]);
      this.stopped.delete(key);
      this.opts.log.warn({ database: ev.database, table: ev.table, type: ev.type }, 'stopped table resumed: the statement replaces it');
    }
    const options = { indexes: this.opts.ddlIndexes !== false };
    await this.client.query('SAVEPOINT my2pg_ddl');
    let statements: string[] = [];
    try {
      const t = translateDdlEvent(ev, this.opts.dialect, this.opts.naming, this.opts.typeOverrides, options);
      statements = t.statements;
      for (const sql of statements) await this.client.query(sql);
      await this.client.query('RELEASE SAVEPOINT my2pg_ddl');
      if (t.notes.length > 0) this.opts.log.warn({ database: ev.database, table: ev.table, notes: t.notes }, 'DDL applied with differences the replica cannot express');
    } catch (err) {
      const e = err as Error & { code?: string };
      const permanent = (err instanceof My2pgError && err.code === 'UNSUPPORTED_DDL') || (typeof e.code === 'string' && PERMANENT_SQLSTATE.test(e.code));
      if (!permanent || !key || ev.table === undefined) throw err;
      await this.client.query('ROLLBACK TO SAVEPOINT my2pg_ddl');
      this.catalog.invalidate();
      await stopTable(this.client, this.subscriber.stream, position, ev, ev.table, e.message);
      this.stopped.add(key);
      this.opts.log.error(
        { database: ev.database, table: ev.table, position, sql: ev.sql, statements, error: e.message },
        'the replica cannot take this DDL: table stopped (see _my2pg.stopped_tables); other tables go on',
      );
      return;
    }
    await recordDdlHistory(this.client, this.subscriber.stream, position, ev, statements);
    this.catalog.invalidate();
    this.opts.log.info({ type: ev.type, database: ev.database, table: ev.table, statements }, 'applied DDL');
  }
}
