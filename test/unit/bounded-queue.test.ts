import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedQueue } from '../../src/transport/bounded-queue.js';

test('take returns up to max items, waiting at most maxWait after the first', async () => {
  const q = new BoundedQueue<number>(100);
  for (let i = 0; i < 5; i++) await q.push(i);
  assert.deepEqual(await q.take(3, 1000), [0, 1, 2]);
  const started = Date.now();
  assert.deepEqual(await q.take(10, 50), [3, 4]);
  assert.ok(Date.now() - started >= 40);
});

test('push waits while the queue is full (backpressure)', async () => {
  const q = new BoundedQueue<number>(2);
  await q.push(1);
  await q.push(2);
  let pushed = false;
  const p = q.push(3).then(() => (pushed = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(pushed, false);
  assert.deepEqual(await q.take(1, 0), [1]);
  await p;
  assert.equal(pushed, true);
});

test('close releases a waiting consumer with an empty batch', async () => {
  const q = new BoundedQueue<number>(2);
  const t = q.take(10, 10);
  q.close();
  assert.deepEqual(await t, []);
});

test('a waiting take makes room as items arrive, so it can gather more than the capacity', async () => {
  const q = new BoundedQueue<number>(3);
  const taken = q.take(10, 2000);
  const pushed = (async () => {
    for (let i = 0; i < 10; i++) await q.push(i);
  })();
  try {
    assert.deepEqual(await taken, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await pushed;
    assert.equal(q.size, 0);
  } finally {
    q.close();
  }
});

test('a take that waits with a full queue returns at its deadline with what it holds', async () => {
  const q = new BoundedQueue<number>(2);
  await q.push(1);
  await q.push(2);
  const started = Date.now();
  assert.deepEqual(await q.take(5, 50), [1, 2]);
  assert.ok(Date.now() - started >= 40);
});

test('pushAll adds what fits at once, then waits for room for the rest, in order', async () => {
  const q = new BoundedQueue<number>(3);
  let done = false;
  const pushed = q.pushAll([0, 1, 2, 3, 4]).then(() => (done = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(q.size, 3);
  assert.equal(done, false);
  assert.deepEqual(await q.take(2, 0), [0, 1]);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(done, true);
  assert.deepEqual(await q.take(10, 0), [2, 3, 4]);
  await pushed;
});

test('pushAll stops adding once the queue is closed', async () => {
  const q = new BoundedQueue<number>(2);
  const pushed = q.pushAll([0, 1, 2, 3]);
  q.close();
  await pushed;
  assert.equal(q.size, 2);
});
