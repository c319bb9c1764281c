// Copies chunks on threads of their own (chunk threads): the per-row work (decoding MySQL rows,
// encoding values, COPY text) is JavaScript, so one thread per concurrent chunk lets a bootstrap
// use every core. The same file is the threads' entry point.

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createLogger } from '../core/logger.js';
import type { SourceTls } from '../source/connect.js';
import { dialectFor } from '../target/dialect.js';
import { Naming } from '../target/naming.js';
import { ChunkJobHandler } from './chunk-job-handler.js';
import type { ChunkJob } from './job-queue.js';

/** Marks the workerData of a chunk thread. */
const CHUNK_THREAD = 'my2pgChunkThread';

/** What a chunk thread needs to build its ChunkJobHandler: plain data only. */
export interface ThreadConfig {
  sourceUrl: string;
  /** The source's TLS settings, its files already read (plain data). */
  sourceTls: SourceTls;
  targetUrl: string;
  dialect: 'postgres' | 'greenplum';
  keepCase: boolean;
  logLevel: string;
}

type Reply = { id: number; error?: string };

/** A fixed set of threads; each handles one chunk at a time. */
export class ChunkThreads {
  private readonly idle: Worker[] = [];
  private readonly waiting: Array<(w: Worker) => void> = [];
  private readonly all: Worker[] = [];
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private closed = false;
  /** The job each thread is running, so a thread that dies fails only its own job. */
  private readonly running = new Map<Worker, number>();

  constructor(private readonly config: ThreadConfig, size: number) {
    for (let i = 0; i < size; i++) this.idle.push(this.spawn());
  }

  private spawn(): Worker {
    const w = new Worker(new URL(import.meta.url), { workerData: { [CHUNK_THREAD]: true, ...this.config } });
    w.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      this.running.delete(w);
      if (r.error === undefined) p?.resolve();
      else p?.reject(new Error(r.error));
      this.release(w);
    });
    // A thread that dies fails its job (the queue retries it) and is replaced.
    w.on('error', (err) => this.lost(w, err));
    w.on('exit', (code) => this.lost(w, new Error(`bootstrap thread exited with code ${code}`)));
    w.unref();
    this.all.push(w);
    return w;
  }

  private lost(w: Worker, err: Error): void {
    const at = this.all.indexOf(w);
    if (at < 0) return;
    this.all.splice(at, 1);
    const idle = this.idle.indexOf(w);
    if (idle >= 0) this.idle.splice(idle, 1);
    const id = this.running.get(w);
    this.running.delete(w);
    if (id !== undefined) {
      this.pending.get(id)?.reject(err);
      this.pending.delete(id);
    }
    if (!this.closed) this.release(this.spawn());
  }

  readonly handle = async (job: ChunkJob): Promise<void> => {
    const w = this.idle.pop() ?? (await new Promise<Worker>((r) => this.waiting.push(r)));
    const id = ++this.nextId;
    await new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.running.set(w, id);
      w.postMessage({ id, job });
    });
  };

  private release(w: Worker): void {
    const next = this.waiting.shift();
    if (next) next(w);
    else this.idle.push(w);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.all].map((w) => w.terminate()));
  }
}

// Only in a chunk thread: the CLI itself runs on a thread other than the main one too
// (src/cli/launch.ts).
if (!isMainThread && parentPort && (workerData as Record<string, unknown> | null)?.[CHUNK_THREAD]) {
  const port = parentPort;
  const c = workerData as ThreadConfig;
  const handler = new ChunkJobHandler({
    sourceUrl: c.sourceUrl,
    sourceTls: c.sourceTls,
    targetUrl: c.targetUrl,
    dialect: dialectFor(c.dialect),
    naming: new Naming(c.keepCase),
    chunkRows: 0,
    concurrency: 1,
    queueName: '',
    log: createLogger(c.logLevel).child({ stage: 'bootstrap' }),
  });
  port.on('message', (m: { id: number; job: ChunkJob }) => {
    handler.handle(m.job).then(
      () => port.postMessage({ id: m.id } satisfies Reply),
      (err: Error) => port.postMessage({ id: m.id, error: err.message } satisfies Reply),
    );
  });
}
