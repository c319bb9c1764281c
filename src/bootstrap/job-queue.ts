// Chunk jobs: through a bullmq queue on Redis, so `bootstrap --worker` processes on several
// machines share a table, or in-process when no Redis is configured. Either way a failed job is
// retried with backoff, but a configuration error (an event bigger than Kafka accepts) fails it
// at once.

import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { My2pgError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { tableKey } from '../core/table-key.js';

export interface ChunkJob {
  db: string;
  table: string;
  chunkNo: number;
}

export type ChunkHandler = (job: ChunkJob) => Promise<void>;

export interface ChunkQueue {
  add(job: ChunkJob): Promise<void>;
  /** The error of a job of this table that used up its attempts, if any. */
  failure(db: string, table: string): Promise<string | null>;
  close(): Promise<void>;
}

const ATTEMPTS = 5;
const BACKOFF_MS = 1000;

/** An error a retry cannot help: the configuration must change first. */
const permanent = (err: unknown): boolean => err instanceof My2pgError && err.code === 'CONFIG';

/** Runs jobs in this process, `concurrency` at a time. */
export class InProcessQueue implements ChunkQueue {
  private readonly waiting: ChunkJob[] = [];
  private readonly failures = new Map<string, string>();
  private running = 0;
  private closed = false;

  constructor(
    private readonly handler: ChunkHandler,
    private readonly concurrency: number,
    private readonly log: Logger,
  ) {}

  async add(job: ChunkJob): Promise<void> {
    this.waiting.push(job);
    this.pump();
  }

  async failure(db: string, table: string): Promise<string | null> {
    return this.failures.get(tableKey(db, table)) ?? null;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private pump(): void {
    while (!this.closed && this.running < this.concurrency && this.waiting.length > 0) {
      const job = this.waiting.shift()!;
      this.running++;
      void this.attempt(job).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async attempt(job: ChunkJob): Promise<void> {
    for (let n = 1; ; n++) {
      try {
        return await this.handler(job);
      } catch (err) {
        if (n >= ATTEMPTS || this.closed || permanent(err)) {
          this.failures.set(tableKey(job.db, job.table), (err as Error).message);
          return;
        }
        this.log.warn({ ...job, attempt: n, err: (err as Error).message }, 'bootstrap chunk failed; retrying');
        await new Promise((r) => setTimeout(r, BACKOFF_MS * 2 ** (n - 1)));
      }
    }
  }
}

/** Redis connection options for bullmq from a redis:// URL. */
function connection(url: string) {
  return { url, maxRetriesPerRequest: null };
}

/** A job's id: the same chunk is queued once (bullmq ids may not contain ':'). */
function jobId(job: ChunkJob): string {
  return `${Buffer.from(tableKey(job.db, job.table)).toString('base64url')}-${job.chunkNo}`;
}

export class BullChunkQueue implements ChunkQueue {
  private readonly queue: Queue;

  constructor(redisUrl: string, name: string) {
    this.queue = new Queue(name, { connection: connection(redisUrl) });
  }

  async add(job: ChunkJob): Promise<void> {
    const id = jobId(job);
    try {
      // A job left failed by an earlier run would make add() a no-op: clear it first.
      const old = await this.queue.getJob(id);
      if (old && (await old.isFailed())) await old.remove();
      await this.queue.add('chunk', job, {
        jobId: id,
        attempts: ATTEMPTS,
        backoff: { type: 'exponential', delay: BACKOFF_MS },
        removeOnComplete: true,
        removeOnFail: false,
      });
    } catch (err) {
      throw redisError(err);
    }
  }

  async failure(db: string, table: string): Promise<string | null> {
    const failed = await this.queue.getFailed();
    const job = failed.find((j) => j.data?.db === db && j.data?.table === table);
    return job ? (job.failedReason ?? 'failed') : null;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/**
 * Takes chunk jobs from the Redis queue to `handler` until closed (bullmq's Worker, the one place
 * it is used): in a `bootstrap --worker` process, and in the bootstrap that queues them.
 */
export function takeChunkJobs(redisUrl: string, name: string, handler: ChunkHandler, concurrency: number, log: Logger): { close(): Promise<void> } {
  const work = async (data: ChunkJob) => {
    try {
      await handler(data);
    } catch (err) {
      throw permanent(err) ? new UnrecoverableError((err as Error).message) : err;
    }
  };
  const bull = new Worker<ChunkJob>(name, async (job) => work(job.data), { connection: connection(redisUrl), concurrency });
  bull.on('failed', (job, err) => log.warn({ ...job?.data, attempt: job?.attemptsMade, err: err.message }, 'bootstrap chunk failed'));
  bull.on('error', (err) => log.error({ err: err.message }, 'bootstrap worker error'));
  return { close: () => bull.close() };
}

function redisError(err: unknown): My2pgError {
  return new My2pgError('UNREACHABLE', `cannot use the Redis job queue: ${(err as Error).message}`, { retriable: true, cause: err });
}
