// The contract between capture and apply: publishing whole transactions, and consuming batches
// whose positions apply stores in the replica together with the data.

import type { BinlogPosition } from '../core/position.js';
import type { StreamMessage } from '../core/events.js';
import type { SchemaRecord, TableSchema } from '../core/table-schema.js';

/**
 * Where capture sends events. A transaction's messages arrive through `send` (possibly in
 * several calls, for big transactions) and end with `commit`. A publisher may queue them: the
 * messages and `resumeAfter` are durable, together, once `flush` resolves after the `commit`.
 * Implementations keep message order per key and transactions in order.
 */
export interface Publisher {
  begin(): Promise<void>;
  send(messages: StreamMessage[]): Promise<void>;
  /** Makes the messages since `begin` durable, together with the position to resume from. */
  commit(resumeAfter: BinlogPosition): Promise<void>;
  /** Waits until every committed transaction is durable (a publisher that does not queue has nothing to wait for). */
  flush?(): Promise<void>;
  /** Where capture should resume, or null when nothing was ever committed. */
  storedPosition(): Promise<BinlogPosition | null>;
  /**
   * Stores capture's tracked table definitions (src/capture/schema-tracker.ts) so that they
   * become durable with the next `commit`, atomically with its position: a restart sees the
   * definitions as of the position it resumes from. Called inside a transaction (after `begin`).
   */
  recordSchemas?(records: SchemaRecord[], at: BinlogPosition): Promise<void>;
  /** The definitions stored with `storedPosition()`, or null when none were ever stored. */
  storedSchemas?(): Promise<TableSchema[] | null>;
  /**
   * Before capture reads again from `storedPosition()` (after an outage): drops the open
   * transaction, finishes the committed ones when it can, and after a failure starts afresh.
   */
  restart?(): Promise<void>;
  close(): Promise<void>;
}

/** A consumed message, the part of the stream it came from (e.g. `topic:partition`), its position there. */
export interface DeliveredMessage {
  value: string;
  part: string;
  /** Transport-specific position of this message, comparable by the subscriber. */
  position: string;
  /**
   * Set when the transport knows that a source transaction's share of this part ends with this
   * message (Kafka: the last message of a Kafka transaction in its partition). Apply also finds
   * the end from the events themselves (src/apply/transaction-cut.ts).
   */
  endsTransaction?: boolean;
}

/**
 * Where apply reads from. Batches come in stream order per part. Apply stores, per part,
 * `positionAfter(last applied message)` in the replica in the same transaction as the data
 * (always at the end of a source transaction when it commits), and drops any message for which
 * `alreadyApplied(message, stored)` holds, or that does not `follow` the message of its part
 * taken before it in the batch: redelivery is a no-op.
 */
export interface Subscriber {
  /** Identifies this stream's rows in `_my2pg.checkpoints`. */
  readonly stream: string;
  /** Starts consuming; `stored` are the positions apply has committed, per part. */
  start(stored: Map<string, string>): Promise<void>;
  /** Next batch (up to maxRows, waiting at most maxWaitMs after the first message); [] when stopped. */
  nextBatch(maxRows: number, maxWaitMs: number): Promise<DeliveredMessage[]>;
  alreadyApplied(msg: DeliveredMessage, stored: string): boolean;
  /** Whether `msg` comes after `prev`, a message of the same part (cheaper than alreadyApplied with positionAfter(prev)). */
  follows(msg: DeliveredMessage, prev: DeliveredMessage): boolean;
  positionAfter(msg: DeliveredMessage): string;
  /**
   * Invalid messages of a committed replica transaction (already in `_my2pg.dead_letters`), for a transport
   * that also publishes them (Kafka: a dead-letter topic). At least once.
   */
  deadLetters?(letters: Array<{ message: DeliveredMessage; error: string }>): Promise<void>;
  /** Told after each committed replica transaction (e.g. to commit consumer-group offsets for monitoring). */
  committed(positions: Map<string, string>): Promise<void>;
  stop(): Promise<void>;
}
