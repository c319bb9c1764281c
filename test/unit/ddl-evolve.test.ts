// The schema evolver (MySQL-side definitions, column order kept) and the Postgres/Greenplum
// translation of table changes beyond the golden corpus: options, overrides, edge cases.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TableSchema } from '../../src/core/table-schema.js';
import { evolveSchema, evolveTable } from '../../src/ddl/evolve.js';
import { tableKey } from '../../src/core/table-key.js';
import type { AlterSpec, DdlOperation } from '../../src/ddl/operations.js';
import { parseDdl } from '../../src/ddl/parse.js';
import { pgIndexName, pkConstraintName, translateCreateTable, translateTableAlter, usingExpression } from '../../src/ddl/pg-ddl.js';
import { translateDdl } from '../../src/ddl/translate.js';
import { greenplumDialect, postgresDialect } from '../../src/target/dialect.js';
import { Naming } from '../../src/target/naming.js';
import { DdlStream } from '../harness/ddl-stream.js';

const naming = new Naming();

function table(sql: string): TableSchema {
  return (parseDdl(sql, 'shop') as Extract<DdlOperation, { op: 'create-table' }>).def;
}
function alter(t: TableSchema, sql: string) {
  return evolveTable(t, (parseDdl(sql, 'shop') as { specs: AlterSpec[] }).specs);
}

const T = table('CREATE TABLE t (a int NOT NULL, b varchar(10), c text, d int, PRIMARY KEY (a), KEY k_bd (b, d)) DEFAULT CHARSET=latin1');

test('FIRST/AFTER keep the exact MySQL column order', () => {
  const { def } = alter(T, 'ALTER TABLE t ADD x int FIRST, ADD y int AFTER b, MODIFY d int FIRST, ADD z int AFTER y');
  assert.deepEqual(def.columns.map((c) => c.name), ['d', 'x', 'a', 'b', 'y', 'z', 'c']);
  assert.deepEqual(T.columns.map((c) => c.name), ['a', 'b', 'c', 'd'], 'the input is not modified');
});

test('renames: hints, keys and indexes follow; swaps resolve against the old table', () => {
  const r = alter(T, 'ALTER TABLE t CHANGE a id bigint NOT NULL, RENAME COLUMN b TO d, RENAME COLUMN d TO b');
  assert.deepEqual(r.renames, [{ from: 'a', to: 'id' }, { from: 'b', to: 'd' }, { from: 'd', to: 'b' }]);
  assert.deepEqual(r.def.primaryKey, ['id']);
  assert.deepEqual(r.def.indexes![0].columns, ['d', 'b']);
  assert.deepEqual(r.def.columns.map((c) => c.name), ['id', 'd', 'c', 'b']);
});

test('MODIFY replaces the whole definition; charset comes from the table; key columns stay NOT NULL', () => {
  const { def } = alter(T, 'ALTER TABLE t MODIFY b varchar(20), MODIFY a int NULL');
  assert.equal(def.columns[1].charset, 'latin1');
  assert.equal(def.columns[1].length, 20);
  assert.equal(def.columns[0].nullable, false);
});

test('dropping columns shrinks keys and indexes as MySQL does', () => {
  const { def } = alter(T, 'ALTER TABLE t DROP COLUMN d');
  assert.deepEqual(def.indexes!.map((i) => i.columns), [['b']]);
  const two = table('CREATE TABLE u (a int, b int, PRIMARY KEY (a, b), KEY (b))');
  assert.deepEqual(alter(two, 'ALTER TABLE u DROP b').def, { ...two, primaryKey: ['a'], columns: [two.columns[0]], indexes: [] });
});

test('CONVERT TO CHARACTER SET widens TEXT columns to keep their capacity in characters', () => {
  const { def } = alter(T, 'ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4');
  assert.equal(def.charset, 'utf8mb4');
  assert.deepEqual([def.columns[1].charset, def.columns[2].type, def.columns[2].charset], ['utf8mb4', 'mediumtext', 'utf8mb4']);
  assert.equal(alter(T, 'ALTER TABLE t DEFAULT CHARSET utf8mb4').def.columns[2].type, 'text');
});

test('statements naming unknown tables or columns are refused: the schema no longer matches', () => {
  const schemas = new Map([[tableKey('shop', 't'), T]]);
  for (const sql of ['ALTER TABLE nope ADD x int', 'ALTER TABLE t DROP COLUMN nope', 'ALTER TABLE t MODIFY nope int', 'ALTER TABLE t ADD a int', 'ALTER TABLE t ADD x int AFTER nope', 'RENAME TABLE nope TO x', 'CREATE TABLE x LIKE nope', 'ALTER TABLE t ADD PRIMARY KEY (b)']) {
    assert.throws(() => evolveSchema(parseDdl(sql, 'shop'), schemas), (e: Error & { code?: string }) => e.code === 'UNSUPPORTED_DDL', sql);
  }
  assert.doesNotThrow(() => evolveSchema(parseDdl('ALTER TABLE t DROP COLUMN IF EXISTS nope, DROP INDEX IF EXISTS nope', 'shop'), schemas));
});

test('schema map: LIKE copies, RENAME moves in order, DROP DATABASE forgets its tables, CREATE … SELECT waits for the source', () => {
  let s = evolveSchema(parseDdl('CREATE TABLE u LIKE t', 'shop'), new Map([[tableKey('shop', 't'), T]])).schemas;
  assert.deepEqual(s.get(tableKey('shop', 'u')), { ...T, table: 'u' });
  s = evolveSchema(parseDdl('RENAME TABLE t TO tmp, u TO t, tmp TO u', 'shop'), s).schemas;
  assert.deepEqual([...s.keys()].sort(), [tableKey('shop', 't'), tableKey('shop', 'u')]);
  assert.equal(s.get(tableKey('shop', 'u'))!.columns.length, 4);
  const sel = evolveSchema(parseDdl('CREATE TABLE v AS SELECT * FROM t', 'shop'), s);
  assert.deepEqual(sel.changes, [{ kind: 'create-table-select', table: { database: 'shop', table: 'v' }, replaces: false }]);
  assert.equal(evolveSchema(parseDdl('DROP DATABASE shop', 'x'), s).schemas.size, 0);
});

test('type overrides: types and defaults follow them', () => {
  const def = table('CREATE TABLE f (id int PRIMARY KEY, flag tinyint(1) NOT NULL DEFAULT 1, n tinyint(1) DEFAULT 7)');
  const t = translateCreateTable(def, postgresDialect, naming, { overrides: { 'tinyint(1)': 'boolean' } });
  assert.equal(t.statements[0], 'CREATE TABLE IF NOT EXISTS "shop"."f" ("id" integer NOT NULL, "flag" boolean DEFAULT true NOT NULL, "n" boolean, PRIMARY KEY ("id"))');
  assert.deepEqual(t.notes, ["column n: DEFAULT 7 dropped (the column's type is overridden to boolean)"]);
  const { def: after, renames } = evolveTable(def, (parseDdl('ALTER TABLE f MODIFY flag tinyint(1) NULL', 'shop') as { specs: AlterSpec[] }).specs);
  assert.deepEqual(translateTableAlter(def, after, renames, postgresDialect, naming, { overrides: { 'tinyint(1)': 'boolean' } }).statements, [
    'ALTER TABLE "shop"."f" ALTER COLUMN "flag" DROP NOT NULL',
    'ALTER TABLE "shop"."f" ALTER COLUMN "flag" DROP DEFAULT',
  ]);
});

test('indexes can be switched off; Greenplum skips them when the table may already exist', async () => {
  const sql = 'CREATE TABLE g (id int PRIMARY KEY, a int, KEY (a))';
  assert.equal(translateCreateTable(table(sql), postgresDialect, naming, { indexes: false }).statements.length, 1);
  assert.equal(translateCreateTable(table(sql), postgresDialect, naming).statements.length, 2);
  const gp = translateCreateTable(table(sql), greenplumDialect, naming, {}, true);
  assert.equal(gp.statements.length, 1);
  assert.match(gp.notes[0], /no CREATE INDEX IF NOT EXISTS/);
  const stream = new DdlStream(postgresDialect, naming);
  await stream.statement(sql);
  assert.deepEqual((await stream.statement('ALTER TABLE g DROP INDEX a, ADD INDEX b (id)', { indexes: false })).statements, []);
});

test('translateDdl keeps working for events, now with defaults and indexes', () => {
  const def = table("CREATE TABLE h (id int PRIMARY KEY, s varchar(3) DEFAULT 'x', KEY (s))");
  assert.deepEqual(translateDdl({ kind: 'ddl', type: 'table-create', database: 'shop', table: 'h', def, sql: 'CREATE TABLE h (…)', ts: 0 }, postgresDialect, naming), [
    'CREATE SCHEMA IF NOT EXISTS "shop"',
    'DROP TABLE IF EXISTS "shop"."h"',
    `CREATE TABLE IF NOT EXISTS "shop"."h" ("id" integer NOT NULL, "s" varchar(3) DEFAULT 'x', PRIMARY KEY ("id"))`,
    'CREATE INDEX IF NOT EXISTS "h_s" ON "shop"."h" ("s")',
  ]);
  assert.equal(translateDdl({ kind: 'ddl', type: 'table-create', database: 'shop', table: 'h', def, sql: 'CREATE TABLE h (…)', ts: 0 }, postgresDialect, naming, {}, { indexes: false }).length, 3);
});

test('Postgres names: primary-key and index names stay within 63 bytes', () => {
  const long = 'x'.repeat(70);
  assert.equal(pkConstraintName(long), `${'x'.repeat(58)}_pkey`);
  assert.equal(pkConstraintName('é'.repeat(40)), `${'é'.repeat(29)}_pkey`, 'clipped on a character boundary');
  const name = pgIndexName(long, 'idx');
  assert.equal(Buffer.byteLength(name), 63);
  assert.notEqual(pgIndexName(long, 'idx'), pgIndexName(long, 'idy'));
  assert.equal(pgIndexName('t', 'i'), 't_i');
});

test('USING expressions', () => {
  assert.equal(usingExpression('"c"', 'integer', 'text'), '"c"::text');
  assert.equal(usingExpression('"c"', 'varchar(5)', 'integer'), '"c"::integer');
  assert.equal(usingExpression('"c"', 'text', 'bytea'), `convert_to("c", 'UTF8')`);
  assert.equal(usingExpression('"c"', 'bytea', 'varchar(9)'), `convert_from("c", 'UTF8')::varchar(9)`);
  assert.equal(usingExpression('"c"', 'integer', 'bit(8)'), '"c"::bigint::bit(8)');
  assert.equal(usingExpression('"c"', 'text[]', 'text'), `array_to_string("c", ',')::text`);
});

test('Greenplum: a unique index that would block redistribution is rebuilt around the key change', async () => {
  const stream = new DdlStream(greenplumDialect, naming);
  await stream.statement('CREATE TABLE k (a int NOT NULL, b int NOT NULL, PRIMARY KEY (a), UNIQUE KEY ab (a, b))');
  const r = await stream.statement('ALTER TABLE k MODIFY a bigint NOT NULL');
  assert.deepEqual(r.statements, [
    'DROP INDEX IF EXISTS "shop"."k_ab"',
    'ALTER TABLE "shop"."k" DROP CONSTRAINT "k_pkey"',
    'ALTER TABLE "shop"."k" SET DISTRIBUTED RANDOMLY',
    'ALTER TABLE "shop"."k" ALTER COLUMN "a" TYPE bigint USING "a"::bigint',
    'ALTER TABLE "shop"."k" SET DISTRIBUTED BY ("a")',
    'ALTER TABLE "shop"."k" ADD PRIMARY KEY ("a")',
    'CREATE UNIQUE INDEX "k_ab" ON "shop"."k" ("a", "b")',
  ]);
  assert.deepEqual((await stream.statement('ALTER TABLE k DROP PRIMARY KEY')).statements, [
    'DROP INDEX IF EXISTS "shop"."k_ab"',
    'ALTER TABLE "shop"."k" DROP CONSTRAINT "k_pkey"',
    'ALTER TABLE "shop"."k" SET DISTRIBUTED RANDOMLY',
    'CREATE INDEX "k_ab" ON "shop"."k" ("a", "b")',
  ]);
});

test('MySQL column names are case-insensitive: a second column differing in case is refused', async () => {
  const withM = async (n: Naming) => {
    const stream = new DdlStream(postgresDialect, n);
    await stream.statement('CREATE TABLE m (a int)');
    return stream;
  };
  await assert.rejects((await withM(naming)).statement('ALTER TABLE m ADD A int'), /already exists/);
  assert.deepEqual((await (await withM(new Naming(true))).statement('ALTER TABLE m CHANGE a A int')).statements, ['ALTER TABLE "shop"."m" RENAME COLUMN "a" TO "A"']);
  assert.deepEqual((await (await withM(naming)).statement('ALTER TABLE m CHANGE a A int')).statements, [], 'lower-cased, nothing changes');
});
