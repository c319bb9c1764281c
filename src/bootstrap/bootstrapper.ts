// Bootstraps tables: registers each (docs/BOOTSTRAP.md), plans its key-range chunks, hands them to
// the job queue, watches them finish, and completes it. Resumes unfinished bootstraps.

import { hostname } from 'node:os';
import type { Connection } from 'mysql2/promise';
import pg from 'pg';
import { LossCounter } from '../apply/loss-counter.js';
import type { TableFilter } from '../capture/filter.js';
import { listDatabases, listTables } from '../capture/schema-reader.js';
import { My2pgError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { createTable } from '../ddl/translate.js';
import type { TypeOverrides } from '../ddl/type-overrides.js';
import { Catalog, type TargetTable } from '../target/catalog.js';
import { migrateControlSchema } from '../target/control-schema.js';
import type { Dialect } from '../target/dialect.js';
import type { Naming } from '../target/naming.js';
import { quoteIdent } from '../target/quote.js';
import { copyChunk } from './chunk-copier.js';
import { planChunks } from './chunk-planner.js';
import { BullChunkQueue, InProcessQueue, startBullWorker, type ChunkJob, type ChunkQueue } from './job-queue.js';
import { Progress } from './progress.js';
import {
  addChunk,
  completeBootstrap,
  readBootstrap,
  readChunks,
  registerBootstrap,
  touchedTableName,
  type BootstrapTable,
} from './registry.js';
import { connectForBootstrap, describeSourceTable, type SourceTable } from './source-table.js';

/** Receives bootstrap events for other consumers (Maxwell's bootstrap-* on Kafka). */
export interface BootstrapEvents {
  start(db: string, table: string): Promise<void>;
  /** One row: each column's encoded JSON value, in definition order; may buffer. */
  row(src: SourceTable, values: string[]): void;
  /** Sends what row() buffered; called before a chunk counts as done. */
  flush(): Promise<void>;
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

const POLL_MS = 200;

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
      const key = `${job.db}\u0000${job.table}`;
      const events = opts.events;
      const result = await copyChunk(
        () => connectForBootstrap(opts.sourceUrl),
        src,
        b,
        job.chunkNo,
        { pg: client, table, dialect: opts.dialect, naming: opts.naming, losses: this.losses, onRow: events && ((values) => events.row(src, values)) },
        worker,
        !this.noDirect.has(key),
      );
      if (result.path === 'merge') this.noDirect.add(key);
      if (events) await events.flush();
    } catch (err) {
      this.catalog.invalidate();
      throw err;
    } finally {
      client.release();
    }
  };

  private source(db: string, table: string): Promise<SourceTable> {
    const key = `${db}\u0000${table}`;
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

/** `my2pg bootstrap --worker`: copies chunks from the Redis queue until stopped. */
export async function runBootstrapWorker(opts: BootstrapOptions & { redisUrl: string }, stopped: Promise<void>): Promise<void> {
  const worker = new ChunkWorker(opts);
  const bull = startBullWorker(opts.redisUrl, opts.queueName, worker.handle, opts.concurrency, opts.log);
  opts.log.info({ queue: opts.queueName, concurrency: opts.concurrency }, 'bootstrap worker waiting for chunks');
  await stopped;
  await bull.close();
  await worker.close();
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
    const conn = await connectForBootstrap(this.opts.sourceUrl);
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
    const target = new pg.Client({ connectionString: opts.targetUrl });
    await target.connect().catch((err: Error) => {
      throw new My2pgError('UNREACHABLE', `cannot connect to the replica: ${err.message}`, { retriable: true, cause: err });
    });
    const worker = new ChunkWorker(opts);
    let bullWorker: { close(): Promise<void> } | null = null;
    let queue: ChunkQueue;
    if (opts.redisUrl) {
      queue = new BullChunkQueue(opts.redisUrl, opts.queueName);
      bullWorker = opts.concurrency > 0 ? startBullWorker(opts.redisUrl, opts.queueName, worker.handle, opts.concurrency, opts.log) : null;
    } else {
      queue = new InProcessQueue(worker.handle, Math.max(opts.concurrency, 1), opts.log);
    }
    const source = await connectForBootstrap(opts.sourceUrl);
    try {
      await migrateControlSchema(target);
      for (const t of tables) {
        if (this.stopped) break;
        await this.bootstrapTable(source, target, queue, t.db, t.table);
      }
    } finally {
      await queue.close();
      await bullWorker?.close();
      await worker.close();
      await source.end().catch(() => undefined);
      await target.end();
    }
  }

  private async bootstrapTable(source: Connection, target: pg.Client, queue: ChunkQueue, db: string, table: string): Promise<void> {
    const { opts } = this;
    const log = opts.log.child({ table: `${db}.${table}` });
    const src = await describeSourceTable(source, db, table);
    const replica = await this.replicaTable(target, src);
    let b = await readBootstrap(target, db, table);
    if (b?.state === 'copying') {
      log.info('resuming bootstrap');
    } else {
      const touched = replica.primaryKey.length > 0 ? touchedTableName(db, table) : null;
      await registerBootstrap(
        target,
        {
          sourceDb: db,
          sourceTable: table,
          targetSchema: replica.schema,
          targetTable: replica.table,
          keyColumns: src.key,
          where: opts.where ?? null,
          chunkRows: opts.chunkRows,
          touchedTable: touched,
          rowsEstimated: src.rowsEstimated,
        },
        replica.primaryKey.map((k) => replica.byName.get(k)!),
        (pk) => opts.dialect.tableSuffix(pk),
      );
      b = (await readBootstrap(target, db, table))!;
      if (src.key.length === 0) log.warn('no primary or NOT NULL unique key: the table is copied in one pass (docs/BOOTSTRAP.md)');
      await opts.events?.start(db, table);
    }
    const chunks = await readChunks(target, db, table);
    const progress = new Progress(log);
    progress.begin(chunks.reduce((n, c) => n + c.rows, 0));
    for (const c of chunks) if (c.state !== 'done') await queue.add({ db, table, chunkNo: c.chunkNo });
    let planned = b.plannedAll;
    const planning = planned ? Promise.resolve() : this.plan(source, src, b, chunks.length, target, queue).then(() => void (planned = true));
    for (;;) {
      await (planned ? sleep(POLL_MS) : Promise.race([planning, sleep(POLL_MS)]));
      const now = await readChunks(target, db, table);
      const done = now.filter((c) => c.state === 'done');
      const finished = planned && done.length === now.length;
      progress.update({ table: `${db}.${table}`, rowsDone: done.reduce((n, c) => n + c.rows, 0), rowsEstimated: b.rowsEstimated, chunksDone: done.length, chunksPlanned: now.length }, finished);
      if (finished) break;
      const failed = await queue.failure(db, table);
      if (failed) throw new My2pgError('TARGET', `bootstrap of ${db}.${table} failed: ${failed}`);
      if (this.stopped) throw new My2pgError('TARGET', `bootstrap of ${db}.${table} stopped; run it again to resume`, { retriable: true });
    }
    await planning;
    await completeBootstrap(target, b);
    await opts.events?.complete(db, table);
    log.info('bootstrap complete');
  }

  private async plan(source: Connection, src: SourceTable, b: BootstrapTable, chunkNo: number, target: pg.Client, queue: ChunkQueue): Promise<void> {
    for await (const c of planChunks(source, src, b.plannedUpto, b.chunkRows, b.where)) {
      await addChunk(target, b.sourceDb, b.sourceTable, { chunkNo, lower: c.lower, upper: c.upper }, c.last);
      await queue.add({ db: b.sourceDb, table: b.sourceTable, chunkNo });
      chunkNo++;
      if (this.stopped) return;
    }
  }

  /** The replica table, created from the source definition when missing (or awaited, for `run`). */
  private async replicaTable(target: pg.Client, src: SourceTable): Promise<TargetTable> {
    const { opts } = this;
    const schema = opts.naming.name(src.def.database);
    const name = opts.naming.name(src.def.table);
    for (let waited = 0; ; waited += POLL_MS) {
      this.catalog.invalidate();
      const t = await this.catalog.table(target, schema, name);
      if (t) return t;
      if (!opts.waitForTables) {
        await target.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
        await target.query(createTable(src.def, opts.dialect, opts.naming, opts.typeOverrides));
        continue;
      }
      if (this.stopped) throw new My2pgError('TARGET', 'stopped while waiting for replica tables');
      if (waited % 10_000 === 0) opts.log.info({ table: `${schema}.${name}` }, 'bootstrap waiting for the stream to create the replica table');
      await sleep(POLL_MS);
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
