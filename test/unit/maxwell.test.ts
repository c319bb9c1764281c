import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonNumber } from '../../src/core/events.js';
import { parseJson, stringifyJson } from '../../src/core/json.js';
import { decodeEvent, encodeDdlEvent, encodeHashKey, encodeHeartbeat, encodeRowEvent } from '../../src/core/maxwell.js';
import type { TableSchema } from '../../src/core/table-schema.js';

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

test('hash keys follow Maxwell: database, table, pk.<col>', () => {
  assert.equal(
    encodeHashKey('shop', 'order_items', [['order_id', '7'], ['Line', '"x"']]),
    '{"database":"shop","table":"order_items","pk.order_id":7,"pk.line":"x"}',
  );
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

test('DDL events carry def with Maxwell keys plus our column metadata, and decode back', () => {
  const def: TableSchema = {
    database: 'shop',
    table: 'orders',
    charset: 'utf8mb4',
    primaryKey: ['id'],
    columns: [
      { name: 'id', type: 'bigint', columnType: 'bigint(20) unsigned', nullable: false, default: null, unsigned: true, charset: null, length: null, precision: 20, scale: 0, fsp: null, values: null },
      { name: 'state', type: 'enum', columnType: "enum('a','b')", nullable: true, default: 'a', unsigned: false, charset: 'utf8mb4', length: 1, precision: null, scale: null, fsp: null, values: ['a', 'b'] },
      { name: 'at', type: 'datetime', columnType: 'datetime(6)', nullable: true, default: null, unsigned: false, charset: null, length: null, precision: null, scale: null, fsp: 6, values: null },
    ],
  };
  const json = encodeDdlEvent({ type: 'table-create', database: 'shop', table: 'orders', def, ts: 1700000000123, sql: 'CREATE TABLE orders (…)' });
  const doc = JSON.parse(json);
  assert.deepEqual(Object.keys(doc), ['type', 'database', 'table', 'def', 'ts', 'sql']);
  assert.deepEqual(doc.def.columns[0], {
    type: 'bigint', name: 'id', signed: false, 'column-type': 'bigint(20) unsigned', nullable: false, default: null,
    unsigned: true, length: null, precision: 20, scale: 0, fsp: null,
  });
  assert.deepEqual(doc.def.columns[1]['enum-values'], ['a', 'b']);
  assert.equal(doc.def.columns[2]['column-length'], 6);
  assert.deepEqual(doc.def['primary-key'], ['id']);
  const back = decodeEvent(json);
  assert.equal(back.kind, 'ddl');
  if (back.kind === 'ddl') assert.deepEqual(back.def, def);
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
