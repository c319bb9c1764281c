// The Kafka subscriber of apply: a template subscription that restarts its consumer for a new
// topic delivers every message exactly once, whatever it had queued from the consumer before.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { KafkaSubscriber } from '../../src/transport/kafka-subscriber.js';
import { Kafka, logLevel } from '../../src/transport/kafkajs.js';
import type { DeliveredMessage } from '../../src/transport/transport.js';
import { kafkaBrokers, randomSuffix, sleep, waitForState } from '../harness/servers.js';

test('a new topic of the template while messages are queued: nothing delivered twice, nothing lost', { timeout: 120_000 }, async () => {
  const prefix = `sub${randomSuffix()}`;
  const brokers = kafkaBrokers().split(',');
  const kafka = new Kafka({ clientId: 'test', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const first = `${prefix}.shop_orders`;
  await admin.createTopics({ topics: [{ topic: first, numPartitions: 2 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: first, messages: Array.from({ length: 300 }, (_, i) => ({ value: `a${i}`, partition: i % 2 })) });

  const sub = new KafkaSubscriber({ brokers, topic: `${prefix}.%{database}_%{table}`, group: `g_${prefix}`, log: silentLogger, topicRefreshMs: 500 });
  await sub.start(new Map());
  // Apply takes small batches slowly (300 messages in about 6 s) and commits each one's positions, until the subscriber is
  // stopped ([] then).
  const got: DeliveredMessage[] = [];
  const taking = (async () => {
    for (let b = await sub.nextBatch(10, 50); b.length > 0; b = await sub.nextBatch(10, 50)) {
      got.push(...b);
      await sleep(200);
      await sub.committed(new Map(b.map((m) => [m.part, sub.positionAfter(m)])));
    }
  })();
  // … while most messages of the first topic wait in the subscriber's queue (a few batches taken) …
  await waitForState('a few batches taken', async () => got.length, (n) => n >= 50);
  // … a new table's topic appears.
  const second = `${prefix}.shop_customers`;
  await admin.createTopics({ topics: [{ topic: second, numPartitions: 1 }], waitForLeaders: true });
  await producer.send({ topic: second, messages: Array.from({ length: 20 }, (_, i) => ({ value: `b${i}` })) });
  // Every message delivered (a timeout is reported by the counts below) …
  const distinct = () => new Set(got.map((m) => `${m.part}@${m.position}`)).size;
  await waitForState('every message delivered', async () => distinct(), (n) => n >= 320, { timeoutMs: 30_000 }).catch(() => undefined);
  // … and 3 s more, in which a message delivered twice would show up (nothing shows that the
  // subscriber is done: its queue and its consumer's fetch position are its own).
  await sleep(3000);
  await sub.stop();
  await taking;
  await producer.disconnect();
  await admin.deleteTopics({ topics: [first, second] }).catch(() => undefined);
  await admin.disconnect();

  const ids = got.map((m) => `${m.part}@${m.position}`);
  const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
  assert.deepEqual(twice.slice(0, 5), [], `${twice.length} messages delivered twice`);
  assert.equal(got.length, 320);
  // Each partition in offset order.
  for (const part of new Set(got.map((m) => m.part))) {
    const offsets = got.filter((m) => m.part === part).map((m) => Number(m.position));
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), `${part} in order`);
  }
});
