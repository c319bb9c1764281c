// Maxwell's bootstrap events on Kafka, for consumers other than apply (which ignores them):
// `bootstrap-start`, one `bootstrap-insert` per row, `bootstrap-complete` (docs/EVENTS.md).
// At least once: a chunk that is retried publishes its rows again, as Maxwell's bootstrap does.

import { Kafka, logLevel, type Producer } from '../transport/kafkajs.js';
import { jacksonString } from '../core/java-format.js';
import { jsonNullsJson } from '../core/maxwell.js';
import type { Logger } from '../core/logger.js';
import { ddlPartitionString, rowKey, rowPartitionString, type OutputOptions } from '../capture/output-options.js';
import { ensureTopics, isTemplate, topicFor } from '../transport/kafka-topics.js';
import { partitionFor } from '../transport/partitioner.js';
import type { BootstrapEvents } from './bootstrapper.js';
import type { SourceTable } from './source-table.js';

export interface KafkaBootstrapOptions {
  brokers: string[];
  topic: string;
  partitions: number;
  output: OutputOptions;
  log: Logger;
}

interface Outgoing {
  topic: string;
  messages: Array<{ key: string; value: string; partition: number }>;
}

export class KafkaBootstrapEvents implements BootstrapEvents {
  private readonly kafka: Kafka;
  private producer: Producer | null = null;
  private pending: Outgoing[] = [];
  private readonly topics = new Set<string>();

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

  row(src: SourceTable, values: string[], jsonNulls?: string[]): void {
    const { database, table } = src.def;
    const names = src.def.columns.map((c) => c.name);
    const byName: Record<string, string> = {};
    let data = '';
    names.forEach((n, i) => {
      byName[n] = values[i];
      data += `${i ? ',' : ''}${jacksonString(n)}:${values[i]}`;
    });
    const shape = { database, table, columns: names, values: byName, primaryKey: src.def.primaryKey };
    const by = rowPartitionString(shape, this.opts.output);
    const nulls = jsonNullsJson(jsonNulls);
    const value = `${this.head('bootstrap-insert', database, table)},"data":{${data}}${nulls ? `,"json_nulls":${nulls}` : ''}}`;
    this.push(database, table, rowKey(shape, this.opts.output.keyFormat), value, typeof by === 'string' ? by : database);
  }

  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const producer = this.producer!;
    const topics = [...new Set(batch.map((b) => b.topic))].filter((t) => !this.topics.has(t));
    if (topics.length) {
      await ensureTopics(this.kafka, topics.map((topic) => ({ topic, partitions: this.opts.partitions })));
      for (const t of topics) this.topics.add(t);
    }
    await producer.sendBatch({ acks: -1, topicMessages: batch });
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
  }

  private async marker(type: string, db: string, table: string): Promise<void> {
    const key = `{"database":${jacksonString(db)},"table":${jacksonString(table)}}`;
    this.push(db, table, key, `${this.head(type, db, table)},"data":{}}`, ddlPartitionString(db, table, this.opts.output));
    await this.flush();
  }

  private head(type: string, db: string, table: string): string {
    return `{"database":${jacksonString(db)},"table":${jacksonString(table)},"type":"${type}","ts":${Math.floor(Date.now() / 1000)}`;
  }

  private push(db: string, table: string, key: string, value: string, partitionBy: string): void {
    const topic = isTemplate(this.opts.topic) ? topicFor(this.opts.topic, db, table) : this.opts.topic;
    const partition = partitionFor(partitionBy, this.opts.partitions);
    const last = this.pending[this.pending.length - 1];
    if (last?.topic === topic) last.messages.push({ key, value, partition });
    else this.pending.push({ topic, messages: [{ key, value, partition }] });
  }
}
