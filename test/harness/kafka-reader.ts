// Reads a topic's messages for tests, with a consumer group of its own: every committed message
// from the beginning up to the topic's end offsets (read-committed), or a live view of what is
// written, committed or not, to watch a capture in the middle of publishing.

import { Kafka, logLevel } from '../../src/transport/kafkajs.js';
import type { BinlogPosition } from '../../src/core/position.js';
import { kafkaBrokers, randomSuffix, waitForState } from './servers.js';
import { atOrPast } from './waits.js';

export interface TopicMessage {
  key: string;
  value: string;
  partition: number;
}

export interface TopicReader {
  /** What it has read so far, in the order it came. */
  readonly messages: TopicMessage[];
  /** Waits until `done` holds for the messages read (checked every `everyMs`); fails with how many it had. */
  until(what: string, done: (messages: TopicMessage[]) => boolean, timeoutMs?: number, everyMs?: number): Promise<void>;
  /** Waits until it has read every partition up to its end offset as the broker gives it now (read-committed only). */
  toEnd(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A consumer of the topic, subscribed and fetching when this resolves. Read-committed from the
 * beginning by default; `readUncommitted` reads from the end what producers write from now on,
 * including their open and aborted transactions.
 */
export async function openTopicReader(topic: string, { readUncommitted = false } = {}): Promise<TopicReader> {
  const kafka = new Kafka({ clientId: 'my2pg-test-reader', brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `test-reader-${randomSuffix()}`, readUncommitted, maxWaitTimeInMs: 100 });
  const messages: TopicMessage[] = [];
  /** Per partition, the offset after the last record fetched (markers and aborted records included). */
  const next = new Map<number, bigint>();
  let fetched = false;
  consumer.on(consumer.events.FETCH, () => void (fetched = true));
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === topic) next.set(payload.partition, BigInt(payload.lastOffset) + 1n);
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: !readUncommitted });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        messages.push({ key: message.key?.toString('utf8') ?? '', value: message.value?.toString('utf8') ?? '', partition });
      },
    });
    await waitForState(`the reader of ${topic} to fetch`, async () => fetched, (ok) => ok, { timeoutMs: 60_000, everyMs: 20 });
  } catch (err) {
    await consumer.disconnect();
    throw err;
  }
  const admin = kafka.admin();
  return {
    messages,
    until: async (what, done, timeoutMs = 60_000, everyMs = 50) => {
      await waitForState(what, async () => messages, done, { timeoutMs, everyMs, show: (ms) => `${ms.length} messages on ${topic}${ms.length ? `, the last: ${ms[ms.length - 1].value.slice(0, 300)}` : ''}` });
    },
    toEnd: async (timeoutMs = 60_000) => {
      if (readUncommitted) throw new Error('toEnd() reads up to the last stable offsets: a read-committed reader only');
      await admin.connect();
      // The admin client asks for the read-committed end: the last stable offset of each partition.
      const ends = (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, end: BigInt(p.offset) }));
      await admin.disconnect();
      await waitForState(
        `the reader of ${topic} to reach its end offsets`,
        async () => ends.map(({ partition, end }) => ({ partition, end, at: next.get(partition) ?? 0n })),
        (ps) => ps.every((p) => p.at >= p.end),
        { timeoutMs, everyMs: 50, show: (ps) => ps.map((p) => `partition ${p.partition} at ${p.at} of ${p.end}`).join(', ') },
      );
    },
    close: () => consumer.disconnect(),
  };
}

/** The committed messages of the topic once `until` holds for their values, up to the end offsets the topic has then. */
export async function readTopicMessages(topic: string, until: (values: string[]) => boolean, timeoutMs = 60_000): Promise<TopicMessage[]> {
  const reader = await openTopicReader(topic);
  try {
    await reader.until(`messages on ${topic}`, (ms) => until(ms.map((m) => m.value)), timeoutMs, 100);
    await reader.toEnd(timeoutMs);
    return [...reader.messages];
  } finally {
    await reader.close();
  }
}

export async function readTopic(topic: string, until: (values: string[]) => boolean, timeoutMs = 60_000): Promise<string[]> {
  return (await readTopicMessages(topic, until, timeoutMs)).map((m) => m.value);
}

/**
 * Whether a capture heartbeat at or past `p` comes after the last change event of the values:
 * capture had published everything the binlog holds up to there (heartbeats come when the
 * binlog is idle), and the heartbeats of a capture that ran before do not count.
 */
export function publishedThrough(values: string[], p: BinlogPosition): boolean {
  for (let i = values.length - 1; i >= 0; i--) {
    if (!values[i].includes('"type":"heartbeat"')) return false;
    const { position } = JSON.parse(values[i]) as { position?: string };
    if (typeof position === 'string' && atOrPast(position, p)) return true;
  }
  return false;
}
