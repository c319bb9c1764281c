// src/transport/kafkajs.ts: kafkajs' producer groups by partition with the linear replacement,
// which gives exactly what kafkajs' own function gives.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { GROUPING_MODULE, groupMessagesPerPartition, Kafka } from '../../src/transport/kafkajs.js';

test('kafkajs is loaded with the linear grouping', () => {
  assert.equal(typeof Kafka, 'function');
  assert.equal(createRequire(import.meta.url).cache[GROUPING_MODULE]?.exports, groupMessagesPerPartition);
});

test('the linear grouping equals kafkajs own on the same messages', () => {
  const original = { exports: {} as typeof groupMessagesPerPartition };
  new Function('module', 'exports', readFileSync(GROUPING_MODULE, 'utf8'))(original, original.exports);
  const partitionMetadata = Array.from({ length: 7 }, (_, i) => ({ partitionId: i }));
  const messages = Array.from({ length: 3000 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, partition: (i * 7919) % 7 }));
  const partitioner = ({ message }: { message: unknown }) => (message as { partition: number }).partition;
  const args = { topic: 't', partitionMetadata, messages, partitioner };
  assert.deepEqual(groupMessagesPerPartition(args), original.exports(args));
  assert.deepEqual(groupMessagesPerPartition({ ...args, partitionMetadata: [] }), original.exports({ ...args, partitionMetadata: [] }));
});
