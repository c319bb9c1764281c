// Runs every golden Postgres translation (test/fixtures/ddl-golden.ts), made through the
// production DDL path (test/harness/ddl-stream.ts), on a real Postgres, after creating the state
// before it the same way, and checks the resulting catalog (columns, types,
// nullability, defaults, primary key, indexes) equals a fresh CREATE of the evolved schemas.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { translateCreateTable } from '../../src/ddl/pg-ddl.js';
import { postgresDialect } from '../../src/target/dialect.js';
import { Naming } from '../../src/target/naming.js';
import { quoteIdent } from '../../src/target/quote.js';
import { DDL_GOLDEN } from '../fixtures/ddl-golden.js';
import { DdlStream } from '../harness/ddl-stream.js';
import { createPgDatabase, pgClient } from '../harness/servers.js';

const naming = new Naming();
let replica: { url: string; drop: () => Promise<void> };
let expected: { url: string; drop: () => Promise<void> };
let a: pg.Client;
let b: pg.Client;

before(async () => {
  replica = await createPgDatabase();
  expected = await createPgDatabase();
  a = pgClient(replica.url);
  b = pgClient(expected.url);
  await a.connect();
  await b.connect();
});

after(async () => {
  await a?.end();
  await b?.end();
  await replica?.drop();
  await expected?.drop();
});

async function reset(c: pg.Client): Promise<void> {
  const { rows } = await c.query(
    "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('information_schema', 'public')",
  );
  for (const r of rows) await c.query(`DROP SCHEMA ${quoteIdent(r.nspname)} CASCADE`);
}

async function run(c: pg.Client, statements: string[], what: string): Promise<void> {
  for (const s of statements) {
    try {
      await c.query(s);
    } catch (err) {
      throw new Error(`${what}: ${(err as Error).message}\n  in: ${s}`);
    }
  }
}

/** Every user table with its columns (by name: Postgres cannot reorder), key and indexes. */
async function catalog(c: pg.Client): Promise<unknown> {
  const cols = await c.query(`
    SELECT n.nspname AS schema, cl.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
           a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default
    FROM pg_attribute a JOIN pg_class cl ON cl.oid = a.attrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE cl.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
    ORDER BY 1, 2, 3`);
  const keys = await c.query(`
    SELECT n.nspname AS schema, cl.relname AS table, i.relname AS index, x.indisprimary AS primary, x.indisunique AS unique,
           array_to_string(ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(num, ord)
                                 JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.num ORDER BY k.ord), ',') AS columns
    FROM pg_index x JOIN pg_class cl ON cl.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_namespace n ON n.oid = cl.relnamespace
    WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
    ORDER BY 1, 2, 3`);
  return { columns: cols.rows, indexes: keys.rows };
}

for (const c of DDL_GOLDEN) {
  test(`golden DDL on Postgres: ${c.name}`, async () => {
    await reset(a);
    await reset(b);
    const stream = new DdlStream(postgresDialect, naming);
    for (const sql of c.before ?? []) await run(a, (await stream.statement(sql)).statements, `before-statement ${sql}`);
    const r = await stream.statement(c.sql);
    assert.deepEqual(r.statements, c.postgres, 'the translation is the golden text');
    await run(a, r.statements, 'golden statement');

    for (const def of stream.schemas()) {
      const create = translateCreateTable(def, postgresDialect, naming);
      await run(b, [`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(naming.name(def.database))}`, ...create.statements], `expected table ${def.table}`);
    }
    assert.deepEqual(await catalog(a), await catalog(b), 'the replica matches a fresh CREATE of the evolved schema');
  });
}
