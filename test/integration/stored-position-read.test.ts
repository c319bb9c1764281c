// Capture's stored position and table definitions are read to the end of the positions topic,
// however slow the broker: a slow broker gives the stored values, a broker unreachable past the
// deadline a clear retriable error, never "nothing stored"; aborted transactions and transaction
// markers between the records change nothing.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { My2pgError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import type { BinlogPosition } from '../../src/core/position.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { Kafka, logLevel } from '../../src/transport/kafkajs.js';
import { KafkaPublisher, type KafkaPublisherOptions } from '../../src/transport/kafka-publisher.js';
import { positionsTopic } from '../../src/transport/kafka-topics.js';
import { kafkaBrokers, randomSuffix } from '../harness/servers.js';
import { kafkaProxy, type KafkaProxy } from '../harness/tcp-proxy.js';

const column = { nullable: false, default: null, unsigned: false, charset: null, length: null, precision: null, scale: null, fsp: null, values: null };
const tableDef = (table: string, extra: string): TableSchema => ({
  database: 'db',
  table,
  charset: 'utf8mb4',
  columns: [
    { ...column, name: 'id', type: 'bigint', columnType: 'bigint(20)' },
    { ...column, name: extra, type: 'varchar', columnType: 'varchar(10)', nullable: true, charset: 'utf8mb4', length: 10 },
  ],
  primaryKey: ['id'],
});

/** Kafka's API key of Fetch requests. */
const FETCH = 1;

let proxy: KafkaProxy;
before(async () => {
  proxy = await kafkaProxy(kafkaBrokers().split(',')[0]);
});
after(() => proxy.close());

const optionsFor = (topic: string, extra: Partial<KafkaPublisherOptions> = {}): KafkaPublisherOptions => ({
  brokers: kafkaBrokers().split(','),
  topic,
  partitions: 1,
  clientId: 'capture',
  log: silentLogger,
  ...extra,
});

/** A topic whose positions topic holds a position and the definition of db.t for client "capture". */
async function stored(): Promise<{ topic: string; position: BinlogPosition; def: TableSchema }> {
  const topic = `posread_${randomSuffix()}`;
  const position = { file: 'bin.000003', pos: 1234, gtid: '0-1-77' };
  const def = tableDef('t', 'name');
  const publisher = new KafkaPublisher(optionsFor(topic));
  await publisher.connect();
  await publisher.begin();
  await publisher.recordSchemas([{ database: 'db', table: 't', def }], position);
  await publisher.commit(position);
  await publisher.close();
  return { topic, position, def };
}

test('a slow broker: the stored position and definitions are still read', { timeout: 180_000 }, async () => {
  const { topic, position, def } = await stored();
  proxy.delayMs = 800;
  try {
    const reader = new KafkaPublisher(optionsFor(topic, { brokers: [proxy.brokers] }));
    assert.deepEqual(await reader.storedPosition(), position);
    assert.deepEqual(await reader.storedSchemas(), [def]);
    await reader.close();
  } finally {
    proxy.delayMs = 0;
  }
});

test('a broker that stalls while the log is read: the read waits and gives the stored position', { timeout: 180_000 }, async () => {
  const { topic, position } = await stored();
  const reader = new KafkaPublisher(optionsFor(topic, { brokers: [proxy.brokers] }));
  proxy.pauseAt = FETCH;
  const resumed = setTimeout(() => proxy.resume(), 10_000);
  try {
    assert.deepEqual(await reader.storedPosition(), position);
  } finally {
    clearTimeout(resumed);
    proxy.pauseAt = null;
    proxy.resume();
    await reader.close();
  }
});

test('a broker unreachable past the deadline: a clear retriable error, not "nothing stored"', { timeout: 180_000 }, async () => {
  const { topic } = await stored();
  const reader = new KafkaPublisher(optionsFor(topic, { brokers: [proxy.brokers], readTimeoutMs: 3000 }));
  proxy.pause();
  try {
    const started = Date.now();
    await assert.rejects(reader.storedPosition(), (err: unknown) => {
      assert.ok(err instanceof My2pgError, `not a My2pgError: ${String(err)}`);
      assert.equal(err.code, 'UNREACHABLE');
      assert.equal(err.retriable, true);
      assert.match(err.message, new RegExp(`${positionsTopic(topic)}.*within 3 s`));
      return true;
    });
    assert.ok(Date.now() - started < 10_000, `gave up after ${Date.now() - started} ms, not at the deadline`);
  } finally {
    proxy.resume();
    await reader.close();
  }
});

test('aborted transactions, markers and an open transaction between the records: the last committed values', { timeout: 180_000 }, async () => {
  const topic = `posread_tx_${randomSuffix()}`;
  const kafka = new Kafka({ clientId: 'posread-test', brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING });
  const publisher = new KafkaPublisher(optionsFor(topic));
  await publisher.connect();
  // A second transactional writer of the same keys, whose transactions are all aborted.
  const other = kafka.producer({ transactionalId: `posread-other-${randomSuffix()}`, idempotent: true, maxInFlightRequests: 1 });
  await other.connect();
  const positions = positionsTopic(topic);
  const abortedWrite = async (i: number) => {
    const tx = await other.transaction();
    await tx.send({
      topic: positions,
      messages: [
        { key: 'capture', value: JSON.stringify({ file: 'aborted', pos: i }), partition: 0 },
        { key: 'capture/schema', value: JSON.stringify({ since: `aborted:${i}` }), partition: 0 },
        { key: 'capture/schema/["db","gone"]', value: 'not json', partition: 0 },
      ],
    });
    await tx.abort();
  };
  let last: BinlogPosition = { file: 'none', pos: 0 };
  for (let i = 0; i < 60; i++) {
    last = { file: 'bin.000001', pos: 4 + i, gtid: `0-1-${i}` };
    await publisher.begin();
    if (i === 20) await publisher.recordSchemas([{ database: 'db', table: 'a', def: tableDef('a', 'x') }, { database: 'db', table: 'gone', def: tableDef('gone', 'y') }], last);
    if (i === 40) await publisher.recordSchemas([{ database: 'db', table: 'gone', def: null }, { database: 'db', table: 'b', def: tableDef('b', 'z') }], last);
    await publisher.commit(last);
    await publisher.flush();
    if (i % 3 === 0) await abortedWrite(i);
  }
  // The publisher's own last transaction is aborted too: sent, then given up at close.
  await publisher.begin();
  await publisher.recordSchemas([{ database: 'db', table: 'a', def: null }], { file: 'bin.000001', pos: 999 });
  await publisher.flush();
  await publisher.close();
  await abortedWrite(1000);
  // And one transaction stays open while the position is read: invisible to read-committed.
  const open = await other.transaction();
  await open.send({ topic: positions, messages: [{ key: 'capture', value: JSON.stringify({ file: 'open', pos: 1 }), partition: 0 }] });
  try {
    const reader = new KafkaPublisher(optionsFor(topic));
    assert.deepEqual(await reader.storedPosition(), last);
    const schemas = await reader.storedSchemas();
    assert.deepEqual(schemas?.sort((x, y) => x.table.localeCompare(y.table)), [tableDef('a', 'x'), tableDef('b', 'z')]);
    await reader.close();
  } finally {
    await open.abort();
    await other.disconnect();
  }
});
