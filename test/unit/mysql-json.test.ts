// MySQL's JSON type as Maxwell writes it. The test harness runs MariaDB only, whose JSON is text,
// so MySQL's binary JSON is built here byte by byte as MySQL writes it to the binlog
// (sql-common/json_binary.cc), and MySQL's SELECT text as MySQL prints it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TableMapEntry } from '../../src/source/zongji.js';
import { encodeJsonValue, encodeRow, encodeValue, isJsonNull, markBinaryJson, rowColumns } from '../../src/source/row-encoder.js';
import { parseJsonValue } from '../../src/core/json.js';
import { binaryDecimal, maxwellJsonDouble, mysqlBinaryJsonText, mysqlJsonTextAsMaxwell } from '../../src/core/mysql-json.js';

type J = null | boolean | number | bigint | string | { double: number } | { opaque: number; data: Buffer } | J[] | { [key: string]: J };

const u16 = (n: number) => Buffer.from([n & 0xff, n >> 8]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const varLength = (n: number) => {
  const out: number[] = [];
  do {
    out.push((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  return Buffer.from(out);
};

/** [type, value bytes] of a JSON value in MySQL's binary form. */
function encode(v: J, large = false): [number, Buffer] {
  if (v === null) return [4, Buffer.from([0])];
  if (v === true) return [4, Buffer.from([1])];
  if (v === false) return [4, Buffer.from([2])];
  if (typeof v === 'number') {
    const b = Buffer.alloc(8);
    if (v >= -32768 && v <= 32767) {
      b.writeInt16LE(v);
      return [5, b.subarray(0, 2)];
    }
    if (v >= -2147483648 && v <= 2147483647) {
      b.writeInt32LE(v);
      return [7, b.subarray(0, 4)];
    }
    b.writeBigInt64LE(BigInt(v));
    return [9, b];
  }
  if (typeof v === 'bigint') {
    const b = Buffer.alloc(8);
    if (v > 9223372036854775807n) b.writeBigUInt64LE(v);
    else b.writeBigInt64LE(v);
    return [v > 9223372036854775807n ? 10 : 9, b];
  }
  if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    return [12, Buffer.concat([varLength(s.length), s])];
  }
  if (Array.isArray(v)) return [large ? 3 : 2, container(v.map((x) => [null, x]), large)];
  if ('double' in v && typeof v.double === 'number') {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v.double);
    return [11, b];
  }
  if ('opaque' in v && Buffer.isBuffer(v.data)) return [15, Buffer.concat([Buffer.from([v.opaque as number]), varLength(v.data.length), v.data])];
  // MySQL sorts keys by length, then bytes; the test documents list them that way already.
  return [large ? 1 : 0, container(Object.entries(v as Record<string, J>), large)];
}

/** An object or array: counts, key entries, value entries (inline or offsets from its start), keys, values. */
function container(entries: Array<[string | null, J]>, large: boolean): Buffer {
  const w = large ? 4 : 2;
  const num = (n: number) => (large ? u32(n) : u16(n));
  const isObject = entries.length > 0 && entries[0][0] !== null;
  const header = 2 * w + (isObject ? entries.length * (w + 2) : 0) + entries.length * (1 + w);
  const keys = entries.map(([k]) => Buffer.from(k ?? '', 'utf8'));
  let at = header + keys.reduce((n, k) => n + k.length, 0);
  const keyEntries: Buffer[] = [];
  let keyAt = header;
  for (const k of keys) {
    keyEntries.push(Buffer.concat([num(keyAt), u16(k.length)]));
    keyAt += k.length;
  }
  const valueEntries: Buffer[] = [];
  const values: Buffer[] = [];
  for (const [, v] of entries) {
    const [type, data] = encode(v, large);
    const inline = type === 4 || type === 5 || type === 6 || (large && (type === 7 || type === 8));
    if (inline) {
      valueEntries.push(Buffer.concat([Buffer.from([type]), Buffer.concat([data, Buffer.alloc(w)]).subarray(0, w)]));
    } else {
      valueEntries.push(Buffer.concat([Buffer.from([type]), num(at)]));
      values.push(data);
      at += data.length;
    }
  }
  const body = Buffer.concat([...(isObject ? keyEntries : []), ...valueEntries, ...(isObject ? keys : []), ...values]);
  return Buffer.concat([num(entries.length), num(2 * w + body.length), body]);
}

const doc = (v: J, large = false): Buffer => {
  const [type, data] = encode(v, large);
  return Buffer.concat([Buffer.from([type]), data]);
};

test("doubles as Maxwell prints them: Java's Double.toString, or the exact value in plain form instead of an exponent", () => {
  const cases: Array<[number, string]> = [
    [1.2345678901234568e22, '12345678901234567741440'],
    [-1.5e-10, '-0.00000000014999999999999999900248106175413252694195165304336114786565303802490234375'],
    [100, '100.0'],
    [0.5, '0.5'],
    [-0.0, '-0.0'],
    [0.001, '0.001'],
    [0.0001, '0.000100000000000000004792173602385929598312941379845142364501953125'],
    [1e7, '10000000'],
    [12345678.5, '12345678.5'],
    [1e21, '1000000000000000000000'],
    [9999999.999, '9999999.999'],
  ];
  for (const [v, want] of cases) {
    assert.equal(maxwellJsonDouble(v), want, String(v));
    assert.equal(mysqlBinaryJsonText(doc({ double: v })), want, `binary ${v}`);
  }
  assert.ok(maxwellJsonDouble(5e-324).startsWith('0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000004940656458412465441765687928682213723650598026143247644255856825'));
  assert.ok(maxwellJsonDouble(5e-324).endsWith('419718265533447265625'));
});

test('MySQL binary JSON → Maxwell text: compact, stored key order, integers exact, doubles Maxwell-style', () => {
  const value: J = {
    a: 1,
    b: [{ double: 1e2 }, 100, { double: 1.2345678901234568e22 }, { double: -1.5e-10 }, null, true, false],
    n: -70000,
    s: 'x "q" \\ \u0001\u001f\t\n é😀 \u2028',
    big: 18446744073709551615n,
    neg: -9223372036854775808n,
    deep: { k: [[]], e: {} },
  };
  const want =
    '{"a":1,"b":[100.0,100,12345678901234567741440,-0.00000000014999999999999999900248106175413252694195165304336114786565303802490234375,null,true,false],' +
    '"n":-70000,"s":"x \\"q\\" \\\\ \\u0001\\u001F\\t\\n é😀 \u2028","big":18446744073709551615,"neg":-9223372036854775808,"deep":{"k":[[]],"e":{}}}';
  assert.equal(mysqlBinaryJsonText(doc(value)), want);
  assert.equal(mysqlBinaryJsonText(doc(value, true)), want, 'large containers (4-byte offsets, inline INT32)');
  assert.equal(mysqlBinaryJsonText(doc([1, 2147483647, -2147483648], true)), '[1,2147483647,-2147483648]');
  // Scalars at the top.
  for (const [v, want] of [['text', '"text"'], [null, 'null'], [true, 'true'], [-5, '-5'], [{ double: 2.5 }, '2.5']] as Array<[J, string]>) {
    assert.equal(mysqlBinaryJsonText(doc(v)), want);
  }
  // An empty value is JSON null to MySQL (and to Maxwell).
  assert.equal(mysqlBinaryJsonText(Buffer.alloc(0)), 'null');
});

test('SQL values inside MySQL JSON (opaque) as Maxwell prints them', () => {
  const packed = (ymd: [number, number, number], hms: [number, number, number], micros: number) =>
    ((((BigInt((ymd[0] * 13 + ymd[1]) * 32 + ymd[2]) << 17n) | BigInt((hms[0] << 12) | (hms[1] << 6) | hms[2])) << 24n) + BigInt(micros));
  const i64 = (n: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(n);
    return b;
  };
  const time = (h: number, m: number, s: number, micros: number, negative: boolean) => {
    const v = (BigInt((h << 12) | (m << 6) | s) << 24n) + BigInt(micros);
    return negative ? -v : v;
  };
  const cases: Array<[J, string]> = [
    [{ opaque: 246, data: Buffer.from([3, 2, 0x81, 0x32]) }, '1.50'], // DECIMAL(3,2) 1.50
    [{ opaque: 246, data: Buffer.from([3, 2, 0x7e, 0xcd]) }, '-1.50'],
    [{ opaque: 12, data: i64(packed([2024, 2, 29], [12, 34, 56], 500000)) }, '"2024-02-29 12:34:56.5"'],
    [{ opaque: 18, data: i64(packed([1000, 1, 1], [0, 0, 0], 10)) }, '"1000-01-01 00:00:00.00001"'],
    [{ opaque: 7, data: i64(packed([2038, 1, 19], [3, 14, 7], 0)) }, '"2038-01-19 03:14:07"'],
    [{ opaque: 10, data: i64(packed([2024, 2, 29], [0, 0, 0], 0)) }, '"2024-02-29"'],
    [{ opaque: 11, data: i64(time(838, 59, 59, 0, false)) }, '"838:59:59"'],
    [{ opaque: 11, data: i64(time(1, 0, 0, 1, true)) }, '"-01:00:00.000001"'],
    [{ opaque: 15, data: Buffer.from('ab') }, '"YWI="'],
  ];
  for (const [v, want] of cases) assert.equal(mysqlBinaryJsonText(doc([v])), `[${want}]`, want);
  // DECIMAL(19,9): a 1-digit leading group, then groups of nine digits.
  assert.equal(binaryDecimal(Buffer.from([0x81, 0x0d, 0xfb, 0x38, 0xd2, 0x07, 0x5b, 0xcd, 0x15]), 19, 9), '1234567890.123456789');
  assert.equal(binaryDecimal(Buffer.from([0x80, 0x00]), 3, 2), '0.00');
  assert.equal(binaryDecimal(Buffer.from([0x7f, 0xff]), 3, 2), '0.00', 'no negative zero (BigDecimal)');
  assert.equal(binaryDecimal(Buffer.from([0x80, 0x00, 0x2a]), 5, 0), '42');
});

test("MySQL's SELECT text of a JSON value → the binlog path's text (bootstrap)", () => {
  // As MySQL prints it: ", " and ": ", doubles with ".0" or an exponent, lower-case \u escapes.
  const mysqlText = '{"a": 1, "b": [100.0, 100, 1.2345678901234568e22, -1.5e-10, null, true, false], "n": -70000, "s": "x \\"q\\" \\\\ \\u0001\\u001f\\t\\n é😀 \u2028", "big": 18446744073709551615}';
  const binary = doc({
    a: 1,
    b: [{ double: 100 }, 100, { double: 1.2345678901234568e22 }, { double: -1.5e-10 }, null, true, false],
    n: -70000,
    s: 'x "q" \\ \u0001\u001f\t\n é😀 \u2028',
    big: 18446744073709551615n,
  });
  assert.equal(mysqlJsonTextAsMaxwell(mysqlText), mysqlBinaryJsonText(binary));
  assert.equal(mysqlJsonTextAsMaxwell('"text"'), '"text"');
  assert.equal(mysqlJsonTextAsMaxwell('null'), 'null');
  assert.equal(mysqlJsonTextAsMaxwell('[1.0E+2, 0.001]'), '[100.0,0.001]');
});

test('the encoder: MySQL JSON columns from the binlog come as their binary form and print as Maxwell does', () => {
  const entry = {
    columns: [
      { name: 'id', type: 3, charset: null, metadata: {} },
      { name: 'doc', type: 245, charset: null, metadata: { length_size: 4 } },
    ],
    columnSchemas: [{ COLUMN_NAME: 'id', COLUMN_TYPE: 'int(11)' }, { COLUMN_NAME: 'doc', COLUMN_TYPE: 'json' }],
  } as unknown as TableMapEntry;
  markBinaryJson(entry);
  // Read as the BLOB it is stored like, without a charset: the reader hands over the bytes.
  assert.deepEqual(entry.columns!.map((c) => [c.type, c.charset]), [[3, null], [252, null]]);
  const cols = rowColumns(entry, new Set(['doc']));
  assert.deepEqual(cols.map((c) => c.kind), ['integer', 'mysql-json']);
  const row = encodeRow(cols, { id: 1, doc: doc({ x: { double: 1e2 }, y: 'z' }) });
  assert.equal(row.json, '{"id":1,"doc":{"x":100.0,"y":"z"}}');
  const nullDoc = encodeRow(cols, { id: 2, doc: doc(null) });
  assert.deepEqual([nullDoc.json, nullDoc.jsonNulls], ['{"id":2,"doc":null}', ['doc']]);
  const sqlNull = encodeRow(cols, { id: 3, doc: null });
  assert.deepEqual([sqlNull.json, sqlNull.jsonNulls], ['{"id":3,"doc":null}', undefined]);
  assert.equal(isJsonNull('mysql-json', Buffer.alloc(0), encodeValue('mysql-json', Buffer.alloc(0))), true);
  // encodeJsonValue (bootstrap's COPY path) agrees with reading the text back.
  for (const v of [doc({ a: [1, { double: 2.5 }] }), doc('s'), '{"a": [1, 2.5]}', '1.5e-10', null]) {
    assert.deepEqual(encodeJsonValue('mysql-json', v), parseJsonValue(encodeValue('mysql-json', v)), String(v));
  }
});

test("MariaDB's JSON text is written exactly as stored (Maxwell passes it through)", () => {
  for (const text of ['{"a": 12345678901234567890, "b": "x y", "c": [1.50, null]}', '{\n  "k" : [ 1E+2 ]\n}', ' [1] ', '"\\u00e9"']) {
    assert.equal(encodeValue('json', text), text);
    assert.equal(encodeValue('json', Buffer.from(text)), text, 'raw bytes (a text column after a GEOMETRY one on MariaDB)');
  }
  assert.equal(isJsonNull('json', ' null\n', encodeValue('json', ' null\n')), true);
  assert.deepEqual(encodeJsonValue('json', ' {"a": 1} '), parseJsonValue('{"a": 1}'));
  assert.deepEqual(encodeJsonValue('json', ' "x" '), 'x');
});
