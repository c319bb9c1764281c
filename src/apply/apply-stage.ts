// The apply stage's lifecycle: connect to the replica, migrate the control schema, then pull
// batches from the subscriber and apply them until stopped, committing only between source
// transactions (src/apply/transaction-cut.ts); a large transaction of one part is applied in a
// replica session of its own (src/apply/lanes.ts) so that the other parts go on committing.
// Retriable failures (the replica unreachable, its connection lost) reconnect and retry the same
// batch, after applying again what the lost replica transaction held
// (src/apply/replica-session.ts), which is safe because a redelivered message is a no-op, for up
// to `retry_max_ms` per outage (docs/OPERATIONS.md).

import { Backoff } from '../core/backoff.js';
import type { Logger } from '../core/logger.js';
import { migrateControlSchema } from '../state/control-schema.js';
import type { TypeOverrides } from '../ddl/type-overrides.js';
import type { Dialect } from '../target/dialect.js';
import type { Naming } from '../target/naming.js';
import type { DeliveredMessage, Subscriber } from '../transport/transport.js';
import { prepareBatch, type DeadLetter, type PreparedMessage } from './applier.js';
import { readCheckpoints } from '../state/checkpoints.js';
import { footprint, merge, planLanes, type Footprint } from './lanes.js';
import { ReplicaSession, type Committed } from './replica-session.js';
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
  private stopping = false;
  private readonly backoff: Backoff;
  /** The main replica session, and the lanes: one session per part whose large transaction is applied on its own. */
  private readonly main: ReplicaSession;
  private readonly lanes = new Map<string, { session: ReplicaSession; print: Footprint }>();
  /** What the main session's open transaction has written, or null when it has nothing open. */
  private mainPrint: Footprint | null = null;
  private readonly partsSeen = new Set<string>();
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
    this.main = this.session();
  }

  private session(): ReplicaSession {
    return new ReplicaSession(this.subscriber, this.opts, this.backoff, () => this.stopping);
  }

  /** Runs until stop() or a non-retriable error. */
  async run(): Promise<void> {
    const stored = await this.main.retrying('reading the stored positions from the replica', (client) =>
      migrateControlSchema(client).then(() => readCheckpoints(client, this.subscriber.stream)),
    );
    if (this.stopping) return;
    await this.subscriber.start(stored);
    this.opts.log.info({ stream: this.subscriber.stream, resumeFrom: Object.fromEntries(stored) }, 'apply started');
    // The next batch is fetched while the current one is in Postgres, and cut, decoded and
    // encoded (Applier.prepareAhead) while Postgres merges the current one, when it has arrived
    // by then. `waiting`: what waits for the rest of its source transaction; `open`: the parts
    // inside a transaction that is partly applied (both as of the current cut).
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
        this.prepareAhead(prepared.cut.apply);
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
      waiting = cut.wait;
      open = cut.open;
      await this.applyCut(cut, prepareNext);
    }
    next.catch(() => undefined);
  }

  /** Applies a cut: each lane's share, then the main session's; each commits where its parts are between transactions. */
  private async applyCut(cut: TransactionCut, whilePostgresWorks: () => void): Promise<void> {
    for (const p of cut.apply) this.partsSeen.add(p.message.part);
    const lanePrints = new Map([...this.lanes].map(([part, lane]) => [part, lane.print]));
    const plan = planLanes(cut.apply, cut.open, lanePrints, this.mainPrint, this.partsSeen.size > 1);
    for (const part of plan.fold) {
      const lane = this.lanes.get(part)!;
      this.lanes.delete(part);
      this.opts.log.info({ part }, 'a large transaction meets tables written by another part: applied with the others');
      await this.main.absorb(lane.session);
      this.mainPrint ??= { tables: new Set(), databases: new Set() };
      merge(this.mainPrint, lane.print);
    }
    for (const [part, messages] of plan.lanes) {
      let lane = this.lanes.get(part);
      if (!lane) {
        lane = { session: this.session(), print: { tables: new Set(), databases: new Set() } };
        this.lanes.set(part, lane);
        this.opts.log.debug({ part }, 'a large transaction is applied on a connection of its own');
      }
      const commit = !cut.open.has(part);
      footprint(messages, lane.print);
      const result = await lane.session.apply(messages, commit, whilePostgresWorks);
      this.appliedMessages += result.applied;
      if (result.committed) {
        this.lanes.delete(part);
        await lane.session.close();
        await this.committed(result.committed);
      }
    }
    const mainOpen = [...cut.open.keys()].some((part) => !this.lanes.has(part));
    if (plan.main.length === 0 && (mainOpen || this.mainPrint === null)) return;
    if (mainOpen) this.mainPrint = footprint(plan.main, this.mainPrint ?? undefined);
    const result = await this.main.apply(plan.main, !mainOpen, whilePostgresWorks);
    this.appliedMessages += result.applied;
    if (!result.committed) return;
    this.mainPrint = null;
    await this.committed(result.committed);
  }

  /** Encodes ahead (Applier.prepareAhead) in the session each part's messages would go to as things stand. */
  private prepareAhead(apply: PreparedMessage[]): void {
    for (const [part, lane] of this.lanes) lane.session.prepareAhead(apply.filter((p) => p.message.part === part));
    this.main.prepareAhead(this.lanes.size === 0 ? apply : apply.filter((p) => !this.lanes.has(p.message.part)));
  }

  /** Tells the subscriber what a replica transaction made durable. */
  private async committed({ positions, deadLetters }: Committed): Promise<void> {
    if (deadLetters.length > 0) await this.publishDeadLetters(deadLetters);
    await this.subscriber.committed(positions);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.backoff.cancel();
    await this.subscriber.stop();
  }

  /** Disconnects (open replica transactions are rolled back: they are applied again on restart). */
  async close(): Promise<void> {
    for (const lane of this.lanes.values()) await lane.session.close();
    this.lanes.clear();
    await this.main.close();
  }

  /** The dead-letter table is the durable record; a failed notification is only logged. */
  private async publishDeadLetters(letters: DeadLetter[]): Promise<void> {
    try {
      await this.subscriber.deadLetters?.(letters);
    } catch (err) {
      this.opts.log.warn({ error: (err as Error).message, count: letters.length }, 'could not publish dead letters (they are in _my2pg.dead_letters)');
    }
  }
}
