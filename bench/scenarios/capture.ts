// capture: a binlog holding BENCH_ROWS rows of the 10-column mixed-type table (transactions of
// 10,000 rows), read twice from the same position: by the bare zongji decoder alone (the limit)
// and by `my2pg capture` into Kafka (docs/PERFORMANCE.md "Capture"). Both clocks start when the binlog stream is open
// and stop at the last row: zongji's when it has decoded it, capture's when Kafka holds it.
// For the record, a third figure: the same number of pre-built messages through the same Kafka
// publisher alone, the part of capture's cost that is kafkajs (docs/PERFORMANCE.md).

import { ZongJi } from '../../src/source/zongji.js';
import { Kafka, logLevel } from '../../src/transport/kafkajs.js';
import { zongjiOptions } from '../../src/source/binlog-reader.js';
import { settleSourceTls } from '../../src/source/connect.js';
import { silentLogger } from '../../src/core/logger.js';
import type { StreamMessage } from '../../src/core/events.js';
import { encodeRowEvent } from '../../src/core/maxwell.js';
import { KafkaPublisher } from '../../src/transport/kafka-publisher.js';
import { createBigTable, fillBigTable } from '../../test/harness/big-table.js';
import { kafkaBrokers, mysqlConnection, mysqlUrl, randomSuffix, startMy2pg, waitFor, type My2pgProcess } from '../../test/harness/servers.js';
import { cpuBudget, result, type BenchResult } from '../lib.js';

const TX_ROWS = 10_000;

/** Decodes from `file:pos` with the options capture gives zongji; ms from ready to the n-th row. */
async function bareDecode(file: string, pos: number, n: number): Promise<number> {
  // The same TLS as capture's (PREFERRED: whether the server offers it is asked first).
  await settleSourceTls(mysqlUrl());
  const zongji = new ZongJi(zongjiOptions(mysqlUrl()));
  let started = 0;
  let rows = 0;
  const cpu = process.cpuUsage();
  try {
    return await new Promise<number>((resolve, reject) => {
      zongji.once('ready', () => (started = performance.now()));
      zongji.on('error', reject);
      zongji.on('binlog', (ev) => {
        rows += (ev as { rows?: unknown[] }).rows?.length ?? 0;
        if (rows >= n) {
          const used = process.cpuUsage(cpu);
          console.error(`capture: bare zongji used ${((used.user + used.system) / n).toFixed(1)} CPU µs per row`);
          resolve(performance.now() - started);
        }
      });
      zongji.start({ serverId: 9000 + Math.floor(Math.random() * 1000), filename: file, position: pos, includeEvents: ['tablemap', 'writerows'] });
    });
  } finally {
    zongji.stop();
  }
}

/**
 * What Kafka alone allows: n messages of the shape capture publishes, pre-built, through the same
 * publisher (transactions of TX_ROWS, acks=all), in this process. Rows/s and CPU µs per message.
 */
async function publishOnly(n: number): Promise<{ rate: number; cpuUs: number }> {
  const topic = `bench_pub_${randomSuffix()}`;
  const publisher = new KafkaPublisher({ brokers: kafkaBrokers().split(','), topic, partitions: 1, clientId: topic, log: silentLogger });
  await publisher.connect();
  const messages: StreamMessage[] = [];
  for (let i = 1; i <= n; i++) {
    const data = `{"id":${i * 2},"qty":${i % 1000},"price":${(i / 7).toFixed(6)},"ratio":${i / 3},"name":"name-${i}","note":"${'x'.repeat(i % 50)}","created":"2020-01-01 00:00:00.000000","flag":${i % 2},"tag":"a","raw":"AAAAAQ=="}`;
    messages.push({ key: `{"database":"bench","table":"big","pk.id":${i * 2}}`, value: encodeRowEvent({ database: 'bench', table: 'big', type: 'insert', ts: 1763700000, xid: String(i), xoffset: i % TX_ROWS, data }), database: 'bench', table: 'big' });
  }
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let tx = 0; tx < n; tx += TX_ROWS) {
    await publisher.begin();
    for (let i = tx; i < Math.min(tx + TX_ROWS, n); i += 1000) await publisher.send(messages.slice(i, Math.min(i + 1000, tx + TX_ROWS, n)));
    await publisher.commit({ file: 'bench', pos: tx });
  }
  await publisher.flush();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await publisher.close();
  return { rate: Math.round(n / (ms / 1000)), cpuUs: (used.user + used.system) / n };
}

/** Time (ms since epoch) the log line matching `re` was written, from its pino `time` field. */
function logTime(p: My2pgProcess, re: RegExp): number {
  const line = p.log().split('\n').find((l) => re.test(l));
  if (!line) throw new Error(`no log line ${re} in:\n${p.log()}`);
  return Date.parse(JSON.parse(line).time);
}

export async function captureScenario(n: number): Promise<BenchResult> {
  const db = `bench_cap_${randomSuffix()}`;
  const topic = `bench_cap_${randomSuffix()}`;
  const conn = await mysqlConnection();
  const kafka = new Kafka({ brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  let capture: My2pgProcess | null = null;
  try {
    await conn.query(`CREATE DATABASE \`${db}\``);
    await createBigTable(conn, db, 0, 'big');
    const [[start]] = (await conn.query('SHOW MASTER STATUS')) as unknown as [[{ File: string; Position: number }]];
    await fillBigTable(conn, db, 1, n, 'big', TX_ROWS);

    const bareMs = await bareDecode(start.File, Number(start.Position), n);
    // Kafka alone goes first: it also warms up a broker that has not served such traffic yet (a
    // fresh broker spent 15 CPU µs per row compiling and serving capture's first million rows,
    // against 3 once warm), which is not capture's cost.
    const produce = await publishOnly(n);
    console.error(`capture: Kafka alone (the same publisher, ${n} pre-built messages) took ${produce.cpuUs.toFixed(1)} CPU µs per message: ${produce.rate} messages/s`);

    capture = startMy2pg([
      'capture', '--source', mysqlUrl(), '--kafka', kafkaBrokers(), '--topic', topic, '--include', db, '--client-id', topic,
      '--server-id', String(7000 + Math.floor(Math.random() * 1000)), '--init-position', `${start.File}:${start.Position}`, '--heartbeat-interval-ms', '0',
    ]);
    await waitFor('capture to start', async () => /published the schema snapshot/.test(capture!.log()), 120_000);
    const opened = logTime(capture, /published the schema snapshot/);
    const cpu = cpuBudget(capture.child.pid!, ['mariadbd', 'java']);
    const offset = async () => (await admin.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high), 0);
    // Offsets count rows, the schema snapshot and transaction markers: the end is when they stop
    // moving once at least n more are there; its time is the first poll that saw the final value.
    const base = await offset();
    const seen: Array<{ at: number; high: number }> = [];
    await waitFor(
      `capture to publish ${n} rows`,
      async () => {
        seen.push({ at: Date.now(), high: await offset() });
        const last = seen[seen.length - 1];
        return last.high - base >= n && seen.some((s) => s.high === last.high && last.at - s.at >= 2000);
      },
      1_800_000,
      50,
    );
    const final = seen[seen.length - 1].high;
    const captureMs = seen.find((s) => s.high === final)!.at - opened;
    console.error(`capture: ${cpu(n)} (java: the Kafka broker)`);

    const bare = Math.round(n / (bareMs / 1000));
    await capture.kill('SIGKILL');
    return result({
      scenario: 'capture', figure: Math.round(n / (captureMs / 1000)), unit: 'rows/s', limit: bare,
      limitName: 'the bare zongji decoder reading the same binlog, rows/s', goal: { figure: 100_000, ratio: 0.8 }, rows: n,
    });
  } finally {
    await capture?.kill('SIGKILL');
    await admin.disconnect();
    await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await conn.end();
  }
}
