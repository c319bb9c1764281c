// The embedded transport across threads: `my2pg run` without Kafka decodes the binlog on a
// capture thread (src/cli/capture-thread-entry.ts) while apply works on the CLI's thread, so the
// two use two cores instead of sharing one. Messages cross in batches, one structured clone each,
// and at most IN_FLIGHT batches are unacknowledged (backpressure on capture). Durability is the
// in-process transport's: apply stores each message's cursor in the replica with the data.

import type { MessagePort } from 'node:worker_threads';
import type { ErrorParts } from '../core/errors.js';
import type { StreamMessage } from '../core/events.js';
import type { BinlogPosition, EventCursor } from '../core/position.js';
import type { TableSchema } from '../core/table-schema.js';
import type { Publisher } from './transport.js';

/** Capture → apply: a batch of messages with their cursors. */
export interface ThreadBatch {
  t: 'batch';
  values: string[];
  cursors: EventCursor[];
}

/** Capture → apply, last: how capture ended (an error's parts, to be rebuilt). */
export interface CaptureThreadEnd {
  t: 'ended';
  error?: ErrorParts;
}

/** Apply → capture: a batch was taken (`credit`), or stop reading. */
export type ToCaptureThread = { t: 'credit' } | { t: 'stop' };

/** Messages per batch posted to another thread, and batches posted and not yet taken at most. */
export const BATCH_MESSAGES = 1000;
export const IN_FLIGHT = 4;

/** The batches a thread may post before the other side takes them (IN_FLIGHT): backpressure. */
export class Credits {
  private used = 0;
  private waiter: (() => void) | null = null;

  /** Waits for a credit, or until `stop()` holds (then the caller has failed anyway). */
  async take(stop: () => boolean = () => false): Promise<void> {
    while (this.used >= IN_FLIGHT && !stop()) await new Promise<void>((r) => (this.waiter = r));
    this.used++;
  }

  /** A batch was taken. */
  give(): void {
    this.used--;
    this.wake();
  }

  /** Lets a waiting take() look at its stop condition again. */
  wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }
}

/** The capture thread's publisher: posts batches to the CLI's thread. */
export class ThreadPublisher implements Publisher {
  private values: string[] = [];
  private cursors: EventCursor[] = [];
  private readonly credits = new Credits();

  constructor(
    private readonly port: MessagePort,
    /** Reads the cursor apply committed last, and the definitions stored with it (stages.ts, embeddedStore). */
    private readonly stored: { position: () => Promise<BinlogPosition | null>; schemas: () => Promise<TableSchema[] | null> },
  ) {}

  /** A batch was taken by apply's side. */
  credit(): void {
    this.credits.give();
  }

  async begin(): Promise<void> {}

  async send(messages: StreamMessage[]): Promise<void> {
    for (const m of messages) {
      if (!m.cursor) throw new Error('the embedded transport needs a cursor on every message');
      this.values.push(m.value);
      this.cursors.push(m.cursor);
    }
    if (this.values.length >= BATCH_MESSAGES) await this.post();
  }

  /** Hands over what is gathered: apply makes positions durable with the data. */
  async commit(_resumeAfter: BinlogPosition): Promise<void> {
    await this.post();
  }

  storedPosition(): Promise<BinlogPosition | null> {
    return this.stored.position();
  }

  /** Nothing to do: apply stores the definitions the DDL events carry, with the cursor. */
  async recordSchemas(): Promise<void> {}

  storedSchemas(): Promise<TableSchema[] | null> {
    return this.stored.schemas();
  }

  /** What was not handed over is read again from the stored cursor on the next start. */
  async close(): Promise<void> {
    this.values = [];
    this.cursors = [];
  }

  private async post(): Promise<void> {
    if (this.values.length === 0) return;
    await this.credits.take();
    const batch: ThreadBatch = { t: 'batch', values: this.values, cursors: this.cursors };
    this.values = [];
    this.cursors = [];
    this.port.postMessage(batch);
  }
}
