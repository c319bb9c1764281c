// The apply stage's lifecycle: connect to the replica, migrate the control schema, then pull
// batches from the subscriber and apply them until stopped, committing only between source
// transactions (src/apply/transaction-cut.ts). Retriable failures (the replica unreachable, its
// connection lost) reconnect and retry the same batch, after applying again what the lost
// replica transaction held (src/apply/open-transaction-log.ts), which is safe because a
// redelivered message is a no-op, for up to `retry_max_ms` per outage (docs/OPERATIONS.md).

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
import { OpenTransactionLog } from './open-transaction-log.js';
import { cutAtTransactions, type TransactionCut } from './transaction-cut.js';

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
  /** What the open replica transaction holds, for a new connection to apply again. */
  private readonly openLog = new OpenTransactionLog();
  /** Positions and dead letters of the batches in the open replica transaction, told to the subscriber at its commit. */
  private uncommitted: { positions: Map<string, string>; deadLetters: DeadLetter[] } = { positions: new Map(), deadLetters: [] };
  appliedMessages = 0;
  /**
   * How many messages of unfinished transactions wait in memory for their end; a transaction
   * past that goes into an open replica transaction. A quarter of a batch keeps what apply holds
   * at once (what waits and the batch that arrives) within a batch and a quarter.
   */
  private readonly maxWaiting: number;

  constructor(
    private readonly subscriber: Subscriber,
    private readonly opts: ApplyStageOptions,
  ) {
    this.backoff = new Backoff(opts.log, opts.retryMaxMs);
    this.maxWaiting = Math.max(1, Math.floor(opts.batchMaxRows / 4));
  }

  /** Runs until stop() or a non-retriable error. */
  async run(): Promise<void> {
    const stored = await this.retrying('reading the stored positions from the replica', (client) =>
      migrateControlSchema(client).then(() => readCheckpoints(client, this.subscriber.stream, false)),
    );
    if (this.stopping) return;
    await this.subscriber.start(stored);
    this.opts.log.info({ stream: this.subscriber.stream, resumeFrom: Object.fromEntries(stored) }, 'apply started');
    // The next batch is fetched while the current one is in Postgres, and cut, decoded and
    // encoded (Applier.prepareAhead) while Postgres merges the current one, when it has arrived
    // by then. `waiting`: what waits for the rest of its source transaction; `open`: the parts
    // whose transaction is partly in the open replica transaction (both as of the current cut).
    let arrived: DeliveredMessage[] | null = null;
    type Prepared = { batch: PreparedMessage[]; cut: TransactionCut };
    let prepared: Prepared | null = null;
    let waiting: PreparedMessage[] = [];
    let open = new Map<string, string | undefined>();
    const cutOf = (batch: PreparedMessage[]) => cutAtTransactions(waiting.length > 0 ? [...waiting, ...batch] : batch, open, this.maxWaiting);
    const fetch = () =>
      this.subscriber.nextBatch(this.opts.batchMaxRows, this.opts.batchMaxWaitMs).then((messages) => {
        arrived = messages;
      });
    const prepareNext = () => {
      if (arrived === null || prepared !== null || arrived.length === 0) return;
      try {
        const batch = prepareBatch(arrived);
        prepared = { batch, cut: cutOf(batch) };
        this.applier?.prepareAhead(prepared.cut.apply);
      } catch {
        prepared = null; // decoded again in its turn, where the error is reported
      }
    };
    let next = fetch();
    while (!this.stopping) {
      await next;
      // Set by prepareNext meanwhile (TypeScript cannot see that).
      const ahead = prepared as Prepared | null;
      const batch = ahead?.batch ?? prepareBatch(arrived ?? []);
      if (batch.length === 0) break;
      const cut = ahead?.cut ?? cutOf(batch);
      arrived = null;
      prepared = null;
      next = fetch();
      const wasOpen = open.size > 0;
      waiting = cut.wait;
      open = cut.open;
      const commit = open.size === 0;
      if (cut.apply.length > 0 || (commit && wasOpen)) await this.applyWithRetry(cut.apply, commit, prepareNext);
    }
    next.catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.backoff.cancel();
    await this.subscriber.stop();
  }

  /** Disconnects (an open replica transaction is rolled back: it is applied again on restart). */
  async close(): Promise<void> {
    await this.disconnect();
    await this.openLog.close();
  }

  private async disconnect(): Promise<void> {
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }

  /**
   * Applies a batch, and commits it with what the open replica transaction holds when `commit`.
   * A new connection (after an outage) first applies again what the lost transaction held.
   */
  private async applyWithRetry(batch: PreparedMessage[], commit: boolean, whilePostgresWorks?: () => void): Promise<void> {
    const result = await this.retrying('applying a batch', async (client) => {
      if (!this.applier) {
        const applier = new Applier(client, this.subscriber, this.opts);
        for await (const page of this.openLog.replay(this.opts.batchMaxRows)) await applier.applyBatch(prepareBatch(page), undefined, false);
        this.applier = applier;
      }
      return this.applier.applyBatch(batch, whilePostgresWorks, commit);
    });
    this.appliedMessages += result.applied;
    this.opts.log.debug({ applied: result.applied, skipped: result.skipped, commit }, commit ? 'batch committed' : 'batch applied in the open transaction');
    for (const [part, position] of result.positions) this.uncommitted.positions.set(part, position);
    this.uncommitted.deadLetters.push(...result.deadLetters);
    if (!commit) {
      await this.openLog.append(batch.map((p) => p.message));
      return;
    }
    const { positions, deadLetters } = this.uncommitted;
    this.uncommitted = { positions: new Map(), deadLetters: [] };
    await this.openLog.clear();
    if (deadLetters.length > 0) await this.publishDeadLetters(deadLetters);
    await this.subscriber.committed(positions);
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
        await this.disconnect();
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
