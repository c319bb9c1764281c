// Capture's stored position survives other captures writing many positions to the shared
// positions topic afterwards (a stopped capture must never lose its place).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kafka, logLevel } from '../../src/transport/kafkajs.js';
import { silentLogger } from '../../src/core/logger.js';
import { KafkaPublisher } from '../../src/transport/kafka-publisher.js';
import { positionsTopic } from '../../src/transport/kafka-topics.js';
import { kafkaBrokers, randomSuffix } from '../harness/servers.js';

test('the last position of a client is found behind many records of other clients', { timeout: 120_000 }, async () => {
  const topic = `pos_${randomSuffix()}`;
  const opts = { brokers: kafkaBrokers().split(','), topic, partitions: 1, clientId: 'quiet', log: silentLogger };
  const quiet = new KafkaPublisher(opts);
  await quiet.connect();
  await quiet.begin();
  await quiet.commit({ file: 'bin.000007', pos: 4711, gtid: '0-1-9' });
  await quiet.close();

  // Another capture on the same topic keeps committing positions for a long time.
  const producer = new Kafka({ clientId: 'busy', brokers: opts.brokers, logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  for (let i = 0; i < 12_000; i += 1000) {
    await producer.send({
      topic: positionsTopic(topic),
      messages: Array.from({ length: 1000 }, (_, k) => ({ key: 'busy', value: JSON.stringify({ file: 'x', pos: i + k }), partition: 0 })),
    });
  }
  await producer.disconnect();

  const again = new KafkaPublisher(opts);
  assert.deepEqual(await again.storedPosition(), { file: 'bin.000007', pos: 4711, gtid: '0-1-9' });
  await again.close();
});
