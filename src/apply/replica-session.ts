// One connection to the replica and the replica transaction open on it: batches applied into it
// (committing or not), what it holds for the subscriber until it commits, and the log of its
// messages (src/apply/open-transaction-log.ts) that a new connection applies again after an
// outage. Apply has one main session, and one more per part whose large source transaction is
// applied on its own (src/apply/apply-stage.ts).

import type pg from 'pg';
import { connectReplica } from '../target/connect.js';
import type { Backoff } from '../core/backoff.js';
import { outageError } from '../core/errors.js';
import type { Subscriber } from '../transport/transport.js';
import { Applier, prepareBatch, type ApplierOptions, type DeadLetter, type PreparedMessage } from './applier.js';
import { OpenTransactionLog } from './open-transaction-log.js';

export interface SessionOptions extends ApplierOptions {
  targetUrl: string;
  batchMaxRows: number;
}

/** What a commit made durable, for the subscriber. */
export interface Committed {
  positions: Map<string, string>;
  deadLetters: DeadLetter[];
}

export class ReplicaSession {
  private client: pg.Client | null = null;
  private applier: Applier | null = null;
  private readonly log = new OpenTransactionLog();
  private uncommitted: Committed = { positions: new Map(), deadLetters: [] };

  constructor(
    private readonly subscriber: Subscriber,
    private readonly opts: SessionOptions,
    private readonly backoff: Backoff,
    private readonly stopping: () => boolean,
  ) {}

  /** `fn` on the connection; an outage reconnects and runs it again, within the retry budget. */
  async retrying<T>(what: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
    for (;;) {
      try {
        this.client ??= await this.connect();
        const result = await fn(this.client);
        this.backoff.recovered();
        return result;
      } catch (err) {
        if (this.stopping()) throw err;
        await this.disconnect();
        await this.backoff.failed(what, outageError(what, err));
      }
    }
  }

  /**
   * Applies a batch into the open transaction, and commits when `commit`: then returns what the
   * transaction made durable. A new connection first applies again what the lost transaction held.
   */
  async apply(batch: PreparedMessage[], commit: boolean, whilePostgresWorks?: () => void): Promise<{ applied: number; committed: Committed | null }> {
    const result = await this.retrying('applying a batch', async (client) => (await this.applierOn(client)).applyBatch(batch, whilePostgresWorks, commit));
    this.opts.log.debug({ applied: result.applied, skipped: result.skipped, commit }, commit ? 'batch committed' : 'batch applied in the open transaction');
    for (const [part, position] of result.positions) this.uncommitted.positions.set(part, position);
    this.uncommitted.deadLetters.push(...result.deadLetters);
    if (!commit) {
      await this.log.append(batch.map((p) => p.message));
      return { applied: result.applied, committed: null };
    }
    const committed = this.uncommitted;
    this.uncommitted = { positions: new Map(), deadLetters: [] };
    await this.log.clear();
    return { applied: result.applied, committed };
  }

  /**
   * Takes over another session's open transaction: ends it there (rolled back, so its locks go)
   * and applies its messages again here without committing, so that what both held commits
   * together.
   */
  async absorb(other: ReplicaSession): Promise<void> {
    await other.disconnect();
    for await (const page of other.log.replay(this.opts.batchMaxRows)) {
      await this.retrying('applying a batch again', async (client) => (await this.applierOn(client)).applyBatch(prepareBatch(page), undefined, false));
      await this.log.append(page);
    }
    for (const [part, position] of other.uncommitted.positions) this.uncommitted.positions.set(part, position);
    this.uncommitted.deadLetters.push(...other.uncommitted.deadLetters);
    await other.close();
  }

  /** The connection's applier; a new one first applies again what the log holds. */
  private async applierOn(client: pg.Client): Promise<Applier> {
    if (this.applier) return this.applier;
    const applier = new Applier(client, this.subscriber, this.opts);
    for await (const page of this.log.replay(this.opts.batchMaxRows)) await applier.applyBatch(prepareBatch(page), undefined, false);
    this.applier = applier;
    return applier;
  }

  /** Disconnects (an open transaction is rolled back) and removes the log. */
  async close(): Promise<void> {
    await this.disconnect();
    await this.log.close();
  }

  private async disconnect(): Promise<void> {
    this.applier = null;
    await this.client?.end().catch(() => undefined);
    this.client = null;
  }

  private async connect(): Promise<pg.Client> {
    const client = await connectReplica(this.opts.targetUrl, 'my2pg apply');
    client.on('error', (err) => this.opts.log.warn({ error: err.message }, 'replica connection error'));
    return client;
  }

  /** See Applier.prepareAhead (only once connected). */
  prepareAhead(batch: PreparedMessage[]): void {
    this.applier?.prepareAhead(batch);
  }
}
