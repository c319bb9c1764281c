// Writes one table's share of a batch into the replica: COPY into staging and merge for tables
// with a primary key; in-order appends and single-row deletes for tables without one.

import type { ClientBase } from 'pg';
import { My2pgError } from '../core/errors.js';
import type { JsonValue, RowEvent } from '../core/events.js';
import type { TargetTable } from '../target/catalog.js';
import { copyLines } from '../target/copy.js';
import type { Dialect } from '../target/dialect.js';
import type { Naming } from '../target/naming.js';
import { copyField, toPgText } from '../target/pg-value.js';
import { reduceByKey } from './change-reducer.js';
import type { LossCounter } from './loss-counter.js';
import { copyIntoTarget, deleteOneMatching, planMerge } from './merge-planner.js';

export interface WriteContext {
  client: ClientBase;
  dialect: Dialect;
  naming: Naming;
  losses: LossCounter;
  /** Unique per transaction, for staging-table names. */
  stagingSeq: number;
}

/** Target columns in order, each with the source (MySQL) name its values come under. */
interface ColumnBinding {
  source: string | null;
  index: number;
}

export async function writeTableChanges(ctx: WriteContext, table: TargetTable, events: RowEvent[]): Promise<void> {
  const bindings = bindColumns(ctx.naming, table, events);
  if (table.primaryKey.length > 0) {
    await mergeByKey(ctx, table, bindings, events);
  } else {
    await applyInOrder(ctx, table, bindings, events);
  }
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

async function mergeByKey(ctx: WriteContext, table: TargetTable, bindings: ColumnBinding[], events: RowEvent[]) {
  const pkSources = table.primaryKey.map((k) => {
    const b = bindings[table.columns.findIndex((c) => c.name === k)];
    if (!b?.source) throw new My2pgError('TARGET', `events for ${table.schema}.${table.table} lack primary-key column ${k}`);
    return b.source;
  });
  const changes = reduceByKey(events, pkSources);
  const pkSet = new Set(table.primaryKey);
  const plan = planMerge(table, `_my2pg_stage_${ctx.stagingSeq}`, ctx.dialect);
  await ctx.client.query(plan.createStaging);
  const lines = function* () {
    for (const ch of changes.values()) {
      const upsert = ch.op === 'upsert';
      let line = upsert ? 'U' : 'D';
      for (const b of bindings) {
        const col = table.columns[b.index];
        const keep = upsert || pkSet.has(col.name);
        line += `\t${copyField(keep ? pgText(ctx, table, b, ch.row) : null)}`;
      }
      yield `${line}\n`;
    }
  };
  await copyLines(ctx.client, plan.copyIntoStaging, lines());
  await ctx.client.query(plan.deleteMatched);
  await ctx.client.query(plan.insertUpserts);
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
  for (const ev of events) {
    if (ev.type !== 'insert') {
      await flushInserts();
      const before = ev.type === 'update' ? { ...ev.data, ...ev.old } : ev.data;
      await ctx.client.query(deleteSql, bindings.map((b) => pgText(ctx, table, b, before)));
    }
    if (ev.type !== 'delete') inserts.push(ev.data);
  }
  await flushInserts();
}

function* rowLines(ctx: WriteContext, table: TargetTable, bindings: ColumnBinding[], rows: Array<Record<string, JsonValue>>) {
  for (const row of rows) yield `${bindings.map((b) => copyField(pgText(ctx, table, b, row))).join('\t')}\n`;
}

function pgText(ctx: WriteContext, table: TargetTable, b: ColumnBinding, row: Record<string, JsonValue>): string | null {
  const col = table.columns[b.index];
  const v = b.source === null ? null : row[b.source];
  return toPgText(v, col.kind, (reason) => ctx.losses.record(`${table.schema}.${table.table}.${col.name}`, reason), col.bits);
}
