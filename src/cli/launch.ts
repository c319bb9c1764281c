// Entry of the `my2pg` command. The CLI (main.ts) runs on a thread of its own whose V8 heap is
// capped (src/core/heap.ts): a capture or apply would otherwise take several times the memory it needs
// (the goal is 256 MB of RSS per process, docs/PERFORMANCE.md "Memory"). With the cap off
// (MY2PG_HEAP_MB=0 or a heap flag given to node itself) the CLI runs on the main thread instead.
// This thread only forwards signals and the exit code.

import { SHARE_ENV, Worker } from 'node:worker_threads';
import { EXIT_CODES, My2pgError, threadFailure } from '../core/errors.js';
import { compileOnOwnThread, heapCapMb, threadLimits } from '../core/heap.js';

let heapMb: number | null = null;
try {
  heapMb = heapCapMb();
} catch (err) {
  process.stderr.write(`my2pg: ${(err as My2pgError).message}\n`);
  process.exit(EXIT_CODES.CONFIG);
}

if (heapMb === null) {
  await import('./main.js');
} else {
  compileOnOwnThread();
  const thread = new Worker(new URL('./main.js', import.meta.url), {
    argv: process.argv.slice(2),
    env: SHARE_ENV,
    resourceLimits: threadLimits(heapMb),
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => thread.postMessage({ signal }));
  thread.on('error', (err) => {
    const failure = threadFailure(err, heapMb);
    process.stderr.write(`${failure === err ? `my2pg failed: ${err.stack ?? err.message}` : failure.message}\n`);
    process.exitCode = EXIT_CODES.INTERNAL;
  });
  thread.on('exit', (code) => process.exit(process.exitCode ?? code));
}
