import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeValue } from '../../src/capture/row-encoder.js';
import { JsonNumber } from '../../src/core/events.js';
import { parseJson, parseJsonValue } from '../../src/core/json.js';

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
