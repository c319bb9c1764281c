// The embedded transport of `my2pg run` without Kafka: a bounded in-memory queue between
// capture and apply. Durability comes from apply, which stores each message's binlog cursor in
// the replica with the data; capture resumes from that cursor.

import type { StreamMessage } from '../core/events.js';
import type { TableSchema } from '../core/table-schema.js';
import { compareCursors, type BinlogPosition, type EventCursor } from '../core/position.js';
import { BoundedQueue } from './bounded-queue.js';
import type { DeliveredMessage, Publisher, Subscriber } from './transport.js';

/** Name of the checkpoint stream that holds the embedded binlog cursor. */
export const EMBEDDED_STREAM = 'binlog';

/** Where capture resumes after the stored cursor (its text, null before the first commit). */
export function resumePosition(stored: string | null): BinlogPosition | null {
  if (stored === null) return null;
  const c = JSON.parse(stored) as EventCursor;
  return c.commit ? c.next : c.tx;
}

export class InProcessTransport implements Publisher, Subscriber {
  readonly stream = EMBEDDED_STREAM;
  private readonly queue: BoundedQueue<DeliveredMessage>;
  /** The stored cursor alreadyApplied compares with, parsed once. */
  private storedText: string | null = null;
  private storedCursor: EventCursor | null = null;

  constructor(capacity: number) {
    this.queue = new BoundedQueue(capacity);
  }

  // Publisher side

  async begin(): Promise<void> {}

  async send(messages: StreamMessage[]): Promise<void> {
    await this.queue.pushAll(
      messages.map((m) => {
        if (!m.cursor) throw new Error('in-process transport needs a cursor on every message');
        return new CursorMessage(m.value, m.cursor);
      }),
    );
  }

  /** Messages from a capture thread (src/transport/thread-channel.ts); dropped once stopped. */
  async deliver(values: string[], cursors: EventCursor[]): Promise<void> {
    await this.queue.pushAll(values.map((value, i) => new CursorMessage(value, cursors[i])));
  }

  /** Nothing to do: apply makes positions durable with the data. */
  async commit(_resumeAfter: BinlogPosition): Promise<void> {}

  /**
   * Nothing stored here: a capture publishing on this thread (the tests) starts afresh. `my2pg run`
   * reads the cursor apply stored on its capture thread (stages.ts, embeddedStore).
   */
  async storedPosition(): Promise<BinlogPosition | null> {
    return null;
  }

  /** Nothing to do: apply stores the definitions the DDL events carry, with the cursor. */
  async recordSchemas(): Promise<void> {}

  async storedSchemas(): Promise<TableSchema[] | null> {
    return null;
  }

  async close(): Promise<void> {
    this.queue.close();
  }

  // Subscriber side

  /** Capture already starts at the stored cursor; nothing to seek here. */
  async start(): Promise<void> {}

  nextBatch(maxRows: number, maxWaitMs: number): Promise<DeliveredMessage[]> {
    return this.queue.take(maxRows, maxWaitMs);
  }

  alreadyApplied(msg: DeliveredMessage, stored: string): boolean {
    if (stored !== this.storedText) {
      this.storedText = stored;
      this.storedCursor = JSON.parse(stored) as EventCursor;
    }
    return compareCursors(cursorOf(msg), this.storedCursor!) <= 0;
  }

  follows(msg: DeliveredMessage, prev: DeliveredMessage): boolean {
    return compareCursors(cursorOf(msg), cursorOf(prev)) > 0;
  }

  positionAfter(msg: DeliveredMessage): string {
    return msg.position;
  }

  async committed(): Promise<void> {}

  async stop(): Promise<void> {
    this.queue.close();
  }
}

function cursorOf(msg: DeliveredMessage): EventCursor {
  return msg instanceof CursorMessage ? msg.cursor : (JSON.parse(msg.position) as EventCursor);
}

/** A queued message with its cursor as an object; its text is made only when apply stores it. */
class CursorMessage implements DeliveredMessage {
  readonly part = '0';
  private text: string | null = null;
  constructor(
    readonly value: string,
    readonly cursor: EventCursor,
  ) {}

  get position(): string {
    return (this.text ??= JSON.stringify(this.cursor));
  }
}
