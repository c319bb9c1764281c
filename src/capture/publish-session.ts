// The publisher's open transaction and when it commits. Each binlog transaction is published
// as it ends; the publisher's transaction commits, with the position after the last one, when
// commitEveryRows rows or commitEveryMs have gathered or when the reader has caught up, so
// positions become durable only at transaction boundaries. A heartbeat is published after
// heartbeatMs without binlog events.

import type { StreamMessage } from '../core/events.js';
import { encodeHeartbeat, HEARTBEAT_DATABASE } from '../core/maxwell.js';
import { tableKey } from '../core/maxwell-keys.js';
import { formatPosition, type BinlogPosition } from '../core/position.js';
import type { SchemaRecord } from '../core/table-schema.js';
import type { Publisher } from '../transport/transport.js';

export interface CommitPolicy {
  /** Make progress durable after this many rows, or this long, at a transaction boundary. */
  commitEveryRows?: number;
  commitEveryMs?: number;
  /** Publish a heartbeat after this long without binlog events (0: never). */
  heartbeatMs?: number;
}

export class PublishSession {
  private publishing = false;
  private publishedSince = 0;
  private publishStartedAt = 0;
  private lastCommitAt = 0;
  /** The position after the last transaction published, until a commit makes it durable. */
  private uncommitted: BinlogPosition | null = null;
  private lastHeartbeatAt = 0;
  /** Definitions to store with the next publisher commit. */
  private readonly schemaRecords = new Map<string, SchemaRecord>();

  /** `idle`: whether the reader has nothing waiting (a good moment to commit). */
  constructor(
    private readonly publisher: Publisher,
    private readonly policy: CommitPolicy,
    private readonly idle: () => boolean,
  ) {}

  get heartbeatMs(): number {
    return this.policy.heartbeatMs ?? 1000;
  }

  /** Sends messages of the transaction being published, in the publisher's open transaction. */
  async publish(messages: StreamMessage[]): Promise<void> {
    await this.begin();
    await this.publisher.send(messages);
    this.publishedSince += messages.length;
  }

  /** A table definition to store with the next commit (the latest one of each table). */
  recordSchema(r: SchemaRecord): void {
    this.schemaRecords.set(JSON.stringify([r.database, r.table]), r);
  }

  /** Stores the recorded definitions in the same publisher transaction as the events and `next`, the position after them. */
  async storeSchemas(next: BinlogPosition): Promise<void> {
    if (this.schemaRecords.size === 0) return;
    await this.begin();
    await this.publisher.recordSchemas?.([...this.schemaRecords.values()], next);
    this.schemaRecords.clear();
  }

  /** A transaction was published (or passed over): the next commit may store `next`. */
  transactionEnded(next: BinlogPosition): void {
    this.uncommitted = next;
  }

  /** Commits the publisher's transaction when enough has gathered, or when the reader is idle. */
  async maybeCommit(): Promise<void> {
    const pos = this.uncommitted;
    if (!pos) return;
    const idle = this.idle();
    if (!this.publishing) {
      // Only filtered or empty transactions passed: persist the position now and then.
      if (idle && Date.now() - this.lastCommitAt > 1000) {
        await this.begin();
      } else {
        return;
      }
    }
    const due =
      idle ||
      this.publishedSince >= (this.policy.commitEveryRows ?? 5000) ||
      Date.now() - this.publishStartedAt >= (this.policy.commitEveryMs ?? 100);
    if (!due) return;
    await this.publisher.commit(pos);
    this.publishing = false;
    this.publishedSince = 0;
    this.lastCommitAt = Date.now();
    this.uncommitted = null;
  }

  /** Whether a heartbeat is due: heartbeats are on and none went out for heartbeatMs. */
  heartbeatDue(): boolean {
    return this.heartbeatMs > 0 && Date.now() - this.lastHeartbeatAt >= this.heartbeatMs;
  }

  /**
   * Everything read up to `at` is published: a heartbeat says so (docs/EVENTS.md), which apply
   * records to make lag measurable.
   */
  async heartbeat(at: BinlogPosition): Promise<void> {
    this.lastHeartbeatAt = Date.now();
    await this.begin();
    await this.publisher.send([
      {
        key: tableKey(HEARTBEAT_DATABASE, 'heartbeat'),
        value: encodeHeartbeat(Date.now(), formatPosition(at), at.gtid),
        database: HEARTBEAT_DATABASE,
        table: null,
        broadcast: true,
        // Sorts before the transaction that will start at `at`, after everything before it.
        cursor: { tx: at, xoffset: -1, commit: true, next: at },
      },
    ]);
    // The heartbeat goes in the same Kafka transaction as anything still uncommitted.
    this.uncommitted = at;
    await this.maybeCommit();
  }

  /** Before reading again from the stored position: what was published since the last commit is dropped. */
  reset(): void {
    this.publishing = false;
    this.publishedSince = 0;
    this.uncommitted = null;
    this.schemaRecords.clear();
  }

  private async begin(): Promise<void> {
    if (this.publishing) return;
    await this.publisher.begin();
    this.publishing = true;
    this.publishStartedAt = Date.now();
  }
}
