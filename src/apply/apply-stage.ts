// The apply stage's lifecycle: connect to the replica, migrate the control schema, then pull
// batches from the subscriber and apply them until stopped. Retriable failures (the replica
// unreachable, its connection lost) reconnect and retry the same batch, which is safe because a
// redelivered batch is a no-op, for up to `retry_max_ms` per outage (docs/OPERATIONS.md).

import type pg from 'pg';
import { connectReplica } from '../target/connect.js';
import { Backoff } from '../core/backoff.js';
import { outageError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { migrateControlSchema } from '../state/control-schema.js';
import type { TypeOverrides } from '../ddl/type-overrides.js';
import type { Dialect } from '../target/dialect.js';
import type { Naming } from '../target/naming.js';
import type { DeliveredMessage, Subscriber } from '../transport/transport.js';
import { Applier, prepareBatch, type DeadLetter, type PreparedMessage } from './applier.js';
import { readCheckpoints } from '../state/checkpoints.js';

export interface ApplyStageOptions {
  targetUrl: string;
  dialect: Dialect;
  naming: Naming;
  typeOverrides?: TypeOverrides;
  /** Create, rebuild and drop secondary indexes with DDL (default true). */
  ddlIndexes?: boolean;
  batchMaxRows: number;
  batchMaxWaitMs: number;
  log: Logger;
  /** How long one outage of the replica is retried before apply fails (`retry_max_ms`). */
  retryMaxMs?: number;
}

export class ApplyStage {
  private client: pg.Client | null = null;
  private applier: Applier | null = null;
  private stopping = false;
  private readonly backoff: Backoff;
  appliedMessages = 0;

  constructor(
    private readonly subscriber: Subscriber,
    private readonly opts: ApplyStageOptions,
  ) {
    this.backoff = new Backoff(opts.log, opts.retryMaxMs);
  }

  /** Runs until stop() or a non-retriable error. */
  async run(): Promise<void> {
    const stored = await this.retrying('reading the stored positions from the replica', (client) =>
      migrateControlSchema(client).then(() => readCheckpoints(client, this.subscriber.stream, false)),
    );
    if (this.stopping) return;
    await this.subscriber.start(stored);
    this.opts.log.info({ stream: this.subscriber.stream, resumeFrom: Object.fromEntries(stored) }, 'apply started');
    // The next batch is fetched while the current one is in Postgres, and decoded and encoded
    // (Applier.prepareAhead) while Postgres merges the current one, when it has arrived by then.
    let arrived: DeliveredMessage[] | null = null;
    let prepared: PreparedMessage[] | null = null;
    const fetch = () =>
      this.subscriber.nextBatch(this.opts.batchMaxRows, this.opts.batchMaxWaitMs).then((messages) => {
        arrived = messages;
      });
    const prepareNext = () => {
      if (arrived === null || prepared !== null || arrived.length === 0) return;
      try {
        prepared = prepareBatch(arrived);
        this.applier?.prepareAhead(prepared);
      } catch {
        prepared = null; // decoded again in its turn, where the error is reported
      }
    };
    let next = fetch();
    while (!this.stopping) {
      await next;
      const batch = prepared ?? prepareBatch(arrived ?? []);
      if (batch.length === 0) break;
      arrived = null;
      prepared = null;
      next = fetch();
      await this.applyWithRetry(batch, prepareNext);
    }
    next.catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.backoff.cancel();
    await this.subscriber.stop();
  }

  async close(): Promise<void> {
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }

  private async applyWithRetry(batch: PreparedMessage[], whilePostgresWorks?: () => void): Promise<void> {
    const result = await this.retrying('applying a batch', (client) => {
      this.applier ??= new Applier(client, this.subscriber, this.opts);
      return this.applier.applyBatch(batch, whilePostgresWorks);
    });
    this.appliedMessages += result.applied;
    this.opts.log.debug({ applied: result.applied, skipped: result.skipped }, 'batch committed');
    if (result.deadLetters.length > 0) await this.publishDeadLetters(result.deadLetters);
    await this.subscriber.committed(result.positions);
  }

  /** `fn` on the replica connection; an outage reconnects and runs it again, within the retry budget. */
  private async retrying<T>(what: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
    for (;;) {
      try {
        const result = await this.withClient(fn);
        this.backoff.recovered();
        return result;
      } catch (err) {
        if (this.stopping) throw err;
        await this.close();
        this.applier = null;
        await this.backoff.failed(what, outageError(what, err));
      }
    }
  }

  /** The dead-letter table is the durable record; a failed notification is only logged. */
  private async publishDeadLetters(letters: DeadLetter[]): Promise<void> {
    try {
      await this.subscriber.deadLetters?.(letters);
    } catch (err) {
      this.opts.log.warn({ error: (err as Error).message, count: letters.length }, 'could not publish dead letters (they are in _my2pg.dead_letters)');
    }
  }

  private async withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    if (!this.client) {
      const client = await connectReplica(this.opts.targetUrl, 'my2pg apply');
      client.on('error', (err) => this.opts.log.warn({ error: err.message }, 'replica connection error'));
      this.client = client;
    }
    return fn(this.client);
  }
}
