// Publishes Maxwell messages to Kafka in Kafka transactions (kafkajs, acks=all). Each Kafka
// transaction also writes capture's resume position to a compacted positions topic, so data
// and position become visible together or not at all: a restarted capture never republishes
// a transaction Kafka acknowledged, and never skips one it did not (DESIGN §6.2).

import { Kafka, logLevel, type Consumer, type Producer, type Transaction } from 'kafkajs';
import type { StreamMessage } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { BinlogPosition } from '../core/position.js';
import { ensureTopics, positionsTopic } from './kafka-topics.js';
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
  log: Logger;
}

export class KafkaPublisher implements Publisher {
  private readonly kafka: Kafka;
  private producer: Producer | null = null;
  private tx: Transaction | null = null;
  private partitions = 1;

  constructor(private readonly opts: KafkaPublisherOptions) {
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
    await ensureTopics(this.kafka, this.opts.topic, this.opts.partitions);
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [this.opts.topic] });
      this.partitions = meta.topics[0].partitions.length;
    } finally {
      await admin.disconnect();
    }
    this.producer = this.kafka.producer({
      transactionalId: `my2pg-capture-${this.opts.clientId}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 120_000,
    });
    await this.producer.connect();
  }

  async begin(): Promise<void> {
    this.tx = await this.requireProducer().transaction();
  }

  async send(messages: StreamMessage[]): Promise<void> {
    if (!this.tx) throw new Error('send() outside a transaction');
    await this.tx.send({
      topic: this.opts.topic,
      acks: -1,
      messages: messages.flatMap((m) =>
        m.broadcast
          ? Array.from({ length: this.partitions }, (_, partition) => ({ key: m.key, value: m.value, partition }))
          : [{ key: m.key, value: m.value, partition: partitionFor(m.partitionKey ?? m.database, this.partitions, this.opts.partitionHash) }],
      ),
    });
  }

  async commit(resumeAfter: BinlogPosition): Promise<void> {
    if (!this.tx) throw new Error('commit() outside a transaction');
    const tx = this.tx;
    this.tx = null;
    await tx.send({
      topic: positionsTopic(this.opts.topic),
      acks: -1,
      messages: [{ key: this.opts.clientId, value: JSON.stringify(resumeAfter), partition: 0 }],
    });
    await tx.commit();
  }

  async storedPosition(): Promise<BinlogPosition | null> {
    const value = await readLastValue(this.kafka, positionsTopic(this.opts.topic), this.opts.clientId);
    return value === null ? null : (JSON.parse(value) as BinlogPosition);
  }

  async close(): Promise<void> {
    if (this.tx) await this.tx.abort().catch(() => undefined);
    this.tx = null;
    await this.producer?.disconnect();
    this.producer = null;
  }

  private requireProducer(): Producer {
    if (!this.producer) throw new Error('KafkaPublisher used before connect()');
    return this.producer;
  }
}

/**
 * The last committed value for `key` in a single-partition topic: reads the tail of the log
 * (read-committed) up to the end offset seen at the start.
 */
async function readLastValue(kafka: Kafka, topic: string, key: string): Promise<string | null> {
  const admin = kafka.admin();
  await admin.connect();
  let low = 0n;
  let high = 0n;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const p0 = offsets.find((o) => o.partition === 0);
    low = BigInt(p0?.low ?? '0');
    high = BigInt(p0?.high ?? '0');
  } finally {
    await admin.disconnect();
  }
  if (high <= low) return null;
  const from = high - 5000n > low ? high - 5000n : low;
  const consumer: Consumer = kafka.consumer({ groupId: `my2pg-position-reader-${process.pid}-${Date.now()}`, readUncommitted: false });
  let last: string | null = null;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      let idle: NodeJS.Timeout = setTimeout(resolve, 5000);
      const touch = (ms: number) => {
        clearTimeout(idle);
        idle = setTimeout(resolve, ms);
      };
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              if (m.key?.toString() === key && m.value) last = m.value.toString();
            }
            // Transaction markers and aborted records are never delivered, so the end may
            // not be reached exactly: stop when caught up, or after a quiet moment.
            if (BigInt(batch.lastOffset()) + 1n >= high) {
              clearTimeout(idle);
              resolve();
            } else {
              touch(1500);
            }
          },
        })
        .catch(reject);
      consumer.on(consumer.events.GROUP_JOIN, () => {
        consumer.seek({ topic, partition: 0, offset: from.toString() });
        touch(3000);
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return last;
}
