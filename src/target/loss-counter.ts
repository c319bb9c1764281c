// Counts values the replica could not hold as they were (zero dates, NUL characters), and
// logs the first occurrence per column so operators see the policy acting.

import type { Logger } from '../core/logger.js';
import type { LossReason } from './pg-value.js';

export class LossCounter {
  readonly counts = new Map<string, number>();

  constructor(private readonly log: Logger) {}

  record(column: string, reason: LossReason): void {
    const key = `${column}:${reason}`;
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    if (n === 1) {
      const what = reason === 'zero-date' ? 'zero date stored as NULL' : 'NUL characters dropped';
      this.log.warn({ column, reason }, `${what} (docs/TYPES.md); further occurrences are only counted`);
    }
  }
}
