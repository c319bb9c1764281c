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
import { mysqlConnection, mysqlUrl, randomSuffix, testSource } from '../harness/servers.js';

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

/** The schema snapshot's database-create, the first message capture publishes. */
let snapshot = '';

test('every type and edge value is published exactly as expected', { timeout: 120_000 }, async () => {
  // Wait until capture publishes its (empty) schema snapshot, so it reads from here on.
  const first = await transport.nextBatch(1, 0);
  assert.ok(first.length > 0, 'capture did not start');
  snapshot = first[0].value;
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
      const want = publishedData(i + 1, v, testSource());
      const have = got.get(`${c.name}#${i + 1}`);
      if (have !== want) failures.push(`${c.column} ${sql.slice(0, 60)}\n    want ${want.slice(0, 200)}\n    got  ${have?.slice(0, 200)}`);
    });
  }
  assert.deepEqual(failures, []);
});

/** Maxwell's keys of a column image, in the order written (our additions left out). */
const MAXWELL_COLUMN_KEYS = new Set(['type', 'name', 'charset', 'signed', 'enum-values', 'column-length']);
const maxwellColumn = (c: Record<string, unknown>) => JSON.stringify(Object.fromEntries(Object.entries(c).filter(([k]) => MAXWELL_COLUMN_KEYS.has(k))));

test("DDL events from the binlog carry Maxwell's keys with Maxwell's values", { timeout: 60_000 }, async () => {
  assert.equal(snapshot, `{"type":"database-create","database":"${db}","charset":"utf8mb4","ts":${JSON.parse(snapshot).ts},"sql":"-- my2pg schema snapshot of database ${db}"}`);
  await conn.query(`ALTER DATABASE \`${db}\` CHARACTER SET latin1`);
  await conn.query(
    `CREATE TABLE \`${db}\`.ddl_images (id INT PRIMARY KEY, n BIGINT UNSIGNED, s VARCHAR(5), u VARCHAR(5) CHARACTER SET utf8mb4, t TEXT, ` +
      "b VARBINARY(4), bl BLOB, e ENUM('a','b'), st SET('x','y'), dt DATETIME, dt3 DATETIME(3), ts TIMESTAMP NULL, tm TIME, d DECIMAL(10,2), f FLOAT, j JSON, y YEAR)",
  );
  await conn.query(`ALTER TABLE \`${db}\`.ddl_images ADD c CHAR(2)`);
  const ddl: Array<Record<string, unknown> & { type: string }> = [];
  while (ddl.length < 3) {
    const batch = await transport.nextBatch(100, 50);
    assert.ok(batch.length > 0, `only ${ddl.length} of 3 DDL events arrived`);
    for (const m of batch) {
      const ev = JSON.parse(m.value);
      if (ev.type.startsWith('database-') || (ev.type.startsWith('table-') && ev.table === 'ddl_images')) ddl.push(ev);
    }
  }
  const [alterDb, create, alter] = ddl;
  assert.deepEqual(Object.keys(alterDb), ['type', 'database', 'charset', 'ts', 'sql', 'tx_position']);
  assert.equal(alterDb.charset, 'latin1');
  assert.match(String(alterDb.tx_position), /^(mariadb|mysql)-bin\.\d+:\d+$/);
  assert.deepEqual(Object.keys(create), ['type', 'database', 'table', 'def', 'ts', 'sql', 'keep_existing', 'tx_position']);
  const def = create.def as { charset: string; columns: Array<Record<string, unknown>> };
  assert.equal(def.charset, 'latin1', 'the table inherits the database default');
  assert.deepEqual(def.columns.map(maxwellColumn), [
    '{"type":"int","name":"id","signed":true}',
    '{"type":"bigint","name":"n","signed":false}',
    '{"type":"varchar","name":"s","charset":"latin1"}',
    '{"type":"varchar","name":"u","charset":"utf8mb4"}',
    '{"type":"text","name":"t","charset":"latin1"}',
    '{"type":"varbinary","name":"b","charset":"binary"}',
    '{"type":"blob","name":"bl","charset":"binary"}',
    '{"type":"enum","name":"e","enum-values":["a","b"]}',
    '{"type":"set","name":"st","enum-values":["x","y"]}',
    '{"type":"datetime","name":"dt","column-length":0}',
    '{"type":"datetime","name":"dt3","column-length":3}',
    '{"type":"timestamp","name":"ts","column-length":0}',
    '{"type":"time","name":"tm","column-length":0}',
    '{"type":"decimal","name":"d"}',
    '{"type":"float","name":"f"}',
    '{"type":"json","name":"j"}',
    '{"type":"year","name":"y"}',
  ]);
  // Maxwell's keys come first in every column, before our additions.
  for (const c of def.columns) assert.equal(Object.keys(c).indexOf('column-type'), Object.keys(JSON.parse(maxwellColumn(c))).length, String(c.name));
  const altered = alter as unknown as { old: typeof def; def: typeof def };
  assert.deepEqual([altered.old.charset, altered.def.charset], ['latin1', 'latin1']);
  assert.equal(maxwellColumn(altered.def.columns.at(-1)!), '{"type":"char","name":"c","charset":"latin1"}');
});
