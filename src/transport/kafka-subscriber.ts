// Consumes Maxwell messages from Kafka for apply (read-committed, so aborted capture
// transactions are never seen). Positions are the next offset per `topic:partition`; apply
// stores them in the replica, and on each assignment consumption restarts from there, not from
// the consumer group's offsets, which are committed afterwards only for monitoring. A topic
// template (`shop_%{table}`) subscribes to every matching topic, including ones created later.

import { Kafka, logLevel, type Consumer, type Producer } from './kafkajs.js';
import { My2pgError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { BoundedQueue } from './bounded-queue.js';
import { deadLetterTopic, ensureTopics, isTemplate, topicPattern } from './kafka-topics.js';
import type { DeliveredMessage, Subscriber } from './transport.js';

export interface KafkaSubscriberOptions {
  brokers: string[];
  /** A topic, or a template with %{database} and %{table}. */
  topic: string;
  group: string;
  /** Partitions of the data topic if apply creates it. */
  partitions: number;
  log: Logger;
  /** Messages buffered ahead of apply. */
  bufferSize?: number;
  /** How often a template subscription looks for new topics. */
  topicRefreshMs?: number;
}

export class KafkaSubscriber implements Subscriber {
  readonly stream: string;
  private readonly kafka: Kafka;
  private consumer: Consumer | null = null;
  private readonly queue: BoundedQueue<DeliveredMessage>;
  private readonly bufferSize: number;
  private readonly positions = new Map<string, string>();
  private failure: Error | null = null;
  private topics = new Set<string>();
  private refresh: NodeJS.Timeout | null = null;
  private deadLetterProducer: Producer | null = null;
  private stopped = false;

  constructor(private readonly opts: KafkaSubscriberOptions) {
    this.stream = `kafka:${opts.group}`;
    this.kafka = new Kafka({ clientId: `my2pg-apply-${opts.group}`, brokers: opts.brokers, logLevel: logLevel.NOTHING });
    this.bufferSize = opts.bufferSize ?? 50_000;
    this.queue = new BoundedQueue(this.bufferSize);
  }

  async start(stored: Map<string, string>): Promise<void> {
    for (const [p, o] of stored) this.positions.set(p, o);
    try {
      if (!isTemplate(this.opts.topic)) await ensureTopics(this.kafka, [{ topic: this.opts.topic, partitions: this.opts.partitions }]);
      await this.startConsumer();
    } catch (err) {
      throw new My2pgError('UNREACHABLE', `cannot consume ${this.opts.topic} from Kafka: ${(err as Error).message}`, { retriable: true, cause: err });
    }
    if (isTemplate(this.opts.topic)) {
      this.refresh = setInterval(() => void this.checkNewTopics(), this.opts.topicRefreshMs ?? 5000);
    }
  }

  /** The topics to consume: the topic itself, or every existing topic matching the template. */
  private async currentTopics(): Promise<Set<string>> {
    if (!isTemplate(this.opts.topic)) return new Set([this.opts.topic]);
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const pattern = topicPattern(this.opts.topic);
      return new Set((await admin.listTopics()).filter((t) => pattern.test(t)));
    } finally {
      await admin.disconnect();
    }
  }

  private async startConsumer(): Promise<void> {
    this.topics = await this.currentTopics();
    const consumer = this.kafka.consumer({
      groupId: this.opts.group,
      readUncommitted: false,
      maxBytesPerPartition: 4 << 20,
      // A crashed apply's partitions move to its replacement after this long.
      sessionTimeout: 10_000,
      heartbeatInterval: 2_000,
    });
    this.consumer = consumer;
    await consumer.connect();
    if (this.topics.size > 0) await consumer.subscribe({ topics: [...this.topics], fromBeginning: true });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const p of partitions) {
          const offset = this.positions.get(`${topic}:${p}`);
          if (offset !== undefined) consumer.seek({ topic, partition: p, offset });
        }
      }
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) {
        this.failure = payload.error;
        this.queue.close();
      }
    });
    if (this.topics.size === 0) return;
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, isRunning, isStale, heartbeat }) => {
        const part = `${batch.topic}:${batch.partition}`;
        for (const m of batch.messages) {
          if (!isRunning() || isStale()) return;
          // push() waits while apply is behind (backpressure); heartbeats keep the membership.
          // With room in the queue it adds the message at once: no await (a microtask) per message.
          const pushed = this.queue.push({ value: m.value?.toString('utf8') ?? '', part, position: m.offset }, heartbeat);
          if (this.queue.size >= this.bufferSize) await pushed;
        }
        await heartbeat();
      },
    });
  }

  /** New topics matching the template: restart the consumer with them (positions are in Postgres). */
  private async checkNewTopics(): Promise<void> {
    try {
      const now = await this.currentTopics();
      if ([...now].every((t) => this.topics.has(t)) || this.stopped) return;
      this.opts.log.info({ topics: [...now].filter((t) => !this.topics.has(t)) }, 'new topics match the template; resubscribing');
      await this.consumer?.disconnect();
      if (!this.stopped) await this.startConsumer();
    } catch (err) {
      this.opts.log.warn({ error: (err as Error).message }, 'could not refresh the topic list');
    }
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

  /** Publishes invalid messages, as they came, to `<topic>.my2pg-dead-letters` with the reason. */
  async deadLetters(letters: Array<{ message: DeliveredMessage; error: string }>): Promise<void> {
    const topic = deadLetterTopic(this.opts.topic);
    if (!this.deadLetterProducer) {
      await ensureTopics(this.kafka, [{ topic, partitions: 1 }]);
      this.deadLetterProducer = this.kafka.producer({ idempotent: true });
      await this.deadLetterProducer.connect();
    }
    await this.deadLetterProducer.send({
      topic,
      acks: -1,
      messages: letters.map(({ message, error }) => ({
        value: message.value,
        headers: { error, source: message.part, offset: message.position, group: this.opts.group },
      })),
    });
  }

  async committed(positions: Map<string, string>): Promise<void> {
    for (const [p, o] of positions) this.positions.set(p, o);
    const offsets = [...positions].map(([part, offset]) => {
      const at = part.lastIndexOf(':');
      return { topic: part.slice(0, at), partition: Number(part.slice(at + 1)), offset };
    });
    await this.consumer?.commitOffsets(offsets).catch((err: Error) => {
      this.opts.log.debug({ error: err.message }, 'could not commit consumer-group offsets (monitoring only)');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.refresh) clearInterval(this.refresh);
    this.queue.close();
    await this.consumer?.disconnect().catch(() => undefined);
    await this.deadLetterProducer?.disconnect().catch(() => undefined);
    this.consumer = null;
  }
}
