// The row encoder serves bootstrap too (docs/EVENTS.md, "Bootstrap events"): the golden corpus read with SELECT and
// encoded from the table definition gives exactly the JSON the binlog path gives.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type mysql from 'mysql2/promise';
import { encodeRow, rowColumnsFromSchema } from '../../src/source/row-encoder.js';
import { readTableSchema } from '../../src/source/schema-reader.js';
import { publishedValue, TYPE_CASES } from '../fixtures/golden-types.js';
import { mysqlConnection, mysqlUrl, randomSuffix } from '../harness/servers.js';

const db = `parity_${randomSuffix()}`;
let conn: mysql.Connection;

before(async () => {
  conn = await mysqlConnection(mysqlUrl(), { jsonStrings: true });
  await conn.query(`CREATE DATABASE \`${db}\` CHARACTER SET utf8mb4`);
});
after(async () => {
  await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.end();
});

test('SELECT + encoder from the definition = the golden binlog JSON', async () => {
  await conn.query("SET time_zone = '+05:30', sql_mode = ''");
  for (const c of TYPE_CASES) {
    await conn.query(`CREATE TABLE \`${db}\`.\`${c.name}\` (id INT PRIMARY KEY, v ${c.column})`);
    await conn.query(`INSERT INTO \`${db}\`.\`${c.name}\` VALUES ${c.values.map(([sql], i) => `(${i + 1}, ${sql})`).join(', ')}`);
  }
  await conn.query("SET time_zone = '+00:00'");
  const failures: string[] = [];
  const [version] = await conn.query('SELECT VERSION() AS v');
  const server = /mariadb/i.test(String((version as Array<{ v: unknown }>)[0].v)) ? 'mariadb' : 'mysql';
  for (const c of TYPE_CASES) {
    const def = (await readTableSchema(conn, db, c.name))!;
    const cols = rowColumnsFromSchema(def, server);
    const select = def.columns.map((col) => (col.type === 'float' ? `CAST(\`${col.name}\` AS DOUBLE) AS \`${col.name}\`` : `\`${col.name}\``));
    const [rows] = await conn.query(`SELECT ${select.join(', ')} FROM \`${db}\`.\`${c.name}\` ORDER BY id`);
    (rows as Array<Record<string, unknown>>).forEach((row, i) => {
      const want = `{"id":${i + 1},"v":${publishedValue(c.values[i], server)}}`;
      const encoded = encodeRow(cols, row);
      const have = encoded.json;
      const jsonNull = c.values[i][2] === 'json-null';
      if (have !== want || (encoded.jsonNulls?.includes('v') ?? false) !== jsonNull) failures.push(`${c.column} ${c.values[i][0].slice(0, 50)}\n    want ${want.slice(0, 120)}\n    got  ${have.slice(0, 120)} (JSON nulls ${encoded.jsonNulls ?? 'none'})`);
    });
  }
  assert.deepEqual(failures, []);
});
