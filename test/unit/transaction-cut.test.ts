import assert from 'node:assert/strict';
import { test } from 'node:test';
import { My2pgError } from '../../src/core/errors.js';
import type { ChangeEvent } from '../../src/core/events.js';
import type { PreparedMessage } from '../../src/apply/applier.js';
import { cutAtTransactions, endsTransaction } from '../../src/apply/transaction-cut.js';

let offset = 0;
function row(part: string, xid: string | undefined, commit = false, endsTransaction = false): PreparedMessage {
  const event: ChangeEvent = { kind: 'row', database: 'd', table: 't', type: 'insert', ts: 1, xid, commit: commit || undefined, data: {} };
  return { message: { value: '', part, position: String(offset++), endsTransaction: endsTransaction || undefined }, event };
}
function bad(part: string): PreparedMessage {
  return { message: { value: '', part, position: String(offset++) }, event: new My2pgError('BAD_EVENT', 'not JSON') };
}
const positions = (list: PreparedMessage[]) => list.map((p) => p.message.position);

test('endsTransaction: a commit row, a row outside a transaction, DDL and heartbeats end one; a row inside does not', () => {
  assert.equal(endsTransaction(row('0', '7').event), false);
  assert.equal(endsTransaction(row('0', '7', true).event), true);
  assert.equal(endsTransaction(row('0', undefined).event), true);
  assert.equal(endsTransaction({ kind: 'heartbeat', ts: 1, position: 'f:4' } as ChangeEvent), true);
  assert.equal(endsTransaction(new My2pgError('BAD_EVENT', 'x')), undefined);
});

test('a batch is cut after the last transaction that ended; the rest waits', () => {
  const a = [row('0', '1'), row('0', '1', true), row('0', '2'), row('0', '2')];
  const cut = cutAtTransactions(a, new Map(), 10);
  assert.deepEqual(positions(cut.apply), positions(a.slice(0, 2)));
  assert.deepEqual(positions(cut.wait), positions(a.slice(2)));
  assert.equal(cut.open.size, 0);
  // The rest arrives: the waiting rows go first.
  const b = [row('0', '2', true), row('0', '3')];
  const next = cutAtTransactions([...cut.wait, ...b], cut.open, 10);
  assert.deepEqual(positions(next.apply), positions([...a.slice(2), b[0]]));
  assert.deepEqual(positions(next.wait), positions([b[1]]));
});

test('more waiting than a batch holds opens the transaction; it stays open until its end', () => {
  const big = [row('0', '9'), row('0', '9'), row('0', '9')];
  const cut = cutAtTransactions(big, new Map(), 2);
  assert.deepEqual(positions(cut.apply), positions(big));
  assert.deepEqual([...cut.open], [['0', '9']]);
  // Still open: every message of the part goes in, even fewer than the limit.
  const more = [row('0', '9')];
  const still = cutAtTransactions(more, cut.open, 2);
  assert.deepEqual(positions(still.apply), positions(more));
  assert.equal(still.open.size, 1);
  const end = [row('0', '9', true), row('0', '10')];
  const done = cutAtTransactions(end, still.open, 2);
  assert.deepEqual(positions(done.apply), positions([end[0]]));
  assert.deepEqual(positions(done.wait), positions([end[1]]));
  assert.equal(done.open.size, 0);
});

test('parts are cut independently, keeping arrival order', () => {
  const list = [row('a', '1'), row('b', '2'), row('a', '1', true), row('b', '2')];
  const cut = cutAtTransactions(list, new Map(), 10);
  assert.deepEqual(positions(cut.apply), positions([list[0], list[2]]));
  assert.deepEqual(positions(cut.wait), positions([list[1], list[3]]));
});

test("a part's share ends where its next message belongs to another transaction, or where the transport says", () => {
  // Transaction 1's commit row went to another part: the next transaction's row ends its share here.
  const list = [row('a', '1'), row('a', '1'), row('a', '2')];
  const cut = cutAtTransactions(list, new Map(), 10);
  assert.deepEqual(positions(cut.apply), positions(list.slice(0, 2)));
  // Also for an open part, at the first message of the cut.
  const open = cutAtTransactions([row('a', '5')], new Map([['a', '4']]), 10);
  assert.equal(open.apply.length, 0);
  assert.equal(open.open.size, 0);
  const marked = [row('a', '1'), row('a', '1', false, true)];
  assert.deepEqual(positions(cutAtTransactions(marked, new Map(), 10).apply), positions(marked));
});

test('an invalid message takes the state of its part', () => {
  const between = [row('0', '1', true), bad('0')];
  assert.equal(cutAtTransactions(between, new Map(), 10).wait.length, 0);
  const inside = [row('0', '1'), bad('0')];
  assert.equal(cutAtTransactions(inside, new Map(), 10).apply.length, 0);
});
