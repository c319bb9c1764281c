// Publishes Maxwell messages to Kafka in Kafka transactions (kafkajs, acks=all). Each Kafka
// transaction also writes capture's resume position to a compacted positions topic, so data
// and position become visible together or not at all: a restarted capture never republishes
// a transaction Kafka acknowledged, and never skips one it did not (docs/OPERATIONS.md).
//
// begin/send/commit only queue: one sender hands the queue to Kafka, one produce request at a
// time (kafkajs numbers an idempotent producer's batches when it sends them, so two requests in
// flight would clash) and one transaction after the other, while capture goes on decoding. The
// queue is bounded; a failed request fails the next call and no later transaction is committed.
// Failures are my2pg errors, retriable when the broker is out (kafka-errors.ts); capture then
// restart()s the publisher with a new producer, which fences the old one's open transaction.

import { Kafka, logLevel, type Producer, type Transaction } from './kafkajs.js';
import { readLastValues } from './kafka-log-reader.js';
import type { StreamMessage } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { stringifyJson, parseJson } from '../core/json.js';
import { schemaFromJson, schemaToJson } from '../core/maxwell.js';
import { formatPosition, type BinlogPosition } from '../core/position.js';
import type { SchemaRecord, TableSchema } from '../core/table-schema.js';
import { My2pgError } from '../core/errors.js';
import { kafkaError } from './kafka-errors.js';
import {
  BATCH_OVERHEAD,
  databaseTopicPattern,
  DEFAULT_MAX_MESSAGE_BYTES,
  ensureTopics,
  isTemplate,
  positionsTopic,
  RECORD_OVERHEAD,
  topicFor,
  topicMaxMessageBytes,
  topicPartitions,
  topicPattern,
} from './kafka-topics.js';
import { partitionFor, type PartitionHash } from './partitioner.js';
import type { Publisher } from './transport.js';

export interface KafkaPublisherOptions {
  brokers: string[];
  topic: string;
  /** Partitions of the data topic when my2pg creates it. */
  partitions: number;
  /** Identifies this capture: its transactional id and its key in the positions topic. */
  clientId: string;
  /** Hash of the partition string (Maxwell's `kafka_partition_hash`). */
  partitionHash?: PartitionHash;
  /** How long reading the stored position or definitions may take before it fails (default 60 s). */
  readTimeoutMs?: number;
  log: Logger;
}

/** Produce requests stay under Kafka's default max.message.bytes (1 MiB), and under every topic's own when it is smaller. */
const REQUEST_BYTES = 900_000;
/** Queued bytes past which send() and commit() wait for Kafka. */
const QUEUE_BYTES = 8 * REQUEST_BYTES;
/** Default deadline for reading the stored position or definitions (KafkaPublisherOptions.readTimeoutMs). */
const READ_TIMEOUT_MS = 60_000;
/** Ends a transaction in the queue. */
const COMMIT = Symbol('commit');

interface QueuedRecord {
  topic: string;
  key: string;
  value: string | null;
  partition: number;
  bytes: number;
}

export class KafkaPublisher implements Publisher {
  private readonly kafka: Kafka;
  private producer: Producer | null = null;
  /** The Kafka transaction the sender has open. */
  private tx: Transaction | null = null;
  /** Whether capture has a transaction open (between begin and commit). */
  private open = false;
  /** Records and commit marks not yet handed to Kafka, and the records' approximate size. */
  private queue: Array<QueuedRecord | typeof COMMIT> = [];
  private queueBytes = 0;
  /** The sender, while it runs; the error that stopped it. */
  private sending: Promise<void> | null = null;
  private failure: Error | null = null;
  /** Why a step of the open transaction failed: it can be neither continued nor committed. */
  private broken: Error | null = null;
  /** Partition counts of the data topics known to exist. */
  private partitions = new Map<string, number>();
  /** max.message.bytes of the topics written to, and the produce request size that fits them all. */
  private maxBytes = new Map<string, number>();
  private requestBytes = REQUEST_BYTES;
  private readonly template: boolean;
  /** Topics with fewer partitions than asked for are reported once, on the first connect. */
  private checkedPartitions = false;

  constructor(private readonly opts: KafkaPublisherOptions) {
    this.template = isTemplate(opts.topic);
    this.kafka = new Kafka({
      clientId: `my2pg-capture-${opts.clientId}`,
      brokers: opts.brokers,
      logLevel: logLevel.NOTHING,
      // A transaction begun right after a commit meets CONCURRENT_TRANSACTIONS while the broker
      // writes the markers of the previous one: retry within milliseconds, not kafkajs' 300 ms.
      retry: { initialRetryTime: 10, retries: 12 },
    });
  }

  async connect(): Promise<void> {
    try {
      const wanted = [{ topic: positionsTopic(this.opts.topic), partitions: 1, compacted: true }];
      if (!this.template) wanted.push({ topic: this.opts.topic, partitions: this.opts.partitions, compacted: false });
      await ensureTopics(this.kafka, wanted);
      const pattern = this.template ? topicPattern(this.opts.topic) : null;
      for (const [topic, n] of await topicPartitions(this.kafka)) {
        if (pattern ? pattern.test(topic) : topic === this.opts.topic) this.partitions.set(topic, n);
      }
      if (!this.checkedPartitions) this.warnFewPartitions();
      this.checkedPartitions = true;
      await this.readLimits([positionsTopic(this.opts.topic), ...this.partitions.keys()]);
      this.producer = this.kafka.producer({
        // Per topic: captures on other topics with the same client id must not fence each other.
        transactionalId: `my2pg-capture-${this.opts.clientId}@${this.opts.topic}`,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: 120_000,
      });
      await this.producer.connect();
    } catch (err) {
      throw kafkaError('connecting to Kafka', err);
    }
  }

  /** Capture never adds partitions to an existing topic: it says how to. */
  private warnFewPartitions(): void {
    const wanted = this.opts.partitions;
    for (const [topic, n] of this.partitions) {
      if (n >= wanted) continue;
      this.opts.log.warn(
        { topic, partitions: n, topic_partitions: wanted },
        `Kafka topic ${topic} has ${n} partition(s), fewer than topic_partitions (${wanted}); capture does not add partitions to an existing topic. ` +
          `To add them, stop capture, let apply catch up, run kafka-topics.sh --alter --topic ${topic} --partitions ${wanted} --bootstrap-server ${this.opts.brokers[0]}, then start capture again ` +
          '(a database\'s events then move to another partition, so none may be in flight)',
      );
    }
  }

  /** Starts afresh from what Kafka holds (see Publisher.restart): a new producer, the open transaction dropped. */
  async restart(): Promise<void> {
    await this.close().catch(() => undefined);
    this.producer = null;
    this.failure = null;
    this.broken = null;
    this.partitions.clear();
    this.maxBytes.clear();
    await this.connect();
  }

  async begin(): Promise<void> {
    this.throwIfFailed();
    if (this.broken) throw this.broken;
    this.open = true;
  }

  /** Queues messages of the open transaction (see the class comment). */
  async send(messages: StreamMessage[]): Promise<void> {
    await this.step('send', async () => {
      for (const m of messages) {
        for (const topic of await this.topicsOf(m)) {
          const n = this.partitions.get(topic) ?? 1;
          if (m.broadcast) for (let p = 0; p < n; p++) this.enqueue(topic, m.key, m.value, p);
          else this.enqueue(topic, m.key, m.value, partitionFor(m.partitionKey ?? m.database, n, this.opts.partitionHash));
        }
      }
    });
  }

  /**
   * A step of the open transaction. Its failure fails the publisher until restart(): what the
   * transaction queued before the failure must never be committed, even when the caller (or the
   * thread that relays its calls) goes on to commit.
   */
  private async step(what: string, fn: () => Promise<void> | void): Promise<void> {
    this.requireOpen(what);
    try {
      await fn();
    } catch (err) {
      this.broken ??= err instanceof Error ? err : new Error(String(err));
      // Transactions committed before it are still delivered; what this one queued is dropped,
      // and what it already sent is aborted with its Kafka transaction (close or restart).
      this.dropOpenTransaction();
      throw err;
    }
    await this.queued();
  }

  /** Drops the records queued after the last commit mark. */
  private dropOpenTransaction(): void {
    const open = this.queue.lastIndexOf(COMMIT) + 1;
    for (const r of this.queue.splice(open)) if (r !== COMMIT) this.queueBytes -= r.bytes;
  }

  /** Reads the topics' size limits; produce requests then stay under the smallest. */
  private async readLimits(topics: string[]): Promise<void> {
    const limits = await topicMaxMessageBytes(this.kafka, topics, (topic, err) =>
      this.opts.log.warn({ topic, err, assumed: DEFAULT_MAX_MESSAGE_BYTES }, "cannot read the topic's max.message.bytes: assuming Kafka's default"),
    );
    for (const [topic, n] of limits) this.maxBytes.set(topic, n);
    this.requestBytes = Math.min(REQUEST_BYTES, ...[...this.maxBytes.values()].map((n) => n - BATCH_OVERHEAD));
  }

  private enqueue(topic: string, key: string, value: string | null, partition: number): void {
    const bytes = RECORD_OVERHEAD + Buffer.byteLength(key) + (value === null ? 0 : Buffer.byteLength(value));
    const limit = this.maxBytes.get(topic) ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (bytes + BATCH_OVERHEAD > limit) {
      // Nothing of the transaction is committed: capture stops before it, and resumes there.
      throw new My2pgError(
        'CONFIG',
        `an event (key ${key.slice(0, 200)}) is ${bytes + BATCH_OVERHEAD} bytes, more than the ${limit} bytes Kafka topic ${topic} accepts (max.message.bytes): ` +
          'raise max.message.bytes of the topic (and message.max.bytes and replica.fetch.max.bytes of the brokers if they are lower), then start capture again: it resumes before this transaction',
      );
    }
    this.queue.push({ topic, key, value, partition, bytes });
    this.queueBytes += bytes;
  }

  /** Starts the sender if it is not running; waits while more than QUEUE_BYTES are queued. */
  private async queued(): Promise<void> {
    if (!this.sending && this.queue.length > 0) this.sending = this.sendQueue().finally(() => (this.sending = null));
    while (this.queueBytes > QUEUE_BYTES && this.sending) await this.sending;
    this.throwIfFailed();
  }

  /**
   * The sender: Kafka transactions one after the other, each opened on its first record, its
   * records in produce requests of at most REQUEST_BYTES, ended at its commit mark.
   */
  private async sendQueue(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        this.tx ??= await this.requireProducer().transaction();
        if (this.queue[0] === COMMIT) {
          this.queue.shift();
          const tx = this.tx;
          this.tx = null;
          await tx.commit();
          continue;
        }
        let end = 0;
        let bytes = 0;
        for (; end < this.queue.length; end++) {
          const r = this.queue[end];
          if (r === COMMIT || (end > 0 && bytes + r.bytes > this.requestBytes)) break;
          bytes += r.bytes;
        }
        const batch = this.queue.splice(0, end) as QueuedRecord[];
        this.queueBytes -= bytes;
        const byTopic = new Map<string, Array<{ key: string; value: string | null; partition: number }>>();
        for (const { topic, key, value, partition } of batch) {
          let list = byTopic.get(topic);
          if (!list) byTopic.set(topic, (list = []));
          list.push({ key, value, partition });
        }
        await this.tx.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      }
    } catch (err) {
      this.failure = kafkaError('publishing to Kafka', err);
    }
  }

  /** Waits until every committed transaction is in Kafka; throws the error that stopped the sender. */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private requireOpen(what: string): void {
    this.throwIfFailed();
    if (this.broken) throw this.broken;
    if (!this.open) throw new Error(`${what}() outside a transaction`);
  }

  /**
   * Where a message goes. With a template, a table's events go to its topic (created on first
   * use), database-level events to every topic of the database, heartbeats to every topic.
   */
  private async topicsOf(m: StreamMessage): Promise<string[]> {
    if (!this.template) return [this.opts.topic];
    if (m.broadcast) return [...this.partitions.keys()];
    if (m.table === null) {
      const ofDatabase = databaseTopicPattern(this.opts.topic, m.database);
      return [...this.partitions.keys()].filter((t) => ofDatabase.test(t));
    }
    const topic = topicFor(this.opts.topic, m.database, m.table);
    if (!this.partitions.has(topic)) {
      try {
        await ensureTopics(this.kafka, [{ topic, partitions: this.opts.partitions }]);
        this.partitions.set(topic, (await topicPartitions(this.kafka, [topic])).get(topic) ?? this.opts.partitions);
        await this.readLimits([topic]);
      } catch (err) {
        throw kafkaError(`creating Kafka topic ${topic}`, err);
      }
    }
    return [topic];
  }

  /** Queues the position record and the end of the transaction (durable after `flush`). */
  async commit(resumeAfter: BinlogPosition): Promise<void> {
    await this.step('commit', () => {
      this.enqueue(positionsTopic(this.opts.topic), this.opts.clientId, JSON.stringify(resumeAfter), 0);
      this.queue.push(COMMIT);
      this.open = false;
    });
  }

  async storedPosition(): Promise<BinlogPosition | null> {
    let values: Map<string, string | null>;
    try {
      values = await this.readPositions("capture's stored position", (k) => k === this.opts.clientId);
    } catch (err) {
      throw kafkaError('reading the stored position from Kafka', err);
    }
    const value = values.get(this.opts.clientId) ?? null;
    return value === null ? null : (JSON.parse(value) as BinlogPosition);
  }

  /**
   * Table definitions go to the positions topic in the open Kafka transaction, one record per
   * table (key `<client id>/schema/["db","table"]`, a tombstone when the table is gone) plus a
   * marker (`<client id>/schema`): visible exactly when the position committed with them is.
   */
  async recordSchemas(records: SchemaRecord[], at: BinlogPosition): Promise<void> {
    await this.step('recordSchemas', () => {
      const since = formatPosition(at);
      const topic = positionsTopic(this.opts.topic);
      for (const r of records) this.enqueue(topic, schemaKey(this.opts.clientId, r.database, r.table), r.def ? stringifyJson({ since, def: schemaToJson(r.def) }) : null, 0);
      this.enqueue(topic, schemaKey(this.opts.clientId), JSON.stringify({ since }), 0);
    });
  }

  async storedSchemas(): Promise<TableSchema[] | null> {
    const marker = schemaKey(this.opts.clientId);
    const values = await this.readPositions("capture's stored table definitions", (k) => k === marker || k.startsWith(`${marker}/`)).catch((err: unknown) => {
      throw kafkaError('reading the stored table definitions from Kafka', err);
    });
    if (!values.get(marker)) return null;
    const out: TableSchema[] = [];
    for (const [k, v] of values) {
      if (k === marker || v === null) continue;
      const doc = parseJson(v) as { def: Parameters<typeof schemaFromJson>[0] };
      out.push(schemaFromJson(doc.def));
    }
    return out;
  }

  /** The last committed values of the wanted keys in the positions topic (see kafka-log-reader). */
  private readPositions(what: string, wanted: (key: string) => boolean): Promise<Map<string, string | null>> {
    return readLastValues({ kafka: this.kafka, topic: positionsTopic(this.opts.topic), what, wanted, timeoutMs: this.opts.readTimeoutMs ?? READ_TIMEOUT_MS });
  }

  /** Finishes sending the committed transactions, then aborts what is left of an open one. */
  async close(): Promise<void> {
    this.dropOpenTransaction();
    await this.flush().catch(() => undefined);
    this.queue = [];
    this.queueBytes = 0;
    this.open = false;
    if (this.tx) await this.tx.abort().catch(() => undefined);
    this.tx = null;
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = null;
  }

  private requireProducer(): Producer {
    if (!this.producer) throw new Error('KafkaPublisher used before connect()');
    return this.producer;
  }
}

/** The key of a table's definition in the positions topic, or of the marker saying definitions are stored. */
function schemaKey(clientId: string, database?: string, table?: string): string {
  return database === undefined ? `${clientId}/schema` : `${clientId}/schema/${JSON.stringify([database, table])}`;
}
