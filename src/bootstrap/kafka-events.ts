// Maxwell's bootstrap events on Kafka, for consumers other than apply (which ignores them):
// `bootstrap-start`, one `bootstrap-insert` per row, `bootstrap-complete` (docs/EVENTS.md). Each
// goes to the partition capture picks for the same row; a chunk's events go in produce requests
// that fit the topic's max.message.bytes, and the chunk counts as done only once Kafka has
// acknowledged them all (docs/BOOTSTRAP.md "Kafka"). At least once: a chunk that is retried
// publishes its rows again, as Maxwell's bootstrap does.

import { Kafka, logLevel, type Producer } from '../transport/kafkajs.js';
import { My2pgError } from '../core/errors.js';
import { encodeRowEvent, jsonNullsJson, type BootstrapEventType } from '../core/maxwell.js';
import type { Logger } from '../core/logger.js';
import { bootstrapPartitionString, ddlPartitionString, objectJson, rowKey, tableKey, type OutputOptions } from '../core/maxwell-keys.js';
import { BATCH_OVERHEAD, ensureTopics, isTemplate, RECORD_OVERHEAD, topicFor, topicMaxMessageBytes, topicPartitions } from '../transport/kafka-topics.js';
import { partitionFor, type PartitionHash } from '../transport/partitioner.js';
import type { BootstrapEvents } from './options.js';
import type { ChunkEvents } from './chunk-copier.js';
import type { SourceTable } from './source-table.js';

export interface KafkaBootstrapOptions {
  brokers: string[];
  topic: string;
  /** Partitions of a topic my2pg creates; events are spread over the topic's actual partitions. */
  partitions: number;
  /** Hash of the partition string (Maxwell's `kafka_partition_hash`), as capture uses it. */
  partitionHash?: PartitionHash;
  output: OutputOptions;
  log: Logger;
}

/** An event before it is sent: its key, its JSON, and the string its partition is hashed from. */
interface BootstrapRecord {
  key: string;
  value: string;
  partitionBy: string;
}

/** What is known of a topic the events go to. */
interface TopicLimits {
  partitions: number;
  /** The largest record batch the topic accepts (max.message.bytes). */
  maxBytes: number;
}

export class KafkaBootstrapEvents implements BootstrapEvents {
  private readonly kafka: Kafka;
  private producer: Producer | null = null;
  private readonly topics = new Map<string, Promise<TopicLimits>>();
  /** The last send: sends go one after the other (an idempotent producer takes one request at a time). */
  private sending: Promise<void> = Promise.resolve();

  constructor(private readonly opts: KafkaBootstrapOptions) {
    this.kafka = new Kafka({ clientId: 'my2pg-bootstrap', brokers: opts.brokers, logLevel: logLevel.NOTHING });
  }

  async connect(): Promise<void> {
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
  }

  async start(db: string, table: string): Promise<void> {
    await this.marker('bootstrap-start', db, table);
  }

  async complete(db: string, table: string): Promise<void> {
    await this.marker('bootstrap-complete', db, table);
  }

  chunk(src: SourceTable, chunkNo: number): ChunkEvents {
    const { database, table } = src.def;
    let records: BootstrapRecord[] = [];
    return {
      row: (values, jsonNulls) => void records.push(this.row(src, values, jsonNulls)),
      discard: () => void (records = []),
      send: () => this.send(database, table, `bootstrap-insert event of ${database}.${table} (chunk ${chunkNo})`, records),
    };
  }

  private row(src: SourceTable, values: string[], jsonNulls?: string[]): BootstrapRecord {
    const { database, table, columns, primaryKey } = src.def;
    const names = columns.map((c) => c.name);
    const byName: Record<string, string> = {};
    names.forEach((n, i) => (byName[n] = values[i]));
    const shape = { database, table, columns: names, values: byName, primaryKey };
    const data = objectJson(names, byName, this.opts.output.nulls);
    const value = encodeRowEvent({ database, table, type: 'bootstrap-insert', ts: nowSeconds(), data, jsonNulls: jsonNullsJson(jsonNulls) });
    return { key: rowKey(shape, this.opts.output.keyFormat), value, partitionBy: bootstrapPartitionString(shape, this.opts.output) };
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }

  private async marker(type: BootstrapEventType, db: string, table: string): Promise<void> {
    const value = encodeRowEvent({ database: db, table, type, ts: nowSeconds(), data: '{}' });
    const record = { key: tableKey(db, table), value, partitionBy: ddlPartitionString(db, table, this.opts.output) };
    await this.send(db, table, `${type} event of ${db}.${table}`, [record]);
  }

  /** Sends a table's events after the sends before; resolves once Kafka acknowledged them all. */
  private send(db: string, table: string, what: string, records: BootstrapRecord[]): Promise<void> {
    const sent = this.sending.then(() => this.produce(isTemplate(this.opts.topic) ? topicFor(this.opts.topic, db, table) : this.opts.topic, what, records));
    this.sending = sent.catch(() => undefined);
    return sent;
  }

  /**
   * Splits the events into produce requests whose records fit the topic's limit (every
   * partition's record batch, so, too), then sends them with acks=all. An event that cannot fit
   * fails before anything is sent.
   */
  private async produce(topic: string, what: string, records: BootstrapRecord[]): Promise<void> {
    if (records.length === 0) return;
    const { partitions, maxBytes } = await this.limits(topic);
    const room = maxBytes - BATCH_OVERHEAD;
    const requests: Array<Array<{ key: string; value: string; partition: number }>> = [[]];
    let bytes = 0;
    for (const r of records) {
      const size = RECORD_OVERHEAD + Buffer.byteLength(r.key) + Buffer.byteLength(r.value);
      if (size > room) {
        throw new My2pgError(
          'CONFIG',
          `a ${what} is ${size + BATCH_OVERHEAD} bytes, more than the ${maxBytes} bytes topic ${topic} accepts (max.message.bytes): ` +
            'raise max.message.bytes of the topic (and message.max.bytes and replica.fetch.max.bytes of the brokers if they are lower), then run the bootstrap again to resume',
        );
      }
      if (bytes + size > room) {
        requests.push([]);
        bytes = 0;
      }
      requests[requests.length - 1].push({ key: r.key, value: r.value, partition: partitionFor(r.partitionBy, partitions, this.opts.partitionHash) });
      bytes += size;
    }
    try {
      for (const messages of requests) await this.producer!.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] });
    } catch (err) {
      this.topics.delete(topic); // its limits may have changed: read them again on the next send
      throw err;
    }
  }

  /** The topic's partition count and size limit, creating it first when it does not exist. */
  private limits(topic: string): Promise<TopicLimits> {
    let limits = this.topics.get(topic);
    if (!limits) {
      limits = (async () => {
        await ensureTopics(this.kafka, [{ topic, partitions: this.opts.partitions }]);
        const partitions = (await topicPartitions(this.kafka, [topic])).get(topic);
        if (!partitions) throw new My2pgError('UNREACHABLE', `Kafka has no partitions for topic ${topic}`, { retriable: true });
        return { partitions, maxBytes: await this.maxMessageBytes(topic) };
      })();
      limits.catch(() => this.topics.delete(topic));
      this.topics.set(topic, limits);
    }
    return limits;
  }

  /** The topic's max.message.bytes. */
  private async maxMessageBytes(topic: string): Promise<number> {
    const limits = await topicMaxMessageBytes(this.kafka, [topic], (t, err) =>
      this.opts.log.warn({ topic: t, err }, "cannot read the topic's max.message.bytes: assuming Kafka's default"),
    );
    return limits.get(topic)!;
  }
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
