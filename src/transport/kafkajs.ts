// kafkajs, as every part of my2pg loads it: with kafkajs' producer grouping messages by
// partition in linear time. kafkajs 2.2.4 copies the partition's array for every message
// (`[...current, message]`), quadratic in the messages of one request: with requests of a few
// thousand Maxwell events it was a fifth of capture's CPU, most of it garbage. The same fix is
// proposed upstream (tulios/kafkajs#1576, not merged). The replacement goes into the module cache
// before kafkajs loads, so import kafkajs from here, never directly.

import { createRequire } from 'node:module';
import type * as KafkaJs from 'kafkajs';

type Grouping = (args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;
}) => Record<number, unknown[]>;

/** The same result as kafkajs' groupMessagesPerPartition (partition → its messages in order), in O(n). */
export const groupMessagesPerPartition: Grouping = ({ topic, partitionMetadata, messages, partitioner }) => {
  const out: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return out;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (out[partition] ??= []).push(message);
  }
  return out;
};

const require = createRequire(import.meta.url);
export const GROUPING_MODULE = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
require.cache[GROUPING_MODULE] = { id: GROUPING_MODULE, filename: GROUPING_MODULE, loaded: true, exports: groupMessagesPerPartition } as NodeJS.Module;

const kafkajs = require('kafkajs') as typeof KafkaJs;
export const Kafka = kafkajs.Kafka;
export type Kafka = KafkaJs.Kafka;
export const logLevel = kafkajs.logLevel;
export type { Consumer, Producer, Transaction } from 'kafkajs';
