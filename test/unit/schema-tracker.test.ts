// The schema tracker: DDL events from the tracked definitions (old/def, renames, RENAME TABLE
// swaps, the filter on both names), the records to store, fingerprints for ddl_skip, and the
// new TableSchema fields through the Maxwell encoder and decoder.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ddlFingerprint, SchemaTracker, type SourceReader } from '../../src/capture/schema-tracker.js';
import { TableFilter } from '../../src/core/table-filter.js';
import { loadConfig } from '../../src/config/load.js';
import type { DdlEvent } from '../../src/core/events.js';
import { decodeEvent, encodeDdlEvent } from '../../src/core/maxwell.js';
import type { TableSchema } from '../../src/core/table-schema.js';
import { parseDdl } from '../../src/ddl/parse.js';

const base = { ts: 1, sql: 'x', position: 'bin.1:4' };
const noSource: SourceReader = async () => null;

function table(sql: string): TableSchema {
  const op = parseDdl(sql, 'shop');
  if (op.op !== 'create-table') throw new Error(op.op);
  return op.def;
}

function tracker(include: string[] = ['shop']): SchemaTracker {
  return new SchemaTracker(new TableFilter(include), [
    table('CREATE TABLE a (id INT PRIMARY KEY, v VARCHAR(10), KEY by_v (v))'),
    table('CREATE TABLE b (id BIGINT PRIMARY KEY, w INT NOT NULL DEFAULT 3)'),
  ]);
}

async function run(t: SchemaTracker, sql: string, read = noSource) {
  return t.apply(t.parse(sql, 'shop'), { ...base, sql }, read);
}

test('ALTER: a table-alter with old, def and the column renames; the new definition is tracked and recorded', async () => {
  const t = tracker();
  const { events, records } = await run(t, 'ALTER TABLE a CHANGE v label VARCHAR(30) NOT NULL, ADD n INT');
  assert.equal(events.length, 1);
  const ev = events[0];
  assert.equal(ev.type, 'table-alter');
  assert.deepEqual([ev.database, ev.table], ['shop', 'a']);
  assert.deepEqual(ev.old?.columns.map((c) => c.name), ['id', 'v']);
  assert.deepEqual(ev.def?.columns.map((c) => c.name), ['id', 'label', 'n']);
  assert.deepEqual(ev.renames, [{ from: 'v', to: 'label' }]);
  assert.deepEqual(t.get('shop', 'a')?.columns.map((c) => c.name), ['id', 'label', 'n']);
  assert.deepEqual(records.map((r) => [r.table, r.def?.columns.length]), [['a', 3]]);
});

test('RENAME TABLE swap: one table-alter per pair, named as before each pair (as Maxwell does)', async () => {
  const t = tracker();
  const { events, records } = await run(t, 'RENAME TABLE a TO tmp, b TO a, tmp TO b');
  assert.deepEqual(events.map((e) => [e.type, e.table, e.def?.table]), [
    ['table-alter', 'a', 'tmp'],
    ['table-alter', 'b', 'a'],
    ['table-alter', 'tmp', 'b'],
  ]);
  assert.deepEqual(t.get('shop', 'a')?.columns.map((c) => c.name), ['id', 'w']);
  assert.deepEqual(t.get('shop', 'b')?.columns.map((c) => c.name), ['id', 'v']);
  assert.equal(t.get('shop', 'tmp'), undefined);
  // Stored: a and b with their new definitions, tmp gone.
  const stored = new Map(records.map((r) => [r.table, r.def?.columns.map((c) => c.name) ?? null]));
  assert.deepEqual(stored, new Map([['a', ['id', 'w']], ['b', ['id', 'v']], ['tmp', null]]));
});

test('the filter applies to both names: out of it is a drop, into it a create read from the source', async () => {
  const t = tracker(['shop.a', 'shop.b', 'shop.c']);
  const out = await run(t, 'RENAME TABLE a TO hidden');
  assert.deepEqual(out.events.map((e) => [e.type, e.table]), [['table-drop', 'a']]);
  assert.equal(t.get('shop', 'hidden'), undefined);
  const read = async (db: string, name: string) => ({ ...table('CREATE TABLE x (id INT PRIMARY KEY, z TEXT)'), database: db, table: name });
  const into = await run(t, 'RENAME TABLE hidden TO c', read);
  assert.deepEqual(into.events.map((e) => [e.type, e.table, e.def?.columns.length]), [['table-create', 'c', 2]]);
  assert.deepEqual((await run(t, 'ALTER TABLE elsewhere ADD q INT')).events, []);
  assert.deepEqual((await run(t, 'DROP TABLE b, elsewhere')).events.map((e) => [e.type, e.table]), [['table-drop', 'b']]);
});

test('CREATE, CREATE … LIKE, CREATE … SELECT, TRUNCATE, DROP DATABASE', async () => {
  const t = tracker();
  assert.deepEqual((await run(t, 'CREATE TABLE c (id INT PRIMARY KEY)')).events.map((e) => [e.type, e.def?.columns.length]), [['table-create', 1]]);
  assert.deepEqual((await run(t, 'CREATE TABLE IF NOT EXISTS c (other INT)')).events, []);
  assert.deepEqual((await run(t, 'CREATE TABLE d LIKE a')).events.map((e) => [e.type, e.def?.indexes?.length]), [['table-create', 1]]);
  // Statement-based CREATE … SELECT: the columns are read from the source at that time.
  const read = async (db: string, name: string) => ({ ...table('CREATE TABLE x (id INT, v TEXT)'), database: db, table: name });
  assert.deepEqual((await run(t, 'CREATE TABLE e SELECT id, v FROM a', read)).events.map((e) => [e.type, e.table, e.def?.columns.length]), [['table-create', 'e', 2]]);
  assert.deepEqual((await run(t, 'TRUNCATE a')).events.map((e) => e.type), ['table-truncate']);
  const drop = await run(t, 'DROP DATABASE shop');
  assert.deepEqual(drop.events.map((e) => e.type), ['database-drop']);
  assert.deepEqual(drop.records.map((r) => r.def).filter((d) => d !== null), []);
  assert.equal(t.size, 0);
});

test('an unparseable statement on an included table throws; outside the filter it is ignored', async () => {
  const t = tracker();
  assert.throws(() => t.parse('ALTER TABLE a ADD SYSTEM VERSIONING', 'shop'), (e: Error & { code?: string }) => e.code === 'UNSUPPORTED_DDL');
  assert.deepEqual(t.parse('ALTER TABLE other.a ADD SYSTEM VERSIONING', 'shop'), { op: 'ignored', reason: 'unparsed, outside the filter' });
  // A failed statement leaves the tracker as it was.
  await assert.rejects(run(t, 'ALTER TABLE a DROP COLUMN nope'));
  assert.deepEqual(t.get('shop', 'a')?.columns.map((c) => c.name), ['id', 'v']);
});

test('fingerprints ignore white space and a trailing semicolon; ddl_skip takes fingerprints and positions', () => {
  const fp = ddlFingerprint('ALTER TABLE a  ADD\n SYSTEM VERSIONING;');
  assert.match(fp, /^sha256:[0-9a-f]{16}$/);
  assert.equal(ddlFingerprint(' ALTER TABLE a ADD SYSTEM VERSIONING '), fp);
  assert.notEqual(ddlFingerprint('ALTER TABLE b ADD SYSTEM VERSIONING'), fp);
  const c = loadConfig({ flags: { 'ddl-skip': `${fp},mysql-bin.000003:4417` }, env: {} });
  assert.deepEqual(c.ddl_skip, [fp, 'mysql-bin.000003:4417']);
  assert.throws(() => loadConfig({ flags: { 'ddl-skip': 'ALTER TABLE' }, env: {} }), /ddl_skip/);
});

test('indexes, default kinds, AUTO_INCREMENT and column renames survive encode and decode', () => {
  const old = table("CREATE TABLE a (id INT AUTO_INCREMENT PRIMARY KEY, t DATETIME DEFAULT CURRENT_TIMESTAMP, s VARCHAR(5) DEFAULT 'now()', KEY k (s(3)), FULLTEXT f (s))");
  const def = { ...old, columns: old.columns.map((c) => (c.name === 's' ? { ...c, name: 's2' } : c)) };
  const text = encodeDdlEvent({ type: 'table-alter', database: 'shop', table: 'a', old, def, renames: [{ from: 's', to: 's2' }], ...base });
  const ev = decodeEvent(text) as DdlEvent;
  assert.deepEqual(ev.old, old);
  assert.deepEqual(ev.renames, [{ from: 's', to: 's2' }]);
  assert.deepEqual(ev.old?.indexes, [
    { name: 'k', unique: false, columns: ['s'], prefixLengths: [3] },
    { name: 'f', unique: false, columns: ['s'], kind: 'fulltext' },
  ]);
  assert.equal(ev.old?.columns[0].autoIncrement, true);
  assert.deepEqual(ev.old?.columns.map((c) => c.defaultKind), [undefined, 'expression', 'literal']);
});

test("inherited character sets are written out as Maxwell does: the database's default, else the server's", async () => {
  const t = new SchemaTracker(new TableFilter(['shop', 'blog']), [], { databases: [['shop', 'latin1']], server: 'utf8mb4' });
  const created = await run(t, 'CREATE TABLE c (id INT PRIMARY KEY, s VARCHAR(5), u VARCHAR(5) CHARACTER SET utf8mb3, e ENUM(\'x\'), b BLOB)');
  const def = created.events[0].def!;
  assert.equal(def.charset, 'latin1');
  assert.deepEqual(def.columns.map((c) => [c.name, c.charset]), [['id', null], ['s', 'latin1'], ['u', 'utf8mb3'], ['e', 'latin1'], ['b', null]]);
  assert.deepEqual(t.get('shop', 'c'), def, 'tracked with the character sets written out');
  assert.deepEqual(created.records[0].def, def);
  const json = JSON.parse(encodeDdlEvent(created.events[0]));
  assert.equal(json.def.charset, 'latin1');
  assert.deepEqual(json.def.columns.map((c: { charset?: string }) => c.charset), [undefined, 'latin1', 'utf8mb3', undefined, 'binary']);
  // A column added later takes the table's character set.
  const altered = await run(t, 'ALTER TABLE c ADD t TEXT');
  assert.equal(altered.events[0].def!.columns.at(-1)!.charset, 'latin1');

  // CREATE DATABASE without a character set gets the server's; tables in it inherit it.
  const db = await run(t, 'CREATE DATABASE blog');
  assert.deepEqual(db.events.map((e) => [e.type, e.charset]), [['database-create', 'utf8mb4']]);
  assert.equal((await run(t, 'CREATE TABLE blog.p (id INT PRIMARY KEY, s TEXT)')).events[0].def!.charset, 'utf8mb4');
  // ALTER DATABASE changes the default for tables created after it; Maxwell's charset is null when it sets none.
  assert.deepEqual((await run(t, 'ALTER DATABASE blog CHARACTER SET cp1251')).events.map((e) => e.charset), ['cp1251']);
  assert.deepEqual((await run(t, "ALTER DATABASE blog COMMENT 'x'")).events.map((e) => e.charset), [null]);
  assert.equal((await run(t, 'CREATE TABLE blog.q (s TEXT)')).events[0].def!.columns[0].charset, 'cp1251');
  // IF NOT EXISTS of an existing database keeps its character set.
  assert.deepEqual((await run(t, 'CREATE DATABASE IF NOT EXISTS blog CHARACTER SET ascii')).events.map((e) => e.charset), ['cp1251']);
  assert.equal(t.databaseCharset('blog'), 'cp1251');
  await run(t, 'DROP DATABASE blog');
  assert.equal(t.databaseCharset('blog'), undefined);
  // A definition stored without its table charset (earlier my2pg) gets it in the next event.
  const legacy = new SchemaTracker(new TableFilter(['shop']), [table('CREATE TABLE l (id INT PRIMARY KEY, s VARCHAR(5))')], { databases: [['shop', 'latin1']] });
  const ev = (await run(legacy, 'ALTER TABLE l ADD n INT')).events[0];
  assert.deepEqual([ev.old!.charset, ev.def!.charset, ev.def!.columns[1].charset], ['latin1', 'latin1', 'latin1']);
});

test("DDL events carry the statement's positions: tx_position always, Maxwell's position and gtid when asked", async () => {
  const t = tracker();
  const { events } = await run(t, 'DROP TABLE a');
  assert.equal(encodeDdlEvent(events[0]), '{"type":"table-drop","database":"shop","table":"a","ts":1,"sql":"DROP TABLE a","tx_position":"bin.1:4"}');
  const withMaxwells = await t.apply(t.parse('DROP TABLE b', 'shop'), { ...base, sql: 'DROP TABLE b', eventPosition: 'bin.1:90', gtid: '0-1-7' }, noSource);
  assert.equal(
    encodeDdlEvent(withMaxwells.events[0]),
    '{"type":"table-drop","database":"shop","table":"b","ts":1,"sql":"DROP TABLE b","position":"bin.1:90","gtid":"0-1-7","tx_position":"bin.1:4"}',
  );
});
