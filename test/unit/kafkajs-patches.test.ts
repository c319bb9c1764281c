// src/transport/kafkajs.ts: kafkajs loads with the replacements, and they give exactly what
// kafkajs' own functions give: the same groups, the same record bytes.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import {
  crc32C,
  CRC_MODULE,
  DECODE_MESSAGES_MODULE,
  decodeMessages,
  encodeRecord,
  GROUPING_MODULE,
  groupMessagesPerPartition,
  Kafka,
  kafkajsCrc32C,
  kafkajsDecodeMessages,
  kafkajsProduceV3,
  kafkajsRecord,
  PRODUCE_V3_MODULE,
  produceRequestV3,
  RECORD_MODULE,
} from '../../src/transport/kafkajs.js';

test('kafkajs is loaded with the replacements', () => {
  assert.equal(typeof Kafka, 'function');
  const cache = createRequire(import.meta.url).cache;
  assert.equal(cache[GROUPING_MODULE]?.exports, groupMessagesPerPartition);
  assert.equal(cache[RECORD_MODULE]?.exports, encodeRecord);
  assert.equal(cache[CRC_MODULE]?.exports, crc32C);
  assert.equal(cache[DECODE_MESSAGES_MODULE]?.exports, decodeMessages);
});

test("a fetched record set decodes to kafkajs' records, and nextOffset is the end of its last whole batch", async () => {
  const require = createRequire(import.meta.url);
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (args: object) => Promise<{ buffer: Buffer }> };
  const Long = require('kafkajs/src/utils/long.js') as { fromInt(n: number): unknown };
  const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => { buffer: Buffer; offset: number };
  const batch = async (firstOffset: number, lastOffsetDelta: number, n: number) =>
    (await RecordBatch({ firstOffset: Long.fromInt(firstOffset), lastOffsetDelta, records: Array.from({ length: n }, (_, i) => encodeRecord({ offsetDelta: i, key: `k${firstOffset + i}`, value: `v${i}` })) })).buffer;
  // Three records at 10, a batch left empty by compaction covering 13 to 17, and a batch cut off by the fetch's size limit.
  const whole = Buffer.concat([await batch(10, 2, 3), await batch(13, 4, 0)]);
  const cut = (await batch(18, 1, 2)).subarray(0, 30);
  const recordSet = (...parts: Buffer[]) => {
    const body = Buffer.concat(parts);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    return Buffer.concat([size, body]);
  };
  const ours = await decodeMessages(new Decoder(recordSet(whole, cut)));
  assert.deepEqual([...ours], [...(await kafkajsDecodeMessages(new Decoder(recordSet(whole, cut))))]);
  assert.deepEqual(ours.map((r) => r.key?.toString()), ['k10', 'k11', 'k12']);
  assert.equal(ours.nextOffset, 18n);
  assert.equal((await decodeMessages(new Decoder(recordSet(cut)))).nextOffset, undefined);
  assert.equal((await decodeMessages(new Decoder(recordSet()))).nextOffset, undefined);
});

test('the CRC-32C is the one kafkajs computes, for every length and content', () => {
  // The standard check value of CRC-32C.
  assert.equal(crc32C(Buffer.from('123456789')), 0xe3069283);
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff;
  for (let n = 0; n < 300; n++) {
    const b = Buffer.from(Array.from({ length: n }, rand));
    assert.equal(crc32C(b), kafkajsCrc32C(b), `length ${n}`);
  }
  const big = Buffer.alloc(900_000, 0xa5);
  assert.equal(crc32C(big), kafkajsCrc32C(big));
});

test('records are encoded byte for byte as kafkajs encodes them', () => {
  const values = [null, '', 'x', '{"database":"shop","table":"orders","pk.id":1}', 'é😀\u0000 text', 'y'.repeat(300), 'z'.repeat(70_000), Buffer.from([0, 1, 255]), Buffer.alloc(0)];
  const deltas = [0, 1, 63, 64, 8191, 8192, 2 ** 20, 2 ** 31 - 1, -1, -64, -(2 ** 31) + 1];
  let cases = 0;
  for (const key of values) {
    for (const value of values) {
      for (const offsetDelta of [0, 1, 63, 64, 127, 128, 16_383, 16_384, 1_000_000]) {
        const timestampDelta = deltas[cases++ % deltas.length];
        const args = { offsetDelta, timestampDelta, key, value };
        assert.deepEqual(encodeRecord(args).buffer, kafkajsRecord(args).buffer, JSON.stringify({ offsetDelta, timestampDelta, key: String(key).slice(0, 20), value: String(value).slice(0, 20) }));
      }
    }
  }
  // Headers and 64-bit deltas go to kafkajs' encoder.
  const withHeaders = { key: 'k', value: 'v', headers: { h: 'x' } };
  assert.deepEqual(encodeRecord(withHeaders).buffer, kafkajsRecord(withHeaders).buffer);
  const far = { key: 'k', value: 'v', timestampDelta: 2 ** 40 };
  assert.deepEqual(encodeRecord(far).buffer, kafkajsRecord(far).buffer);
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

test('produce requests are encoded byte for byte as kafkajs encodes them', async () => {
  assert.equal(createRequire(import.meta.url).cache[PRODUCE_V3_MODULE]?.exports, produceRequestV3);
  const Long = createRequire(import.meta.url)('kafkajs/src/utils/long.js') as { fromValue(v: unknown): unknown; fromInt(n: number): unknown };
  const values = [null, '', 'x', '{"database":"shop","table":"orders","type":"insert","data":{"id":1}}', 'é😀\u0000', 'y'.repeat(300), 'z'.repeat(70_000), Buffer.from([0, 1, 255])];
  const messages = (n: number, shift: number) => Array.from({ length: n }, (_, i) => ({ key: values[(i + shift) % values.length], value: values[(i * 3 + shift) % values.length] }));
  const realNow = Date.now;
  Date.now = () => 1_700_000_000_123;
  try {
    for (const transactionalId of [null, 'my2pg-capture-x']) {
      for (const producerId of [undefined, Long.fromInt(-1), Long.fromValue('4611686018427387904'), Long.fromInt(7)]) {
        const args = {
          acks: -1,
          timeout: 30_000,
          transactionalId,
          producerId,
          producerEpoch: 3,
          topicData: [
            { topic: 'maxwell', partitions: [{ partition: 0, firstSequence: 17, messages: messages(1, 0) }, { partition: 5, firstSequence: 2 ** 31 - 1, messages: messages(200, 1) }] },
            { topic: 'maxwell_positions', partitions: [{ partition: 0, messages: messages(130, 2) }] },
          ],
        };
        const mine = (await produceRequestV3(args).encode()) as { buffer: Buffer };
        const theirs = (await kafkajsProduceV3(args).encode()) as { buffer: Buffer };
        assert.ok(mine.buffer.equals(theirs.buffer), `transactionalId ${transactionalId}, producerId ${String(producerId && JSON.stringify(producerId, (_, v) => (typeof v === 'bigint' ? String(v) : v)))}`);
      }
    }
    // Timestamps (not used by my2pg) go through kafkajs' own encoder, which then gives the bytes.
    const stamped = { acks: -1, timeout: 1000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ key: 'k', value: 'v', timestamp: '1700000000000' }] }] }] };
    assert.ok(((await produceRequestV3(stamped).encode()) as { buffer: Buffer }).buffer.equals(((await kafkajsProduceV3(stamped).encode()) as { buffer: Buffer }).buffer));
  } finally {
    Date.now = realNow;
  }
});
