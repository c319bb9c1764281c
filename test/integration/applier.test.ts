// The applier against a real Postgres: merge semantics, redelivery, tables without a key,
// dead letters, ALTER in stream order, stopped tables, and every type of the default mapping.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Applier, prepareBatch, type PreparedMessage } from '../../src/apply/applier.js';
import { My2pgError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { encodeDdlEvent, encodeHeartbeat, encodeRowEvent } from '../../src/core/maxwell.js';
import { REPLAY_PAGE } from '../../src/state/parked-events.js';
import { evolveSchema } from '../../src/ddl/evolve.js';
import { tableKey } from '../../src/core/table-key.js';
import { parseDdl } from '../../src/ddl/parse.js';
import type { ColumnDef, TableSchema } from '../../src/core/table-schema.js';
import { migrateControlSchema } from '../../src/state/control-schema.js';
import { postgresDialect } from '../../src/target/dialect.js';
import { Naming } from '../../src/target/naming.js';
import { InProcessTransport } from '../../src/transport/in-process.js';
import type { DeliveredMessage } from '../../src/transport/transport.js';
import { createPgDatabase, pgClient, waitForState } from '../harness/servers.js';

let db: Awaited<ReturnType<typeof createPgDatabase>>;
let client: ReturnType<typeof pgClient>;
let applier: Applier;
const transport = new InProcessTransport(10);
let pos = 1000;

function c(name: string, type: string, extra: Partial<ColumnDef> = {}): ColumnDef {
  return { name, type, columnType: type, nullable: true, default: null, unsigned: false, charset: null, length: null, precision: null, scale: null, fsp: null, values: null, ...extra };
}

/** Wraps event JSON texts as one transaction's delivered messages. */
function tx(...values: string[]): PreparedMessage[] {
  const start = { file: 'bin.000001', pos: pos++ };
  const next = { file: 'bin.000001', pos: pos };
  const messages: DeliveredMessage[] = values.map((value, i) => ({
    value,
    part: '0',
    position: JSON.stringify({ tx: start, xoffset: i, commit: i === values.length - 1, next }),
  }));
  return prepareBatch(messages);
}

const row = (table: string, type: 'insert' | 'update' | 'delete', data: string, old?: string) =>
  encodeRowEvent({ database: 'Shop', table, type, ts: 1, data, old });

const create = (def: TableSchema) => encodeDdlEvent({ type: 'table-create', database: def.database, table: def.table, def, ts: 1, sql: 'CREATE TABLE …' });

async function rows(sql: string): Promise<unknown[][]> {
  return (await client.query({ text: sql, rowMode: 'array' })).rows;
}

before(async () => {
  db = await createPgDatabase();
  client = pgClient(db.url);
  await client.connect();
  await migrateControlSchema(client);
  applier = new Applier(client as never, transport, {
    dialect: postgresDialect,
    naming: new Naming(),
    log: silentLogger,
    typeOverrides: { 'tinyint(1)': 'boolean' },
  });
});

after(async () => {
  await client?.end();
  await db?.drop();
});

const items: TableSchema = {
  database: 'Shop',
  table: 'Items',
  charset: 'utf8mb4',
  primaryKey: ['OrderId', 'Line'],
  columns: [c('OrderId', 'int', { nullable: false }), c('Line', 'int', { nullable: false }), c('Qty', 'int'), c('Note', 'varchar', { length: 20 })],
};

test('creates the table, then merges inserts, updates, key changes and deletes', async () => {
  await applier.applyBatch(tx(encodeDdlEvent({ type: 'database-create', database: 'Shop', ts: 1, sql: 'CREATE DATABASE Shop' }), create(items)));
  await applier.applyBatch([
    ...tx(
      row('Items', 'insert', '{"OrderId":1,"Line":1,"Qty":5,"Note":"a\\tb"}'),
      row('Items', 'insert', '{"OrderId":1,"Line":2,"Qty":6,"Note":null}'),
      row('Items', 'insert', '{"OrderId":2,"Line":1,"Qty":7,"Note":"x"}'),
    ),
    ...tx(
      row('Items', 'update', '{"OrderId":1,"Line":1,"Qty":50,"Note":"a\\tb"}', '{"Qty":5}'),
      row('Items', 'update', '{"OrderId":1,"Line":3,"Qty":6,"Note":null}', '{"Line":2}'),
      row('Items', 'delete', '{"OrderId":2,"Line":1,"Qty":7,"Note":"x"}'),
    ),
  ]);
  assert.deepEqual(await rows('SELECT orderid, line, qty, note FROM shop.items ORDER BY 1, 2'), [
    ['1', '1', '50', 'a\tb'],
    ['1', '3', '6', null],
  ]);
});

test('events without their null columns (output_nulls=false) apply as NULL, column by column', async () => {
  await applier.applyBatch(
    tx(row('Items', 'insert', '{"OrderId":20,"Line":1,"Qty":3}'), row('Items', 'insert', '{"OrderId":20,"Line":2,"Note":"n"}')),
  );
  assert.deepEqual(await rows('SELECT line, qty, note FROM shop.items WHERE orderid = 20 ORDER BY line'), [
    ['1', '3', null],
    ['2', null, 'n'],
  ]);
});

test('a TINYINT(1) overridden to boolean lands as true/false', async () => {
  const flags: TableSchema = {
    database: 'Shop', table: 'Flags', charset: null, primaryKey: ['id'],
    columns: [c('id', 'int', { nullable: false }), c('on', 'tinyint', { columnType: 'tinyint(1)' }), c('n', 'tinyint', { columnType: 'tinyint(4)' })],
  };
  await applier.applyBatch(tx(create(flags), row('Flags', 'insert', '{"id":1,"on":1,"n":1}'), row('Flags', 'insert', '{"id":2,"on":0,"n":0}')));
  assert.deepEqual(await rows('SELECT "on", n, pg_typeof("on")::text FROM shop.flags ORDER BY id'), [['t', '1', 'boolean'], ['f', '0', 'boolean']]);
});

test('a redelivered batch is a no-op', async () => {
  const batch = tx(row('Items', 'insert', '{"OrderId":9,"Line":1,"Qty":1,"Note":"once"}'));
  const first = await applier.applyBatch(batch);
  await applier.applyBatch(tx(row('Items', 'update', '{"OrderId":9,"Line":1,"Qty":2,"Note":"twice"}', '{"Qty":1,"Note":"once"}')));
  const again = await applier.applyBatch(batch);
  assert.equal(first.applied, 1);
  assert.equal(again.applied, 0);
  assert.equal(again.skipped, 1);
  assert.deepEqual(await rows('SELECT qty, note FROM shop.items WHERE orderid = 9'), [['2', 'twice']]);
});

/** Runs fn, returning the statements the applier sent meanwhile (COPY included). */
async function statements(fn: () => Promise<unknown>): Promise<string[]> {
  const sent: string[] = [];
  const original = client.query;
  client.query = ((q: unknown, ...rest: unknown[]) => {
    sent.push(typeof q === 'string' ? q : String((q as { text?: string }).text));
    return (original as (...a: unknown[]) => unknown).call(client, q, ...rest);
  }) as typeof client.query;
  try {
    await fn();
  } finally {
    client.query = original;
  }
  return sent;
}

test('an insert-only batch of new keys is copied straight into the table; redelivered, it is a no-op', async () => {
  const batch = tx(
    row('Items', 'insert', '{"OrderId":30,"Line":1,"Qty":1,"Note":"new"}'),
    row('Items', 'insert', '{"OrderId":30,"Line":2,"Qty":2,"Note":"a\\tb"}'),
    row('Items', 'insert', '{"OrderId":30,"Line":1,"Qty":3,"Note":"last wins"}'),
  );
  const sent = await statements(() => applier.applyBatch(batch));
  assert.ok(sent.some((q) => q.startsWith('COPY "shop"."items"')), sent.join('\n'));
  assert.ok(!sent.some((q) => /^(CREATE TEMP|DELETE)/.test(q)), sent.join('\n'));
  const expected = [
    ['1', '3', 'last wins'],
    ['2', '2', 'a\tb'],
  ];
  assert.deepEqual(await rows('SELECT line, qty, note FROM shop.items WHERE orderid = 30 ORDER BY line'), expected);
  const again = await applier.applyBatch(batch);
  assert.equal(again.applied, 0);
  assert.equal(again.skipped, 3);
  assert.deepEqual(await rows('SELECT line, qty, note FROM shop.items WHERE orderid = 30 ORDER BY line'), expected);
  // The same changes published again at later positions (capture restarted): the keys exist, so
  // the COPY is refused and the batch merges instead, to the same rows.
  const republished = tx(
    row('Items', 'insert', '{"OrderId":30,"Line":1,"Qty":1,"Note":"new"}'),
    row('Items', 'insert', '{"OrderId":30,"Line":2,"Qty":2,"Note":"a\\tb"}'),
    row('Items', 'insert', '{"OrderId":30,"Line":1,"Qty":3,"Note":"last wins"}'),
  );
  const sent2 = await statements(() => applier.applyBatch(republished));
  assert.ok(sent2.includes('ROLLBACK TO SAVEPOINT my2pg_new_keys'), sent2.join('\n'));
  assert.ok(sent2.some((q) => q.startsWith('DELETE FROM "shop"."items"')), sent2.join('\n'));
  assert.deepEqual(await rows('SELECT line, qty, note FROM shop.items WHERE orderid = 30 ORDER BY line'), expected);
});

test('an insert-only batch mixing new and existing keys upserts both, and the rest of the transaction stands', async () => {
  await applier.applyBatch(tx(row('Items', 'insert', '{"OrderId":31,"Line":1,"Qty":1,"Note":"old"}')));
  const result = await applier.applyBatch([
    ...tx(row('Flags', 'insert', '{"id":31,"on":1,"n":5}')),
    ...tx(
      row('Items', 'insert', '{"OrderId":31,"Line":2,"Qty":2,"Note":"new"}'),
      row('Items', 'insert', '{"OrderId":31,"Line":1,"Qty":9,"Note":"replaced"}'),
    ),
  ]);
  assert.equal(result.applied, 3);
  assert.deepEqual(await rows('SELECT line, qty, note FROM shop.items WHERE orderid = 31 ORDER BY line'), [
    ['1', '9', 'replaced'],
    ['2', '2', 'new'],
  ]);
  assert.deepEqual(await rows('SELECT n FROM shop.flags WHERE id = 31'), [['5']]);
});

test('a row the replica refuses stops only its table: the rows before it stand, it and the rest are parked', async () => {
  const notes: TableSchema = { ...items, table: 'Notes' };
  await applier.applyBatch(tx(create(notes)));
  const before = await rows('SELECT position FROM _my2pg.checkpoints');
  await applier.applyBatch(
    tx(
      row('Notes', 'insert', '{"OrderId":32,"Line":1,"Qty":1,"Note":"fits"}'),
      row('Notes', 'insert', '{"OrderId":32,"Line":2,"Qty":1,"Note":"this note is longer than twenty characters"}'),
      row('Notes', 'insert', '{"OrderId":32,"Line":3,"Qty":1,"Note":"after it"}'),
      row('Items', 'insert', '{"OrderId":33,"Line":1,"Qty":1,"Note":"flows"}'),
    ),
  );
  assert.deepEqual(await rows('SELECT line, note FROM shop.notes WHERE orderid = 32 ORDER BY line'), [['1', 'fits']]);
  assert.deepEqual(await rows('SELECT note FROM shop.items WHERE orderid = 33'), [['flows']]);
  assert.notDeepEqual(await rows('SELECT position FROM _my2pg.checkpoints'), before);
  const [[kind, key, statement, error, held]] = await rows("SELECT kind, row_key, statement, error, skipped_events FROM _my2pg.stopped_tables WHERE source_table = 'Notes'");
  assert.deepEqual([kind, key, held], ['data', '{"orderid":32,"line":2}', '2']);
  assert.match(String(statement), /longer than twenty/);
  assert.match(String(error), /too long/);
  // Later events of the table are parked too, in order, and nothing of them is applied.
  await applier.applyBatch(tx(row('Notes', 'update', '{"OrderId":32,"Line":1,"Qty":7,"Note":"fits"}', '{"Qty":1}')));
  assert.deepEqual(await rows('SELECT qty FROM shop.notes WHERE orderid = 32'), [['1']]);
  assert.deepEqual(await rows("SELECT count(*) FROM _my2pg.parked_events WHERE source_table = 'Notes'"), [['3']]);
  // The operator fixes the cause and resumes the table: the parked events apply from where it stopped.
  await client.query('ALTER TABLE shop.notes ALTER COLUMN note TYPE varchar(60)');
  await client.query("DELETE FROM _my2pg.stopped_tables WHERE source_table = 'Notes'");
  await applier.applyBatch(tx(row('Notes', 'insert', '{"OrderId":32,"Line":4,"Qty":1,"Note":"new"}')));
  assert.deepEqual(await rows('SELECT line, qty, note FROM shop.notes WHERE orderid = 32 ORDER BY line'), [
    ['1', '7', 'fits'],
    ['2', '1', 'this note is longer than twenty characters'],
    ['3', '1', 'after it'],
    ['4', '1', 'new'],
  ]);
  assert.deepEqual(await rows("SELECT count(*) FROM _my2pg.parked_events WHERE source_table = 'Notes'"), [['0']]);
});

test('a resumed table replays its parked events a page per batch; its new events queue behind them', async () => {
  const counts: TableSchema = { database: 'Shop', table: 'Counts', charset: null, primaryKey: ['id'], columns: [c('id', 'int', { nullable: false }), c('n', 'smallint')] };
  await applier.applyBatch(tx(create(counts)));
  // A value the replica refuses (a column narrowed by hand), then more than a page of changes.
  await client.query('ALTER TABLE shop.counts ADD CONSTRAINT small CHECK (n < 100)');
  const changes = Array.from({ length: REPLAY_PAGE + 500 }, (_, i) => row('Counts', 'insert', `{"id":${i},"n":${i === 0 ? 100 : i % 100}}`));
  await applier.applyBatch(tx(...changes));
  assert.deepEqual(await rows('SELECT count(*) FROM shop.counts'), [['0']]);
  await client.query('ALTER TABLE shop.counts DROP CONSTRAINT small');
  await client.query("DELETE FROM _my2pg.stopped_tables WHERE source_table = 'Counts'");
  await applier.applyBatch(tx(row('Counts', 'update', '{"id":1,"n":-1}', '{"n":1}')));
  assert.deepEqual(await rows('SELECT count(*), max(id) FROM shop.counts'), [[String(REPLAY_PAGE), String(REPLAY_PAGE - 1)]]);
  assert.deepEqual(await rows('SELECT n FROM shop.counts WHERE id = 1'), [['1']]);
  await applier.applyBatch(tx(row('Items', 'insert', '{"OrderId":34,"Line":1,"Qty":1,"Note":"x"}')));
  assert.deepEqual(await rows('SELECT count(*) FROM shop.counts'), [[String(REPLAY_PAGE + 500)]]);
  assert.deepEqual(await rows('SELECT n FROM shop.counts WHERE id IN (0, 1) ORDER BY id'), [['100'], ['-1']]);
  assert.deepEqual(await rows("SELECT count(*) FROM _my2pg.parked_events WHERE source_table = 'Counts'"), [['0']]);
});

test('the same message twice in one batch (a consumer that restarted) is applied once', async () => {
  const seen: TableSchema = { database: 'Shop', table: 'Seen', charset: null, primaryKey: [], columns: [c('msg', 'varchar', { length: 10 })] };
  await applier.applyBatch(tx(create(seen)));
  const once = tx(row('Seen', 'insert', '{"msg":"a"}'), row('Seen', 'insert', '{"msg":"b"}'));
  await applier.applyBatch([...once, ...once]);
  assert.deepEqual(await rows('SELECT msg FROM shop.seen ORDER BY msg'), [['a'], ['b']]);
});

test('a DDL event delivered twice is applied once', async () => {
  const twice: TableSchema = { database: 'Shop', table: 'Twice', charset: null, primaryKey: ['id'], columns: [c('id', 'int', { nullable: false })] };
  await applier.applyBatch(tx(create(twice)));
  const [change] = evolveSchema(parseDdl('ALTER TABLE Twice ADD COLUMN x INT', 'Shop'), new Map([[tableKey('Shop', 'Twice'), twice]])).changes;
  assert.equal(change.kind, 'alter-table');
  if (change.kind !== 'alter-table') return;
  const alter = encodeDdlEvent({ type: 'table-alter', database: 'Shop', table: 'Twice', old: change.old, def: change.def, ts: 1, sql: 'ALTER TABLE Twice ADD COLUMN x INT', position: 'bin.000001:4242' });
  await applier.applyBatch(tx(alter));
  await applier.applyBatch(tx(alter, row('Twice', 'insert', '{"id":1,"x":5}')));
  assert.deepEqual(await rows('SELECT id, x FROM shop.twice'), [['1', '5']]);
  assert.deepEqual(await rows("SELECT count(*) FROM _my2pg.stopped_tables WHERE source_table = 'Twice'"), [['0']]);
});

test('a heartbeat at a position already applied still moves the heartbeat time (lag stays right on an idle source)', async () => {
  const at = { file: 'bin.000001', pos: pos++ };
  const beat = (ts: number): PreparedMessage[] =>
    prepareBatch([{ value: encodeHeartbeat(ts, `${at.file}:${at.pos}`), part: '0', position: JSON.stringify({ tx: at, xoffset: -1, commit: true, next: at }) }]);
  await applier.applyBatch(beat(Date.parse('2026-01-01T00:00:00Z')));
  await applier.applyBatch(beat(Date.parse('2026-01-01T00:00:05Z')));
  assert.deepEqual(await rows("SELECT ts = '2026-01-01T00:00:05Z' FROM _my2pg.heartbeats WHERE part = '0'"), [['t']]);
  // One delivered again, older, changes nothing.
  await applier.applyBatch(beat(Date.parse('2026-01-01T00:00:01Z')));
  assert.deepEqual(await rows("SELECT ts = '2026-01-01T00:00:05Z' FROM _my2pg.heartbeats WHERE part = '0'"), [['t']]);
});

test('tables without a primary key keep duplicates and delete one matching row at a time', async () => {
  const log: TableSchema = { database: 'Shop', table: 'Log', charset: null, primaryKey: [], columns: [c('msg', 'varchar', { length: 10 }), c('n', 'int')] };
  await applier.applyBatch(
    tx(
      create(log),
      row('Log', 'insert', '{"msg":"dup","n":null}'),
      row('Log', 'insert', '{"msg":"dup","n":null}'),
      row('Log', 'insert', '{"msg":"dup","n":null}'),
      row('Log', 'delete', '{"msg":"dup","n":null}'),
      row('Log', 'update', '{"msg":"dup","n":2}', '{"n":null}'),
      row('Log', 'insert', '{"msg":"other","n":1}'),
    ),
  );
  assert.deepEqual(await rows('SELECT msg, n FROM shop.log ORDER BY msg, n NULLS FIRST'), [
    ['dup', null],
    ['dup', '2'],
    ['other', '1'],
  ]);
});

test('an invalid message goes to the dead-letter table and the rest still applies', async () => {
  const before = applier.deadLetters;
  await applier.applyBatch(tx('{"broken":', row('Items', 'insert', '{"OrderId":10,"Line":1,"Qty":1,"Note":"ok"}')));
  assert.equal(applier.deadLetters, before + 1);
  assert.deepEqual(await rows("SELECT message FROM _my2pg.dead_letters"), [['{"broken":']]);
  assert.deepEqual(await rows('SELECT note FROM shop.items WHERE orderid = 10'), [['ok']]);
});

test('an ALTER inside a batch: rows before it merge under the old shape, rows after it under the new', async () => {
  const schemas = new Map([[tableKey('Shop', 'Items'), items]]);
  const [change] = evolveSchema(parseDdl('ALTER TABLE Items CHANGE Note Remark varchar(30), ADD COLUMN Extra int NOT NULL DEFAULT 7', 'Shop'), schemas).changes;
  assert.equal(change.kind, 'alter-table');
  if (change.kind !== 'alter-table') return;
  await applier.applyBatch(
    tx(
      row('Items', 'insert', '{"OrderId":11,"Line":1,"Qty":1,"Note":"before"}'),
      row('Items', 'update', '{"OrderId":1,"Line":1,"Qty":50,"Note":"upd-before"}', '{"Qty":5}'),
      encodeDdlEvent({ type: 'table-alter', database: 'Shop', table: 'Items', old: change.old, def: change.def, renames: change.renames, ts: 1, sql: 'ALTER TABLE Items CHANGE …' }),
      row('Items', 'insert', '{"OrderId":12,"Line":1,"Qty":2,"Remark":"after","Extra":3}'),
      row('Items', 'update', '{"OrderId":11,"Line":1,"Qty":1,"Remark":"after-too","Extra":7}', '{"Remark":"before"}'),
    ),
  );
  items.columns = change.def.columns; // later tests write with the new shape
  assert.deepEqual(await rows('SELECT orderid, line, qty, remark, extra FROM shop.items WHERE orderid IN (1, 11, 12) AND line = 1 ORDER BY orderid'), [
    ['1', '1', '50', 'upd-before', '7'],
    ['11', '1', '1', 'after-too', '7'],
    ['12', '1', '2', 'after', '3'],
  ]);
  assert.deepEqual(await rows("SELECT source_table, event_type FROM _my2pg.ddl_history WHERE event_type = 'table-alter' AND source_table = 'Items'"), [['Items', 'table-alter']]);
  const stored = await rows("SELECT def FROM _my2pg.source_schemas WHERE source_table = 'Items'");
  assert.match(String(stored[0][0]), /"Remark"/);
});

test('a DDL the replica cannot take stops only its table; it and its later events are parked until the table is replaced', async () => {
  const stops: TableSchema = { ...items, table: 'Stops', columns: items.columns.slice(0, 3) };
  await applier.applyBatch(tx(create(stops)));
  await applier.applyBatch(
    tx(
      row('Stops', 'insert', '{"OrderId":1,"Line":1,"Qty":1}'),
      // No old/def images: nothing to translate from.
      encodeDdlEvent({ type: 'table-alter', database: 'Shop', table: 'Stops', ts: 1, sql: 'ALTER TABLE Stops ADD x INT' }),
      row('Stops', 'insert', '{"OrderId":2,"Line":1,"Qty":1,"x":1}'),
      row('Items', 'insert', '{"OrderId":13,"Line":1,"Qty":1,"Remark":"flows","Extra":1}'),
    ),
  );
  await applier.applyBatch(tx(row('Stops', 'insert', '{"OrderId":3,"Line":1,"Qty":1,"x":1}')));
  assert.deepEqual(await rows('SELECT orderid FROM shop.stops ORDER BY 1'), [['1']]);
  assert.deepEqual(await rows('SELECT remark FROM shop.items WHERE orderid = 13'), [['flows']]);
  const [[table, kind, statement, error, held]] = await rows("SELECT source_table, kind, statement, error, skipped_events FROM _my2pg.stopped_tables WHERE source_table = 'Stops'");
  assert.deepEqual([table, kind, statement, held], ['Stops', 'ddl', 'ALTER TABLE Stops ADD x INT', '3']);
  assert.match(String(error), /without "old" and "def"/);
  // A CREATE that replaces the table resumes it.
  await applier.applyBatch(tx(create(stops), row('Stops', 'insert', '{"OrderId":4,"Line":1,"Qty":1}')));
  assert.deepEqual(await rows('SELECT orderid FROM shop.stops ORDER BY 1'), [['4']]);
  assert.deepEqual(await rows("SELECT count(*) FROM _my2pg.stopped_tables WHERE source_table = 'Stops'"), [['0']]);
  assert.deepEqual(await rows("SELECT count(*) FROM _my2pg.parked_events WHERE source_table = 'Stops'"), [['0']]);
});

test('every type of the default mapping lands with its value', async () => {
  const all: TableSchema = {
    database: 'Shop',
    table: 'AllTypes',
    charset: 'utf8mb4',
    primaryKey: ['id'],
    columns: [
      c('id', 'int', { nullable: false }),
      c('ti', 'tinyint'), c('tiu', 'tinyint', { unsigned: true }), c('si', 'smallint'), c('siu', 'smallint', { unsigned: true }),
      c('mi', 'mediumint'), c('miu', 'mediumint', { unsigned: true }), c('i', 'int'), c('iu', 'int', { unsigned: true }),
      c('bi', 'bigint'), c('biu', 'bigint', { unsigned: true }), c('de', 'decimal', { precision: 65, scale: 30 }),
      c('f', 'float'), c('d', 'double'), c('b1', 'bit', { length: 1 }), c('b64', 'bit', { length: 64 }),
      c('ch', 'char', { length: 3 }), c('vc', 'varchar', { length: 10 }), c('tx', 'text'), c('en', 'enum', { values: ['a', 'b'] }),
      c('st', 'set', { values: ['x', 'y'] }), c('bn', 'binary', { length: 2 }), c('vb', 'varbinary', { length: 4 }), c('bl', 'blob'),
      c('dt', 'date'), c('dtm', 'datetime', { fsp: 6 }), c('ts', 'timestamp', { fsp: 3 }), c('tm', 'time', { fsp: 6 }),
      c('yr', 'year'), c('js', 'json'), c('geo', 'point'),
    ],
  };
  const data =
    '{"id":1,"ti":-128,"tiu":255,"si":-32768,"siu":65535,"mi":-8388608,"miu":16777215,"i":-2147483648,"iu":4294967295,' +
    '"bi":-9223372036854775808,"biu":18446744073709551615,"de":-99999999999999999999999999999999999.999999999999999999999999999999,' +
    '"f":1.1,"d":-2.2250738585072014E-308,"b1":1,"b64":18446744073709551615,"ch":"ab","vc":"héllo😀","tx":"line\\nnext\\\\","en":"b",' +
    '"st":["x","y"],"bn":"AAE=","vb":"/wA=","bl":"AAECAw==","dt":"2024-02-29","dtm":"1000-01-01 00:00:00.000001",' +
    '"ts":"2038-01-19 03:14:07.999","tm":"-838:59:59.000000","yr":2155,"js":{"a":[1,2.50,null],"b":12345678901234567890},"geo":"POINT(1 2)"}';
  await applier.applyBatch(tx(create(all), encodeRowEvent({ database: 'Shop', table: 'AllTypes', type: 'insert', ts: 1, data })));
  const [r] = await rows(
    `SELECT ti, tiu, si, siu, mi, miu, i, iu, bi, biu, de, f, d, b1, b64, ch, vc, tx, en, st, encode(bn, 'hex'), encode(vb, 'hex'), encode(bl, 'hex'),
            dt, dtm, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS'), extract(epoch from tm), yr, js::text, geo FROM shop.alltypes`,
  );
  assert.deepEqual(r, [
    '-128', '255', '-32768', '65535', '-8388608', '16777215', '-2147483648', '4294967295',
    '-9223372036854775808', '18446744073709551615', '-99999999999999999999999999999999999.999999999999999999999999999999',
    '1.1', '-2.2250738585072014e-308', '1', '1'.repeat(64), 'ab ', 'héllo😀', 'line\nnext\\', 'b', '{x,y}', '0001', 'ff00', '00010203',
    '2024-02-29', '1000-01-01 00:00:00.000001', '2038-01-19 03:14:07.999', '-3020399.000000', '2155',
    '{"a": [1, 2.50, null], "b": 12345678901234567890}', 'POINT(1 2)',
  ]);
});

test('changes encoded ahead are used only while their inputs hold, and their losses count once', async () => {
  const ahead: TableSchema = {
    database: 'Shop', table: 'Ahead', charset: null, primaryKey: ['id'],
    columns: [c('id', 'int', { nullable: false }), c('at', 'datetime'), c('n', 'int')],
  };
  await applier.applyBatch(tx(create(ahead), row('Ahead', 'insert', '{"id":1,"at":"2024-01-01 00:00:00","n":1}')));
  const losses = () => applier.losses.counts.get('shop.ahead.at:zero-date') ?? 0;
  // Encoded ahead, then applied: the same rows as without, and the zero date is counted once.
  const batch = tx(
    row('Ahead', 'update', '{"id":1,"at":"0000-00-00 00:00:00","n":2}', '{"at":"2024-01-01 00:00:00","n":1}'),
    row('Ahead', 'insert', '{"id":2,"at":"2024-01-02 00:00:00","n":3}'),
  );
  applier.prepareAhead(batch);
  await applier.applyBatch(batch);
  assert.equal(losses(), 1);
  assert.deepEqual(await rows('SELECT id, at, n FROM shop.ahead ORDER BY id'), [['1', null, '2'], ['2', '2024-01-02 00:00:00', '3']]);
  // Encoded ahead, but part of the batch was applied meanwhile: what is left is encoded again.
  const partly = tx(row('Ahead', 'update', '{"id":2,"at":"2024-01-02 00:00:00","n":4}', '{"n":3}'), row('Ahead', 'delete', '{"id":1,"at":null,"n":2}'));
  applier.prepareAhead(partly);
  await applier.applyBatch(partly.slice(0, 1));
  await applier.applyBatch(partly);
  assert.deepEqual(await rows('SELECT id, n FROM shop.ahead ORDER BY id'), [['2', '4']]);
  // Encoded ahead under the old shape, applied after an ALTER: encoded again under the new one.
  const schemas = new Map([[tableKey('Shop', 'Ahead'), ahead]]);
  const [change] = evolveSchema(parseDdl('ALTER TABLE Ahead ADD COLUMN extra int', 'Shop'), schemas).changes;
  assert.equal(change.kind, 'alter-table');
  if (change.kind !== 'alter-table') return;
  const alter = tx(encodeDdlEvent({ type: 'table-alter', database: 'Shop', table: 'Ahead', old: ahead, def: change.def, ts: 1, sql: 'ALTER TABLE Ahead ADD COLUMN extra int' }));
  const later = tx(row('Ahead', 'insert', '{"id":3,"at":null,"n":5}'));
  applier.prepareAhead(later);
  await applier.applyBatch(alter);
  await applier.applyBatch(later);
  assert.deepEqual(await rows('SELECT id, n, extra FROM shop.ahead ORDER BY id'), [['2', '4', null], ['3', '5', null]]);
  assert.equal(losses(), 1);
});

test('a schema another apply creates at the same moment fails the batch as retriable, and it applies again', async () => {
  const other = pgClient(db.url);
  const watcher = pgClient(db.url);
  await other.connect();
  await watcher.connect();
  try {
    await other.query('BEGIN');
    await other.query('CREATE SCHEMA race');
    const batch = tx(encodeDdlEvent({ type: 'database-create', database: 'Race', ts: 1, sql: 'CREATE DATABASE Race' }));
    const [[applierPid]] = await rows('SELECT pg_backend_pid()');
    let settled = false;
    const first = applier.applyBatch(batch).then(
      () => null,
      (err: unknown) => err,
    ).finally(() => (settled = true));
    // The batch's CREATE SCHEMA waits for the other transaction's (the lock shows in pg_locks).
    await waitForState(
      'the batch to wait for the other transaction',
      async () => ({ settled, waiting: (await watcher.query('SELECT locktype FROM pg_locks WHERE pid = $1 AND NOT granted', [applierPid])).rows.map((r) => r.locktype) }),
      (s) => s.settled || s.waiting.length > 0,
    );
    await other.query('COMMIT');
    const err = await first;
    assert.ok(err instanceof My2pgError, `expected a retriable error, got ${String(err)}`);
    assert.equal(err.retriable, true, err.message);
    assert.match(err.message, /concurrent creator/);
    await applier.applyBatch(batch);
    assert.deepEqual(await rows("SELECT count(*) FROM _my2pg.stopped_tables WHERE source_db = 'Race'"), [['0']]);
  } finally {
    await other.end();
    await watcher.end();
  }
});
