import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jacksonString, javaBigDecimalString, javaFloatingString } from '../../src/core/java-format.js';

test("Double.toString / Float.toString forms (Maxwell's numbers)", () => {
  const cases: Array<[number, string]> = [
    [1.1, '1.1'], [1, '1.0'], [100, '100.0'], [1e10, '1.0E10'], [1e-5, '1.0E-5'], [123456.7, '123456.7'],
    [1e7, '1.0E7'], [9999999, '9999999.0'], [0.001, '0.001'], [0.0001, '1.0E-4'], [4.2341, '4.2341'],
    [1234567, '1234567.0'], [-0, '-0.0'], [0, '0.0'], [-2.5, '-2.5'], [2e23, '2.0E23'],
    [1.7976931348623157e308, '1.7976931348623157E308'], [5e-324, '4.9E-324'], [-2.2250738585072014e-308, '-2.2250738585072014E-308'],
    [0.30000000000000004, '0.30000000000000004'], [3.4028235e38, '3.4028235E38'], [0.00123, '0.00123'],
  ];
  for (const [v, expected] of cases) assert.equal(javaFloatingString(v), expected, String(v));
  const floats: Array<[number, string]> = [[1.1, '1.1'], [3.4028234663852886e38, '3.4028235E38'], [1e-5, '1.0E-5'], [123456.7, '123456.7'], [-3.25, '-3.25'], [1.4e-45, '1.4E-45']];
  for (const [v, expected] of floats) assert.equal(javaFloatingString(Math.fround(v), true), expected, `float ${v}`);
});

test('BigDecimal.toString keeps scale and goes scientific below 1E-6', () => {
  const cases: Array<[string, string]> = [
    ['1.10', '1.10'], ['-0.50', '-0.50'], ['0.00', '0.00'], ['0.00000000', '0E-8'], ['0.0000001', '1E-7'],
    ['0.000001', '0.000001'], ['12345678901234567890.123', '12345678901234567890.123'], ['42', '42'],
    ['-0.000000000000000000000000000001', '-1E-30'], ['0.000000000000000000000000000000', '0E-30'],
    ['0.000000012300', '1.2300E-8'], ['-0.00000000', '0E-8'],
    ['-99999999999999999999999999999999999.999999999999999999999999999999', '-99999999999999999999999999999999999.999999999999999999999999999999'],
  ];
  for (const [v, expected] of cases) assert.equal(javaBigDecimalString(v), expected, v);
});

test('strings are escaped as Jackson writes them', () => {
  assert.equal(jacksonString('plain é中'), '"plain é中"');
  assert.equal(jacksonString('\u001f\u0000\b\f\ré中😀'), '"\\u001F\\u0000\\b\\f\\ré中\\uD83D\\uDE00"');
  assert.equal(jacksonString('q"b\\/\u007f'), '"q\\"b\\\\/\u007f"');
  assert.equal(jacksonString('tab\tnl\n'), '"tab\\tnl\\n"');
});

test('the plain-range fast path of Double.toString agrees with the general search', async () => {
  const { javaFloatingString, javaFloatingStringBySearch } = await import('../../src/core/java-format.js');
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const values = [1e-3, 0.1, 0.5, 1, 2, 100, 1234.5, 9999999.999999998, 1 / 3, 2 / 3, 0.30000000000000004];
  for (let i = 0; i < 20000; i++) values.push(10 ** (rand() * 10 - 3) * (rand() < 0.5 ? -1 : 1));
  for (let i = 0; i < 2000; i++) values.push(Math.round(rand() * 1e7) / 100, Math.round(rand() * 1e5));
  for (const v of values) assert.equal(javaFloatingString(v), javaFloatingStringBySearch(v), String(v));
});
