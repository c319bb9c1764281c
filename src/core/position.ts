// Binlog coordinates and the cursor that orders every change event in the stream.

import { compareGtidStates } from './gtid-order.js';

/** A point in the binlog where reading can start: always a transaction boundary. */
export interface BinlogPosition {
  file: string;
  pos: number;
  /**
   * The executed GTID state at this point (MySQL GTID set or MariaDB `domain-server-seq`
   * list), when the server has GTIDs. Resuming prefers it over file and offset.
   */
  gtid?: string;
}

/**
 * Identifies one change: the transaction's start position plus the row's index in it.
 * Replaying from `tx` yields the same cursors again, which is how redelivery is detected.
 */
export interface EventCursor {
  tx: BinlogPosition;
  xoffset: number;
  /** True on the last change of the transaction. */
  commit: boolean;
  /** Where reading resumes once this transaction is complete. */
  next: BinlogPosition;
}

/** Compares binlog positions; file names sort by their numeric suffix (mysql-bin.000010 > .000009). */
export function comparePositions(a: BinlogPosition, b: BinlogPosition): number {
  if (a.file !== b.file) {
    return fileSequence(a.file) - fileSequence(b.file) || (a.file < b.file ? -1 : 1);
  }
  return a.pos - b.pos;
}

function fileSequence(file: string): number {
  const m = /\.(\d+)$/.exec(file);
  return m ? Number(m[1]) : 0;
}

export function formatPosition(p: BinlogPosition): string {
  return `${p.file}:${p.pos}`;
}

/**
 * Orders two cursors: negative when `a` comes first. When both carry the GTID state their
 * transaction started from, that decides, so cursors of a server that took over after a
 * failover (other binlog files and offsets) are ordered against those of the old one; states
 * that diverged order `a` after `b`, as a change not seen yet. Without GTIDs, file and offset.
 */
export function compareCursors(a: EventCursor, b: EventCursor): number {
  if (a.tx.gtid !== undefined && b.tx.gtid !== undefined) {
    const order = compareGtidStates(a.tx.gtid, b.tx.gtid);
    return order === 0 ? a.xoffset - b.xoffset : (order ?? 1);
  }
  return comparePositions(a.tx, b.tx) || a.xoffset - b.xoffset;
}
