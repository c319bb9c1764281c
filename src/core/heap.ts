// The V8 limits of my2pg's threads (docs/OPERATIONS.md "Memory"). The heap cap is MY2PG_HEAP_MB
// (default 128): left to itself, V8 grows a heap to gigabytes on a big machine before it
// collects. The threads that only pass data on (capture's thread in `my2pg run`, the Kafka
// producer's thread) also get a small young generation, whose default (tens of MB of
// semi-spaces per isolate) would add to the process's RSS for nothing; the CLI thread, which
// applies batches and keeps them across collections, keeps V8's default: with 8 MB there, `run`
// was about 10% slower. And V8 compiles optimised code on the thread that runs it.

import v8 from 'node:v8';
import type { ResourceLimits } from 'node:worker_threads';
import { My2pgError } from './errors.js';

const DEFAULT_HEAP_MB = 128;
/** The young generation of a thread that only passes data on. */
export const PASS_ON_YOUNG_MB = 8;

/** The cap in MB, or null when the heap is left to node (MY2PG_HEAP_MB=0 or a node heap flag). */
export function heapCapMb(): number | null {
  const mb = Number(process.env.MY2PG_HEAP_MB ?? DEFAULT_HEAP_MB);
  if (!Number.isFinite(mb) || mb < 0) {
    throw new My2pgError('CONFIG', `MY2PG_HEAP_MB=${process.env.MY2PG_HEAP_MB} is not a number of megabytes (0 leaves the heap to node)`);
  }
  const nodeHeapFlag = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('--max-old-space-size'));
  return mb === 0 || nodeHeapFlag ? null : mb;
}

/** The limits a thread starts with under a heap cap of `heapMb` (null: node's own); `youngMb` unset: V8's default. */
export function threadLimits(heapMb: number | null, youngMb?: number): ResourceLimits | undefined {
  if (heapMb === null) return undefined;
  return youngMb === undefined ? { maxOldGenerationSizeMb: heapMb } : { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: youngMb };
}

/**
 * Makes the isolates started after it compile optimised code on their own thread. V8 otherwise
 * compiles on background threads, each of which mallocs its compiler memory in an arena of its
 * own that glibc keeps after it is freed: 15-25 MB more RSS in `my2pg run` through a 1M-row
 * transaction, for no speed measured (docs/PERFORMANCE.md "Memory").
 */
export function compileOnOwnThread(): void {
  v8.setFlagsFromString('--no-concurrent-recompilation');
}
