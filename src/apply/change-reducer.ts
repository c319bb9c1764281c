// Keeps the last change per primary key within a batch. A primary-key update
// becomes a delete of the old key plus an upsert of the new one.

import type { JsonValue, RowEvent } from '../core/events.js';
import { stringifyJson } from '../core/json.js';

export type KeyedChange =
  | { op: 'upsert'; row: Record<string, JsonValue> }
  | { op: 'delete'; row: Record<string, JsonValue> };

/**
 * Reduces row events of one table, given in stream order, to one change per key.
 * `pk` holds the source (MySQL) names of the primary-key columns.
 */
export function reduceByKey(events: RowEvent[], pk: string[]): Map<string, KeyedChange> {
  const out = new Map<string, KeyedChange>();
  for (const ev of events) {
    const key = keyOf(ev.data, pk);
    if (ev.type === 'delete') {
      out.set(key, { op: 'delete', row: ev.data });
      continue;
    }
    if (ev.type === 'update' && ev.old) {
      const before = { ...ev.data, ...ev.old };
      const oldKey = keyOf(before, pk);
      if (oldKey !== key) out.set(oldKey, { op: 'delete', row: before });
    }
    out.set(key, { op: 'upsert', row: ev.data });
  }
  return out;
}

function keyOf(row: Record<string, JsonValue>, pk: string[]): string {
  return stringifyJson(pk.map((c) => row[c] ?? null));
}
