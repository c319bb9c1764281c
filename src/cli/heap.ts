// The V8 heap cap of my2pg's threads (MY2PG_HEAP_MB, default 128; docs/OPERATIONS.md
// "Memory"): left to itself, V8 grows a heap to gigabytes on a big machine before it collects.

import { My2pgError } from '../core/errors.js';

const DEFAULT_HEAP_MB = 128;

/** The cap in MB, or null when the heap is left to node (MY2PG_HEAP_MB=0 or a node heap flag). */
export function heapCapMb(): number | null {
  const mb = Number(process.env.MY2PG_HEAP_MB ?? DEFAULT_HEAP_MB);
  if (!Number.isFinite(mb) || mb < 0) {
    throw new My2pgError('CONFIG', `MY2PG_HEAP_MB=${process.env.MY2PG_HEAP_MB} is not a number of megabytes (0 leaves the heap to node)`);
  }
  const nodeHeapFlag = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('--max-old-space-size'));
  return mb === 0 || nodeHeapFlag ? null : mb;
}

