// Copies the chunks of bootstraps: the chunk job handler behind both queues, in this thread or on
// a chunk thread (chunk-threads.ts).

import { hostname } from 'node:os';
import pg from 'pg';
import { LossCounter } from '../target/loss-counter.js';
import { My2pgError } from '../core/errors.js';
import { tableKey } from '../core/table-key.js';
import { Catalog } from '../target/catalog.js';
import { copyChunk } from './chunk-copier.js';
import type { ChunkJob } from './job-queue.js';
import { readBootstrap } from '../state/bootstrap-registry.js';
import type { BootstrapOptions } from './options.js';
import { connectForBootstrap, describeSourceTable, type SourceTable } from './source-table.js';

/** Copies chunks: the job handler of both queues. */
export class ChunkJobHandler {
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
    const copier = `${hostname()}:${process.pid}:${++this.slot}`;
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
        copier,
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
