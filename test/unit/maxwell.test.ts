import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonNumber } from '../../src/core/events.js';
import { parseJson, stringifyJson } from '../../src/core/json.js';
import { decodeEvent, encodeDdlEvent, encodeHeartbeat, encodeRowEvent, jsonNullsJson } from '../../src/core/maxwell.js';
import { bootstrapPartitionString, DEFAULT_OUTPUT, objectJson, rowKey, tableKey } from '../../src/core/maxwell-keys.js';
import type { ColumnDef, TableSchema } from '../../src/core/table-schema.js';

test('row events keep Maxwell field order', () => {
  const json = encodeRowEvent({
    database: 'shop',
    table: 'orders',
    type: 'update',
    ts: 1700000000,
    xid: '42',
    xoffset: 3,
    commit: true,
    data: '{"id":1,"qty":2}',
    old: '{"qty":1}',
  });
  assert.equal(
    json,
    '{"database":"shop","table":"orders","type":"update","ts":1700000000,"xid":42,"commit":true,"data":{"id":1,"qty":2},"old":{"qty":1}}',
  );
});

test('commit and xid are omitted when absent', () => {
  const json = encodeRowEvent({ database: 'a', table: 'b', type: 'insert', ts: 1, xoffset: 0, data: '{}' });
  assert.equal(json, '{"database":"a","table":"b","type":"insert","ts":1,"xoffset":0,"data":{}}');
});

const itemRow = { database: 'shop', table: 'order_items', columns: ['order_id', 'Line', 'note'], values: { order_id: '7', Line: '"x"', note: 'null' }, primaryKey: ['order_id', 'Line'] };

test('keys follow Maxwell: hash (database, table, pk.<col>), array, and a whole table', () => {
  assert.equal(rowKey(itemRow, 'hash'), '{"database":"shop","table":"order_items","pk.order_id":7,"pk.line":"x"}');
  assert.equal(rowKey(itemRow, 'array'), '["shop","order_items",[{"order_id":7},{"line":"x"}]]');
  assert.equal(tableKey('shop', 'order_items'), '{"database":"shop","table":"order_items"}');
});

test("bootstrap events: Maxwell's text, data as row events write it, partitioned as the row", () => {
  const marker = encodeRowEvent({ database: 'shop', table: 'orders', type: 'bootstrap-start', ts: 1763708400, data: '{}' });
  assert.equal(marker, '{"database":"shop","table":"orders","type":"bootstrap-start","ts":1763708400,"data":{}}');
  const insert = encodeRowEvent({
    database: 'shop', table: 'order_items', type: 'bootstrap-insert', ts: 1763708400,
    data: objectJson(itemRow.columns, itemRow.values, false), jsonNulls: jsonNullsJson(['doc']),
  });
  assert.equal(insert, '{"database":"shop","table":"order_items","type":"bootstrap-insert","ts":1763708400,"data":{"order_id":7,"Line":"x"},"json_nulls":{"data":["doc"]}}');
  assert.equal(bootstrapPartitionString(itemRow, { ...DEFAULT_OUTPUT, partitionBy: 'primary_key' }), '7x');
  assert.equal(bootstrapPartitionString(itemRow, { ...DEFAULT_OUTPUT, partitionBy: 'transaction_id' }), 'shop');
});

test('64-bit unsigned and DECIMAL(65,30) survive a decode/encode round trip', () => {
  const big = '18446744073709551615';
  const dec = '-12345678901234567890123456789012345.123456789012345678901234567890';
  const ev = decodeEvent(encodeRowEvent({ database: 'd', table: 't', type: 'insert', ts: 1, data: `{"u":${big},"d":${dec}}` }));
  assert.equal(ev.kind, 'row');
  if (ev.kind !== 'row') return;
  assert.ok(ev.data.u instanceof JsonNumber);
  assert.equal(String(ev.data.u), big);
  assert.equal(String(ev.data.d), dec);
  assert.equal(stringifyJson(ev.data), `{"u":${big},"d":${dec}}`);
});

test('lossless JSON keeps number text exactly, including scale', () => {
  const text = '{"a":1.10,"b":[9007199254740993,-0.000000000000000000000000000001],"c":null,"d":"x\\u0000y"}';
  assert.equal(stringifyJson(parseJson(text)), '{"a":1.10,"b":[9007199254740993,-0.000000000000000000000000000001],"c":null,"d":"x\\u0000y"}');
});

const col = (c: Partial<ColumnDef> & Pick<ColumnDef, 'name' | 'type'>): ColumnDef => ({
  columnType: c.type, nullable: true, default: null, unsigned: false, charset: null, length: null, precision: null, scale: null, fsp: null, values: null, ...c,
});

test("DDL column images: Maxwell's keys with Maxwell's values first, then our metadata", () => {
  const def: TableSchema = {
    database: 'shop',
    table: 'orders',
    charset: 'utf8mb4',
    primaryKey: ['id'],
    columns: [
      col({ name: 'id', type: 'bigint', columnType: 'bigint(20) unsigned', nullable: false, unsigned: true, precision: 20, scale: 0 }),
      col({ name: 'name', type: 'varchar', columnType: 'varchar(10)', charset: 'utf8mb4', length: 10 }),
      col({ name: 'raw', type: 'varbinary', columnType: 'varbinary(4)', length: 4 }),
      col({ name: 'state', type: 'enum', columnType: "enum('a','b')", charset: 'utf8mb4', length: 1, values: ['a', 'b'] }),
      col({ name: 'tags', type: 'set', columnType: "set('x','y')", charset: 'utf8mb4', length: 3, values: ['x', 'y'] }),
      col({ name: 'at', type: 'datetime', columnType: 'datetime', fsp: 0 }),
      col({ name: 'ts6', type: 'timestamp', columnType: 'timestamp(6)', fsp: 6 }),
      col({ name: 'total', type: 'decimal', columnType: 'decimal(10,2)', precision: 10, scale: 2 }),
      col({ name: 'doc', type: 'json', columnType: 'json' }),
    ],
  };
  const json = encodeDdlEvent({ type: 'table-create', database: 'shop', table: 'orders', def, ts: 1700000000123, sql: 'CREATE TABLE orders (…)', position: 'bin.000003:4417' });
  const m = '"nullable":true,"default":null,"unsigned":false';
  assert.equal(
    json,
    '{"type":"table-create","database":"shop","table":"orders","def":{"database":"shop","charset":"utf8mb4","table":"orders","columns":[' +
      '{"type":"bigint","name":"id","signed":false,"column-type":"bigint(20) unsigned","nullable":false,"default":null,"unsigned":true,"length":null,"precision":20,"scale":0,"fsp":null},' +
      `{"type":"varchar","name":"name","charset":"utf8mb4","column-type":"varchar(10)",${m},"length":10,"precision":null,"scale":null,"fsp":null},` +
      `{"type":"varbinary","name":"raw","charset":"binary","column-type":"varbinary(4)",${m},"length":4,"precision":null,"scale":null,"fsp":null},` +
      `{"type":"enum","name":"state","enum-values":["a","b"],"column-type":"enum('a','b')",${m},"length":1,"precision":null,"scale":null,"fsp":null},` +
      `{"type":"set","name":"tags","enum-values":["x","y"],"column-type":"set('x','y')",${m},"length":3,"precision":null,"scale":null,"fsp":null},` +
      `{"type":"datetime","name":"at","column-length":0,"column-type":"datetime",${m},"length":null,"precision":null,"scale":null,"fsp":0},` +
      `{"type":"timestamp","name":"ts6","column-length":6,"column-type":"timestamp(6)",${m},"length":null,"precision":null,"scale":null,"fsp":6},` +
      `{"type":"decimal","name":"total","column-type":"decimal(10,2)",${m},"length":null,"precision":10,"scale":2,"fsp":null},` +
      `{"type":"json","name":"doc","column-type":"json",${m},"length":null,"precision":null,"scale":null,"fsp":null}],` +
      '"primary-key":["id"]},"ts":1700000000123,"sql":"CREATE TABLE orders (…)","keep_existing":false,"tx_position":"bin.000003:4417"}',
  );
  const back = decodeEvent(json);
  assert.equal(back.kind, 'ddl');
  if (back.kind !== 'ddl') return;
  assert.equal(back.position, 'bin.000003:4417');
  // ENUM and SET columns carry no charset in the image (Maxwell's), so none comes back.
  const noEnumCharset = def.columns.map((c) => (c.type === 'enum' || c.type === 'set' ? { ...c, charset: null } : c));
  assert.deepEqual(back.def, { ...def, columns: noEnumCharset });
});

test("database events carry Maxwell's charset; position and gtid only as the output options ask, tx_position always", () => {
  assert.equal(
    encodeDdlEvent({ type: 'database-create', database: 'shop', charset: 'latin1', ts: 1, sql: 'CREATE DATABASE shop', position: 'bin.1:4' }),
    '{"type":"database-create","database":"shop","charset":"latin1","ts":1,"sql":"CREATE DATABASE shop","tx_position":"bin.1:4"}',
  );
  assert.equal(
    encodeDdlEvent({ type: 'database-alter', database: 'shop', ts: 1, sql: 'ALTER DATABASE shop READ ONLY 1', position: 'bin.1:4', eventPosition: 'bin.1:77', gtid: '0-1-9' }),
    '{"type":"database-alter","database":"shop","charset":null,"ts":1,"sql":"ALTER DATABASE shop READ ONLY 1","position":"bin.1:77","gtid":"0-1-9","tx_position":"bin.1:4"}',
  );
  assert.equal(
    encodeDdlEvent({ type: 'database-drop', database: 'shop', ts: 1, sql: 'DROP DATABASE shop' }),
    '{"type":"database-drop","database":"shop","ts":1,"sql":"DROP DATABASE shop"}',
  );
  // tx_position wins over Maxwell's position; without it, Maxwell's is taken.
  const withBoth = decodeEvent('{"type":"table-drop","database":"d","table":"t","ts":1,"sql":"DROP TABLE t","position":"bin.1:77","tx_position":"bin.1:4"}');
  assert.equal(withBoth.kind === 'ddl' && withBoth.position, 'bin.1:4');
  const maxwells = decodeEvent('{"type":"table-drop","database":"d","table":"t","ts":1,"sql":"DROP TABLE t","position":"bin.1:77"}');
  assert.equal(maxwells.kind === 'ddl' && maxwells.position, 'bin.1:77');
});

test('DDL events written by earlier my2pg versions still decode: set-values, position, charset-less binary columns', () => {
  const old =
    '{"type":"table-create","database":"shop","table":"t","def":{"database":"shop","charset":null,"table":"t","columns":[' +
    '{"type":"set","name":"s","charset":"utf8mb4","set-values":["x","y"],"column-type":"set(\'x\',\'y\')","nullable":true,"default":null,"unsigned":false,"length":3,"precision":null,"scale":null,"fsp":null},' +
    '{"type":"blob","name":"b","column-type":"blob","nullable":true,"default":null,"unsigned":false,"length":65535,"precision":null,"scale":null,"fsp":null},' +
    '{"type":"datetime","name":"at","column-type":"datetime","nullable":true,"default":null,"unsigned":false,"length":null,"precision":null,"scale":null,"fsp":0},' +
    '{"type":"decimal","name":"d","precision":10,"scale":2,"column-type":"decimal(10,2)","nullable":true,"default":null,"unsigned":false,"length":null,"fsp":null}],' +
    '"primary-key":[]},"ts":1,"sql":"CREATE TABLE t (…)","position":"bin.000001:4"}';
  const ev = decodeEvent(old);
  assert.equal(ev.kind, 'ddl');
  if (ev.kind !== 'ddl') return;
  assert.equal(ev.position, 'bin.000001:4');
  assert.deepEqual(ev.def?.columns.map((c) => [c.name, c.type, c.values, c.charset, c.fsp, c.precision, c.scale]), [
    ['s', 'set', ['x', 'y'], 'utf8mb4', null, null, null],
    ['b', 'blob', null, null, null, null, null],
    ['at', 'datetime', null, null, 0, null, null],
    ['d', 'decimal', null, null, null, 10, 2],
  ]);
});

test('invalid messages are BAD_EVENT errors', () => {
  for (const bad of ['not json', '[]', '{"type":"insert"}', '{"type":"insert","database":"d","table":"t","data":5}']) {
    assert.throws(() => decodeEvent(bad), (e: Error & { code?: string }) => e.code === 'BAD_EVENT', bad);
  }
});

test('unknown event types pass as "other"', () => {
  const ev = decodeEvent('{"type":"bootstrap-start","database":"shop","table":"t","ts":1,"data":{}}');
  assert.equal(ev.kind, 'other');
});

test('heartbeats round-trip', () => {
  const text = encodeHeartbeat(1700000000123, 'bin.000002:4711', '0-1-9');
  assert.equal(text, '{"database":"_my2pg","table":"heartbeat","type":"heartbeat","ts":1700000000123,"position":"bin.000002:4711","gtid":"0-1-9"}');
  assert.deepEqual(decodeEvent(text), { kind: 'heartbeat', ts: 1700000000123, position: 'bin.000002:4711' });
});

test('the fast lossless parse keeps every number token and never confuses strings', () => {
  const cases = [
    '{"a":1,"b":-2,"c":12.5,"d":12.50,"e":18446744073709551615,"f":1E-30,"g":-0,"h":0,"i":1.0E7,"j":0.30000000000000004}',
    '{"s":"12.50","t":"\\"quoted 1.50\\"","u":"\\ue000x","v":"\ue000raw","w":"\\uE0001.5","x":[1.10,[2.00,{"y":3}]],"z":null,"b":true}',
    '[9007199254740993,-9007199254740993,1e21,123456789012345678901234567890.123456789012345678901234567890]',
    '"\ue000"',
  ];
  for (const text of cases) {
    const fast = stringifyJson(parseJson(text));
    const viaLossless = JSON.stringify(JSON.parse(text)); // structure check only
    assert.ok(viaLossless.length > 0);
    assert.equal(fast, text.replace(/\\ue000/g, '\ue000').replace(/\\uE000/g, '\ue000'), text);
  }
  const doc = parseJson('{"u":"\\ue000x","n":12.50}') as Record<string, unknown>;
  assert.equal(doc.u, '\ue000x');
  assert.ok(doc.n instanceof JsonNumber);
  assert.throws(() => parseJson('{"a":'), /./);
});
