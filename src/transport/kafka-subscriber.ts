// Consumes Maxwell messages from Kafka for apply (read-committed, so aborted capture
// transactions are never seen). Positions are the next offset per partition; apply stores them
// in the replica, and on each partition assignment consumption restarts from there, not from
// the consumer group's offsets, which are committed afterwards only for monitoring.

import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { My2pgError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { BoundedQueue } from './bounded-queue.js';
import { ensureTopics } from './kafka-topics.js';
import type { DeliveredMessage, Subscriber } from './transport.js';

export interface KafkaSubscriberOptions {
  brokers: string[];
  topic: string;
  group: string;
  /** Partitions of the data topic if apply creates it. */
  partitions: number;
  log: Logger;
  /** Messages buffered ahead of apply. */
  bufferSize?: number;
}

export class KafkaSubscriber implements Subscriber {
  readonly stream: string;
  private readonly kafka: Kafka;
  private consumer: Consumer | null = null;
  private readonly queue: BoundedQueue<DeliveredMessage>;
  private readonly positions = new Map<number, string>();
  private failure: Error | null = null;

  constructor(private readonly opts: KafkaSubscriberOptions) {
    this.stream = `kafka:${opts.group}:${opts.topic}`;
    this.kafka = new Kafka({ clientId: `my2pg-apply-${opts.group}`, brokers: opts.brokers, logLevel: logLevel.NOTHING });
    this.queue = new BoundedQueue(opts.bufferSize ?? 50_000);
  }

  async start(stored: Map<number, string>): Promise<void> {
    for (const [p, o] of stored) this.positions.set(p, o);
    const consumer = this.kafka.consumer({
      groupId: this.opts.group,
      readUncommitted: false,
      maxBytesPerPartition: 4 << 20,
      // A crashed apply's partitions move to its replacement after this long.
      sessionTimeout: 10_000,
      heartbeatInterval: 2_000,
    });
    this.consumer = consumer;
    try {
      await ensureTopics(this.kafka, this.opts.topic, this.opts.partitions);
      await consumer.connect();
      await consumer.subscribe({ topic: this.opts.topic, fromBeginning: true });
    } catch (err) {
      throw new My2pgError('UNREACHABLE', `cannot consume ${this.opts.topic} from Kafka: ${(err as Error).message}`, { retriable: true, cause: err });
    }
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      for (const p of payload.memberAssignment[this.opts.topic] ?? []) {
        const offset = this.positions.get(p);
        if (offset !== undefined) consumer.seek({ topic: this.opts.topic, partition: p, offset });
      }
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) {
        this.failure = payload.error;
        this.queue.close();
      }
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, isRunning, isStale, heartbeat }) => {
        for (const m of batch.messages) {
          if (!isRunning() || isStale()) return;
          // push() waits while apply is behind (backpressure); heartbeats keep the membership.
          await this.queue.push({ value: m.value?.toString('utf8') ?? '', part: batch.partition, position: m.offset }, heartbeat);
        }
        await heartbeat();
      },
    });
  }

  async nextBatch(maxRows: number, maxWaitMs: number): Promise<DeliveredMessage[]> {
    const batch = await this.queue.take(maxRows, maxWaitMs);
    if (batch.length === 0 && this.failure) {
      throw new My2pgError('STREAM', `Kafka consumer failed: ${this.failure.message}`, { retriable: false, cause: this.failure });
    }
    return batch;
  }

  alreadyApplied(msg: DeliveredMessage, stored: string): boolean {
    return BigInt(msg.position) < BigInt(stored);
  }

  positionAfter(msg: DeliveredMessage): string {
    return (BigInt(msg.position) + 1n).toString();
  }

  async committed(positions: Map<number, string>): Promise<void> {
    for (const [p, o] of positions) this.positions.set(p, o);
    const offsets = [...positions].map(([partition, offset]) => ({ topic: this.opts.topic, partition, offset }));
    await this.consumer?.commitOffsets(offsets).catch((err: Error) => {
      this.opts.log.debug({ error: err.message }, 'could not commit consumer-group offsets (monitoring only)');
    });
  }

  async stop(): Promise<void> {
    this.queue.close();
    await this.consumer?.disconnect().catch(() => undefined);
    this.consumer = null;
  }
}
