// Bootstraps tables: registers each (docs/BOOTSTRAP.md), plans its key-range chunks, hands them to
// the job queue, watches them finish, and completes it. Resumes unfinished bootstraps.

import type { Connection } from 'mysql2/promise';
import type pg from 'pg';
import type { Logger } from '../core/logger.js';
import type { TableFilter } from '../core/table-filter.js';
import { listDatabases, listTables } from '../source/schema-reader.js';
import { DEFAULT_SOURCE_TLS } from '../source/connect.js';
import { My2pgError } from '../core/errors.js';
import { createTable } from '../ddl/translate.js';
import { Catalog, type TargetTable } from '../target/catalog.js';
import { connectReplica } from '../target/connect.js';
import { migrateControlSchema } from '../state/control-schema.js';
import { quoteIdent } from '../target/quote.js';
import { planChunks } from './chunk-planner.js';
import { ChunkThreads } from './chunk-threads.js';
import { ChunkJobHandler } from './chunk-job-handler.js';
import { BullChunkQueue, InProcessQueue, takeChunkJobs, type ChunkHandler, type ChunkQueue } from './job-queue.js';
import type { BootstrapOptions } from './options.js';
import { Progress } from './progress.js';
import { abandonBootstrap, addChunk, completeBootstrap, readBootstrap, readChunks, registerBootstrap, type BootstrapTable } from '../state/bootstrap-registry.js';
import { connectForBootstrap, findSourceTable, sameKey, type SourceTable } from './source-table.js';

export type { BootstrapEvents, BootstrapOptions } from './options.js';

/**
 * Where chunks are copied: on chunk threads, one per concurrent chunk, or in this thread when
 * rows must also go to Kafka (the producer lives here).
 */
function chunkHandler(opts: BootstrapOptions): { handle: ChunkHandler; close(): Promise<void> } {
  if (opts.events || opts.concurrency < 1) {
    const h = new ChunkJobHandler(opts);
    return { handle: h.handle, close: () => h.close() };
  }
  const config = { sourceUrl: opts.sourceUrl, sourceTls: opts.sourceTls ?? DEFAULT_SOURCE_TLS, targetUrl: opts.targetUrl, dialect: opts.dialect.name, keepCase: opts.naming.keepCase, logLevel: opts.log.level };
  const threads = new ChunkThreads(config, opts.concurrency);
  return { handle: threads.handle, close: () => threads.close() };
}

/** `my2pg bootstrap --worker`: copies chunks from the Redis queue until stopped. */
export async function runBootstrapWorker(opts: BootstrapOptions & { redisUrl: string }, stopped: Promise<void>): Promise<void> {
  const handler = chunkHandler(opts);
  const taking = takeChunkJobs(opts.redisUrl, opts.queueName, handler.handle, opts.concurrency, opts.log);
  opts.log.info({ queue: opts.queueName, concurrency: opts.concurrency }, 'bootstrap worker waiting for chunks');
  await stopped;
  await taking.close();
  await handler.close();
}

export class Bootstrapper {
  private readonly catalog = new Catalog();
  private stopped = false;

  constructor(private readonly opts: BootstrapOptions) {}

  stop(): void {
    this.stopped = true;
  }

  /** The source's tables the filter includes. */
  async includedTables(filter: TableFilter): Promise<Array<{ db: string; table: string }>> {
    const conn = await connectForBootstrap(this.opts.sourceUrl, this.opts.sourceTls);
    try {
      const out: Array<{ db: string; table: string }> = [];
      for (const db of await listDatabases(conn)) {
        if (!filter.includesDatabase(db)) continue;
        for (const table of await listTables(conn, db)) if (filter.includesTable(db, table)) out.push({ db, table });
      }
      return out;
    } finally {
      await conn.end();
    }
  }

  /** Bootstraps each table in turn; unfinished ones resume where they stopped. */
  async run(tables: Array<{ db: string; table: string }>): Promise<void> {
    const { opts } = this;
    const target = await connectReplica(opts.targetUrl);
    const handler = chunkHandler(opts);
    let taking: { close(): Promise<void> } | null = null;
    let queue: ChunkQueue;
    if (opts.redisUrl) {
      queue = new BullChunkQueue(opts.redisUrl, opts.queueName);
      taking = opts.concurrency > 0 ? takeChunkJobs(opts.redisUrl, opts.queueName, handler.handle, opts.concurrency, opts.log) : null;
    } else {
      queue = new InProcessQueue(handler.handle, Math.max(opts.concurrency, 1), opts.log);
    }
    const source = await connectForBootstrap(opts.sourceUrl, opts.sourceTls);
    try {
      await migrateControlSchema(target);
      for (const t of tables) {
        if (this.stopped) break;
        await this.bootstrapTable(source, target, queue, t.db, t.table);
      }
    } finally {
      await queue.close();
      await taking?.close();
      await handler.close();
      await source.end().catch(() => undefined);
      await target.end();
    }
  }

  /**
   * Bootstraps one table to the end. A table dropped (or renamed) in the source meanwhile stops
   * its bootstrap; a new chunk key starts it over (docs/BOOTSTRAP.md "Schema changes during a
   * bootstrap").
   */
  private async bootstrapTable(source: Connection, target: pg.Client, queue: ChunkQueue, db: string, table: string): Promise<void> {
    const log = this.opts.log.child({ table: `${db}.${table}` });
    for (;;) {
      const src = await findSourceTable(source, db, table);
      const replica = src && (await this.replicaTable(target, src, source));
      const outcome = src && replica ? await this.copyTable(source, target, queue, src, replica, log) : 'dropped';
      if (outcome === 'rekeyed') continue;
      if (outcome === 'dropped') {
        await abandonBootstrap(target, db, table);
        log.warn(`${db}.${table} is no longer in the source (dropped or renamed): its bootstrap stops, and the stream carries what happened to it. If it was renamed, copy it under its new name: my2pg bootstrap --include ${db}.<new name>`);
      }
      return;
    }
  }

  /** Registers (or resumes) the table's bootstrap and copies it; says why it stopped early. */
  private async copyTable(source: Connection, target: pg.Client, queue: ChunkQueue, src: SourceTable, replica: TargetTable, log: Logger): Promise<'done' | Reshaped> {
    const { opts } = this;
    const { database: db, table } = src.def;
    let b = await readBootstrap(target, db, table);
    if (b?.state === 'copying' && b.where === (opts.where ?? null) && sameKey(b.keyColumns, src.key)) {
      log.info('resuming bootstrap');
    } else {
      if (b?.state === 'copying' && b.where !== (opts.where ?? null)) log.warn({ was: b.where, now: opts.where ?? null }, 'the --where condition changed: starting the bootstrap over');
      else if (b?.state === 'copying') log.warn({ was: b.keyColumns, now: src.key }, "the table's key changed in the source: starting its bootstrap over");
      // Each marker is in Kafka before the registry moves past it, so a rerun never skips one.
      await opts.events?.start(db, table);
      await registerBootstrap(target, {
        sourceDb: db,
        sourceTable: table,
        targetSchema: replica.schema,
        targetTable: replica.table,
        keyColumns: src.key,
        where: opts.where ?? null,
        chunkRows: opts.chunkRows,
        rowsEstimated: src.rowsEstimated,
      });
      b = (await readBootstrap(target, db, table))!;
      if (src.key.length === 0) log.warn('no primary or NOT NULL unique key: the table is copied in one pass (docs/BOOTSTRAP.md)');
    }
    const chunks = await readChunks(target, db, table);
    const progress = new Progress(log);
    progress.begin(chunks.reduce((n, c) => n + c.rows, 0));
    for (const c of chunks) if (c.state !== 'done') await queue.add({ db, table, chunkNo: c.chunkNo });
    let reshaped: Reshaped | null = null;
    let planned = b.plannedAll;
    let planError: unknown = null;
    const planning = planned
      ? Promise.resolve()
      : this.plan(source, src, b, chunks.length, target, queue, () => reshaped !== null).then(
          () => void (planned = true),
          (err: unknown) => void (planError = err),
        );
    let checkedAt = Date.now();
    for (;;) {
      await (planned || planError ? sleep(POLL_MS) : Promise.race([planning, sleep(POLL_MS)]));
      const now = await readChunks(target, db, table);
      const done = now.filter((c) => c.state === 'done');
      const finished = planned && done.length === now.length;
      progress.update({ table: `${db}.${table}`, rowsDone: done.reduce((n, c) => n + c.rows, 0), rowsEstimated: b.rowsEstimated, chunksDone: done.length, chunksPlanned: now.length }, finished);
      if (finished) break;
      const failed = await queue.failure(db, table);
      // A failing plan or chunk, and every few seconds anyway: has the table changed under the copy?
      if (planError || failed || Date.now() - checkedAt >= SHAPE_CHECK_MS) {
        checkedAt = Date.now();
        reshaped = await this.reshaped(source, b);
        if (reshaped) {
          await planning;
          return reshaped;
        }
      }
      if (planError) throw planError;
      if (failed) throw new My2pgError('TARGET', `bootstrap of ${db}.${table} failed: ${failed}`);
      if (this.stopped) throw new My2pgError('TARGET', `bootstrap of ${db}.${table} stopped; run it again to resume`, { retriable: true });
    }
    await opts.events?.complete(db, table);
    await completeBootstrap(target, b);
    log.info('bootstrap complete');
    return 'done';
  }

  /** Whether the source table is gone, or keyed on other columns than its bootstrap's chunks. */
  private async reshaped(source: Connection, b: BootstrapTable): Promise<Reshaped | null> {
    const now = await findSourceTable(source, b.sourceDb, b.sourceTable);
    if (!now) return 'dropped';
    return sameKey(now.key, b.keyColumns) ? null : 'rekeyed';
  }

  private async plan(source: Connection, src: SourceTable, b: BootstrapTable, chunkNo: number, target: pg.Client, queue: ChunkQueue, abandoned: () => boolean): Promise<void> {
    const chunks = planChunks(source, src, b.plannedUpto, b.chunkRows, b.where);
    for await (const c of refusedQuery(chunks, b)) {
      if (this.stopped || abandoned()) return;
      await addChunk(target, b.sourceDb, b.sourceTable, { chunkNo, lower: c.lower, upper: c.upper }, c.last);
      await queue.add({ db: b.sourceDb, table: b.sourceTable, chunkNo });
      chunkNo++;
    }
  }

  /** The replica table, created from the source definition when missing (or awaited, for `run`); null when the source table went away meanwhile. */
  private async replicaTable(target: pg.Client, src: SourceTable, source: Connection): Promise<TargetTable | null> {
    const { opts } = this;
    const schema = opts.naming.name(src.def.database);
    const name = opts.naming.name(src.def.table);
    for (let waited = 0; ; waited += POLL_MS) {
      this.catalog.invalidate();
      const t = await this.catalog.table(target, schema, name);
      if (t) return t;
      if (!opts.waitForTables) {
        try {
          await target.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
          await target.query(createTable(src.def, opts.dialect, opts.naming, opts.typeOverrides));
        } catch (err) {
          // A running apply creating the same schema or table at the same moment: IF NOT EXISTS
          // does not cover a concurrent creator, whose commit fails ours. Read the catalog again.
          if (!CREATED_CONCURRENTLY.has((err as { code?: string }).code ?? '')) throw err;
        }
        continue;
      }
      if (this.stopped) throw new My2pgError('TARGET', 'stopped while waiting for replica tables');
      if (waited % 10_000 === 0) {
        if (!(await findSourceTable(source, src.def.database, src.def.table))) return null;
        opts.log.info({ table: `${schema}.${name}` }, 'bootstrap waiting for the stream to create the replica table');
      }
      await sleep(POLL_MS);
    }
  }
}

/** unique_violation (on the catalog), duplicate_schema, duplicate_table, duplicate_object. */
const CREATED_CONCURRENTLY = new Set(['23505', '42P06', '42P07', '42710']);

/** A query the source refuses (a bad `--where`, missing privileges) is a configuration error. */
async function* refusedQuery<T>(gen: AsyncGenerator<T>, b: BootstrapTable): AsyncGenerator<T> {
  try {
    yield* gen;
  } catch (err) {
    const sqlMessage = (err as { sqlMessage?: string }).sqlMessage;
    if (!sqlMessage) throw err;
    const hint = b.where ? ` (check --where ${JSON.stringify(b.where)})` : '';
    throw new My2pgError('CONFIG', `bootstrap of ${b.sourceDb}.${b.sourceTable}: the source refused the chunk query${hint}: ${sqlMessage}`);
  }
}

/** Why a table's bootstrap stopped before its end. */
type Reshaped = 'dropped' | 'rekeyed';

const POLL_MS = 200;
/** How often a bootstrap checks that its table is still there with the same key. */
const SHAPE_CHECK_MS = 2_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
