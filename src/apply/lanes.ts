// Which replica session takes which messages of a cut (src/apply/transaction-cut.ts), so that a
// large source transaction in one part does not hold back the other parts' commits: a part whose
// transaction is open is applied in a lane, a replica session of its own that commits when that
// transaction ends, while the main session goes on committing the other parts. Two sessions must
// never write the same table (one would wait for the other's locks, which waits for the loop):
// a lane whose tables meet what another session writes is folded into the main session, which
// then holds both until the open transactions end (docs/OPERATIONS.md, "What the replica shows").

import { My2pgError } from '../core/errors.js';
import { tableKey } from '../core/table-key.js';
import type { PreparedMessage } from './applier.js';

/** What a batch of messages writes: tables by `tableKey`, and databases a DDL statement without a table changes. */
export interface Footprint {
  tables: Set<string>;
  databases: Set<string>;
}

export function footprint(messages: readonly PreparedMessage[], into: Footprint = { tables: new Set(), databases: new Set() }): Footprint {
  for (const { event: ev } of messages) {
    if (ev instanceof My2pgError || ev.kind === 'heartbeat') continue;
    if (ev.kind === 'ddl' && ev.table === undefined) {
      into.databases.add(ev.database);
      continue;
    }
    if (ev.table !== undefined) into.tables.add(tableKey(ev.database, ev.table));
    if (ev.kind === 'ddl' && ev.def) into.tables.add(tableKey(ev.def.database, ev.def.table));
  }
  return into;
}

function databaseOf(key: string): string {
  return key.slice(0, key.indexOf('\u0000'));
}

export function overlaps(a: Footprint, b: Footprint): boolean {
  for (const t of a.tables) if (b.tables.has(t) || b.databases.has(databaseOf(t))) return true;
  for (const t of b.tables) if (a.databases.has(databaseOf(t))) return true;
  for (const d of a.databases) if (b.databases.has(d)) return true;
  return false;
}

export function merge(into: Footprint, from: Footprint): void {
  for (const t of from.tables) into.tables.add(t);
  for (const d of from.databases) into.databases.add(d);
}

export interface LanePlan {
  /** Per lane (existing or new), by part: the messages it applies now (possibly none, to commit). */
  lanes: Map<string, PreparedMessage[]>;
  /** Existing lanes whose open transaction the main session takes over first. */
  fold: string[];
  /** What the main session applies, in arrival order. */
  main: PreparedMessage[];
}

/**
 * Plans a cut. `open`: the parts inside a transaction after it; `lanes`: the existing lanes'
 * footprints by part; `main`: what the main session's open transaction has written, or null when
 * it has none. A new lane opens only for a part that is open after the cut, while the main
 * session has nothing open and the stream has more than one part (`manyParts`).
 */
export function planLanes(
  apply: readonly PreparedMessage[],
  open: ReadonlyMap<string, unknown>,
  lanes: ReadonlyMap<string, Footprint>,
  main: Footprint | null,
  manyParts: boolean,
): LanePlan {
  const byPart = new Map<string, PreparedMessage[]>();
  for (const p of apply) {
    const part = p.message.part;
    const isLane = lanes.has(part) || (open.has(part) && main === null && manyParts);
    if (!isLane) continue;
    const list = byPart.get(part);
    if (list) list.push(p);
    else byPart.set(part, [p]);
  }
  for (const part of lanes.keys()) if (!byPart.has(part)) byPart.set(part, []);
  if (byPart.size === 0) return { lanes: byPart, fold: [], main: [...apply] };
  const mainPrint = footprint(apply.filter((p) => !byPart.has(p.message.part)), main ? { tables: new Set(main.tables), databases: new Set(main.databases) } : undefined);
  const prints = new Map([...byPart].map(([part, messages]) => {
    const existing = lanes.get(part);
    return [part, footprint(messages, existing ? { tables: new Set(existing.tables), databases: new Set(existing.databases) } : undefined)];
  }));
  // Fold every lane that meets the main session or another lane, until none does.
  const folded = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const [part, print] of prints) {
      if (folded.has(part)) continue;
      const meets = overlaps(print, mainPrint) || [...prints].some(([other, p]) => other !== part && !folded.has(other) && overlaps(print, p));
      if (!meets) continue;
      folded.add(part);
      merge(mainPrint, print);
      changed = true;
    }
  }
  return {
    lanes: new Map([...byPart].filter(([part]) => !folded.has(part))),
    fold: [...folded].filter((part) => lanes.has(part)),
    main: apply.filter((p) => !byPart.has(p.message.part) || folded.has(p.message.part)),
  };
}
