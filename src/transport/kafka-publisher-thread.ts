// The Kafka publisher on a thread of its own: kafkajs costs capture about as much CPU per
// message as decoding and encoding the row (docs/PERFORMANCE.md), so `my2pg capture` hands its
// messages to a KafkaPublisher on another thread (kafka-publisher-thread-entry.ts) and goes on
// decoding. Same contract as KafkaPublisher: calls reach it in order; begin, send, commit and
// recordSchemas do not wait for it (a failure fails the next call, as the publisher's own
// queue does), and at most IN_FLIGHT (thread-channel.ts) batches are not yet queued there.
// After a failure, restart() makes both sides usable again (capture's outage retries).

import { Worker } from 'node:worker_threads';
import { errorFromParts, threadFailure, type ErrorParts } from '../core/errors.js';
import { PASS_ON_YOUNG_MB, threadLimits } from '../core/heap.js';
import type { StreamMessage } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { BinlogPosition } from '../core/position.js';
import type { SchemaRecord, TableSchema } from '../core/table-schema.js';
import type { KafkaPublisherOptions } from './kafka-publisher.js';
import { BATCH_MESSAGES, Credits } from './thread-channel.js';
import type { Publisher } from './transport.js';

/** Messages of one send batch, as parallel arrays (one structured clone each, no objects per message). */
export interface MessageColumns {
  keys: string[];
  values: string[];
  databases: string[];
  tables: Array<string | null>;
  partitionKeys: Array<string | undefined>;
  broadcasts: boolean[];
}

type Method = 'connect' | 'begin' | 'commit' | 'flush' | 'storedPosition' | 'recordSchemas' | 'storedSchemas' | 'restart' | 'close';

/** To the thread: a batch of messages, or a publisher call (answered when `id` is set). */
export type ToPublisherThread = { t: 'send'; messages: MessageColumns } | { t: 'call'; id?: number; method: Method; args: unknown[] };
/** From the thread: a batch is queued (`credit`), a call's outcome, or a failure of a call nobody waits for. */
export type FromPublisherThread = { t: 'credit' } | { t: 'reply'; id: number; result?: unknown; error?: ErrorParts } | { t: 'failed'; error: ErrorParts };

export type PublisherThreadOptions = Omit<KafkaPublisherOptions, 'log'> & {
  log: Logger;
  /** The thread's V8 heap cap in MB (null: node's own limit). */
  heapMb: number | null;
};

const emptyColumns = (): MessageColumns => ({ keys: [], values: [], databases: [], tables: [], partitionKeys: [], broadcasts: [] });

export class KafkaPublisherThread implements Publisher {
  private readonly thread: Worker;
  private pending = emptyColumns();
  private readonly credits = new Credits();
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;
  private exited = false;

  constructor(opts: PublisherThreadOptions) {
    const { log, heapMb, ...rest } = opts;
    this.thread = new Worker(new URL('./kafka-publisher-thread-entry.js', import.meta.url), {
      workerData: { opts: rest, logLevel: log.level },
      resourceLimits: threadLimits(heapMb, PASS_ON_YOUNG_MB),
    });
    this.thread.on('message', (m: FromPublisherThread) => this.onMessage(m));
    this.thread.on('error', (err) => this.fail(threadFailure(err, heapMb)));
    this.thread.on('exit', () => {
      this.exited = true;
      this.fail(new Error('the Kafka publisher thread ended'));
    });
  }

  connect(): Promise<void> {
    return this.call('connect') as Promise<void>;
  }

  async begin(): Promise<void> {
    this.post('begin');
  }

  async send(messages: StreamMessage[]): Promise<void> {
    this.throwIfFailed();
    const p = this.pending;
    for (const m of messages) {
      p.keys.push(m.key);
      p.values.push(m.value);
      p.databases.push(m.database);
      p.tables.push(m.table);
      p.partitionKeys.push(m.partitionKey);
      p.broadcasts.push(m.broadcast === true);
    }
    if (p.keys.length >= BATCH_MESSAGES) await this.sendPending();
  }

  async commit(resumeAfter: BinlogPosition): Promise<void> {
    await this.sendPending();
    this.post('commit', resumeAfter);
  }

  async recordSchemas(records: SchemaRecord[], at: BinlogPosition): Promise<void> {
    await this.sendPending();
    this.post('recordSchemas', records, at);
  }

  async flush(): Promise<void> {
    await this.sendPending();
    await this.call('flush');
  }

  async storedPosition(): Promise<BinlogPosition | null> {
    return (await this.call('storedPosition')) as BinlogPosition | null;
  }

  async storedSchemas(): Promise<TableSchema[] | null> {
    return (await this.call('storedSchemas')) as TableSchema[] | null;
  }

  /**
   * Drops the open transaction's messages and restarts the thread's publisher (Publisher.restart).
   * The thread takes calls in order: by its reply, every earlier batch and failure has been seen.
   */
  async restart(): Promise<void> {
    if (this.exited) this.throwIfFailed();
    this.pending = emptyColumns();
    await this.call('restart');
    this.failure = null;
  }

  /** Finishes sending the committed transactions (what was sent of an open one is dropped), then ends the thread. */
  async close(): Promise<void> {
    if (!this.exited) {
      this.pending = emptyColumns();
      await this.call('close', true).catch(() => undefined);
      await this.thread.terminate();
    }
  }

  private async sendPending(): Promise<void> {
    this.throwIfFailed();
    if (this.pending.keys.length === 0) return;
    await this.credits.take(() => this.failure !== null);
    if (this.failure) {
      this.credits.give();
      throw this.failure;
    }
    const messages = this.pending;
    this.pending = emptyColumns();
    this.thread.postMessage({ t: 'send', messages } satisfies ToPublisherThread);
  }

  /** A call whose outcome nobody waits for: a failure fails the next call. */
  private post(method: Method, ...args: unknown[]): void {
    this.throwIfFailed();
    this.thread.postMessage({ t: 'call', method, args } satisfies ToPublisherThread);
  }

  private call(method: Method, ...args: unknown[]): Promise<unknown> {
    if (method !== 'close' && method !== 'restart') this.throwIfFailed();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.thread.postMessage({ t: 'call', id, method, args } satisfies ToPublisherThread);
    });
  }

  private onMessage(m: FromPublisherThread): void {
    if (m.t === 'credit') {
      this.credits.give();
    } else if (m.t === 'reply') {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.error === undefined) w?.resolve(m.result);
      else {
        // The publisher behind it has failed: so does every later call, as on one thread.
        const err = errorFromParts(m.error);
        w?.reject(err);
        this.fail(err);
      }
    } else {
      this.fail(errorFromParts(m.error));
    }
  }

  /** The first failure fails the calls waiting; later ones (of calls posted before a restart) only while the thread is gone. */
  private fail(err: Error): void {
    const first = this.failure === null;
    this.failure ??= err;
    if (first || this.exited) {
      for (const w of this.waiting.values()) w.reject(this.failure);
      this.waiting.clear();
    }
    this.credits.wake();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}
