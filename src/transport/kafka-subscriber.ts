// Consumes Maxwell messages from Kafka for apply (read-committed, so aborted capture
// transactions are never seen). Positions are the next offset per `topic:partition`; apply
// stores them in the replica, and on each assignment consumption restarts from there, not from
// the consumer group's offsets, which are committed afterwards only for monitoring. A topic
// template (`shop_%{table}`) subscribes to every matching topic, including ones created later.
// Apply never creates the data topics (capture does, with its partition count): it waits for
// them. A broker outage restarts the consumer, within the retry budget (src/core/backoff.ts).

import { fetchedRecords, inTransaction, Kafka, logLevel, type Consumer, type Producer } from './kafkajs.js';
import { Backoff } from '../core/backoff.js';
import { My2pgError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { BoundedQueue } from './bounded-queue.js';
import { kafkaError } from './kafka-errors.js';
import { deadLetterTopic, ensureTopics, isTemplate, topicPattern } from './kafka-topics.js';
import type { DeliveredMessage, Subscriber } from './transport.js';

export interface KafkaSubscriberOptions {
  brokers: string[];
  /** A topic, or a template with %{database} and %{table}. */
  topic: string;
  group: string;
  log: Logger;
  /** How long one broker outage is retried before apply fails (`retry_max_ms`). */
  retryMaxMs?: number;
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
  /** Where apply resumes each `topic:partition`: the next offset it has committed. */
  private readonly positions = new Map<string, string>();
  /**
   * The next offset after the last message queued, per `topic:partition`. A new consumer (a new
   * topic, a broker outage) continues there: what is queued is delivered once, nothing is skipped.
   */
  private readonly queuedNext = new Map<string, bigint>();
  /** Counts consumers: a replaced consumer's last batch queues nothing more. */
  private generation = 0;
  private failure: Error | null = null;
  private topics = new Set<string>();
  private refresh: NodeJS.Timeout | null = null;
  /** One consumer restart at a time (a new topic, a crash). */
  private restarting: Promise<void> = Promise.resolve();
  private deadLetterProducer: Producer | null = null;
  private stopped = false;
  private readonly backoff: Backoff;

  constructor(private readonly opts: KafkaSubscriberOptions) {
    this.stream = `kafka:${opts.group}`;
    this.kafka = new Kafka({ clientId: `my2pg-apply-${opts.group}`, brokers: opts.brokers, logLevel: logLevel.NOTHING });
    this.bufferSize = opts.bufferSize ?? 20_000;
    this.queue = new BoundedQueue(this.bufferSize);
    this.backoff = new Backoff(opts.log, opts.retryMaxMs);
  }

  /** Waits for the topic (capture creates it), then consumes; a broker outage is retried. */
  async start(stored: Map<string, string>): Promise<void> {
    for (const [p, o] of stored) this.positions.set(p, o);
    for (;;) {
      try {
        await this.waitForTopic();
        if (!this.stopped) await this.startConsumer();
        break;
      } catch (err) {
        await this.consumer?.disconnect().catch(() => undefined);
        await this.backoff.failed('consuming from Kafka', kafkaError(`cannot consume ${this.opts.topic} from Kafka`, err));
      }
    }
    if (isTemplate(this.opts.topic)) {
      this.refresh = setInterval(() => void this.checkNewTopics(), this.opts.topicRefreshMs ?? 5000);
    }
  }

  /** A topic (not a template) that does not exist yet: waits, saying so once, until it does or apply stops. */
  private async waitForTopic(): Promise<void> {
    if (isTemplate(this.opts.topic)) return;
    let logged = false;
    while (!this.stopped && (await this.currentTopics()).size === 0) {
      if (!logged) this.opts.log.info({ topic: this.opts.topic }, `waiting for Kafka topic ${this.opts.topic}: capture creates it when it starts`);
      logged = true;
      await this.backoff.pause(1000);
    }
  }

  /** The existing topics to consume: the topic itself, or every topic matching the template. */
  private async currentTopics(): Promise<Set<string>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const template = isTemplate(this.opts.topic);
      const pattern = topicPattern(this.opts.topic);
      return new Set((await admin.listTopics()).filter((t) => (template ? pattern.test(t) : t === this.opts.topic)));
    } finally {
      await admin.disconnect();
    }
  }

  private async startConsumer(): Promise<void> {
    this.topics = await this.currentTopics();
    const generation = ++this.generation;
    const consumer = this.kafka.consumer({
      groupId: this.opts.group,
      readUncommitted: false,
      maxBytesPerPartition: 4 << 20,
      // A crashed apply's partitions move to its replacement after this long.
      sessionTimeout: 10_000,
      heartbeatInterval: 2_000,
      // Metadata requests for a missing topic must not create it (with the broker's partition count).
      allowAutoTopicCreation: false,
      // A crash restarts the consumer here (onCrash), within the retry budget.
      retry: { restartOnFailure: async () => false },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const p of partitions) {
          const part = `${topic}:${p}`;
          const offset = this.queuedNext.get(part)?.toString() ?? this.positions.get(part);
          if (offset !== undefined) consumer.seek({ topic, partition: p, offset });
        }
      }
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (generation === this.generation) void this.restartConsumer(() => this.onCrash(payload.error));
    });
    await consumer.connect();
    if (this.topics.size === 0) return;
    await consumer.subscribe({ topics: [...this.topics], fromBeginning: true });
    // Each partition's last message written in a Kafka transaction is held back until the record
    // after it is seen: a transaction marker (or a left-out aborted record) after it means that
    // capture's Kafka transaction, which holds whole binlog transactions, ends there
    // (endsTransaction).
    const held = new Map<string, { message: DeliveredMessage; offset: bigint }>();
    const release = (part: string, endsTransaction: boolean, whileWaiting?: () => Promise<void>): Promise<void> | undefined => {
      const h = held.get(part);
      if (!h) return undefined;
      held.delete(part);
      if (endsTransaction) h.message.endsTransaction = true;
      this.queuedNext.set(part, h.offset + 1n);
      // push() waits while apply is behind (backpressure); heartbeats keep the membership.
      return this.queue.push(h.message, whileWaiting);
    };
    let releasing: Promise<void> | undefined;
    // A fetch that brought only a marker (or aborted records) reaches no eachBatch.
    consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
      if (generation !== this.generation || payload.batchSize > 0) return;
      const part = `${payload.topic}:${payload.partition}`;
      const h = held.get(part);
      if (h && BigInt(payload.lastOffset) > h.offset) releasing = release(part, true);
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, isRunning, isStale, heartbeat }) => {
        this.backoff.recovered();
        await releasing;
        const part = `${batch.topic}:${batch.partition}`;
        const records = fetchedRecords(batch);
        // The delivered messages are the records less markers and aborted ones, in the same order.
        const delivered = batch.messages;
        let d = 0;
        /** Past what was queued or held before: the records from here on are new. */
        let fresh = false;
        /** The offset of the last message queued by this loop, put in queuedNext before any wait. */
        let queued: string | null = null;
        const noteQueued = () => {
          if (queued !== null) this.queuedNext.set(part, BigInt(queued) + 1n);
          queued = null;
        };
        for (let i = 0; i < records.length; i++) {
          const m = records[i];
          const isDelivered = m === delivered[d];
          if (isDelivered) d++;
          if (!isRunning() || isStale() || generation !== this.generation) return noteQueued();
          if (!fresh) {
            const offset = BigInt(m.offset);
            const next = this.queuedNext.get(part);
            const h = held.get(part);
            if ((next !== undefined && offset < next) || (h && offset <= h.offset)) continue;
            fresh = true;
          }
          if (!isDelivered) {
            noteQueued();
            await release(part, true, heartbeat);
            continue;
          }
          // With room in the queue a message is added at once: no await (a microtask) per message.
          let pushed = release(part, false, heartbeat);
          const message: DeliveredMessage = { value: m.value?.toString('utf8') ?? '', part, position: m.offset };
          if (inTransaction(m) && i === records.length - 1) {
            // Whether a marker follows shows only in a later fetch.
            held.set(part, { message, offset: BigInt(m.offset) });
          } else {
            // A marker (or an aborted record) next: capture's Kafka transaction ends here. No marker
            // follows a message written outside a transaction (another producer).
            if (inTransaction(m) && records[i + 1] !== delivered[d]) message.endsTransaction = true;
            if (pushed && this.queue.size >= this.bufferSize) {
              noteQueued();
              await pushed;
            }
            queued = m.offset;
            pushed = this.queue.push(message, heartbeat);
          }
          if (pushed && this.queue.size >= this.bufferSize) {
            noteQueued();
            await pushed;
          }
        }
        noteQueued();
        await heartbeat();
      },
    });
  }

  /** Runs `before`, then replaces the consumer; a failure is retried within the budget, or fails apply. */
  private restartConsumer(before: () => Promise<void>): Promise<void> {
    this.restarting = this.restarting.then(async () => {
      try {
        await before();
        for (;;) {
          if (this.stopped) return;
          try {
            await this.consumer?.disconnect().catch(() => undefined);
            if (!this.stopped) await this.startConsumer();
            return;
          } catch (err) {
            await this.backoff.failed('consuming from Kafka', kafkaError(`cannot consume ${this.opts.topic} from Kafka`, err));
          }
        }
      } catch (err) {
        if (this.stopped) return;
        this.failure = err as Error;
        this.queue.close();
      }
    });
    return this.restarting;
  }

  /** The consumer crashed (kafkajs does not restart it): retried after the backoff's delay when the broker is out. */
  private async onCrash(error: Error): Promise<void> {
    await this.backoff.failed('consuming from Kafka', kafkaError('the Kafka consumer failed', error));
  }

  /** New topics matching the template: a new consumer with them continues where the queue ends. */
  private async checkNewTopics(): Promise<void> {
    let now: Set<string>;
    try {
      now = await this.currentTopics();
    } catch (err) {
      this.opts.log.warn({ error: (err as Error).message }, 'could not refresh the topic list');
      return;
    }
    if ([...now].every((t) => this.topics.has(t)) || this.stopped) return;
    this.opts.log.info({ topics: [...now].filter((t) => !this.topics.has(t)) }, 'new topics match the template; resubscribing');
    await this.restartConsumer(async () => undefined);
  }

  async nextBatch(maxRows: number, maxWaitMs: number): Promise<DeliveredMessage[]> {
    const batch = await this.queue.take(maxRows, maxWaitMs);
    if (batch.length === 0 && this.failure) {
      if (this.failure instanceof My2pgError) throw this.failure;
      throw new My2pgError('STREAM', `Kafka consumer failed: ${this.failure.message}`, { retriable: false, cause: this.failure });
    }
    return batch;
  }

  alreadyApplied(msg: DeliveredMessage, stored: string): boolean {
    return BigInt(msg.position) < BigInt(stored);
  }

  follows(msg: DeliveredMessage, prev: DeliveredMessage): boolean {
    return BigInt(msg.position) > BigInt(prev.position);
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
    this.backoff.cancel();
    if (this.refresh) clearInterval(this.refresh);
    this.queue.close();
    await this.consumer?.disconnect().catch(() => undefined);
    await this.deadLetterProducer?.disconnect().catch(() => undefined);
    this.consumer = null;
  }
}
