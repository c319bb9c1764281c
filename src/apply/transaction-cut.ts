// Where apply may commit: only where every part of the stream (a Kafka partition, the embedded
// queue) is between two source transactions, so the replica never shows part of one
// (docs/OPERATIONS.md, "What the replica shows"). A batch is cut per part after the last
// transaction that ended in it; what follows waits for the rest of its transaction, or, once more
// is waiting than a batch holds (a large transaction), is applied ahead inside a replica
// transaction that stays open until the transaction ends.

import { My2pgError } from '../core/errors.js';
import type { ChangeEvent } from '../core/events.js';
import type { PreparedMessage } from './applier.js';

/**
 * Whether a source transaction's share of its part ends with this message, as far as the message
 * alone tells: `true` after a DDL statement, a heartbeat, a transaction's last row (`commit`) or a
 * row outside any transaction (no `xid`); `false` inside one; `undefined` for an invalid message,
 * which takes the state of its part.
 */
export function endsTransaction(ev: ChangeEvent | My2pgError): boolean | undefined {
  if (ev instanceof My2pgError) return undefined;
  if (ev.kind !== 'row') return true;
  return ev.xid === undefined || ev.commit === true;
}

function xidOf(p: PreparedMessage): string | undefined {
  return p.event instanceof My2pgError || p.event.kind !== 'row' ? undefined : p.event.xid;
}

export interface TransactionCut {
  /** What goes into the replica transaction now, in arrival order. */
  apply: PreparedMessage[];
  /** What waits for the rest of its transaction, in arrival order. */
  wait: PreparedMessage[];
  /**
   * Parts whose applied messages end inside a source transaction, with its xid (undefined when
   * unknown): the replica transaction may commit only when there are none.
   */
  open: Map<string, string | undefined>;
}

/**
 * Cuts `messages` (what waited, then what arrived) at transaction boundaries; `open` is the
 * previous cut's. A part's share of a transaction also ends where the next message of the part
 * belongs to another transaction (a transaction split over several parts has its `commit` row in
 * one of them only), or where the transport says so (DeliveredMessage.endsTransaction).
 */
export function cutAtTransactions(messages: PreparedMessage[], open: ReadonlyMap<string, string | undefined>, maxWaiting: number): TransactionCut {
  /** Per part, the index of the last message after which it is between transactions (-1: before this cut's first). */
  const lastEnd = new Map<string, number>();
  /** The parts inside a transaction, with its xid. */
  const inside = new Map(open);
  const previous = new Map<string, number>();
  for (let i = 0; i < messages.length; i++) {
    const p = messages[i];
    const part = p.message.part;
    const xid = xidOf(p);
    if (inside.has(part)) {
      const current = inside.get(part);
      if (xid !== undefined && current !== undefined && xid !== current) {
        lastEnd.set(part, previous.get(part) ?? -1);
        inside.delete(part);
      }
    }
    const ends = p.message.endsTransaction === true || (endsTransaction(p.event) ?? !inside.has(part));
    if (ends) {
      lastEnd.set(part, i);
      inside.delete(part);
    } else {
      inside.set(part, xid ?? inside.get(part));
    }
    previous.set(part, i);
  }
  // A part still open goes on in the replica transaction: it cannot commit before its end anyway.
  const stillOpen = new Map([...open].filter(([part]) => !lastEnd.has(part)).map(([part]) => [part, inside.get(part)]));
  const apply: PreparedMessage[] = [];
  const wait: PreparedMessage[] = [];
  for (let i = 0; i < messages.length; i++) {
    const part = messages[i].message.part;
    if (i <= (lastEnd.get(part) ?? -1) || stillOpen.has(part)) apply.push(messages[i]);
    else wait.push(messages[i]);
  }
  if (wait.length <= maxWaiting) return { apply, wait, open: stillOpen };
  // Too much to hold in memory (a large transaction): everything goes in, and the parts it
  // leaves inside a transaction are open.
  return { apply: messages, wait: [], open: inside };
}
