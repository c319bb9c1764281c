// The CLI's side of capture's own thread in `my2pg run` without Kafka: starts the thread
// (capture-thread-entry.ts, what runs on it), feeds the batches it posts to apply's in-memory
// transport, acknowledges each, and ends with it (its failure rebuilt here, so exit codes are
// those of a capture on the CLI's own thread).

import { Worker } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import { errorFromParts, threadFailure } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { InProcessTransport } from '../transport/in-process.js';
import type { CaptureThreadEnd, ThreadBatch, ToCaptureThread } from '../transport/thread-channel.js';
import { heapCapMb, PASS_ON_YOUNG_MB, threadLimits } from '../core/heap.js';
import type { Runnable } from './stages.js';

/** Runs capture-thread-entry.ts and feeds its batches to `transport`; its end is this stage's end. */
export function captureOnThread(c: Config, transport: InProcessTransport, log: Logger): Runnable {
  let thread: Worker | null = null;
  let stopping = false;
  return {
    run: () =>
      new Promise<void>((resolve, reject) => {
        const heapMb = heapCapMb();
        const w = new Worker(new URL('./capture-thread-entry.js', import.meta.url), {
          workerData: { config: c },
          resourceLimits: threadLimits(heapMb, PASS_ON_YOUNG_MB),
        });
        thread = w;
        if (stopping) w.postMessage({ t: 'stop' } satisfies ToCaptureThread);
        let failure: Error | null = null;
        let feeding = Promise.resolve();
        w.on('message', (m: ThreadBatch | CaptureThreadEnd) => {
          if (m.t === 'batch') {
            feeding = feeding.then(async () => {
              if (!stopping) await transport.deliver(m.values, m.cursors);
              w.postMessage({ t: 'credit' } satisfies ToCaptureThread);
            });
          } else {
            if (m.error) failure = errorFromParts(m.error);
            void w.terminate();
          }
        });
        w.on('error', (err) => {
          failure ??= threadFailure(err, heapMb);
        });
        w.on('exit', () => {
          thread = null;
          if (failure) reject(failure);
          else resolve();
        });
        log.debug('capture thread started');
      }),
    stop: async () => {
      stopping = true;
      thread?.postMessage({ t: 'stop' } satisfies ToCaptureThread);
    },
  };
}
