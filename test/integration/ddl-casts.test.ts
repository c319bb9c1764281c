// Every MODIFY between two MySQL column types translates to an ALTER … TYPE … USING that a real
// Postgres accepts (a cast expression Postgres has no path for fails at ALTER time, even on an
// empty table), and a sample of MySQL's own conversions arrives with MySQL's value.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { evolveSchema } from '../../src/ddl/evolve.js';
import { tableKey } from '../../src/core/table-key.js';
import { parseDdl } from '../../src/ddl/parse.js';
import { translateCreateTable, translateTableAlter } from '../../src/ddl/pg-ddl.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { postgresDialect } from '../../src/target/dialect.js';
import { Naming } from '../../src/target/naming.js';
import { createPgDatabase, pgClient } from '../harness/servers.js';

const TYPES = [
  'INT', 'BIGINT UNSIGNED', 'DECIMAL(10,2)', 'DOUBLE', 'BIT(8)', 'VARCHAR(20)', 'TEXT', "ENUM('a','b')", "SET('x','y','z')",
  'VARBINARY(16)', 'DATE', 'DATETIME(3)', 'TIMESTAMP(3) NULL', 'TIME', 'YEAR', 'JSON',
];

const naming = new Naming();
let db: { url: string; drop: () => Promise<void> };
let client: pg.Client;

before(async () => {
  db = await createPgDatabase();
  client = pgClient(db.url);
  await client.connect();
});

after(async () => {
  await client?.end();
  await db?.drop();
});

function table(type: string): TableSchema {
  const op = parseDdl(`CREATE TABLE casts (id INT PRIMARY KEY, c ${type})`, 'casts');
  if (op.op !== 'create-table') throw new Error(op.op);
  return op.def;
}

/** Creates the table with column c of `from`, holding `value` (SQL text), and alters it to `to`. */
async function convert(from: string, to: string, value: string): Promise<unknown> {
  const old = table(from);
  const change = evolveSchema(parseDdl(`ALTER TABLE casts MODIFY c ${to}`, 'casts'), new Map([[tableKey('casts', 'casts'), old]])).changes[0];
  assert.equal(change.kind, 'alter-table');
  if (change.kind !== 'alter-table') return;
  await client.query('DROP SCHEMA IF EXISTS casts CASCADE');
  await client.query('CREATE SCHEMA casts');
  for (const sql of translateCreateTable(old, postgresDialect, naming).statements) await client.query(sql);
  await client.query(`INSERT INTO casts.casts (id, c) VALUES (1, NULL), (2, ${value})`);
  const t = translateTableAlter(change.old, change.def, change.renames, postgresDialect, naming);
  for (const sql of t.statements) {
    try {
      await client.query(sql);
    } catch (err) {
      throw new Error(`${from} → ${to}: ${sql}: ${(err as Error).message}`);
    }
  }
  const r = await client.query({ text: 'SELECT c::text FROM casts.casts ORDER BY id', rowMode: 'array' });
  assert.equal(r.rows[0][0], null, `${from} → ${to}: NULL stays NULL`);
  return r.rows[1][0];
}

test('every pair of column types has a USING expression Postgres accepts', async () => {
  let pairs = 0;
  const failures: string[] = [];
  for (const from of TYPES) {
    for (const to of TYPES) {
      if (from === to) continue;
      await client.query('BEGIN');
      try {
        await convert(from, to, 'DEFAULT');
      } catch (err) {
        failures.push((err as Error).message);
      } finally {
        await client.query('ROLLBACK');
      }
      pairs++;
    }
  }
  console.log(`# ${pairs} type pairs`);
  assert.deepEqual(failures, []);
});

test("MySQL's conversions without a Postgres cast keep MySQL's meaning", async () => {
  const cases: Array<[string, string, string, string]> = [
    ['INT', 'TIME', '123456', '12:34:56'],
    ['TIME', 'INT', "'12:34:56'", '123456'],
    ['INT', 'DATE', '20240102', '2024-01-02'],
    ['DATE', 'INT', "'2024-01-02'", '20240102'],
    ['INT', "SET('x','y','z')", '5', '{x,z}'],
    ["SET('x','y','z')", 'INT', "'{y,z}'", '6'],
    ['DATETIME(3)', 'TIME', "'2024-01-02 03:04:05'", '03:04:05'],
    ['INT', 'JSON', '7', '7'],
    ['VARCHAR(20)', 'VARBINARY(16)', "'ab'", '\\x6162'],
  ];
  for (const [from, to, value, want] of cases) {
    await client.query('BEGIN');
    try {
      assert.equal(await convert(from, to, value), want, `${from} → ${to}`);
    } finally {
      await client.query('ROLLBACK');
    }
  }
});
