// kafkajs, as every part of my2pg loads it, with its producer's per-message steps
// replaced by equivalents that give the same result with a fraction of the work:
// - grouping messages by partition: kafkajs 2.2.4 copies the partition's array for every message
//   (`[...current, message]`), quadratic in the messages of one request; with requests of a few
//   thousand Maxwell events it was a fifth of capture's CPU, most of it garbage. The same fix is
//   proposed upstream (tulios/kafkajs#1576, not merged).
// - encoding a record: kafkajs allocates a zeroed 512-byte buffer per record and computes the
//   timestamp delta's varint with 64-bit Long objects. Ours writes the same bytes into one buffer
//   of the exact size (test/unit/kafkajs-patches.test.ts compares them byte for byte); records
//   with headers, or a delta beyond 32 bits, still go through kafkajs' own encoder.
// - the CRC-32C of a record batch: kafkajs reads a byte at a time; ours eight (slicing-by-8),
//   the same checksum.
// - the produce request: each partition's record batch written into one buffer at once
//   (produceRequestV3), compared byte for byte with kafkajs' own in the same test.
// - decoding a fetched record set: kafkajs gives its records only; ours also tells where its last
//   whole record batch ends (`nextOffset`), so a reader knows where to go on after batches that
//   deliver nothing (transaction markers, batches emptied by compaction).
// The replacements go into the module cache before kafkajs loads, so import kafkajs from here,
// never directly. openPartitionLog reads one partition through kafkajs' cluster and broker
// requests, with no consumer group (kafkajs' consumer always joins one). fetchedRecords reads a
// consumer batch's records with the transaction markers kafkajs keeps out of `batch.messages`.

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

interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: Record<string, unknown>;
}
/** What kafkajs' RecordBatch reads from an encoded record (an Encoder): its bytes. */
interface EncodedRecord {
  buf: Buffer;
  buffer: Buffer;
}

const require = createRequire(import.meta.url);
export const GROUPING_MODULE = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
export const RECORD_MODULE = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js');
/** kafkajs' own record encoder, for what ours leaves to it. */
export const kafkajsRecord = require(RECORD_MODULE) as (args: RecordArgs) => EncodedRecord;

/** Zig-zag varint length of a 32-bit signed integer (Kafka's varint). */
function varIntSize(n: number): number {
  let z = ((n << 1) ^ (n >> 31)) >>> 0;
  let size = 1;
  while (z >= 0x80) {
    z >>>= 7;
    size++;
  }
  return size;
}

function writeVarInt(buf: Buffer, at: number, n: number): number {
  let z = ((n << 1) ^ (n >> 31)) >>> 0;
  while (z >= 0x80) {
    buf[at++] = (z & 0x7f) | 0x80;
    z >>>= 7;
  }
  buf[at++] = z;
  return at;
}

const byteLength = (v: Buffer | string | null | undefined): number => (v == null ? -1 : typeof v === 'string' ? Buffer.byteLength(v) : v.length);

function writeBytes(buf: Buffer, at: number, v: Buffer | string | null | undefined, length: number): number {
  at = writeVarInt(buf, at, length);
  if (length <= 0) return at;
  return at + (typeof v === 'string' ? buf.write(v, at, length, 'utf8') : (v as Buffer).copy(buf, at));
}

const INT32 = 2 ** 31;

/** A record's length without its own length prefix (v2 format, no headers); -1 stands for null. */
function recordBody(timestampDelta: number, offsetDelta: number, keyLength: number, valueLength: number): number {
  return 1 + varIntSize(timestampDelta) + varIntSize(offsetDelta) + varIntSize(keyLength) + Math.max(keyLength, 0) + varIntSize(valueLength) + Math.max(valueLength, 0) + 1;
}

/** Writes a record of `body` bytes (recordBody) with its length prefix at `at`; returns the end. */
function writeRecord(buf: Buffer, at: number, body: number, timestampDelta: number, offsetDelta: number, key: RecordArgs['key'], keyLength: number, value: RecordArgs['value'], valueLength: number): number {
  at = writeVarInt(buf, at, body);
  buf[at++] = 0; // attributes
  at = writeVarInt(buf, at, timestampDelta);
  at = writeVarInt(buf, at, offsetDelta);
  at = writeBytes(buf, at, key, keyLength);
  at = writeBytes(buf, at, value, valueLength);
  buf[at++] = 0; // no headers: varint 0
  return at;
}

/** A Kafka record (v2 format) as kafkajs' record/v0 encodes it, written at once. */
export function encodeRecord(args: RecordArgs): EncodedRecord {
  const { offsetDelta = 0, timestampDelta = 0, key, value, headers } = args;
  const plain = (headers === undefined || Object.keys(headers).length === 0) && Number.isInteger(timestampDelta) && Math.abs(timestampDelta) < INT32;
  if (!plain || typeof key === 'number' || typeof value === 'number') return kafkajsRecord(args);
  const keyLength = byteLength(key);
  const valueLength = byteLength(value);
  const body = recordBody(timestampDelta, offsetDelta, keyLength, valueLength);
  const buf = Buffer.allocUnsafe(varIntSize(body) + body);
  writeRecord(buf, 0, body, timestampDelta, offsetDelta, key, keyLength, value, valueLength);
  return { buf, buffer: buf };
}

export const CRC_MODULE = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js');
/** kafkajs' own CRC-32C, for the test that compares them. */
export const kafkajsCrc32C = require(CRC_MODULE) as (b: Buffer) => number;

/** CRC-32C (Castagnoli) tables for slicing-by-8: CRC_TABLES[k][b] is byte b followed by k zero bytes. */
const CRC_TABLES = (() => {
  const t = Array.from({ length: 8 }, () => new Int32Array(256));
  for (let b = 0; b < 256; b++) {
    let c = b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[0][b] = c;
  }
  for (let b = 0; b < 256; b++) for (let k = 1; k < 8; k++) t[k][b] = (t[k - 1][b] >>> 8) ^ t[0][t[k - 1][b] & 0xff];
  return t;
})();

/** CRC-32C of the buffer, unsigned, as kafkajs' crc32C module returns it. */
export function crc32C(buf: Buffer): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES;
  let crc = -1;
  let i = 0;
  for (const end = buf.length - 7; i < end; i += 8) {
    const a = crc ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
    crc =
      t7[a & 0xff] ^ t6[(a >>> 8) & 0xff] ^ t5[(a >>> 16) & 0xff] ^ t4[a >>> 24] ^
      t3[buf[i + 4]] ^ t2[buf[i + 5]] ^ t1[buf[i + 6]] ^ t0[buf[i + 7]];
  }
  for (; i < buf.length; i++) crc = t0[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

const replace = (filename: string, exports: unknown) => {
  require.cache[filename] = { id: filename, filename, loaded: true, exports } as NodeJS.Module;
};
replace(GROUPING_MODULE, groupMessagesPerPartition);
replace(RECORD_MODULE, encodeRecord);
replace(CRC_MODULE, crc32C);

interface ProduceMessage {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  timestamp?: unknown;
  headers?: Record<string, unknown>;
}
interface ProducePartition {
  partition: number;
  firstSequence?: number;
  messages: ProduceMessage[];
}
interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: Array<{ topic: string; partitions: ProducePartition[] }>;
}
interface KafkaLong {
  getHighBits(): number;
  getLowBits(): number;
}
type EncoderClass = new () => {
  writeString(s: string | null): InstanceType<EncoderClass>;
  writeInt16(n: number): InstanceType<EncoderClass>;
  writeInt32(n: number): InstanceType<EncoderClass>;
  writeArray(a: unknown[]): InstanceType<EncoderClass>;
};

export const PRODUCE_V3_MODULE = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
/** kafkajs' own produce request (v3, which v4 to v7 extend), for what ours leaves to it. */
export const kafkajsProduceV3 = require(PRODUCE_V3_MODULE) as (args: ProduceArgs) => { encode(): Promise<unknown> };
const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass;
const KafkaLongs = require('kafkajs/src/utils/long.js') as { fromInt(n: number): KafkaLong; fromValue(v: unknown): KafkaLong };
const PRODUCE_API_KEY = (require('kafkajs/src/protocol/requests/apiKeys.js') as { Produce: number }).Produce;

const plainMessage = (m: ProduceMessage) =>
  m.timestamp == null && (m.headers === undefined || Object.keys(m.headers).length === 0) && typeof m.key !== 'number' && typeof m.value !== 'number';

/** Partition, record-set size and a record batch (v2 format, no compression), in one buffer. */
function encodePartition(p: ProducePartition, transactional: boolean, producerId: KafkaLong, producerEpoch: number): EncodedRecord {
  const now = Date.now();
  const n = p.messages.length;
  const keyLengths = new Array<number>(n);
  const valueLengths = new Array<number>(n);
  const bodies = new Array<number>(n);
  let recordBytes = 0;
  for (let i = 0; i < n; i++) {
    const { key, value } = p.messages[i];
    const body = (bodies[i] = recordBody(0, i, (keyLengths[i] = byteLength(key)), (valueLengths[i] = byteLength(value))));
    recordBytes += varIntSize(body) + body;
  }
  const bodyLength = 40 + recordBytes;
  const buf = Buffer.allocUnsafe(29 + bodyLength);
  buf.writeInt32BE(p.partition, 0);
  buf.writeInt32BE(21 + bodyLength, 4); // the record set's size
  buf.writeBigInt64BE(0n, 8); // first offset
  buf.writeInt32BE(9 + bodyLength, 16); // the batch's length
  buf.writeInt32BE(0, 20); // partition leader epoch
  buf[24] = 2; // magic
  // the CRC at 25 covers the body, from 29
  buf.writeInt16BE(transactional ? 16 : 0, 29); // attributes
  buf.writeInt32BE(n - 1, 31); // last offset delta
  buf.writeBigInt64BE(BigInt(now), 35); // first timestamp
  buf.writeBigInt64BE(BigInt(now), 43); // max timestamp
  buf.writeInt32BE(producerId.getHighBits(), 51);
  buf.writeInt32BE(producerId.getLowBits(), 55);
  buf.writeInt16BE(producerEpoch, 59);
  buf.writeInt32BE(p.firstSequence ?? 0, 61);
  buf.writeInt32BE(n, 65);
  let at = 69;
  for (let i = 0; i < n; i++) {
    const { key, value } = p.messages[i];
    at = writeRecord(buf, at, bodies[i], 0, i, key, keyLengths[i], value, valueLengths[i]);
  }
  buf.writeUInt32BE(crc32C(buf.subarray(29)), 25);
  return { buf, buffer: buf };
}

/**
 * kafkajs' produce request v3, the same bytes: every partition's record batch written into one
 * buffer of its exact size, without an object and a buffer per record (kafkajs spreads each
 * message into a record object: a sixth of a publishing thread). Compression, timestamps or
 * headers go through kafkajs' own.
 */
export function produceRequestV3(args: ProduceArgs) {
  const { acks, timeout, transactionalId = null, producerEpoch = 0, compression = 0, topicData } = args;
  if (compression !== 0 || !topicData.every((t) => t.partitions.every((p) => p.messages.every(plainMessage)))) return kafkajsProduceV3(args);
  const producerId = KafkaLongs.fromValue(args.producerId ?? KafkaLongs.fromInt(-1));
  return {
    apiKey: PRODUCE_API_KEY,
    apiVersion: 3,
    apiName: 'Produce',
    expectResponse: () => acks !== 0,
    encode: async () => {
      const topics = topicData.map(({ topic, partitions }) =>
        new Encoder().writeString(topic).writeArray(partitions.map((p) => encodePartition(p, !!transactionalId, producerId, producerEpoch))),
      );
      return new Encoder().writeString(transactionalId).writeInt16(acks).writeInt32(timeout).writeArray(topics);
    },
  };
}
replace(PRODUCE_V3_MODULE, produceRequestV3);

/** A record as kafkajs decodes it from a fetch response, with its batch's attributes. */
export interface FetchedRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  isControlRecord: boolean;
  batchContext: { producerId: string; inTransaction: boolean; firstOffset: string; lastOffsetDelta: number };
}
type FetchedRecords = FetchedRecord[] & { nextOffset?: bigint };
interface FetchDecoder {
  buffer: Buffer;
  offset: number;
}

export const DECODE_MESSAGES_MODULE = require.resolve('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js');
/** kafkajs' own decoder of a fetched record set, for the test that compares them. */
export const kafkajsDecodeMessages = require(DECODE_MESSAGES_MODULE) as (decoder: FetchDecoder) => Promise<FetchedRecords>;
/** Byte offsets in a record batch (v2): its base offset, length, magic byte and last offset delta. */
const BATCH_HEAD = 12;
const BATCH_MAGIC = 16;
const BATCH_LAST_OFFSET_DELTA = 23;

/**
 * kafkajs' records of a fetched record set (fetch v4 and later), with `nextOffset`: the offset
 * after the last whole record batch in it (left out when there is none).
 */
export async function decodeMessages(decoder: FetchDecoder): Promise<FetchedRecords> {
  const start = decoder.offset + 4;
  const end = Math.min(start + Math.max(decoder.buffer.readInt32BE(decoder.offset), 0), decoder.buffer.length);
  const records = await kafkajsDecodeMessages(decoder);
  const buf = decoder.buffer;
  for (let at = start; at + BATCH_LAST_OFFSET_DELTA + 4 <= end && buf[at + BATCH_MAGIC] === 2; ) {
    const next = at + BATCH_HEAD + buf.readInt32BE(at + 8);
    if (next > end) break;
    records.nextOffset = buf.readBigInt64BE(at) + BigInt(buf.readInt32BE(at + BATCH_LAST_OFFSET_DELTA)) + 1n;
    at = next;
  }
  return records;
}
replace(DECODE_MESSAGES_MODULE, decodeMessages);

const kafkajs = require('kafkajs') as typeof KafkaJs;
export const Kafka = kafkajs.Kafka;
export type Kafka = KafkaJs.Kafka;
export const logLevel = kafkajs.logLevel;
export type { Consumer, Producer, Transaction } from 'kafkajs';

/**
 * Every record of a consumer's fetched batch from the offset it asked for, in order: the
 * delivered messages and what kafkajs leaves out of `batch.messages` (transaction markers,
 * records of aborted transactions), which occupy offsets too.
 */
export function fetchedRecords(batch: KafkaJs.Batch): KafkaJs.KafkaMessage[] {
  return (batch as KafkaJs.Batch & { messagesWithinOffset?: KafkaJs.KafkaMessage[] }).messagesWithinOffset ?? batch.messages;
}

/** Whether a fetched record was written in a Kafka transaction (its record batch's attribute). */
export function inTransaction(record: KafkaJs.KafkaMessage): boolean {
  return (record as { batchContext?: { inTransaction?: boolean } }).batchContext?.inTransaction === true;
}

const READ_COMMITTED = 1;
/** ListOffsets' timestamps for the first offset and the end. */
const EARLIEST = -2;
const LATEST = -1;

interface BrokerRequests {
  listOffsets(args: object): Promise<{ responses: Array<{ partitions: Array<{ offset: string }> }> }>;
  fetch(args: object): Promise<{ responses: Array<{ partitions: Array<{ abortedTransactions: Array<{ producerId: string; firstOffset: string }>; messages: FetchedRecords }> }> }>;
}
interface ClusterRequests {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(args: { nodeId: string }): Promise<BrokerRequests>;
}

/** What one read-committed fetch returns: see decodeMessages for nextOffset. */
export interface FetchedBatches {
  records: FetchedRecord[];
  abortedTransactions: Array<{ producerId: string; firstOffset: bigint }>;
  nextOffset: bigint | undefined;
}

/** One partition read directly from its leader, read-committed, with no consumer group. */
export interface PartitionLog {
  /** The partition's first offset, and its end for read-committed consumers (the last stable offset). */
  offsets(): Promise<{ start: bigint; end: bigint }>;
  fetch(offset: bigint, maxWaitMs: number): Promise<FetchedBatches>;
  /** Closes the connections once the requests under way are answered. */
  close(): Promise<void>;
}

export async function openPartitionLog(kafka: Kafka, topic: string, partition: number): Promise<PartitionLog> {
  const create = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (!create) throw new Error('this kafkajs has no Kafka[createCluster]: src/transport/kafkajs.ts needs updating for it');
  const cluster = (kafka as unknown as Record<symbol, (o: object) => ClusterRequests>)[create]({ allowAutoTopicCreation: false, isolationLevel: READ_COMMITTED });
  try {
    await cluster.connect();
    await cluster.addTargetTopic(topic);
  } catch (err) {
    // Not awaited: a request under way to a stalled broker would hold it up.
    void cluster.disconnect().catch(() => undefined);
    throw err;
  }
  const leader = async (): Promise<BrokerRequests> => {
    const [nodeId] = Object.keys(cluster.findLeaderForPartitions(topic, [partition]));
    if (nodeId === undefined) throw new Error(`partition ${partition} of ${topic} has no leader`);
    return cluster.findBroker({ nodeId });
  };
  const offset = async (timestamp: number): Promise<bigint> => {
    const { responses } = await (await leader()).listOffsets({ isolationLevel: READ_COMMITTED, topics: [{ topic, partitions: [{ partition, timestamp }] }] });
    return BigInt(responses[0].partitions[0].offset);
  };
  return {
    offsets: async () => ({ start: await offset(EARLIEST), end: await offset(LATEST) }),
    fetch: async (fetchOffset, maxWaitMs) => {
      const { responses } = await (await leader()).fetch({
        isolationLevel: READ_COMMITTED,
        maxWaitTime: maxWaitMs,
        minBytes: 1,
        maxBytes: 10 * 1024 * 1024,
        topics: [{ topic, partitions: [{ partition, fetchOffset: String(fetchOffset), maxBytes: 10 * 1024 * 1024 }] }],
      });
      const p = responses[0].partitions[0];
      return {
        records: p.messages,
        abortedTransactions: p.abortedTransactions.map((t) => ({ producerId: t.producerId, firstOffset: BigInt(t.firstOffset) })),
        nextOffset: p.messages.nextOffset,
      };
    },
    close: () => cluster.disconnect(),
  };
}
