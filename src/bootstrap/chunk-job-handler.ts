// Copies the chunks of bootstraps: the job handler behind both queues, in this thread or on a
// worker thread (chunk-threads.ts). Bootstrap-wide options live here too.

import { hostname } from 'node:os';
import pg from 'pg';
import { LossCounter } from '../target/loss-counter.js';
import { My2pgError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { tableKey } from '../core/table-key.js';
import type { TypeOverrides } from '../ddl/type-overrides.js';
import { Catalog } from '../target/catalog.js';
import type { Dialect } from '../target/dialect.js';
import type { Naming } from '../target/naming.js';
import { copyChunk, type ChunkEvents } from './chunk-copier.js';
import type { ChunkJob } from './job-queue.js';
import { readBootstrap } from '../state/bootstrap-registry.js';
import { connectForBootstrap, describeSourceTable, type SourceTable } from './source-table.js';

/** Receives bootstrap events for other consumers (Maxwell's bootstrap-* on Kafka). */
export interface BootstrapEvents {
  start(db: string, table: string): Promise<void>;
  /** The events of one chunk's rows, sent before the chunk counts as done. */
  chunk(src: SourceTable, chunkNo: number): ChunkEvents;
  complete(db: string, table: string): Promise<void>;
}

export interface BootstrapOptions {
  sourceUrl: string;
  targetUrl: string;
  dialect: Dialect;
  naming: Naming;
  typeOverrides?: TypeOverrides;
  where?: string | null;
  chunkRows: number;
  /** Chunks copied at once by this process. */
  concurrency: number;
  /** With Redis, chunk jobs go through bullmq and other `bootstrap --worker` processes help. */
  redisUrl?: string;
  queueName: string;
  /**
   * Wait for the stream to create a missing replica table (for `run`, whose capture creates it
   * after fixing its start position) instead of creating it here.
   */
  waitForTables?: boolean;
  events?: BootstrapEvents;
  log: Logger;
}

/** Copies chunks: the job handler of both queues. */
export class ChunkWorker {
  private readonly pool: pg.Pool;
  private readonly catalog = new Catalog();
  private readonly sources = new Map<string, Promise<SourceTable>>();
  /** Tables where a chunk met existing keys: later chunks go through staging straight away. */
  private readonly noDirect = new Set<string>();
  readonly losses: LossCounter;
  private slot = 0;

  constructor(private readonly opts: BootstrapOptions) {
    this.pool = new pg.Pool({ connectionString: opts.targetUrl, max: Math.max(opts.concurrency, 1) });
    // An idle connection the server closes must not take the process down; the next chunk reconnects.
    this.pool.on('error', (err) => opts.log.warn({ err: err.message }, 'replica connection lost while idle'));
    this.losses = new LossCounter(opts.log);
  }

  readonly handle = async (job: ChunkJob): Promise<void> => {
    const { opts } = this;
    const client = await this.pool.connect();
    const worker = `${hostname()}:${process.pid}:${++this.slot}`;
    try {
      const b = await readBootstrap(client, job.db, job.table);
      if (!b || b.state !== 'copying') return; // finished or restarted meanwhile
      const src = await this.source(job.db, job.table);
      const table = await this.catalog.table(client, b.targetSchema, b.targetTable);
      if (!table) throw new My2pgError('TARGET', `replica table ${b.targetSchema}.${b.targetTable} disappeared during its bootstrap`);
      const key = tableKey(job.db, job.table);
      const result = await copyChunk(
        () => connectForBootstrap(opts.sourceUrl),
        src,
        b,
        job.chunkNo,
        { pg: client, table, dialect: opts.dialect, naming: opts.naming, losses: this.losses, events: opts.events?.chunk(src, job.chunkNo) },
        worker,
        !this.noDirect.has(key),
      );
      if (result.path === 'merge') this.noDirect.add(key);
    } catch (err) {
      this.catalog.invalidate();
      throw err;
    } finally {
      client.release();
    }
  };

  private source(db: string, table: string): Promise<SourceTable> {
    const key = tableKey(db, table);
    let p = this.sources.get(key);
    if (!p) {
      p = (async () => {
        const conn = await connectForBootstrap(this.opts.sourceUrl);
        try {
          return await describeSourceTable(conn, db, table);
        } finally {
          await conn.end();
        }
      })();
      p.catch(() => this.sources.delete(key));
      this.sources.set(key, p);
    }
    return p;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
