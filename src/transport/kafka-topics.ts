// Topics my2pg uses on Kafka, created by whichever stage starts first.

import type { Kafka } from './kafkajs.js';
import { My2pgError } from '../core/errors.js';

const POSITIONS_SUFFIX = '.my2pg-positions';
const PLACEHOLDER = /%\{(database|table)\}/g;

/** Capture's resume positions for `topic` (a template's placeholders become `_`): compacted, keyed by client id. */
export function positionsTopic(topic: string): string {
  return `${topic.replace(PLACEHOLDER, '_')}${POSITIONS_SUFFIX}`;
}

/** Where apply publishes messages that are not valid events. */
export function deadLetterTopic(topic: string): string {
  return `${topic.replace(PLACEHOLDER, '_')}.my2pg-dead-letters`;
}

/** True for topic templates such as `shop_%{table}` or `%{database}.%{table}`. */
export function isTemplate(topic: string): boolean {
  return /%\{(database|table)\}/.test(topic);
}

/**
 * The topic of an event (Maxwell's interpolation). Kafka allows only [a-zA-Z0-9._-] in names:
 * other characters of a database or table name become `_`.
 */
export function topicFor(template: string, database: string, table: string): string {
  return template.replace(/%\{database\}/g, safeName(database)).replace(/%\{table\}/g, safeName(table));
}

const safeName = (s: string) => s.replace(/[^a-zA-Z0-9._-]/g, '_');

/** Matches the topics of one database's tables under a template. */
export function databaseTopicPattern(template: string, database: string): RegExp {
  return topicPattern(template.replace(/%\{database\}/g, safeName(database)));
}

/** Matches the topics a template produces (never the positions topic). */
export function topicPattern(template: string): RegExp {
  const parts = template.split(PLACEHOLDER).map((p, i) => (i % 2 === 1 ? '[a-zA-Z0-9._-]+' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^(?!.*\\.my2pg-(positions|dead-letters)$)${parts.join('')}$`);
}

export interface WantedTopic {
  topic: string;
  partitions: number;
  /** A compacted topic (capture's positions). */
  compacted?: boolean;
}

/** Creates the topics that do not exist yet. */
export async function ensureTopics(kafka: Kafka, topics: WantedTopic[]): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new My2pgError('UNREACHABLE', `cannot reach Kafka: ${(err as Error).message}`, { retriable: true, cause: err });
  }
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = topics
      .filter((t) => !existing.has(t.topic))
      .map((t) => ({
        topic: t.topic,
        numPartitions: t.partitions,
        configEntries: t.compacted ? [{ name: 'cleanup.policy', value: 'compact' }, { name: 'segment.ms', value: '3600000' }] : [],
      }));
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

/** Partition counts of existing topics (those given, or every topic when none is). */
export async function topicPartitions(kafka: Kafka, topics?: string[]): Promise<Map<string, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata(topics ? { topics } : undefined);
    return new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
  } finally {
    await admin.disconnect();
  }
}

/** Per-record bytes of a record batch besides key and value (record header, varints), roughly. */
export const RECORD_OVERHEAD = 32;
/** A record batch's own header: what max.message.bytes allows beyond its records. */
export const BATCH_OVERHEAD = 61;
/** Kafka's default max.message.bytes, assumed when a topic's cannot be read. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/** kafkajs' ConfigResourceTypes.TOPIC. */
const TOPIC_RESOURCE = 2;

/**
 * Each topic's max.message.bytes, the largest record batch it accepts (the broker's
 * message.max.bytes unless the topic sets its own). A topic whose limit cannot be read (the
 * user may not describe configs) gets Kafka's default, and `onUnknown` is told why.
 */
export async function topicMaxMessageBytes(kafka: Kafka, topics: string[], onUnknown: (topic: string, why: string) => void): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (topics.length === 0) return out;
  let why = 'no max.message.bytes in the topic configuration';
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: TOPIC_RESOURCE, name, configNames: ['max.message.bytes'] })),
    });
    for (const r of resources) {
      const value = Number(r.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue);
      if (value > 0) out.set(r.resourceName, value);
    }
  } catch (err) {
    why = (err as Error).message;
  } finally {
    await admin.disconnect();
  }
  for (const t of topics) {
    if (out.has(t)) continue;
    onUnknown(t, why);
    out.set(t, DEFAULT_MAX_MESSAGE_BYTES);
  }
  return out;
}
