import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reduceByKey } from '../../src/apply/change-reducer.js';
import { JsonNumber, type JsonValue, type RowEvent } from '../../src/core/events.js';

const n = (v: number) => new JsonNumber(String(v));
const ev = (type: RowEvent['type'], data: Record<string, JsonValue>, old?: Record<string, JsonValue>): RowEvent => ({
  kind: 'row', database: 'd', table: 't', type, ts: 0, data, old,
});

test('last change per key wins', () => {
  const out = reduceByKey(
    [ev('insert', { id: n(1), v: 'a' }), ev('update', { id: n(1), v: 'b' }, { v: 'a' }), ev('insert', { id: n(2), v: 'x' })],
    ['id'],
  );
  assert.deepEqual([...out.values()].map((c) => [c.op, c.row.v]), [['upsert', 'b'], ['upsert', 'x']]);
});

test('insert then delete leaves a delete', () => {
  const out = reduceByKey([ev('insert', { id: n(1) }), ev('delete', { id: n(1) })], ['id']);
  assert.equal(out.size, 1);
  assert.equal([...out.values()][0].op, 'delete');
});

test('a primary-key update deletes the old key and upserts the new', () => {
  const out = reduceByKey([ev('update', { id: n(2), v: 'a' }, { id: n(1) })], ['id']);
  assert.deepEqual(
    [...out.entries()].map(([k, c]) => [k, c.op]),
    [['[1]', 'delete'], ['[2]', 'upsert']],
  );
});

test('key swap through a chain of updates ends with both keys right', () => {
  // 1→3, 2→1, 3→2: swaps rows 1 and 2 through a temporary key.
  const out = reduceByKey(
    [
      ev('update', { id: n(3), v: 'one' }, { id: n(1) }),
      ev('update', { id: n(1), v: 'two' }, { id: n(2) }),
      ev('update', { id: n(2), v: 'one' }, { id: n(3) }),
    ],
    ['id'],
  );
  const final = Object.fromEntries([...out.entries()].map(([k, c]) => [k, c.op === 'upsert' ? c.row.v : null]));
  assert.deepEqual(final, { '[1]': 'two', '[2]': 'one', '[3]': null });
});

test('composite keys compare all columns', () => {
  const out = reduceByKey(
    [ev('insert', { a: n(1), b: 'x', v: n(1) }), ev('insert', { a: n(1), b: 'y', v: n(2) }), ev('update', { a: n(1), b: 'x', v: n(3) }, { v: n(1) })],
    ['a', 'b'],
  );
  assert.equal(out.size, 2);
  assert.equal(String(out.get('[1,"x"]')?.row.v), '3');
});
