import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChangeEvent } from '../../src/core/events.js';
import type { PreparedMessage } from '../../src/apply/applier.js';
import { footprint, overlaps, planLanes } from '../../src/apply/lanes.js';

let offset = 0;
function row(part: string, database: string, table: string): PreparedMessage {
  const event: ChangeEvent = { kind: 'row', database, table, type: 'insert', ts: 1, xid: '1', data: {} };
  return { message: { value: '', part, position: String(offset++) }, event };
}
function dbDdl(part: string, database: string): PreparedMessage {
  return { message: { value: '', part, position: String(offset++) }, event: { kind: 'ddl', type: 'database-create', database, sql: 'CREATE DATABASE x' } as ChangeEvent };
}
const positions = (list: readonly PreparedMessage[]) => list.map((p) => p.message.position);
const open = (...parts: string[]) => new Map(parts.map((p) => [p, '1']));

test('footprints meet on a shared table, or on a table of a database a DDL statement changes', () => {
  const a = footprint([row('0', 'shop', 'orders')]);
  assert.equal(overlaps(a, footprint([row('1', 'shop', 'items')])), false);
  assert.equal(overlaps(a, footprint([row('1', 'shop', 'orders')])), true);
  assert.equal(overlaps(a, footprint([dbDdl('1', 'shop')])), true);
  assert.equal(overlaps(footprint([dbDdl('1', 'shop')]), a), true);
  assert.equal(overlaps(a, footprint([dbDdl('1', 'crm')])), false);
});

test('an open part gets a lane; the other parts stay with the main session', () => {
  const list = [row('a', 'shop', 'orders'), row('b', 'crm', 'contacts'), row('a', 'shop', 'orders')];
  const plan = planLanes(list, open('a'), new Map(), null, true);
  assert.deepEqual([...plan.lanes.keys()], ['a']);
  assert.deepEqual(positions(plan.lanes.get('a')!), positions([list[0], list[2]]));
  assert.deepEqual(positions(plan.main), positions([list[1]]));
  assert.deepEqual(plan.fold, []);
});

test('no lane with one part only, or while the main session has a transaction open', () => {
  const list = [row('a', 'shop', 'orders')];
  assert.equal(planLanes(list, open('a'), new Map(), null, false).lanes.size, 0);
  assert.equal(planLanes(list, open('a'), new Map(), footprint([row('b', 'crm', 'x')]), true).lanes.size, 0);
});

test('an existing lane gets its part, and an empty share when its transaction ended with nothing more to apply', () => {
  const lanes = new Map([['a', footprint([row('a', 'shop', 'orders')])]]);
  const plan = planLanes([row('b', 'crm', 'contacts')], open(), lanes, null, true);
  assert.deepEqual([...plan.lanes], [['a', []]]);
  assert.equal(plan.main.length, 1);
});

test('a lane that meets what another session writes is folded into the main session', () => {
  const lanes = new Map([['a', footprint([row('a', 'shop', 'orders')])]]);
  const list = [row('b', 'shop', 'orders'), row('a', 'shop', 'orders')];
  const plan = planLanes(list, open('a'), lanes, null, true);
  assert.deepEqual(plan.fold, ['a']);
  assert.equal(plan.lanes.size, 0);
  assert.deepEqual(positions(plan.main), positions(list));
  // Two new lanes on one table: both go to the main session.
  const both = [row('a', 'shop', 'items'), row('b', 'shop', 'items')];
  const plan2 = planLanes(both, open('a', 'b'), new Map(), null, true);
  assert.equal(plan2.lanes.size, 0);
  assert.deepEqual(positions(plan2.main), positions(both));
});
