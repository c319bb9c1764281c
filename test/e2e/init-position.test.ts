// `init_position`: a capture with no stored position starts at a given binlog offset, so rows
// written before it started reach the replica; an offset the server does not have is refused
// with one clear message and the configuration exit code.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXIT_CODES } from '../../src/core/errors.js';
import { assertReplicaConverges, usePipelineFixture } from '../harness/pipeline.js';
import { createPgDatabase, mysqlUrl, testSource } from '../harness/servers.js';
import { sourcePosition } from '../harness/waits.js';
import { createWorkloadTables, Workload, WORKLOAD_TABLES } from '../harness/workload.js';

const { fixture, start } = usePipelineFixture();

test('run with --init-position replays the binlog written before it started', { timeout: 300_000 }, async () => {
  const f = fixture();
  await createWorkloadTables(f.conn, f.db);
  const status = await sourcePosition(f.conn);
  const w = new Workload(f.conn, f.db, 5);
  for (let i = 0; i < 200; i++) await w.step();
  await w.bigTransaction(5_000);
  const proc = start(['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', f.db, '--server-id', f.serverId, '--init-position', `${status.file}:${status.pos}`, '--initial-bootstrap', 'false']);
  await assertReplicaConverges(f, WORKLOAD_TABLES);
  // The GTID state at that offset: MariaDB's domain-server-seq, MySQL's GTID set.
  assert.match(proc.log(), testSource() === 'mysql' ? /"gtid":"[0-9a-f-]{36}:1-\d+".*capture starting at init_position/ : /"gtid":"0-\d+-\d+".*capture starting at init_position/);
  await proc.kill();
});

test('an init_position outside the binlogs is refused with exit code 2', { timeout: 120_000 }, async () => {
  const f = fixture();
  // A replica with no stored position (the first test's replica has one, and ignores init_position).
  const replica = await createPgDatabase();
  try {
    const proc = start(['run', '--source', mysqlUrl(), '--target', replica.url, '--include', f.db, '--server-id', f.serverId, '--init-position', 'no-such-binlog.000001:4']);
    assert.equal(await proc.exited, EXIT_CODES.CONFIG);
    assert.match(proc.log(), /init_position no-such-binlog\.000001:4 is not in the source's binlogs/);
  } finally {
    await replica.drop();
  }
});
