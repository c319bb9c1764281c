// The Kafka publisher on its own thread keeps KafkaPublisher's contract: transactions arrive in
// order with their positions and table definitions, and a failure in the thread fails the next
// call instead of being lost.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import type { StreamMessage } from '../../src/core/events.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { KafkaPublisherThread } from '../../src/transport/kafka-publisher-thread.js';
import { readTopicMessages } from '../harness/kafka-reader.js';
import { kafkaBrokers, randomSuffix } from '../harness/servers.js';

const message = (i: number, value = `v${i}`): StreamMessage => ({ key: `k${i}`, value, database: 'db', table: i % 2 ? 't' : null, partitionKey: `p${i % 3}` });
const publisherFor = (topic: string) =>
  new KafkaPublisherThread({ brokers: kafkaBrokers().split(','), topic, partitions: 3, clientId: `thread-${randomSuffix()}`, log: silentLogger, heapMb: 64 });

test('messages, positions and definitions go through the thread in order', { timeout: 120_000 }, async () => {
  const topic = `thread_${randomSuffix()}`;
  const publisher = publisherFor(topic);
  after(() => publisher.close());
  await publisher.connect();
  assert.equal(await publisher.storedPosition(), null);
  const column = { nullable: false, default: null, unsigned: false, charset: null, length: null, precision: null, scale: null, fsp: null, values: null };
  const def: TableSchema = {
    database: 'db',
    table: 't',
    charset: 'utf8mb4',
    columns: [
      { ...column, name: 'id', type: 'bigint', columnType: 'bigint(20) unsigned', unsigned: true },
      { ...column, name: 'e', type: 'enum', columnType: "enum('a','b')", nullable: true, charset: 'utf8mb4', values: ['a', 'b'] },
    ],
    primaryKey: ['id'],
  };
  let n = 0;
  for (let tx = 0; tx < 30; tx++) {
    await publisher.begin();
    // Sends of every size, so that batches cross the thread both full and partial.
    for (let s = 0; s < 3; s++) await publisher.send(Array.from({ length: 1 + ((tx * 7 + s * 113) % 1500) }, () => message(n++)));
    if (tx === 10) await publisher.recordSchemas([{ database: 'db', table: 't', def }], { file: 'bin.000001', pos: 4 + tx });
    await publisher.commit({ file: 'bin.000001', pos: 4 + tx });
  }
  await publisher.flush();
  assert.deepEqual(await publisher.storedPosition(), { file: 'bin.000001', pos: 33 });
  // Stored as the DDL events' table image, which (as Maxwell's) has no charset for ENUM/SET columns.
  assert.deepEqual(await publisher.storedSchemas(), [{ ...def, columns: def.columns.map((c) => (c.type === 'enum' ? { ...c, charset: null } : c)) }]);
  await publisher.close();

  const got = await readTopicMessages(topic, (v) => v.length >= n);
  assert.equal(got.length, n);
  // Per partition, in the order sent.
  for (let p = 0; p < 3; p++) {
    const order = got.filter((m) => m.partition === p).map((m) => Number(m.key.slice(1)));
    assert.deepEqual(order, [...order].sort((a, b) => a - b), `partition ${p} out of order`);
  }
});

test('a failure in the thread fails the next call', { timeout: 120_000 }, async () => {
  const publisher = publisherFor(`thread_fail_${randomSuffix()}`);
  try {
    await publisher.connect();
    await publisher.begin();
    // Over the topic's max.message.bytes: refused before it is sent.
    await publisher.send([message(1, 'x'.repeat(2 * 1024 * 1024))]);
    const tooLarge = /more than the \d+ bytes Kafka topic \S+ accepts \(max\.message\.bytes\)/;
    await publisher.commit({ file: 'bin.000001', pos: 4 });
    await assert.rejects(publisher.flush(), tooLarge);
    await assert.rejects(publisher.begin(), tooLarge);
    await assert.rejects(publisher.send([message(2)]), tooLarge);
  } finally {
    await publisher.close();
  }
});
