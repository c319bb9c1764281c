// Topics my2pg uses on Kafka, created by whichever stage starts first.

import type { Kafka } from 'kafkajs';
import { My2pgError } from '../core/errors.js';

/** Capture's resume positions for `topic`: compacted, keyed by client id. */
export function positionsTopic(topic: string): string {
  return `${topic}.my2pg-positions`;
}

/** Creates the data topic and the compacted positions topic when missing. */
export async function ensureTopics(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new My2pgError('UNREACHABLE', `cannot reach Kafka: ${(err as Error).message}`, { retriable: true, cause: err });
  }
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = [];
    if (!existing.has(topic)) wanted.push({ topic, numPartitions: partitions });
    if (!existing.has(positionsTopic(topic))) {
      wanted.push({
        topic: positionsTopic(topic),
        numPartitions: 1,
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'segment.ms', value: '3600000' },
        ],
      });
    }
    if (wanted.length > 0) {
      await admin.createTopics({ topics: wanted, waitForLeaders: true }).catch((err: Error & { type?: string; errors?: Array<{ type?: string }> }) => {
        // Another stage created them at the same moment.
        const types = [err.type, ...(err.errors ?? []).map((e) => e.type)];
        if (!types.includes('TOPIC_ALREADY_EXISTS')) throw err;
      });
    }
  } finally {
    await admin.disconnect();
  }
}

