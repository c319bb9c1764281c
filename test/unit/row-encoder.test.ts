import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeRow, encodeValue, rowColumn } from '../../src/capture/row-encoder.js';

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

test('JSON columns are embedded compactly with numbers verbatim', () => {
  assert.equal(encodeValue('json', '{"a": 12345678901234567890, "b": "x y", "c": [1.50, null]}'), '{"a":12345678901234567890,"b":"x y","c":[1.50,null]}');
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
