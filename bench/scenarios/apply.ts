// apply: Maxwell events preloaded in Kafka, applied to an empty replica (inserts) or to a
// populated one (50% updates of existing keys, 10% deletes, 40% inserts), against raw COPY of the
// same rows into the same table in the same run (docs/PERFORMANCE.md "Apply").

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Kafka, logLevel } from '../../src/transport/kafkajs.js';
import { from as copyFrom } from 'pg-copy-streams';
import { ApplyStage } from '../../src/apply/apply-stage.js';
import { silentLogger } from '../../src/core/logger.js';
import { encodeDdlEvent, encodeRowEvent } from '../../src/core/maxwell.js';
import { createTable } from '../../src/ddl/translate.js';
import type { ColumnDef, TableSchema } from '../../src/core/table-schema.js';
import { postgresDialect } from '../../src/target/dialect.js';
import { Naming } from '../../src/target/naming.js';
import { copyField } from '../../src/target/pg-value.js';
import { KafkaSubscriber } from '../../src/transport/kafka-subscriber.js';
import { createPgDatabase, kafkaBrokers, pgClient, randomSuffix, waitFor } from '../../test/harness/servers.js';
import { rng as seeded } from '../../test/harness/workload.js';
import { cpuSeconds, result, type BenchResult } from '../lib.js';

const col = (name: string, type: string, extra: Partial<ColumnDef> = {}): ColumnDef => ({
  name, type, columnType: type, nullable: true, default: null, unsigned: false, charset: null, length: null, precision: null, scale: null, fsp: null, values: null, ...extra,
});

/** The 10-column mixed-type table of the benchmarks. */
const TABLE: TableSchema = {
  database: 'bench',
  table: 'items',
  charset: 'utf8mb4',
  primaryKey: ['id'],
  columns: [
    col('id', 'bigint', { nullable: false }), col('qty', 'int'), col('big', 'bigint'), col('price', 'decimal', { precision: 12, scale: 2 }),
    col('sku', 'varchar', { length: 64 }), col('note', 'text'), col('made', 'datetime', { fsp: 6 }), col('score', 'double'),
    col('flag', 'tinyint'), col('seen', 'timestamp', { fsp: 3 }),
  ],
};

/** One row's values: JSON text per column (as capture publishes them) and Postgres text. */
function rowValues(id: number, rand: () => number): { json: string; copy: string } {
  const qty = Math.floor(rand() * 1000);
  const big = Math.floor(rand() * 2 ** 52);
  const price = (rand() * 100000).toFixed(2);
  const sku = `SKU-${id}-${Math.floor(rand() * 1e6)}`;
  const note = `note ${id} ${'x'.repeat(Math.floor(rand() * 40))}`;
  const made = `2024-0${1 + (id % 9)}-1${id % 10} 12:34:56.${String(id % 1e6).padStart(6, '0')}`;
  const score = rand() * 1000;
  const flag = id % 2;
  const seen = `2024-05-0${1 + (id % 9)} 01:02:03.${String(id % 1000).padStart(3, '0')}`;
  const json = `{"id":${id},"qty":${qty},"big":${big},"price":${price},"sku":"${sku}","note":"${note}","made":"${made}","score":${score},"flag":${flag},"seen":"${seen}"}`;
  const copy = [id, qty, big, price, sku, note, made, score, flag, `${seen}+00`].map((v) => copyField(String(v))).join('\t');
  return { json, copy };
}

interface Workload {
  events: string[];
  /** The rows the table must hold at the end, as COPY lines (the raw COPY limit copies these). */
  finalRows: string[];
  /** Rows to load before applying (update-heavy). */
  initialRows: string[];
}

function workload(kind: 'insert' | 'update', n: number): Workload {
  const rand = seeded(42);
  const events: string[] = [];
  const final = new Map<number, string>();
  const initialRows: string[] = [];
  const ev = (type: 'insert' | 'update' | 'delete', data: string, old?: string) =>
    encodeRowEvent({ database: 'bench', table: 'items', type, ts: 1700000000, data, old });
  if (kind === 'insert') {
    for (let id = 1; id <= n; id++) {
      const r = rowValues(id, rand);
      events.push(ev('insert', r.json));
      final.set(id, r.copy);
    }
  } else {
    for (let id = 1; id <= n; id++) {
      const r = rowValues(id, rand);
      initialRows.push(r.copy);
      final.set(id, r.copy);
    }
    let next = n + 1;
    for (let i = 0; i < n; i++) {
      const p = rand();
      if (p < 0.5) {
        const id = 1 + Math.floor(rand() * n);
        const r = rowValues(id, rand);
        events.push(ev('update', r.json, '{"qty":0}'));
        final.set(id, r.copy);
      } else if (p < 0.6) {
        const id = 1 + Math.floor(rand() * n);
        events.push(ev('delete', rowValues(id, rand).json));
        final.delete(id);
      } else {
        const id = next++;
        const r = rowValues(id, rand);
        events.push(ev('insert', r.json));
        final.set(id, r.copy);
      }
    }
  }
  return { events, finalRows: [...final.values()], initialRows };
}

/** Raw COPY of the lines: elapsed ms, and the CPU seconds its Postgres backend used. */
async function copyRows(url: string, table: string, lines: string[]): Promise<{ ms: number; backendCpu: number }> {
  const c = pgClient(url);
  await c.connect();
  try {
    const pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    const cpu0 = cpuSeconds(pid);
    const started = performance.now();
    const chunks = function* () {
      for (let i = 0; i < lines.length; i += 5000) yield `${lines.slice(i, i + 5000).join('\n')}\n`;
    };
    await pipeline(Readable.from(chunks()), c.query(copyFrom(`COPY ${table} FROM STDIN`)));
    return { ms: performance.now() - started, backendCpu: cpuSeconds(pid) - cpu0 };
  } finally {
    await c.end();
  }
}

export async function applyScenario(kind: 'insert' | 'update', n: number): Promise<BenchResult> {
  const pg = await createPgDatabase();
  const topic = `bench_${randomSuffix()}`;
  try {
    const w = workload(kind, n);
    const eventCount = w.events.length;
    // Create the table the way apply does, and a twin for the raw COPY limit.
    const setup = pgClient(pg.url);
    await setup.connect();
    await setup.query('CREATE SCHEMA bench');
    await setup.query(createTable(TABLE, postgresDialect, new Naming()));
    await setup.query(createTable({ ...TABLE, table: 'items_copy' }, postgresDialect, new Naming()));
    await setup.end();
    if (w.initialRows.length > 0) await copyRows(pg.url, 'bench.items', w.initialRows);

    const kafka = new Kafka({ clientId: 'bench', brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    const ddl = encodeDdlEvent({ type: 'table-create', database: 'bench', table: 'items', def: TABLE, ts: 1, sql: 'CREATE TABLE IF NOT EXISTS items (…)' });
    await producer.send({ topic, acks: -1, messages: [{ value: ddl }] });
    for (let i = 0; i < w.events.length; i += 2_000) {
      await producer.send({ topic, acks: -1, messages: w.events.slice(i, i + 2_000).map((value) => ({ value })) });
    }
    await producer.disconnect();

    const subscriber = new KafkaSubscriber({ brokers: kafkaBrokers().split(','), topic, group: `g_${topic}`, log: silentLogger });
    const stage = new ApplyStage(subscriber, {
      targetUrl: pg.url, dialect: postgresDialect, naming: new Naming(), batchMaxRows: Number(process.env.BENCH_BATCH_ROWS ?? 20_000), batchMaxWaitMs: 200, log: silentLogger,
    });
    const probe = pgClient(pg.url);
    await probe.connect();
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    const running = stage.run();
    const total = eventCount + 1;
    let backend = null as { pid: number; cpu: number } | null;
    await waitFor(
      'apply to finish',
      async () => {
        if (!backend) {
          const b = await probe.query("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'my2pg apply'");
          if (b.rows.length > 0) backend = { pid: b.rows[0].pid, cpu: cpuSeconds(b.rows[0].pid) };
        }
        const r = await probe.query("SELECT position FROM _my2pg.checkpoints WHERE stream LIKE 'kafka:%'").catch(() => ({ rows: [] }));
        return r.rows.length > 0 && Number(r.rows[0].position) >= total;
      },
      1_800_000,
      50,
    );
    const applyMs = performance.now() - started;
    const cpu = process.cpuUsage(cpu0);
    const backendCpu = backend ? cpuSeconds(backend.pid) - backend.cpu : NaN;
    const count = Number((await probe.query('SELECT count(*) AS n FROM bench.items')).rows[0].n);
    await probe.end();
    await stage.stop();
    await running.catch(() => undefined);
    await stage.close();
    if (count !== w.finalRows.length) throw new Error(`replica has ${count} rows, expected ${w.finalRows.length}`);

    const copy = await copyRows(pg.url, 'bench.items_copy', w.finalRows);
    const copyMs = copy.ms;
    // CPU per event, less noisy than the rates on a shared machine (stderr: stdout is the results).
    const us = (seconds: number, per: number) => ((seconds * 1e6) / per).toFixed(2);
    console.error(
      `apply-${kind}: CPU µs per event: this process ${us((cpu.user + cpu.system) / 1e6, eventCount)} (user ${us(cpu.user / 1e6, eventCount)}), ` +
        `apply's Postgres backend ${us(backendCpu, eventCount)}; raw COPY's backend ${us(copy.backendCpu, w.finalRows.length)} per row`,
    );
    return result({
      scenario: `apply-${kind}`,
      figure: Math.round(eventCount / (applyMs / 1000)),
      unit: 'events/s',
      limit: Math.round(w.finalRows.length / (copyMs / 1000)),
      limitName: 'raw COPY of the resulting rows into the same table, rows/s',
      goal: { figure: kind === 'insert' ? 100_000 : 60_000, ratio: 0.5 },
      rows: eventCount,
    });
  } finally {
    await pg.drop();
  }
}
