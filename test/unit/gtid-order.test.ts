import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareGtidStates } from '../../src/core/gtid-order.js';
import { compareCursors, type EventCursor } from '../../src/core/position.js';

const A = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const B = '2174B383-5441-11E8-B90A-C80AA9429562';

test('MySQL GTID sets are ordered by containment, whatever their spelling', () => {
  assert.equal(compareGtidStates(`${A}:1-5`, `${A}:1-6`), -1);
  assert.equal(compareGtidStates(`${A}:1-6`, `${A}:1-5`), 1);
  assert.equal(compareGtidStates(`${A}:1-3:4-5`, `${A.toUpperCase()}:1-5`), 0);
  assert.equal(compareGtidStates(`${A}:1-5,\n${B}:1-2`, `${B}:1-2,${A}:1-5`), 0);
  assert.equal(compareGtidStates(`${A}:1-5`, `${A}:1-5,${B}:1`), -1);
  // Each side has a transaction the other lacks.
  assert.equal(compareGtidStates(`${A}:1-5:7`, `${A}:1-6`), null);
  // Tagged GTIDs (MySQL 8.3+) are their own source within the uuid's block.
  assert.equal(compareGtidStates(`${A}:1-5:etl:1-2`, `${A}:1-5:etl:1-3`), -1);
  assert.equal(compareGtidStates(`${A}:1-5:etl:1-2`, `${A}:1-7`), null);
  // Sequence numbers past 2^53 stay exact.
  assert.equal(compareGtidStates(`${A}:1-9007199254740993`, `${A}:1-9007199254740992`), 1);
  assert.equal(compareGtidStates('', `${A}:1`), -1);
  assert.equal(compareGtidStates(`${A}:1`, ''), 1);
});

test('MariaDB GTID positions are ordered per domain; the same sequence from another server diverged', () => {
  assert.equal(compareGtidStates('0-1-40', '0-1-41'), -1);
  assert.equal(compareGtidStates('0-1-40', '0-2-41'), -1, 'the replica that took over wrote 41');
  assert.equal(compareGtidStates('0-1-41', '0-2-41'), null);
  assert.equal(compareGtidStates('0-1-5,1-3-9', '1-3-9,0-1-5'), 0);
  assert.equal(compareGtidStates('0-1-5', '0-1-5,1-3-1'), -1);
  assert.equal(compareGtidStates('0-1-6,1-3-1', '0-1-5,1-3-2'), null);
  assert.equal(compareGtidStates('', '0-1-1'), -1);
  assert.equal(compareGtidStates('', ''), 0);
});

const cursor = (file: string, pos: number, gtid: string | undefined, xoffset: number): EventCursor => ({
  tx: gtid === undefined ? { file, pos } : { file, pos, gtid },
  xoffset,
  commit: false,
  next: { file, pos: pos + 100 },
});

test('cursors of a server that took over are ordered by GTID, not by its binlog coordinates', () => {
  const stored = cursor('mysql-bin.000004', 9000, '0-1-20', 3);
  // The new server's binlog is behind in file and offset, its transactions are not.
  assert.ok(compareCursors(cursor('mysql-bin.000001', 500, '0-1-21', 0), stored) > 0);
  assert.ok(compareCursors(cursor('mysql-bin.000001', 400, '0-1-20', 3), stored) === 0, 'the same row of the same transaction');
  assert.ok(compareCursors(cursor('mysql-bin.000001', 400, '0-1-20', 2), stored) < 0);
  assert.ok(compareCursors(cursor('mysql-bin.000001', 400, '0-1-20', 4), stored) > 0);
  assert.ok(compareCursors(cursor('mysql-bin.000009', 100, '0-1-19', 0), stored) < 0);
  // Diverged: a change not seen yet.
  assert.ok(compareCursors(cursor('mysql-bin.000001', 100, '0-2-20', 0), stored) > 0);
  // Without GTIDs on both sides, file and offset decide.
  assert.ok(compareCursors(cursor('mysql-bin.000001', 500, undefined, 0), stored) < 0);
  assert.ok(compareCursors(cursor('mysql-bin.000004', 9000, undefined, 4), { ...stored, tx: { file: 'mysql-bin.000004', pos: 9000 } }) > 0);
});
