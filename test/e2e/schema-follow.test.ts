// Follow versus recapture: a long seeded random sequence of DDL on the source while `my2pg run`
// follows it; afterwards the replica's catalog (tables, columns, types, nullability, primary
// keys) equals the translation of what information_schema says now.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readTableSchema, listTables } from '../../src/source/schema-reader.js';
import { translateCreateTable } from '../../src/ddl/pg-ddl.js';
import { postgresDialect } from '../../src/target/dialect.js';
import { Naming } from '../../src/target/naming.js';
import { usePipelineFixture } from '../harness/pipeline.js';
import { mysqlUrl, pgClient, waitFor } from '../harness/servers.js';
import { rng } from '../harness/workload.js';
import { waitForRunStreaming } from '../harness/waits.js';

const { fixture, start } = usePipelineFixture();

const TYPES = [
  'INT', 'BIGINT', 'SMALLINT UNSIGNED', 'INT UNSIGNED', 'BIGINT UNSIGNED', 'TINYINT', 'TINYINT(1)', 'MEDIUMINT', 'VARCHAR(10)', 'VARCHAR(40)',
  'CHAR(3)', 'TEXT', 'DECIMAL(10,2)', 'DECIMAL(20,0)', 'DATETIME', 'DATETIME(3)', 'TIMESTAMP NULL', 'DATE', 'DOUBLE', 'FLOAT',
  "ENUM('a','b')", "SET('x','y')", 'JSON', 'VARBINARY(16)', 'BLOB', 'TIME', 'YEAR', 'BIT(4)',
];
const DEFAULTS: Record<string, string> = { INT: '7', BIGINT: '0', 'VARCHAR(10)': "'x'", 'VARCHAR(40)': "'it''s'", DATETIME: 'CURRENT_TIMESTAMP', 'DECIMAL(10,2)': '1.50', DATE: "'2024-01-02'" };

/** One random statement over the tables that exist (it may fail on the source: then it is not logged). */
function randomStatement(next: () => number, tables: string[], columnsOf: Map<string, string[]>, n: number): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)];
  const t = pick(tables);
  const cols = columnsOf.get(t) ?? [];
  const col = pick(cols.length > 0 ? cols : ['id']);
  const type = pick(TYPES);
  const def = DEFAULTS[type] !== undefined && next() < 0.5 ? ` NOT NULL DEFAULT ${DEFAULTS[type]}` : next() < 0.2 ? ' NOT NULL' : '';
  const where = next() < 0.2 ? ' FIRST' : next() < 0.3 ? ` AFTER \`${col}\`` : '';
  const r = next();
  if (r < 0.2) return `ALTER TABLE \`${t}\` ADD COLUMN c${n} ${type}${def}${where}`;
  if (r < 0.3) return `ALTER TABLE \`${t}\` DROP COLUMN \`${col}\``;
  if (r < 0.4) return `ALTER TABLE \`${t}\` MODIFY \`${col}\` ${type}${def}`;
  if (r < 0.48) return `ALTER TABLE \`${t}\` CHANGE \`${col}\` r${n} ${type}${def}${where}`;
  if (r < 0.54) return `ALTER TABLE \`${t}\` RENAME COLUMN \`${col}\` TO n${n}`;
  if (r < 0.58) return DEFAULTS[type] ? `ALTER TABLE \`${t}\` ALTER COLUMN \`${col}\` SET DEFAULT ${DEFAULTS[type]}` : `ALTER TABLE \`${t}\` ALTER \`${col}\` DROP DEFAULT`;
  if (r < 0.64) return `ALTER TABLE \`${t}\` DROP PRIMARY KEY, ADD PRIMARY KEY (\`${col}\`${cols.length > 1 && next() < 0.5 ? `, \`${pick(cols)}\`` : ''})`;
  if (r < 0.67) return `ALTER TABLE \`${t}\` DROP PRIMARY KEY`;
  if (r < 0.71) return `ALTER TABLE \`${t}\` ADD INDEX i${n} (\`${col}\`)`;
  if (r < 0.74) return `ALTER TABLE \`${t}\` CONVERT TO CHARACTER SET ${pick(['latin1', 'utf8mb4'])}`;
  if (r < 0.79) return `RENAME TABLE \`${t}\` TO tmp${n}, \`${pick(tables)}\` TO \`${t}\`, tmp${n} TO \`${pick(tables)}\``;
  if (r < 0.83) return `ALTER TABLE \`${t}\` RENAME TO t${n}`;
  if (r < 0.87) return `CREATE TABLE t${n} LIKE \`${t}\``;
  if (r < 0.9) return `CREATE TABLE t${n} (id INT PRIMARY KEY, c${n} ${type}${def}) DEFAULT CHARSET=${pick(['latin1', 'utf8mb4'])}`;
  if (r < 0.93) return `CREATE TABLE t${n} SELECT * FROM \`${t}\``;
  if (r < 0.96 && tables.length > 2) return `DROP TABLE \`${t}\``;
  return `TRUNCATE TABLE \`${t}\``;
}

interface CatalogRow {
  table: string;
  column: string;
  type: string;
  notnull: boolean;
}

/** Columns (any order: Postgres appends) and primary keys of the tables of a schema. */
async function catalog(client: ReturnType<typeof pgClient>, schema: string, skip: Set<string>): Promise<{ columns: string[]; keys: string[] }> {
  const cols = await client.query<CatalogRow>(
    `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`,
    [schema],
  );
  const keys = await client.query<{ table: string; cols: string }>(
    `SELECT c.relname AS table, string_agg(a.attname, ',' ORDER BY k.ord) AS cols
     FROM pg_constraint p JOIN pg_class c ON c.oid = p.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
     WHERE n.nspname = $1 AND p.contype = 'p' GROUP BY c.relname`,
    [schema],
  );
  return {
    columns: cols.rows.filter((r) => !skip.has(r.table)).map((r) => `${r.table}.${r.column} ${r.type}${r.notnull ? ' NOT NULL' : ''}`).sort(),
    keys: keys.rows.filter((r) => !skip.has(r.table)).map((r) => `${r.table} (${r.cols})`).sort(),
  };
}

test('after a long random DDL sequence the replica catalog equals the translation of information_schema', { timeout: 600_000 }, async () => {
  const f = fixture();
  const seed = Number(process.env.MY2PG_TEST_SEED ?? 4242);
  const next = rng(seed);
  await f.conn.query(`USE \`${f.db}\``);
  // Tables created after the start come through the binlog (an initial bootstrap racing the
  // DDL is a different subject).
  const proc = start(['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', f.db, '--server-id', f.serverId]);
  await waitForRunStreaming(proc);
  for (let i = 0; i < 4; i++) await f.conn.query(`CREATE TABLE t${i} (id INT PRIMARY KEY, a VARCHAR(10), b INT NOT NULL DEFAULT 3)`);

  let applied = 0;
  for (let n = 0; n < 250; n++) {
    const tables = await listTables(f.conn, f.db);
    const columnsOf = new Map<string, string[]>();
    for (const t of tables) columnsOf.set(t, ((await readTableSchema(f.conn, f.db, t))?.columns ?? []).map((c) => c.name));
    const sql = randomStatement(next, tables, columnsOf, n);
    try {
      await f.conn.query(sql);
      applied++;
      // Now and then a row, so that type changes meet data.
      if (n % 10 === 0) await f.conn.query(`INSERT IGNORE INTO \`${tables[0]}\` () VALUES ()`).catch(() => undefined);
    } catch {
      // Refused by the source: never reaches the binlog.
    }
  }
  console.log(`# seed ${seed}: ${applied} of 250 statements accepted by the source`);
  await f.conn.query('CREATE TABLE zz_done (id INT PRIMARY KEY)');

  const client = pgClient(f.pg.url);
  await client.connect();
  try {
    const schema = f.db.toLowerCase();
    await waitFor('the replica to reach the end', async () => (await client.query("SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'zz_done'", [schema])).rows.length > 0, 120_000, 500);
    assert.equal(proc.child.exitCode, null, `run died:\n${proc.log().slice(-3000)}`);
    // The one thing the replica cannot take: a DATE/DATETIME/TIMESTAMP column holding NULLs made
    // NOT NULL (added NOT NULL without default, or put in a primary key), which MySQL fills with
    // the zero date (NULL in the replica, docs/TYPES.md). It stops its table (docs/OPERATIONS.md),
    // which keeps the definition from before the statement; nothing else may stop one.
    const stopped = await client.query<{ source_table: string; statement: string; error: string }>('SELECT source_table, statement, error FROM _my2pg.stopped_tables');
    for (const r of stopped.rows) {
      console.log(`# stopped ${r.source_table}: ${r.statement}: ${r.error}`);
      const column = /column "([^"]+)" of relation "([^"]+)" contains null values/.exec(r.error);
      assert.ok(column, `${r.source_table} stopped on ${r.statement}: ${r.error}`);
      const type = await client.query<{ t: string }>(
        `SELECT format_type(a.atttypid, a.atttypmod) AS t FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3`,
        [schema, column[2], column[1]],
      );
      // Added by the statement itself (absent before it), or an existing column.
      assert.ok(type.rows.length === 0 || /^(date|timestamp)/.test(type.rows[0].t), `${r.source_table}.${column[1]} is ${type.rows[0]?.t}`);
      if (type.rows.length === 0) assert.match(r.statement, /\b(DATE|DATETIME|TIMESTAMP)\b[^,]*NOT NULL/i);
    }
    const skip = new Set(stopped.rows.map((r) => r.source_table.toLowerCase()));
    // The expected catalog: today's information_schema, translated, in a schema of its own.
    const expected = `${schema}_expected`;
    await client.query(`CREATE SCHEMA "${expected}"`);
    const naming = new Naming();
    for (const t of await listTables(f.conn, f.db)) {
      if (skip.has(t.toLowerCase())) continue;
      const def = await readTableSchema(f.conn, f.db, t);
      assert.ok(def);
      for (const sql of translateCreateTable({ ...def, database: expected }, postgresDialect, naming, { indexes: false }).statements) await client.query(sql);
    }
    const want = await catalog(client, expected, skip);
    const got = await catalog(client, schema, skip);
    assert.deepEqual(got.columns, want.columns);
    assert.deepEqual(got.keys, want.keys);
    console.log(`# ${want.columns.length} columns and ${want.keys.length} primary keys compared`);
  } finally {
    await client.end();
  }
  await proc.kill();
});
