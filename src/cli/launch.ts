// Entry of the `my2pg` command. The CLI (main.ts) runs on a worker thread whose V8 heap is
// capped at MY2PG_HEAP_MB (default 128): left to itself, V8 grows a heap to gigabytes on a big
// machine before it collects, and a capture or apply would then take several times the memory it
// needs (DESIGN §8 budgets 256 MB; docs/OPERATIONS.md "Memory"). A heap flag given to node
// itself (--max-old-space-size) or MY2PG_HEAP_MB=0 runs the CLI on the main thread instead.
// This thread only forwards signals and the exit code.

import { SHARE_ENV, Worker } from 'node:worker_threads';
import { EXIT_CODES } from '../core/errors.js';

const DEFAULT_HEAP_MB = 128;

const heapMb = Number(process.env.MY2PG_HEAP_MB ?? DEFAULT_HEAP_MB);
const nodeHeapFlag = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('--max-old-space-size'));

if (!Number.isFinite(heapMb) || heapMb < 0) {
  process.stderr.write(`my2pg: MY2PG_HEAP_MB=${process.env.MY2PG_HEAP_MB} is not a number of megabytes (0 leaves the heap to node)\n`);
  process.exit(EXIT_CODES.CONFIG);
} else if (heapMb === 0 || nodeHeapFlag) {
  await import('./main.js');
} else {
  const worker = new Worker(new URL('./main.js', import.meta.url), {
    argv: process.argv.slice(2),
    env: SHARE_ENV,
    resourceLimits: { maxOldGenerationSizeMb: heapMb },
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => worker.postMessage({ signal }));
  worker.on('error', (err: Error & { code?: string }) => {
    const message =
      err.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? `my2pg ran out of its ${heapMb} MB heap. Nothing acknowledged is lost: restart it with a bigger MY2PG_HEAP_MB, and tell us what it was doing`
        : `my2pg failed: ${err.stack ?? err.message}`;
    process.stderr.write(`${message}\n`);
    process.exitCode = EXIT_CODES.INTERNAL;
  });
  worker.on('exit', (code) => process.exit(process.exitCode ?? code));
}
