import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DdlEvent } from '../../src/core/events.js';
import { decodeEvent, encodeDdlEvent } from '../../src/core/maxwell.js';
import type { ColumnDef, TableSchema } from '../../src/core/table-schema.js';
import { classifyDdl } from '../../src/ddl/classify.js';
import { createTable, keepsExistingTable, translateDdl } from '../../src/ddl/translate.js';
import { mapColumnType } from '../../src/ddl/type-map.js';
import { greenplumDialect, postgresDialect } from '../../src/target/dialect.js';
import { Naming } from '../../src/target/naming.js';

export function col(name: string, type: string, extra: Partial<ColumnDef> = {}): ColumnDef {
  return { name, type, columnType: type, nullable: true, default: null, unsigned: false, charset: null, length: null, precision: null, scale: null, fsp: null, values: null, ...extra };
}

test('the default type map (docs/TYPES.md)', () => {
  const cases: Array<[ColumnDef, string]> = [
    [col('a', 'tinyint'), 'smallint'],
    [col('a', 'tinyint', { unsigned: true }), 'smallint'],
    [col('a', 'year'), 'smallint'],
    [col('a', 'smallint'), 'smallint'],
    [col('a', 'smallint', { unsigned: true }), 'integer'],
    [col('a', 'mediumint'), 'integer'],
    [col('a', 'mediumint', { unsigned: true }), 'integer'],
    [col('a', 'int'), 'integer'],
    [col('a', 'int', { unsigned: true }), 'bigint'],
    [col('a', 'bigint'), 'bigint'],
    [col('a', 'bigint', { unsigned: true }), 'numeric(20,0)'],
    [col('a', 'decimal', { precision: 65, scale: 30 }), 'numeric(65,30)'],
    [col('a', 'float'), 'real'],
    [col('a', 'double'), 'double precision'],
    [col('a', 'bit', { length: 64 }), 'bit(64)'],
    [col('a', 'char', { length: 3 }), 'char(3)'],
    [col('a', 'varchar', { length: 255 }), 'varchar(255)'],
    [col('a', 'text'), 'text'],
    [col('a', 'longtext'), 'text'],
    [col('a', 'enum', { values: ['x'] }), 'text'],
    [col('a', 'set', { values: ['x'] }), 'text[]'],
    [col('a', 'binary', { length: 16 }), 'bytea'],
    [col('a', 'varbinary', { length: 16 }), 'bytea'],
    [col('a', 'blob'), 'bytea'],
    [col('a', 'longblob'), 'bytea'],
    [col('a', 'date'), 'date'],
    [col('a', 'datetime', { fsp: 6 }), 'timestamp(6) without time zone'],
    [col('a', 'datetime', { fsp: 0 }), 'timestamp(0) without time zone'],
    [col('a', 'timestamp', { fsp: 3 }), 'timestamp(3) with time zone'],
    [col('a', 'time', { fsp: 6 }), 'interval'],
    [col('a', 'json'), 'jsonb'],
    [col('a', 'geometry'), 'text'],
    [col('a', 'point'), 'text'],
  ];
  for (const [c, expected] of cases) assert.equal(mapColumnType(c), expected, c.columnType);
});

const orders: TableSchema = {
  database: 'Shop',
  table: 'Orders',
  charset: 'utf8mb4',
  primaryKey: ['Id'],
  columns: [col('Id', 'bigint', { nullable: false, unsigned: true }), col('Note', 'varchar', { length: 20 })],
};

test('CREATE TABLE for postgres and greenplum (golden)', () => {
  const naming = new Naming();
  assert.equal(
    createTable(orders, postgresDialect, naming),
    'CREATE TABLE IF NOT EXISTS "shop"."orders" ("id" numeric(20,0) NOT NULL, "note" varchar(20), PRIMARY KEY ("id"))',
  );
  assert.equal(
    createTable(orders, greenplumDialect, naming),
    'CREATE TABLE IF NOT EXISTS "shop"."orders" ("id" numeric(20,0) NOT NULL, "note" varchar(20), PRIMARY KEY ("id")) DISTRIBUTED BY ("id")',
  );
  assert.match(createTable({ ...orders, primaryKey: [] }, greenplumDialect, naming), /DISTRIBUTED RANDOMLY$/);
  assert.match(createTable(orders, postgresDialect, new Naming(true)), /"Shop"\."Orders" \("Id"/);
});

test('columns colliding after lower-casing are an error, not a merge', () => {
  const t = { ...orders, columns: [col('a', 'int'), col('A', 'int')] };
  assert.throws(() => createTable(t, postgresDialect, new Naming()), /both become "a"/);
});

test('database and table DDL events translate; ALTER is refused clearly', () => {
  const n = new Naming();
  assert.deepEqual(translateDdl({ kind: 'ddl', type: 'database-create', database: 'Shop', sql: '', ts: 0 }, postgresDialect, n), ['CREATE SCHEMA IF NOT EXISTS "shop"']);
  assert.deepEqual(translateDdl({ kind: 'ddl', type: 'database-drop', database: 'shop', sql: '', ts: 0 }, postgresDialect, n), ['DROP SCHEMA IF EXISTS "shop" CASCADE']);
  assert.deepEqual(translateDdl({ kind: 'ddl', type: 'table-drop', database: 'shop', table: 'x', sql: '', ts: 0 }, postgresDialect, n), ['DROP TABLE IF EXISTS "shop"."x"']);
  assert.throws(
    () => translateDdl({ kind: 'ddl', type: 'table-alter', database: 'shop', table: 'x', sql: 'ALTER TABLE x ADD y INT', ts: 0 }, postgresDialect, n),
    (e: Error & { code?: string }) => e.code === 'UNSUPPORTED_DDL' && /ALTER TABLE x ADD y INT/.test(e.message),
  );
});

test('classifies the statements that shape the replica', () => {
  assert.deepEqual(classifyDdl('CREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */', ''), { kind: 'database-create', database: 'shop' });
  assert.deepEqual(classifyDdl('create schema if not exists s2', ''), { kind: 'database-create', database: 's2' });
  assert.deepEqual(classifyDdl('DROP DATABASE `shop`', ''), { kind: 'database-drop', database: 'shop' });
  assert.deepEqual(classifyDdl('CREATE TABLE `a b`.`t``x` (id int)', 'cur'), { kind: 'table-create', ref: { database: 'a b', table: 't`x' } });
  assert.deepEqual(classifyDdl('create table if not exists t (id int)', 'cur'), { kind: 'table-create', ref: { database: 'cur', table: 't' } });
  assert.deepEqual(classifyDdl('CREATE OR REPLACE TABLE t (id int)', 'cur'), { kind: 'table-create', ref: { database: 'cur', table: 't' } });
  assert.deepEqual(classifyDdl('DROP TABLE IF EXISTS `t1`,db2.t2 /* generated by server */', 'cur'), {
    kind: 'table-drop',
    refs: [{ database: 'cur', table: 't1' }, { database: 'db2', table: 't2' }],
  });
  assert.deepEqual(classifyDdl('ALTER TABLE t ADD COLUMN x int', 'cur'), { kind: 'table-alter', ref: { database: 'cur', table: 't' } });
  assert.deepEqual(classifyDdl('RENAME TABLE a TO b, b TO a', 'cur').kind, 'table-rename');
  assert.deepEqual(classifyDdl('TRUNCATE TABLE t', 'cur'), { kind: 'table-truncate', ref: { database: 'cur', table: 't' } });
  for (const ignored of ['GRANT ALL ON *.* TO x', 'CREATE TEMPORARY TABLE t (id int)', 'CREATE USER u', 'CREATE VIEW v AS SELECT 1', 'FLUSH PRIVILEGES', 'ANALYZE TABLE t']) {
    assert.deepEqual(classifyDdl(ignored, 'cur'), { kind: 'ignored' }, ignored);
  }
});

test('CREATE TABLE replaces a stale replica table unless the event says keep_existing (IF NOT EXISTS, snapshots)', () => {
  const ev = { kind: 'ddl' as const, type: 'table-create' as const, database: 'Shop', table: 'Orders', def: orders, ts: 0 };
  // The field decides, whatever the SQL says; it travels on the wire on every table-create.
  assert.equal(keepsExistingTable({ ...ev, sql: 'CREATE TABLE IF NOT EXISTS Orders (…)', keepExisting: false }), false);
  assert.equal(keepsExistingTable({ ...ev, sql: '-- my2pg schema snapshot of shop.orders', keepExisting: true }), true);
  for (const keepExisting of [true, false]) {
    const wire = encodeDdlEvent({ type: 'table-create', database: 'Shop', table: 'Orders', def: orders, ts: 0, sql: 'CREATE TABLE Orders (…)', keepExisting });
    assert.match(wire, new RegExp(`"keep_existing":${keepExisting}`));
    assert.equal((decodeEvent(wire) as DdlEvent).keepExisting, keepExisting);
  }
  // Events without it (Maxwell's): the SQL says.
  assert.equal(keepsExistingTable({ ...ev, sql: 'CREATE TABLE t (id int)' }), false);
  assert.equal(keepsExistingTable({ ...ev, sql: 'CREATE OR REPLACE TABLE t (id int)' }), false);
  assert.equal(keepsExistingTable({ ...ev, sql: 'create table /* c */ if not exists `t` (id int)' }), true);
  assert.deepEqual(translateDdl({ ...ev, sql: 'CREATE TABLE Orders (…)', keepExisting: false }, postgresDialect, new Naming()).slice(1, 2), ['DROP TABLE IF EXISTS "shop"."orders"']);
  assert.equal(translateDdl({ ...ev, sql: 'CREATE TABLE Orders (…)', keepExisting: true }, postgresDialect, new Naming()).length, 2);
});

test('per-column type overrides: column rules win over type rules', () => {
  const def: TableSchema = {
    database: 'shop', table: 'users', charset: null, primaryKey: ['id'],
    columns: [col('id', 'int'), col('active', 'tinyint', { columnType: 'tinyint(1)' }), col('flag', 'tinyint', { columnType: 'tinyint(1)' }), col('doc', 'json')],
  };
  const sql = createTable(def, postgresDialect, new Naming(), { 'tinyint(1)': 'boolean', 'shop.users.flag': 'smallint', '*.*.doc': 'text' });
  assert.equal(sql, 'CREATE TABLE IF NOT EXISTS "shop"."users" ("id" integer, "active" boolean, "flag" smallint, "doc" text, PRIMARY KEY ("id"))');
});
