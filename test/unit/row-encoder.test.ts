import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changedColumns, encodeJsonValue, encodeRow, encodeValue, rowColumn, type EncodeKind } from '../../src/source/row-encoder.js';
import { JSON_NULL, JsonNumber, type JsonValue } from '../../src/core/events.js';
import { parseJsonValue } from '../../src/core/json.js';
import { decodeEvent, encodeRowEvent, jsonNullsJson } from '../../src/core/maxwell.js';
import { toPgText } from '../../src/target/pg-value.js';

test('numbers are written from their exact text', () => {
  assert.equal(encodeValue('integer', '18446744073709551615'), '18446744073709551615');
  assert.equal(encodeValue('integer', -9007199254740991), '-9007199254740991');
  assert.equal(encodeValue('decimal', '-0.000000000000000000000000000001'), '-1E-30');
  assert.equal(encodeValue('decimal', '1.10'), '1.10');
});

test('FLOAT has no spurious digits, DOUBLE keeps its own', () => {
  assert.equal(encodeValue('float', Math.fround(1.1)), '1.1');
  assert.equal(encodeValue('float', Math.fround(3.4028234663852886e38)), '3.4028235E38');
  assert.equal(encodeValue('double', 0.1 + 0.2), '0.30000000000000004');
  assert.equal(encodeValue('double', 100), '100.0');
});

test('binary as base64, SET as array, YEAR 0000, BIT as integer', () => {
  assert.equal(encodeValue('binary', Buffer.from([0, 1, 255])), '"AAH/"');
  assert.equal(encodeValue('set', 'a,b'), '["a","b"]');
  assert.equal(encodeValue('set', ''), '[]');
  assert.equal(encodeValue('year', 1900), '0');
  assert.equal(encodeValue('year', 2024), '2024');
  assert.equal(encodeValue('bit', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), '18446744073709551615');
});

test('JSON columns: MariaDB text as stored, MySQL text made the binlog path\'s (test/unit/mysql-json.test.ts)', () => {
  assert.equal(encodeValue('json', '{"a": 12345678901234567890, "b": "x y", "c": [1.50, null]}'), '{"a": 12345678901234567890, "b": "x y", "c": [1.50, null]}');
  assert.equal(encodeValue('mysql-json', '{"a": 12345678901234567890, "b": "x y", "c": [1.5, null]}'), '{"a":12345678901234567890,"b":"x y","c":[1.5,null]}');
});

test('a row keeps column order and per-column JSON', () => {
  const r = encodeRow([rowColumn('id', 'integer'), rowColumn('n', 'string')], { id: 1, n: 'é"' });
  assert.equal(r.json, '{"id":1,"n":"é\\""}');
  assert.deepEqual(r.values, { id: '1', n: '"é\\""' });
  assert.equal(encodeValue('string', 'a😀'), '"a\\uD83D\\uDE00"');
});

test("ENUM's invalid value (index 0) is the empty string, NULL stays null", () => {
  assert.equal(encodeValue('enum', undefined), '""');
  assert.equal(encodeValue('enum', null), 'null');
  assert.equal(encodeValue('enum', 'b'), '"b"');
});

test('encodeJsonValue gives what reading encodeValue’s JSON text back gives, for every kind', () => {
  const samples: Array<[EncodeKind, unknown[]]> = [
    ['integer', [0, -1, 2147483647, '18446744073709551615', '-9223372036854775808', null]],
    ['decimal', ['0', '1.10', '-0.000000000000000000000000000001', '99999999999999999999999999999999999.999999999999999999999999999999', '1E+5', null]],
    ['year', [1900, 2024, 1901, null]],
    ['float', [Math.fround(1.1), 0, -0, 3.4028234663852886e38, Number.NaN, null]],
    ['double', [1.1, 5e-324, 1e21, 123456789012345680000, Number.POSITIVE_INFINITY, null]],
    ['bit', [Buffer.from([0x01, 0xff]), Buffer.alloc(8, 0xff), '5', null]],
    ['temporal', ['2024-01-31 23:59:59.999999', '0000-00-00 00:00:00', '-838:59:59.000000', null]],
    ['enum', ['a', '', 'x"y\\z', undefined, null]],
    ['string', ['', 'plain', 'tab\there', 'quote " and \\ backslash', 'nul \u0000 inside', 'line\nbreak\r', 'emoji 😀 and lone \ud800', Buffer.from('caf\u00e9'), null]],
    ['binary', [Buffer.from([0, 1, 2, 255]), Buffer.alloc(0), null]],
    ['set', ['', 'a,b', 'x"y', null]],
    ['json', ['{"a": [1, 2.50, 18446744073709551615], "b": "x\\"y"}', '[]', '[null]', ' [1] ', null]],
    ['mysql-json', ['{"a": [1, 2.5, 18446744073709551615], "b": "x\\"y"}', '[]', '[null]', '1e-7', Buffer.from([4, 1]), null]],
  ];
  for (const [kind, values] of samples) {
    for (const v of values) {
      assert.deepEqual(encodeJsonValue(kind, v), parseJsonValue(encodeValue(kind, v)), `${kind} ${String(v)}`);
    }
  }
  // JSON's null literal is written `null` like SQL NULL, and read back as JSON_NULL.
  assert.equal(encodeJsonValue('json', ' null '), JSON_NULL);
  assert.equal(encodeJsonValue('mysql-json', Buffer.from([4, 0])), JSON_NULL);
  assert.equal(encodeJsonValue('mysql-json', Buffer.alloc(0)), JSON_NULL);
  assert.equal(encodeJsonValue('json', null), null);
});

test('a negative TIME as the binlog reader gives it is repaired; right ones pass unchanged', () => {
  const cases: Array<[unknown, string]> = [
    ['-00:63:64', '"-01:00:00"'], // TIME2 -01:00:00: bits flipped, seconds + 1 without carrying
    ['-11:63:64', '"-12:00:00"'],
    ['-00:00:64', '"-00:01:00"'],
    ['-99:63:64', '"-100:00:00"'],
    ['-837:63:64.000000', '"-838:00:00.000000"'],
    ['-00:99:100', '"-01:00:00"'], // classic (pre-5.6) TIME: decimal digits
    ['-838:59:59', '"-838:59:59"'],
    ['-00:00:01', '"-00:00:01"'],
    ['-00:59:59', '"-00:59:59"'],
    ['-01:00:00.000001', '"-01:00:00.000001"'],
    ['-00:00:00.500', '"-00:00:00.500"'],
    ['12:00:00', '"12:00:00"'],
    ['2024-02-29 12:34:56', '"2024-02-29 12:34:56"'],
  ];
  for (const [v, want] of cases) {
    assert.equal(encodeValue('temporal', v), want, String(v));
    assert.equal(encodeJsonValue('temporal', v), JSON.parse(want), String(v));
  }
});

test('JSON null and SQL NULL stay apart from the encoder through the event to Postgres text', () => {
  const cols = [rowColumn('id', 'integer'), rowColumn('doc', 'json'), rowColumn('other', 'json')];
  const before = encodeRow(cols, { id: 1, doc: 'null', other: null });
  const after = encodeRow(cols, { id: 1, doc: null, other: 'null' });
  assert.deepEqual(before.jsonNulls, ['doc']);
  assert.equal(after.json, '{"id":1,"doc":null,"other":null}');
  assert.equal(encodeRow(cols, { id: 1, doc: '{}', other: null }).jsonNulls, undefined);
  const changed = changedColumns(['id', 'doc', 'other'], before, after);
  assert.deepEqual(changed, ['doc', 'other']);
  const jsonNulls = jsonNullsJson(after.jsonNulls, before.jsonNulls);
  const text = encodeRowEvent({ database: 'd', table: 't', type: 'update', ts: 1, data: after.json, old: '{"doc":null,"other":null}', jsonNulls });
  // Maxwell's fields as Maxwell writes them, then ours.
  assert.equal(text, '{"database":"d","table":"t","type":"update","ts":1,"data":{"id":1,"doc":null,"other":null},"old":{"doc":null,"other":null},"json_nulls":{"data":["other"],"old":["doc"]}}');
  const ev = decodeEvent(text);
  assert.ok(ev.kind === 'row');
  assert.deepEqual([ev.data.doc, ev.data.other, ev.old?.doc, ev.old?.other], [null, JSON_NULL, JSON_NULL, null]);
  const pg = (v: JsonValue | undefined) => toPgText(v, 'jsonb', () => assert.fail('no loss'));
  assert.deepEqual([pg(ev.data.doc), pg(ev.data.other), pg(ev.old?.doc), pg(ev.old?.other)], [null, 'null', 'null', null]);
  // output_nulls false leaves null members out; json_nulls still names JSON's null.
  const sparse = decodeEvent('{"database":"d","table":"t","type":"insert","ts":1,"data":{"id":2},"json_nulls":{"data":["doc"]}}');
  assert.ok(sparse.kind === 'row');
  assert.deepEqual(sparse.data, { id: new JsonNumber('2'), doc: JSON_NULL });
  assert.equal(jsonNullsJson(), undefined);
});

test('a json_nulls member that does not fit its event is a bad event, with the reason', () => {
  const event = (extra: string) => `{"database":"d","table":"t","type":"insert","ts":1,"data":{"doc":{}}${extra}}`;
  assert.throws(() => decodeEvent(event(',"json_nulls":["doc"]')), /"json_nulls" is not an object/);
  assert.throws(() => decodeEvent(event(',"json_nulls":{"data":["doc"]}')), /names column "doc", whose value is not null/);
  assert.throws(() => decodeEvent(event(',"json_nulls":{"old":["doc"]}')), /names columns of an event without "old"/);
  assert.throws(() => decodeEvent(event(',"json_nulls":{"data":"doc"}')), /not an array of column names/);
});
