import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyRange, keyValue } from '../../src/bootstrap/source-table.js';

test('a chunk range over a composite key: lower exclusive, upper inclusive, leading column first (golden)', () => {
  const r = keyRange(['a', 'b`c'], [1, 'x'], [5, 'y']);
  assert.equal(
    r.sql,
    '`a` >= ? AND ((`a` > ?) OR (`a` = ? AND `b``c` > ?)) AND `a` <= ? AND ((`a` < ?) OR (`a` = ? AND `b``c` <= ?))',
  );
  assert.deepEqual(r.params, [1, 1, 1, 'x', 5, 5, 5, 'y']);
});

test('open bounds and single-column keys', () => {
  assert.deepEqual(keyRange(['id'], null, null), { sql: '1=1', params: [] });
  assert.deepEqual(keyRange(['id'], null, ['10']), { sql: '`id` <= ? AND ((`id` <= ?))', params: ['10', '10'] });
  assert.deepEqual(keyRange(['id'], ['10'], null), { sql: '`id` >= ? AND ((`id` > ?))', params: ['10', '10'] });
});

test('binary key values survive the JSON of the chunk table and come back as bytes', () => {
  const k = keyValue(Buffer.from([0, 255, 10]));
  const back = keyRange(['k'], JSON.parse(JSON.stringify([k])), null).params[0];
  assert.ok(Buffer.isBuffer(back));
  assert.deepEqual([...(back as Buffer)], [0, 255, 10]);
});
