// Every MySQL type of the default mapping (docs/TYPES.md), created in MariaDB and written through
// the binlog, lands in Postgres with the same values (`my2pg run`, embedded).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TYPE_CASES } from '../fixtures/golden-types.js';
import { assertReplicaConverges, usePipelineFixture } from '../harness/pipeline.js';
import { mysqlUrl, pgClient, testSource, waitFor, type My2pgProcess } from '../harness/servers.js';
import { waitForRunStreaming } from '../harness/waits.js';

const { fixture, start } = usePipelineFixture();
let proc: My2pgProcess | null = null;
/**
 * MySQL's JSON is a type of its own. (MariaDB's is LONGTEXT with a json_valid() check: a JSON
 * NOT NULL column added to rows holds '' there, and no row holding it can be updated.)
 */
const MYSQL_ONLY = testSource() === 'mysql' ? ['json_added'] : [];

const COLUMNS = `
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
  i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED, de DECIMAL(65,30), dm DECIMAL(10,2),
  f FLOAT, d DOUBLE, b1 BIT(1), b64 BIT(64), yr YEAR,
  ch CHAR(5), vc VARCHAR(20), tt TINYTEXT, tx TEXT, mt MEDIUMTEXT, lt LONGTEXT, l1 VARCHAR(10) CHARACTER SET latin1,
  en ENUM('small','large'), st SET('a','b','c'),
  bn BINARY(4), vb VARBINARY(8), tb TINYBLOB, bl BLOB, mb MEDIUMBLOB, lb LONGBLOB,
  dt DATE, dtm DATETIME, dtm6 DATETIME(6), ts TIMESTAMP NULL, ts6 TIMESTAMP(6) NULL, tm TIME, tm6 TIME(6), js JSON`;

const ROWS = [
  `(1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
    -99999999999999999999999999999999999.999999999999999999999999999999, -12345678.90,
    1.5, -2.2250738585072014e-308, b'1', b'1111111111111111111111111111111111111111111111111111111111111111', 1901,
    'abc', 'héllo 😀', 'tiny', 'line1\\nline2\\ttab', 'medium', 'long \\\\ backslash', 'café',
    'large', 'a,c', x'00010000', x'00ff00', x'ff', x'000102', x'', x'cafe',
    '1000-01-01', '9999-12-31 23:59:59', '2024-02-29 12:34:56.123456', '1970-01-01 05:30:01', '2038-01-19 08:44:07.999999',
    '-838:59:59', '838:59:59.000000', 'null')`,
  `(2, 127, 0, 32767, 0, 8388607, 0, 2147483647, 0, 9223372036854775807, 9007199254740993,
    99999999999999999999999999999999999.999999999999999999999999999999, 0.01,
    -3.25, 1.7976931348623157e308, b'0', b'0', 2155,
    '', '', '', '', '', '', '',
    'small', '', x'', x'', x'', x'', x'', x'',
    '2024-02-29', '2000-01-01 00:00:00', '1000-01-01 00:00:00.000001', '2024-06-30 23:59:59', '2024-06-30 12:00:00.5',
    '-01:00:00', '-12:00:00.000000', '{"a": [null]}')`,
  `(3${', NULL'.repeat(40)})`,
];

test('every type replicates with its value', { timeout: 180_000 }, async () => {
  const f = fixture();
  proc = start(['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', f.db, '--server-id', f.serverId]);
  await waitForRunStreaming(proc);
  // A server in a non-UTC zone: TIMESTAMP must still arrive as the same instant.
  await f.conn.query("SET time_zone = '+05:30'");
  await f.conn.query(`CREATE TABLE \`${f.db}\`.all_types (${COLUMNS}) CHARACTER SET utf8mb4`);
  await f.conn.query(`INSERT INTO \`${f.db}\`.all_types VALUES ${ROWS.join(',')}`);
  await f.conn.query(`UPDATE \`${f.db}\`.all_types SET vc = 'updated', de = de / 3 WHERE id = 2`);
  // JSON null and SQL NULL are two values (docs/EVENTS.md, json_nulls): each way round.
  await f.conn.query(`UPDATE \`${f.db}\`.all_types SET js = IF(id = 1, NULL, 'null') WHERE id IN (1, 3)`);
  await f.conn.query(`INSERT INTO \`${f.db}\`.all_types (id, js) VALUES (4, 'null'), (5, NULL)`);
  await f.conn.query("SET time_zone = '+00:00'");
  // Without a primary key the before-image finds the row: JSON null must not match SQL NULL.
  await f.conn.query(`CREATE TABLE \`${f.db}\`.json_nopk (a INT, js JSON)`);
  await f.conn.query(`INSERT INTO \`${f.db}\`.json_nopk VALUES (1, 'null'), (1, NULL), (2, 'null'), (2, NULL), (3, NULL), (3, 'null')`);
  await f.conn.query(`DELETE FROM \`${f.db}\`.json_nopk WHERE a = 1 AND js IS NULL`);
  await f.conn.query(`UPDATE \`${f.db}\`.json_nopk SET a = 20 WHERE a = 2 AND js = 'null'`);
  await f.conn.query(`UPDATE \`${f.db}\`.json_nopk SET js = IF(js IS NULL, 'null', NULL) WHERE a = 3`);
  if (testSource() === 'mysql') {
    // MySQL gives the rows a JSON NOT NULL column is added to an empty document (its binlog
    // image has length 0), which it reads as JSON null: the replica holds JSON null, not SQL NULL.
    await f.conn.query(`CREATE TABLE \`${f.db}\`.json_added (id INT PRIMARY KEY)`);
    await f.conn.query(`INSERT INTO \`${f.db}\`.json_added VALUES (1), (2)`);
    await f.conn.query(`ALTER TABLE \`${f.db}\`.json_added ADD j JSON NOT NULL`);
    await f.conn.query(`UPDATE \`${f.db}\`.json_added SET id = 12 WHERE id = 2`);
    await f.conn.query(`INSERT INTO \`${f.db}\`.json_added VALUES (3, '{}')`);
  }
  await assertReplicaConverges(f, ['all_types', 'json_nopk', ...MYSQL_ONLY], 60_000);
  const pg = pgClient(f.pg.url);
  await pg.connect();
  try {
    const nulls = await pg.query(`SELECT id, js IS NULL AS sql_null, js = 'null'::jsonb AS json_null FROM "${f.db}".all_types WHERE id IN (1, 3, 4, 5) ORDER BY id`);
    assert.deepEqual(nulls.rows, [
      { id: '1', sql_null: 't', json_null: null },
      { id: '3', sql_null: 'f', json_null: 't' },
      { id: '4', sql_null: 'f', json_null: 't' },
      { id: '5', sql_null: 't', json_null: null },
    ]);
    if (testSource() === 'mysql') {
      const added = await pg.query(`SELECT id, j IS NULL AS sql_null, j = 'null'::jsonb AS json_null FROM "${f.db}".json_added ORDER BY id`);
      assert.deepEqual(added.rows, [
        { id: '1', sql_null: 'f', json_null: 't' },
        { id: '3', sql_null: 'f', json_null: 'f' },
        { id: '12', sql_null: 'f', json_null: 't' },
      ]);
    }
  } finally {
    await pg.end();
  }
});

test('the golden type corpus lands in Postgres with the values MySQL holds (docs/TYPES.md)', { timeout: 180_000 }, async () => {
  const f = fixture();
  await f.conn.query("SET time_zone = '+05:30', sql_mode = ''");
  for (const c of TYPE_CASES) {
    await f.conn.query(`CREATE TABLE \`${f.db}\`.\`g_${c.name}\` (id INT PRIMARY KEY, v ${c.column})`);
    await f.conn.query(`INSERT INTO \`${f.db}\`.\`g_${c.name}\` VALUES ${c.values.map(([sql], i) => `(${i + 1}, ${sql})`).join(', ')}`);
  }
  await f.conn.query("SET time_zone = '+00:00', sql_mode = DEFAULT");
  await assertReplicaConverges(f, TYPE_CASES.map((c) => `g_${c.name}`), 60_000);
});

test('tables without a primary key, DROP TABLE and DROP DATABASE flow through', { timeout: 120_000 }, async () => {
  const f = fixture();
  const db = f.db;
  await f.conn.query(`CREATE TABLE \`${db}\`.nopk (a INT, b VARCHAR(10))`);
  await f.conn.query(`INSERT INTO \`${db}\`.nopk VALUES (1,'x'),(1,'x'),(1,'x'),(2,NULL),(2,NULL)`);
  await f.conn.query(`DELETE FROM \`${db}\`.nopk WHERE a = 1 LIMIT 1`);
  await f.conn.query(`UPDATE \`${db}\`.nopk SET b = 'y' WHERE a = 2 LIMIT 1`);
  await f.conn.query(`CREATE TABLE \`${db}\`.gone (id INT PRIMARY KEY)`);
  await f.conn.query(`INSERT INTO \`${db}\`.gone VALUES (1)`);
  await assertReplicaConverges(f, ['nopk', 'gone'], 60_000);

  await f.conn.query(`DROP TABLE \`${db}\`.gone`);
  const other = `${db}_x`;
  await f.conn.query(`CREATE DATABASE \`${other}\``);
  await f.conn.query(`CREATE TABLE \`${other}\`.t (id INT PRIMARY KEY)`);
  const client = pgClient(f.pg.url);
  await client.connect();
  try {
    const tables = async () =>
      (await client.query(`SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema LIKE 'e2e_%' ORDER BY 1`)).rows.map((r) => r.t);
    // The include rule names f.db only: the other database must not appear.
    await waitFor('DROP TABLE to reach the replica', async () => !(await tables()).includes(`${db}.gone`), 30_000);
    assert.deepEqual(await tables(), [`${db}.all_types`, `${db}.json_nopk`, ...MYSQL_ONLY.map((t) => `${db}.${t}`), ...TYPE_CASES.map((c) => `${db}.g_${c.name}`).sort(), `${db}.nopk`].sort());
    await f.conn.query(`DROP DATABASE \`${other}\``);
    await f.conn.query(`DROP DATABASE \`${db}\``);
    await waitFor('DROP DATABASE to reach the replica', async () => (await tables()).length === 0, 30_000);
    const schemas = await client.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'e2e_%'`);
    assert.deepEqual(schemas.rows, []);
  } finally {
    await client.end();
  }
  assert.equal(proc!.child.exitCode, null, proc!.log());
});
