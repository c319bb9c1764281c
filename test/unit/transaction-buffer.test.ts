import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { TransactionBuffer, type PendingRow } from '../../src/capture/transaction-buffer.js';

const row = (i: number): PendingRow => ({
  database: 'd', table: 't', type: 'insert', ts: 1, data: `{"id":${i}}`, key: `{"pk.id":${i}}`,
  position: 'bin.000001:4', partition: 'd', primaryKey: `[${i}]`, primaryKeyColumns: '["id"]',
});

test('a big transaction spills to disk past the memory limit and drains in order', async () => {
  const buf = new TransactionBuffer(100 * 260);
  for (let i = 0; i < 1050; i++) await buf.add(row(i));
  assert.equal(buf.size, 1050);
  const spillDir = (buf as unknown as { spillDir: string | null }).spillDir;
  assert.ok(spillDir && existsSync(spillDir), 'rows beyond the limit went to a file');
  const seen: number[] = [];
  for await (const chunk of buf.drain(64)) {
    assert.ok(chunk.length <= 64);
    for (const r of chunk) seen.push(JSON.parse(r.data).id);
  }
  assert.deepEqual(seen, Array.from({ length: 1050 }, (_, i) => i));
  assert.equal(buf.size, 0);
  assert.ok(!existsSync(spillDir), 'the spill file is removed after the commit');
});

test('reset forgets a rolled-back transaction', async () => {
  const buf = new TransactionBuffer(10 * 260);
  for (let i = 0; i < 25; i++) await buf.add(row(i));
  await buf.reset();
  assert.equal(buf.size, 0);
  const chunks = [];
  for await (const c of buf.drain(10)) chunks.push(c);
  assert.deepEqual(chunks, []);
});
