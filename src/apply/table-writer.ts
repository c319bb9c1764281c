// Writes one table's share of a batch into the replica: COPY into staging and merge for tables
// with a primary key; in-order appends and single-row deletes for tables without one.

import type { ClientBase } from 'pg';
import { My2pgError } from '../core/errors.js';
import { JsonNumber, type JsonValue, type RowEvent } from '../core/events.js';
import type { TargetTable } from '../target/catalog.js';
import { copyLines } from '../target/copy.js';
import type { Dialect } from '../target/dialect.js';
import type { Naming } from '../target/naming.js';
import { copyField, toPgText, type LossReason } from '../target/pg-value.js';
import { reduceByKey } from './change-reducer.js';
import type { LossCounter } from '../target/loss-counter.js';
import { copyIntoTarget, deleteOneMatching, planMerge } from '../target/merge-planner.js';

export interface WriteContext {
  client: ClientBase;
  dialect: Dialect;
  naming: Naming;
  losses: LossCounter;
  /** Unique per transaction, for staging-table names. */
  stagingSeq: number;
  /**
   * Called once Postgres has statements of this table to run on its own (the merge): JavaScript
   * work for a later batch fits there.
   */
  whilePostgresWorks?: () => void;
}

/** Target columns in order, each with the source (MySQL) name its values come under. */
interface ColumnBinding {
  source: string | null;
  index: number;
}

/**
 * One table's changes of a batch (a table with a primary key), reduced per key and encoded as
 * COPY lines: a pure function of the table's shape and the events, so it can be computed before
 * the batch's transaction (Applier.prepareAhead) and used when the inputs are still the same.
 */
export interface EncodedChanges {
  table: TargetTable;
  events: RowEvent[];
  /** Only inserts: the lines hold the fields alone, for COPY straight into the target. */
  insertOnly: boolean;
  /** Insert-only: the target's fields per row; otherwise staging lines ('U' or 'D' first). */
  lines: string[];
  /** Values stored with a loss, counted when the changes are written: [column, reason]. */
  losses: Array<[string, LossReason]>;
}

export async function writeTableChanges(ctx: WriteContext, table: TargetTable, events: RowEvent[], ahead?: EncodedChanges): Promise<void> {
  if (table.primaryKey.length > 0) {
    const encoded = ahead && sameInputs(ahead, table, events) ? ahead : encodeKeyedChanges(ctx.naming, table, events);
    for (const [column, reason] of encoded.losses) ctx.losses.record(column, reason);
    await mergeByKey(ctx, table, encoded);
  } else {
    await applyInOrder(ctx, table, bindColumns(ctx.naming, table, events), events);
  }
}

function sameInputs(e: EncodedChanges, table: TargetTable, events: RowEvent[]): boolean {
  if (e.table !== table || e.events.length !== events.length) return false;
  for (let i = 0; i < events.length; i++) if (e.events[i] !== events[i]) return false;
  return true;
}

/** Reduces and encodes the changes of a table with a primary key (throws what writing would). */
export function encodeKeyedChanges(naming: Naming, table: TargetTable, events: RowEvent[]): EncodedChanges {
  const bindings = bindColumns(naming, table, events);
  const pkSources = table.primaryKey.map((k) => {
    const b = bindings[table.columns.findIndex((c) => c.name === k)];
    if (!b?.source) throw new My2pgError('TARGET', `events for ${table.schema}.${table.table} lack primary-key column ${k}`);
    return b.source;
  });
  const changes = reduceByKey(events, pkSources);
  const losses: Array<[string, LossReason]> = [];
  const encoders = fieldEncoders(table, bindings, (column, reason) => losses.push([column, reason]));
  const lines: string[] = [];
  const insertOnly = events.every((ev) => ev.type === 'insert');
  if (insertOnly) {
    // Every change is an upsert here (a key's last event is an insert).
    for (const ch of changes.values()) lines.push(encodeRow(encoders, ch.row));
  } else {
    // A delete's line carries only the key; the other fields are NULL.
    const pkSet = new Set(table.primaryKey);
    const keyEncoders = encoders.map((e, i) => (pkSet.has(table.columns[bindings[i].index].name) ? e : nullField));
    for (const ch of changes.values()) {
      lines.push(ch.op === 'upsert' ? `U\t${encodeRow(encoders, ch.row)}` : `D\t${encodeRow(keyEncoders, ch.row)}`);
    }
  }
  return { table, events, insertOnly, lines, losses };
}

function bindColumns(naming: Naming, table: TargetTable, events: RowEvent[]): ColumnBinding[] {
  // Every event's keys: with output_nulls off, an event names only its non-null columns.
  const sourceOf = new Map<string, string>();
  const seen = new Set<string>();
  for (const ev of events) {
    for (const src of Object.keys(ev.data)) {
      if (seen.has(src)) continue;
      seen.add(src);
      const target = naming.name(src);
      if (!table.byName.has(target)) {
        throw new My2pgError(
          'TARGET',
          `column "${src}" of ${ev.database}.${ev.table} does not exist in replica table ${table.schema}.${table.table}`,
        );
      }
      sourceOf.set(target, src);
    }
  }
  return table.columns.map((c, index) => ({ source: sourceOf.get(c.name) ?? null, index }));
}

async function mergeByKey(ctx: WriteContext, table: TargetTable, encoded: EncodedChanges) {
  if (encoded.insertOnly && (await copyNewKeys(ctx, table, encoded.lines))) return;
  const lines = encoded.insertOnly ? encoded.lines.map((l) => `U\t${l}`) : encoded.lines;
  const plan = planMerge(table, stagingTable(ctx.stagingSeq), ctx.dialect);
  await ctx.client.query(plan.createStaging);
  await copyLines(ctx.client, plan.copyIntoStaging, withNewlines(lines));
  // Both statements are queued at once; JavaScript work for a later batch runs meanwhile.
  const deleted = ctx.client.query(plan.deleteMatched);
  const inserted = ctx.client.query(plan.insertUpserts);
  inserted.catch(() => undefined); // when the DELETE fails, its error is the one reported
  ctx.whilePostgresWorks?.();
  await deleted;
  await inserted;
}

/** The name of a transaction's `seq`-th staging table (a temporary table, dropped at COMMIT). */
export function stagingTable(seq: number): string {
  return `_my2pg_stage_${seq}`;
}

function* withNewlines(lines: string[]): Generator<string> {
  for (const l of lines) yield `${l}\n`;
}

/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505';

/**
 * Insert-only changes: COPY straight into the target under a savepoint, skipping staging and
 * merge. The COPY succeeds only when none of the keys is in the table yet, and then it does
 * exactly what the merge would (its DELETE would match nothing). When a key is already there (a
 * transaction capture published again after a restart, a row a bootstrap copied), Postgres
 * refuses the COPY with a unique violation: the savepoint undoes it and false sends the changes
 * through the merge. Any other error is the batch's.
 */
async function copyNewKeys(ctx: WriteContext, table: TargetTable, lines: string[]): Promise<boolean> {
  await ctx.client.query('SAVEPOINT my2pg_new_keys');
  try {
    await copyLines(ctx.client, copyIntoTarget(table), withNewlines(lines));
  } catch (err) {
    if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
    await ctx.client.query('ROLLBACK TO SAVEPOINT my2pg_new_keys');
    await ctx.client.query('RELEASE SAVEPOINT my2pg_new_keys');
    return false;
  }
  await ctx.client.query('RELEASE SAVEPOINT my2pg_new_keys');
  return true;
}

/** No primary key: every change in stream order; duplicates are kept (docs/OPERATIONS.md). */
async function applyInOrder(ctx: WriteContext, table: TargetTable, bindings: ColumnBinding[], events: RowEvent[]) {
  let inserts: Array<Record<string, JsonValue>> = [];
  const flushInserts = async () => {
    if (inserts.length === 0) return;
    const rows = inserts;
    inserts = [];
    await copyLines(ctx.client, copyIntoTarget(table), rowLines(ctx, table, bindings, rows));
  };
  const deleteSql = deleteOneMatching(table, ctx.dialect);
  const texts = bindings.map((b) => valueText(table, b, (column, reason) => ctx.losses.record(column, reason)));
  for (const ev of events) {
    if (ev.type !== 'insert') {
      await flushInserts();
      const before = ev.type === 'update' ? { ...ev.data, ...ev.old } : ev.data;
      await ctx.client.query(deleteSql, texts.map((text) => text(before)));
    }
    if (ev.type !== 'delete') inserts.push(ev.data);
  }
  await flushInserts();
}

function* rowLines(ctx: WriteContext, table: TargetTable, bindings: ColumnBinding[], rows: Array<Record<string, JsonValue>>) {
  const enc = fieldEncoders(table, bindings, (column, reason) => ctx.losses.record(column, reason));
  for (const row of rows) yield `${encodeRow(enc, row)}\n`;
}

/** One row's value of a target column as a COPY text field (escaped, or \N). */
type FieldEncoder = (row: Record<string, JsonValue>) => string;

const nullField: FieldEncoder = () => '\\N';

function encodeRow(enc: FieldEncoder[], row: Record<string, JsonValue>): string {
  let line = enc.length > 0 ? enc[0](row) : '';
  for (let i = 1; i < enc.length; i++) line += `\t${enc[i](row)}`;
  return line;
}

/** The encoders of the bound columns, in target order; losses go to `onLoss` with the column's name. */
function fieldEncoders(table: TargetTable, bindings: ColumnBinding[], onLoss: (column: string, reason: LossReason) => void): FieldEncoder[] {
  return bindings.map((b) => {
    const src = b.source;
    if (src === null) return nullField;
    const text = valueText(table, b, onLoss);
    const general: FieldEncoder = (row) => copyField(text(row));
    if (table.columns[b.index].kind !== 'number') return general;
    // A JSON number token is its own Postgres text, and has nothing COPY escapes.
    return (row) => {
      const v = row[src];
      return v instanceof JsonNumber ? v.text : general(row);
    };
  });
}

/** A row's value of a bound column as Postgres text (null for SQL NULL or an unbound column). */
function valueText(table: TargetTable, b: ColumnBinding, onLoss: (column: string, reason: LossReason) => void): (row: Record<string, JsonValue>) => string | null {
  const src = b.source;
  const col = table.columns[b.index];
  const column = `${table.schema}.${table.table}.${col.name}`;
  const lost = (reason: LossReason) => onLoss(column, reason);
  return (row) => toPgText(src === null ? null : row[src], col.kind, lost, col.bits);
}
