// `my2pg run`'s first start: a table created, and rows written, while the stages start (before
// capture has fixed its start position) still reach the replica, with and without Kafka. The
// tables to copy are chosen only once the stream has a position (src/state/initial-bootstrap.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertReplicaConverges, usePipelineFixture } from '../harness/pipeline.js';
import { kafkaBrokers, logTail, mysqlUrl, pgClient, randomSuffix, waitFor, waitForState } from '../harness/servers.js';
import { waitForCaptureStreaming } from '../harness/waits.js';

const { fixture, start } = usePipelineFixture();

for (const kafka of [false, true]) {
  test(`run${kafka ? ' --kafka' : ''}: a table created while the stages start is copied and streamed`, { timeout: 180_000 }, async () => {
    const f = fixture();
    const table = `early_${kafka ? 'k' : 'e'}`;
    const topic = `t_${randomSuffix()}`;
    const args = ['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', f.db, '--server-id', String(Number(f.serverId) + (kafka ? 1 : 0))];
    if (kafka) args.push('--kafka', kafkaBrokers(), '--topic', topic, '--client-id', topic, '--group', `g_${topic}`);
    // A fresh replica database for each mode: the first start is what is tested.
    const client = pgClient(f.pg.url);
    await client.connect();
    await client.query('DROP SCHEMA IF EXISTS _my2pg CASCADE');
    await client.query(`DROP SCHEMA IF EXISTS "${f.db}" CASCADE`);
    const proc = start(args);
    // The first start is recorded before the stages run; the table comes right after.
    const stream = kafka ? `kafka:g_${topic}` : 'binlog';
    await waitForState(
      'run to record its first start',
      async () => (await client.query('SELECT state FROM _my2pg.initial_bootstraps WHERE stream = $1', [stream]).catch(() => ({ rows: [] }))).rows,
      (rows) => rows.length === 1,
      { timeoutMs: 60_000, everyMs: 10, show: () => `no first start of ${stream} in _my2pg.initial_bootstraps; the log ends:\n${logTail(proc)}` },
    );
    await f.conn.query(`CREATE TABLE \`${f.db}\`.${table} (id INT PRIMARY KEY, v VARCHAR(10))`);
    await f.conn.query(`INSERT INTO \`${f.db}\`.${table} VALUES (1, 'one'), (2, 'two')`);
    // Streaming: capture has fixed its start position.
    await waitForCaptureStreaming(proc);
    await f.conn.query(`INSERT INTO \`${f.db}\`.${table} VALUES (3, 'three')`);
    await assertReplicaConverges(f, [table], 60_000);
    await waitFor('the first-start copy to be done', async () => (await client.query("SELECT 1 FROM _my2pg.initial_bootstraps WHERE state = 'done'")).rows.length === 1, 60_000);
    await client.end();
    assert.equal(proc.child.exitCode, null, `run died:\n${proc.log()}`);
    await proc.kill();
  });
}
