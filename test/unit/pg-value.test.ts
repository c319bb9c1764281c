import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonNumber } from '../../src/core/events.js';
import { copyField, toPgText, valueKindOf, type LossReason } from '../../src/target/pg-value.js';

const n = (s: string) => new JsonNumber(s);

test('value kinds come from catalog type names', () => {
  assert.equal(valueKindOf('timestamp(6) with time zone'), 'timestamptz');
  assert.equal(valueKindOf('timestamp(0) without time zone'), 'timestamp');
  assert.equal(valueKindOf('numeric(20,0)'), 'number');
  assert.equal(valueKindOf('text[]'), 'text[]');
  assert.equal(valueKindOf('bit(8)'), 'bit');
  assert.equal(valueKindOf('character varying(10)'), 'text');
});

test('values become Postgres text; losses are reported', () => {
  const losses: LossReason[] = [];
  const on = (r: LossReason) => losses.push(r);
  assert.equal(toPgText(n('18446744073709551615'), 'number', on), '18446744073709551615');
  assert.equal(toPgText('AAEC/w==', 'bytea', on), '\\x000102ff');
  assert.equal(toPgText(n('5'), 'bit', on, 8), '00000101');
  assert.equal(toPgText(true, 'bit', on, 1), '1');
  assert.equal(toPgText('2024-02-29 23:59:59.999999', 'timestamptz', on), '2024-02-29 23:59:59.999999+00');
  assert.equal(toPgText(['a', 'b"c'], 'text[]', on), '{"a","b\\"c"}');
  assert.equal(toPgText([], 'text[]', on), '{}');
  assert.equal(toPgText({ k: n('1.10') }, 'jsonb', on), '{"k":1.10}');
  assert.deepEqual(losses, []);
  assert.equal(toPgText('0000-00-00', 'date', on), null);
  assert.equal(toPgText('2024-00-10', 'date', on), null);
  assert.equal(toPgText('2024-01-00 00:00:00', 'timestamp', on), null);
  assert.equal(toPgText('a\u0000b', 'text', on), 'ab');
  assert.deepEqual(losses, ['zero-date', 'zero-date', 'zero-date', 'nul-character']);
  assert.equal(toPgText(null, 'text', on), null);
});

test('COPY text escaping', () => {
  assert.equal(copyField(null), '\\N');
  assert.equal(copyField('a\tb\nc\\d\re'), 'a\\tb\\nc\\\\d\\re');
  assert.equal(copyField('\\N'), '\\\\N');
});
