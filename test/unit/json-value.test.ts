import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeValue } from '../../src/source/row-encoder.js';
import { parse } from 'lossless-json';
import { JsonNumber, type JsonValue } from '../../src/core/events.js';
import { parseJson, parseJsonValue, stringifyJson } from '../../src/core/json.js';

test('parseJsonValue reads every encoded value as the general lossless parser does', () => {
  const texts = [
    'null', 'true', 'false', '0', '-1', '18446744073709551615', '-9223372036854775808', '1.10', '0E-30', '-1E-30', '1.7976931348623157E308',
    '""', '"plain"', '"tab\\there"', '"quote \\" and \\\\ backslash"', '"\\uD83D\\uDE00"', '"\\u0000nul"', '"é"',
    '["a","b,c"]', '{"k":[1,2.50,{"n":12345678901234567890}]}',
    encodeValue('string', 'line\nbreak'), encodeValue('binary', Buffer.from([0, 255])), encodeValue('decimal', '123.4500'),
  ];
  for (const t of texts) assert.deepEqual(parseJsonValue(t), parseJson(t), t);
  assert.ok(parseJsonValue('18446744073709551615') instanceof JsonNumber);
  assert.equal(parseJsonValue('"a\\\\b"'), 'a\\b');
});

test('parseJson keeps every number token exactly, whichever path it takes', () => {
  const texts = [
    '{"a":1,"b":-2,"c":0,"d":123456789012345,"e":-123456789012345,"f":1234567890123456,"g":9007199254740993,"h":-0}',
    '{"a":1.5,"b":1.50,"c":0.000001,"d":0.0000001,"e":1e5,"f":1E+5,"g":-2.5e-3,"h":624.7446539346129,"i":0.1,"j":-0.0}',
    '[1,[2,[3.10,{"x":[-0,0]}]],true,false,null]',
    '{"t":"12:34:56.089650","u":"a:1.50,b","v":"x\\"1.50\\"","w":"\\\\","n":1.50,"k\\\\":2.50,"q":"\\\\\\"","m":3.0}',
    '{"e":"\\ue000x","n":1.10}',
    '{"e":"\ue000raw","n":[1.10,2]}',
    '{"\ue000key":1.10,"\\ue000esc":{"\ue000":"\ue000v"}}',
    ' { "a" : 1.10 , "b" : [ 2 , -0 ] } ',
    '12.50',
    '7',
    '"plain"',
  ];
  for (const t of texts) {
    const doc = parseJson(t);
    // The reference: the general lossless parser, number tokens kept as their text.
    assert.equal(stringifyJson(doc), stringifyJson(parse(t, null, (s: string) => new JsonNumber(s)) as JsonValue), t);
  }
  assert.deepEqual(parseJson('{"a":1.50,"b":"1.50","c":7}'), { a: new JsonNumber('1.50'), b: '1.50', c: new JsonNumber('7') });
  assert.equal(parseJson('{"e":"\\ue000x"}') instanceof Object && (parseJson('{"e":"\\ue000x"}') as Record<string, JsonValue>).e, '\ue000x');
});

test('parseJson refuses number tokens JSON does not allow', () => {
  for (const bad of ['[01]', '[1.]', '[-]', '[1-2]', '[.5]', '{"a":1.2.3}', '[1e]', '[+1]', '[1e+]', '[--1]', '["open]', '[1,2', '{"a":1}x']) {
    assert.throws(() => parseJson(bad), /./, bad);
  }
});

test('parseJson agrees with the general parser on random documents', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const num = () => {
    const sign = rand() < 0.3 ? '-' : '';
    const int = rand() < 0.2 ? '0' : String(1 + Math.floor(rand() * 9)) + '0123456789'.repeat(3).slice(0, Math.floor(rand() * 22));
    const frac = rand() < 0.5 ? '' : `.${'0123456789'.slice(0, 1 + Math.floor(rand() * 9))}${pick(['', '0', '00', '5'])}`;
    const exp = rand() < 0.1 ? `${pick(['e', 'E'])}${pick(['', '+', '-'])}${Math.floor(rand() * 30)}` : '';
    return sign + int + frac + exp;
  };
  const str = () => JSON.stringify(pick(['', 'a', '1.50', 'x"y', 'back\\slash\\', '\ue000m', 'tab\there', '😀', ':1.10,']));
  const value = (depth: number): string => {
    const r = rand();
    if (depth > 2 || r < 0.4) return num();
    if (r < 0.6) return str();
    if (r < 0.7) return pick(['true', 'false', 'null']);
    if (r < 0.85) return `[${Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1)).join(',')}]`;
    return `{${Array.from({ length: Math.floor(rand() * 4) }, (_, i) => `"k${i}":${value(depth + 1)}`).join(',')}}`;
  };
  for (let i = 0; i < 3000; i++) {
    const t = value(0);
    assert.equal(stringifyJson(parseJson(t)), stringifyJson(parse(t, null, (s: string) => new JsonNumber(s)) as JsonValue), t);
  }
});
