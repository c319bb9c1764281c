// Golden test: SQL on a real MariaDB (session in +05:30) → the exact JSON my2pg publishes for
// each value, read through the real binlog by the capture stage (process in America/New_York).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
process.env.TZ = 'America/New_York';
import type mysql from 'mysql2/promise';
import { CaptureStage } from '../../src/capture/capture-stage.js';
import { TableFilter } from '../../src/core/table-filter.js';
import { silentLogger } from '../../src/core/logger.js';
import { InProcessTransport } from '../../src/transport/in-process.js';
import { publishedData, TYPE_CASES } from '../fixtures/golden-types.js';
import { mysqlConnection, mysqlUrl, randomSuffix } from '../harness/servers.js';

const db = `golden_${randomSuffix()}`;
let conn: mysql.Connection;
let capture: CaptureStage;
let transport: InProcessTransport;
let running: Promise<void>;

before(async () => {
  conn = await mysqlConnection();
  await conn.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4`);
  transport = new InProcessTransport(100_000);
  capture = new CaptureStage({
    sourceUrl: mysqlUrl(),
    serverId: 5000 + Math.floor(Math.random() * 100000),
    filter: new TableFilter([db]),
    publisher: transport,
    log: silentLogger,
    heartbeatMs: 0,
  });
  running = capture.run();
});

after(async () => {
  await capture.stop();
  await running.catch(() => undefined);
  await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.end();
});

test('every type and edge value is published exactly as expected', { timeout: 120_000 }, async () => {
  // Wait until capture publishes its (empty) schema snapshot, so it reads from here on.
  const first = await transport.nextBatch(1, 0);
  assert.ok(first.length > 0, 'capture did not start');
  await conn.query("SET time_zone = '+05:30', sql_mode = ''");
  for (const c of TYPE_CASES) {
    await conn.query(`CREATE TABLE \`${db}\`.\`${c.name}\` (id INT PRIMARY KEY, v ${c.column})`);
    const rows = c.values.map(([sql], i) => `(${i + 1}, ${sql})`).join(', ');
    await conn.query(`INSERT INTO \`${db}\`.\`${c.name}\` VALUES ${rows}`);
  }
  const expected = TYPE_CASES.reduce((n, c) => n + c.values.length, 0);
  const got = new Map<string, string>();
  while (got.size < expected) {
    const batch = await transport.nextBatch(1000, 50);
    assert.ok(batch.length > 0, `only ${got.size} of ${expected} rows arrived`);
    for (const m of batch) {
      const ev = JSON.parse(m.value);
      if (ev.type !== 'insert') continue;
      // The raw text from `data` on, exactly as published.
      const data = m.value.slice(m.value.indexOf('"data":') + 7, -1);
      got.set(`${ev.table}#${ev.data.id}`, data);
    }
  }
  const failures: string[] = [];
  for (const c of TYPE_CASES) {
    c.values.forEach((v, i) => {
      const sql = v[0];
      const want = publishedData(i + 1, v);
      const have = got.get(`${c.name}#${i + 1}`);
      if (have !== want) failures.push(`${c.column} ${sql.slice(0, 60)}\n    want ${want.slice(0, 200)}\n    got  ${have?.slice(0, 200)}`);
    });
  }
  assert.deepEqual(failures, []);
});
