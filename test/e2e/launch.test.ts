// The launcher (src/cli/launch.ts): the CLI runs on a worker thread with a capped heap; signals
// reach it, and a heap too small or a bad MY2PG_HEAP_MB ends with one clear message and its exit code.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXIT_CODES } from '../../src/core/errors.js';
import { assertReplicaConverges, usePipelineFixture } from '../harness/pipeline.js';
import { mysqlUrl, sleep, startMy2pg } from '../harness/servers.js';
import { waitForApplyConnected, waitForCheckpoint } from '../harness/waits.js';
import { seqRows } from '../harness/sequence.js';

const { fixture, start } = usePipelineFixture();
const runArgs = () => {
  const f = fixture();
  return ['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', f.db, '--server-id', f.serverId, '--initial-bootstrap', 'false'];
};

test('SIGTERM reaches the CLI on its worker thread: it stops cleanly with exit code 0', { timeout: 120_000 }, async () => {
  const proc = start(runArgs());
  // The schema snapshot applied: its position is committed in the replica.
  await waitForCheckpoint(proc, fixture().pg.url, 'binlog');
  assert.equal(await proc.kill('SIGTERM'), 0);
  assert.match(proc.log(), /"signal":"SIGTERM","msg":"stopping"/);
});

test('a SIGTERM during start-up, before the stages run, is kept: the process stops with exit code 0', { timeout: 180_000 }, async () => {
  // Before the launcher's own handler exists node's default ends the process by the signal; from
  // then on the signal must stop it cleanly, however early: it used to be lost and the process ran on.
  const outcomes: string[] = [];
  for (const delayMs of [100, 200, 300, 400, 600]) {
    const proc = start(runArgs());
    await new Promise((r) => proc.child.once('spawn', r));
    await sleep(delayMs);
    proc.child.kill('SIGTERM');
    const code = await Promise.race([proc.exited, sleep(30_000).then(() => 'still running 30 s after SIGTERM')]);
    const outcome = code === null ? `killed by ${proc.child.signalCode}` : `exit ${code}`;
    outcomes.push(outcome);
    assert.ok(outcome === 'exit 0' || outcome === 'killed by SIGTERM', `SIGTERM ${delayMs} ms after spawn: ${outcome}\n${proc.log()}`);
    if (outcome === 'exit 0') assert.match(proc.log(), /"signal":"SIGTERM","msg":"stopping"/);
  }
  assert.ok(outcomes.includes('exit 0'), `no SIGTERM came after the launcher started: ${outcomes.join(', ')}`);
});

test('SIGTERM while run applies its first batches exits 0 every time, and nothing is lost', { timeout: 300_000 }, async () => {
  const f = fixture();
  await f.conn.query(`CREATE TABLE \`${f.db}\`.busy (id INT PRIMARY KEY, v VARCHAR(40))`);
  let next = 1;
  let writing = true;
  const writer = (async () => {
    while (writing) {
      await f.conn.query(`INSERT INTO \`${f.db}\`.busy SELECT seq, CONCAT('v', seq) FROM ${seqRows(next, next + 199)}`);
      next += 200;
      await sleep(10);
    }
  })();
  // With the initial bootstrap: rows written before the first capture starts are copied by it.
  const args = runArgs().slice(0, -2);
  try {
    for (const delayMs of [0, 50, 100, 200, 300, 500, 800]) {
      const proc = start(args);
      await waitForApplyConnected(proc, f.pg.url);
      await sleep(delayMs);
      const code = await proc.kill('SIGTERM');
      assert.equal(code, 0, `SIGTERM ${delayMs} ms after apply connected: exit code ${code}\n${proc.log()}`);
    }
  } finally {
    writing = false;
    await writer;
  }
  const proc = start(args);
  await assertReplicaConverges(f, ['busy']);
  assert.equal(await proc.kill('SIGTERM'), 0);
});

test('a heap too small for the work ends with the out-of-memory message and the internal exit code', { timeout: 120_000 }, async () => {
  const proc = startMy2pg(runArgs(), { MY2PG_HEAP_MB: '8' });
  assert.equal(await proc.exited, EXIT_CODES.INTERNAL);
  assert.match(proc.log(), /my2pg ran out of its 8 MB heap\. Nothing acknowledged is lost: restart it with a bigger MY2PG_HEAP_MB/);
});

test('MY2PG_HEAP_MB that is not a number is a configuration error', { timeout: 60_000 }, async () => {
  const proc = startMy2pg(runArgs(), { MY2PG_HEAP_MB: 'lots' });
  assert.equal(await proc.exited, EXIT_CODES.CONFIG);
  assert.match(proc.log(), /MY2PG_HEAP_MB=lots is not a number of megabytes/);
});
