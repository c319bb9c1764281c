// `my2pg run` without Kafka: the binlog cursor is committed in the replica with the data; one
// SIGKILL mid-stream and a restart leave the replica equal to the source.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertReplicaConverges, usePipelineFixture, waitForOpenApply } from '../harness/pipeline.js';
import { mysqlUrl } from '../harness/servers.js';
import { createWorkloadTables, Workload, WORKLOAD_TABLES } from '../harness/workload.js';
import { waitForRunStreaming } from '../harness/waits.js';

const { fixture, start } = usePipelineFixture();

test('my2pg run survives SIGKILL and converges', { timeout: 600_000 }, async () => {
  const f = fixture();
  const run = () => start(['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', f.db, '--server-id', f.serverId, '--batch-max-rows', '1000']);
  let proc = run();
  await waitForRunStreaming(proc);
  await createWorkloadTables(f.conn, f.db);
  const w = new Workload(f.conn, f.db, 11);
  for (let i = 0; i < 200; i++) await w.step();
  const [[{ n }]] = (await f.conn.query(`SELECT count(*) AS n FROM \`${f.db}\`.order_items`)) as unknown as [[{ n: string }]];
  const bigTx = w.bigTransaction(20_000);
  // SIGKILL while the 20,000-row transaction is half applied.
  await waitForOpenApply(f, 'order_items', Number(n));
  assert.equal(await proc.kill('SIGKILL'), null);
  await bigTx;
  for (let i = 0; i < 200; i++) await w.step();
  proc = run();
  for (let i = 0; i < 100; i++) await w.step();
  await assertReplicaConverges(f, WORKLOAD_TABLES);
  assert.equal(proc.child.exitCode, null, `run died:\n${proc.log()}`);
  await proc.kill();
});
