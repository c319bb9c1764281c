// Copies the chunks of bootstraps: the chunk job handler behind both queues, in this thread or on
// a chunk thread (chunk-threads.ts).

import { hostname } from 'node:os';
import pg from 'pg';
import { LossCounter } from '../target/loss-counter.js';
import { My2pgError } from '../core/errors.js';
import { tableKey } from '../core/table-key.js';
import { Catalog } from '../target/catalog.js';
import { copyChunk, SourceReshaped } from './chunk-copier.js';
import type { ChunkJob } from './job-queue.js';
import { readBootstrap } from '../state/bootstrap-registry.js';
import type { BootstrapOptions } from './options.js';
import type { Connection } from 'mysql2/promise';
import { connectForBootstrap, findSourceTable, sameKey, shapeOf } from './source-table.js';

/** Copies chunks: the job handler of both queues. */
export class ChunkJobHandler {
  private readonly pool: pg.Pool;
  private readonly catalog = new Catalog();
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

  /**
   * Copies a chunk in the table's current shape (docs/BOOTSTRAP.md "Schema changes during a
   * bootstrap"): the source is described afresh for every chunk; a column the replica does not
   * have yet is waited for (the stream brings the DDL); a change during the read reads it again.
   */
  readonly handle = async (job: ChunkJob): Promise<void> => {
    const { opts } = this;
    const client = await this.pool.connect();
    const copier = `${hostname()}:${process.pid}:${++this.slot}`;
    const log = opts.log.child({ table: `${job.db}.${job.table}`, chunk: job.chunkNo });
    const since = Date.now();
    let waiting = false;
    // One connection describes the table for every attempt at this chunk, before and after its read.
    let describer: Connection | undefined;
    const describe = async () => findSourceTable((describer ??= await connectForBootstrap(opts.sourceUrl, opts.sourceTls)), job.db, job.table);
    try {
      for (;;) {
        const b = await readBootstrap(client, job.db, job.table);
        if (!b || b.state !== 'copying') return; // finished or restarted meanwhile
        const src = await describe();
        if (!src || !sameKey(src.key, b.keyColumns)) {
          // The bootstrap sees the same change and stops the table's bootstrap or starts it over.
          const what = src ? `now keyed on (${src.key.join(', ')}), not (${b.keyColumns.join(', ')})` : 'no longer in the source';
          throw new My2pgError('TARGET', `${job.db}.${job.table} is ${what}`, { retriable: true });
        }
        this.catalog.invalidate();
        const table = await this.catalog.table(client, b.targetSchema, b.targetTable);
        if (!table) throw new My2pgError('TARGET', `replica table ${b.targetSchema}.${b.targetTable} disappeared during its bootstrap`);
        const missing = src.def.columns.filter((c) => !table.byName.has(opts.naming.name(c.name))).map((c) => c.name);
        if (missing.length > 0) {
          if (Date.now() - since > REPLICA_WAIT_MS) {
            throw new My2pgError(
              'TARGET',
              `column(s) ${missing.join(', ')} of ${job.db}.${job.table} are still missing in replica table ${b.targetSchema}.${b.targetTable} after ` +
                `${REPLICA_WAIT_MS / 1000} s: the stream has not applied the schema change that added them (see _my2pg.stopped_tables)`,
            );
          }
          if (!waiting) log.info({ columns: missing }, 'bootstrap chunk waits for the stream to bring a schema change to the replica');
          waiting = true;
          await sleep(RESHAPE_POLL_MS);
          continue;
        }
        const key = tableKey(job.db, job.table);
        const shape = shapeOf(src);
        const unchanged = async () => (await describe().then((now) => now && shapeOf(now))) === shape;
        try {
          const result = await copyChunk(
            () => connectForBootstrap(opts.sourceUrl, opts.sourceTls),
            src,
            b,
            job.chunkNo,
            { pg: client, table, dialect: opts.dialect, naming: opts.naming, losses: this.losses, events: opts.events?.chunk(src, job.chunkNo), unchanged },
            copier,
            !this.noDirect.has(key),
          );
          if (result.path === 'merge') this.noDirect.add(key);
          return;
        } catch (err) {
          if (!reshapedDuringRead(err)) throw err;
          log.info({ err: (err as Error).message }, 'the table changed shape during the chunk read: reading it again');
        }
      }
    } catch (err) {
      this.catalog.invalidate();
      throw err;
    } finally {
      client.release();
      await describer?.end().catch(() => undefined);
    }
  };

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * A read in a shape that just changed: MySQL's unknown column (1054) or table (1146), Postgres'
 * undefined column (42703, a replica column the stream just dropped or renamed), or a change
 * seen after the read.
 */
function reshapedDuringRead(err: unknown): boolean {
  const e = err as { errno?: number; code?: string };
  return err instanceof SourceReshaped || e.errno === 1054 || e.errno === 1146 || e.code === '42703';
}

/** How long a chunk waits for the stream to add a column to the replica. */
const REPLICA_WAIT_MS = 10 * 60_000;
const RESHAPE_POLL_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
