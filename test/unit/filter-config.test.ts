import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TableFilter } from '../../src/core/table-filter.js';
import { loadConfig } from '../../src/config/load.js';

test('no include rule: everything but system databases', () => {
  const f = new TableFilter([]);
  assert.ok(f.includesTable('shop', 'orders'));
  for (const db of ['mysql', 'information_schema', 'performance_schema', 'sys']) assert.ok(!f.includesDatabase(db));
});

test('include db, db.table and regex; exclude wins', () => {
  const f = new TableFilter(['shop', 'crm.contacts', 'logs./^ev_\\d+$/'], ['shop.secret']);
  assert.ok(f.includesTable('shop', 'orders'));
  assert.ok(!f.includesTable('shop', 'secret'));
  assert.ok(f.includesTable('crm', 'contacts'));
  assert.ok(!f.includesTable('crm', 'deals'));
  assert.ok(f.includesTable('logs', 'ev_2024'));
  assert.ok(!f.includesTable('logs', 'ev_x'));
  assert.ok(!f.includesDatabase('other'));
});

test("Maxwell's filter syntax: rules in order, the last match wins", () => {
  const f = new TableFilter([], [], 'exclude: shop.*, include: shop.orders, include: shop./^log_/, blacklist: bad.*, exclude: *./tmp$/');
  assert.ok(f.includesTable('shop', 'orders'));
  assert.ok(f.includesTable('shop', 'log_2024'));
  assert.ok(!f.includesTable('shop', 'users'));
  assert.ok(!f.includesTable('bad', 'x'));
  assert.ok(f.includesTable('other', 'x'), 'no matching rule: included');
  assert.ok(!f.includesTable('other', 'x_tmp'));
  assert.ok(f.includesDatabase('shop'), 'some tables of shop are included');
  assert.ok(!f.includesDatabase('bad'));
  const quoted = new TableFilter([], [], 'exclude: *.*, include: `my db`.`a.b`');
  assert.ok(quoted.includesTable('my db', 'a.b'));
  assert.ok(!quoted.includesTable('my db', 'ab'));
  assert.throws(() => new TableFilter([], [], 'include shop.*'), /cannot read rule "include shop\.\*"/);
  assert.throws(() => new TableFilter([], [], 'exclude: db.t.c.d'), /expected db\.table or db\.table\.column = value/);
});

test('column value rules decide row by row', () => {
  const f = new TableFilter([], [], 'exclude: shop.orders.state = draft, exclude: *.*.tenant = *, include: *.*.tenant = 42, exclude: shop.users.deleted_at = /./');
  assert.ok(f.hasColumnRules);
  assert.ok(f.includesTable('shop', 'orders'));
  assert.ok(!f.includesRow('shop', 'orders', { id: '1', state: '"draft"' }));
  assert.ok(f.includesRow('shop', 'orders', { id: '2', state: '"paid"' }));
  assert.ok(!f.includesRow('crm', 'leads', { tenant: '7' }));
  assert.ok(f.includesRow('crm', 'leads', { tenant: '42' }));
  assert.ok(f.includesRow('crm', 'leads', { other: '1' }), 'rules on absent columns do not apply');
  assert.ok(!f.includesRow('shop', 'users', { deleted_at: '"2024-01-01 00:00:00"' }));
  assert.ok(f.includesRow('shop', 'users', { deleted_at: 'null' }));
  const onlyNull = new TableFilter([], [], 'exclude: *.*, include: app.jobs.owner = null');
  assert.ok(onlyNull.includesTable('app', 'jobs'), 'an include column rule may include rows of an excluded table');
  assert.ok(onlyNull.includesRow('app', 'jobs', { owner: 'null' }));
  assert.ok(!onlyNull.includesRow('app', 'jobs', { owner: '"bob"' }));
});

test('a bad regex is a config error', () => {
  assert.throws(() => new TableFilter(['/[/']), /bad regex/);
});

test('precedence: defaults < file < env < flags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const file = join(dir, 'my2pg.yml');
  writeFileSync(file, 'topic: from-file\ngroup: file-group\nbatch_max_rows: 10\ninclude: [a, b.c]\n');
  const c = loadConfig({ file, env: { MY2PG_GROUP: 'env-group', MY2PG_BATCH_MAX_ROWS: '20' }, flags: { 'batch-max-rows': '30' } });
  assert.equal(c.topic, 'from-file');
  assert.equal(c.group, 'env-group');
  assert.equal(c.batch_max_rows, 30);
  assert.deepEqual(c.include, ['a', 'b.c']);
  assert.equal(c.dialect, 'postgres');
});

test('type overrides come as a YAML mapping or as JSON text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const file = join(dir, 'o.yml');
  writeFileSync(file, 'type_overrides:\n  "tinyint(1)": boolean\n  "shop.users.note": text\n');
  assert.deepEqual(loadConfig({ file, env: {}, flags: {} }).type_overrides, { 'tinyint(1)': 'boolean', 'shop.users.note': 'text' });
  assert.deepEqual(loadConfig({ env: { MY2PG_TYPE_OVERRIDES: '{"tinyint(1)":"boolean"}' }, flags: {} }).type_overrides, { 'tinyint(1)': 'boolean' });
  assert.throws(() => loadConfig({ env: { MY2PG_TYPE_OVERRIDES: 'tinyint(1)=boolean' }, flags: {} }), /type_overrides: /);
});

test('invalid values name their key and the reason', () => {
  assert.throws(() => loadConfig({ env: { MY2PG_SOURCE: 'postgres://x' }, flags: {} }), /source: must be a mysql:\/\/ URL|source: must be a mysql/);
  assert.throws(() => loadConfig({ env: {}, flags: { 'batch-max-rows': '0' } }), /batch_max_rows: /);
  assert.throws(() => loadConfig({ env: {}, flags: { dialect: 'oracle' } }), /dialect: /);
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  const file = join(dir, 'bad.yml');
  writeFileSync(file, 'topik: x\n');
  assert.throws(() => loadConfig({ file, env: {}, flags: {} }), /unknown option\(s\) topik/);
});
