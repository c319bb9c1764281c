// Two my2pg pipelines on one source: with the default server_id and client_id they do not
// collide (each derives its own); a server_id they do share is reported as such, not as a purged
// binlog; and a stored position that is really gone still exits 5.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { assertReplicaConverges, usePipelineFixture, type PipelineFixture } from '../harness/pipeline.js';
import { createPgDatabase, kafkaBrokers, mysqlUrl, randomSuffix, sleep, waitFor } from '../harness/servers.js';
import { sourcePosition, waitForRunStreaming } from '../harness/waits.js';

const { fixture, start } = usePipelineFixture();
const replicas: Array<{ drop: () => Promise<void> }> = [];
after(async () => {
  for (const r of replicas) await r.drop();
});

async function otherReplica(f: PipelineFixture): Promise<PipelineFixture> {
  const pg = await createPgDatabase();
  replicas.push(pg);
  return { ...f, pg };
}

async function writeRows(f: PipelineFixture, table: string, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) await f.conn.query(`INSERT INTO \`${f.db}\`.${table} VALUES (?, ?)`, [i, `v${i}`]);
}

test('two runs without Kafka on one source, default server_id: both keep streaming', { timeout: 180_000 }, async () => {
  const f = fixture();
  await f.conn.query(`CREATE TABLE \`${f.db}\`.pair (id INT PRIMARY KEY, v VARCHAR(10))`);
  const g = await otherReplica(f);
  const a = start(['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', f.db]);
  const b = start(['run', '--source', mysqlUrl(), '--target', g.pg.url, '--include', f.db]);
  await Promise.all([waitForRunStreaming(a), waitForRunStreaming(b)]);
  await writeRows(f, 'pair', 0, 50);
  // Both have the first rows before the next ones are written: both stream, then keep streaming.
  await assertReplicaConverges(f, ['pair'], 60_000);
  await assertReplicaConverges(g, ['pair'], 60_000);
  await writeRows(f, 'pair', 50, 50);
  await assertReplicaConverges(f, ['pair'], 60_000);
  await assertReplicaConverges(g, ['pair'], 60_000);
  assert.equal(a.child.exitCode, null, `the first run died:\n${a.log()}`);
  assert.equal(b.child.exitCode, null, `the second run died:\n${b.log()}`);
  assert.match(a.log(), /"derived":true,"msg":"capture identity on the source"/);
  assert.notEqual(/"server_id":(\d+)/.exec(a.log())?.[1], /"server_id":(\d+)/.exec(b.log())?.[1]);
  await Promise.all([a.kill(), b.kill()]);
});

test('two captures on other topics, default client_id and server_id: neither fences the other', { timeout: 180_000 }, async () => {
  const f = fixture();
  await f.conn.query(`CREATE TABLE \`${f.db}\`.duo (id INT PRIMARY KEY, v VARCHAR(10))`);
  const g = await otherReplica(f);
  const run = (target: string, topic: string) =>
    start(['run', '--source', mysqlUrl(), '--target', target, '--kafka', kafkaBrokers(), '--topic', topic, '--group', `g_${topic}`, '--include', f.db]);
  const a = run(f.pg.url, `ta_${randomSuffix()}`);
  const b = run(g.pg.url, `tb_${randomSuffix()}`);
  await Promise.all([waitForRunStreaming(a), waitForRunStreaming(b)]);
  await writeRows(f, 'duo', 0, 100);
  await assertReplicaConverges(f, ['duo'], 60_000).catch((err) => assert.fail(`${err}\n${a.log()}\n${b.log()}`));
  await assertReplicaConverges(g, ['duo'], 60_000);
  assert.equal(a.child.exitCode, null, `the first run died:\n${a.log()}`);
  assert.equal(b.child.exitCode, null, `the second run died:\n${b.log()}`);
  await Promise.all([a.kill(), b.kill()]);
});

test('a server_id two pipelines share is reported as such (exit 2), not as a purged binlog', { timeout: 120_000 }, async () => {
  const f = fixture();
  const [g, h] = [await otherReplica(f), await otherReplica(f)];
  const a = start(['run', '--source', mysqlUrl(), '--target', h.pg.url, '--include', f.db, '--server-id', f.serverId]);
  await waitForRunStreaming(a);
  const b = start(['run', '--source', mysqlUrl(), '--target', g.pg.url, '--include', f.db, '--server-id', f.serverId]);
  const code = await Promise.race([a.exited, sleep(30_000).then(() => 'still running')]);
  assert.equal(code, 2, a.log());
  assert.match(a.log(), new RegExp(`another replica connected to the source with this one's server_id ${f.serverId}`));
  assert.doesNotMatch(a.log(), /purged/);
  await b.kill();
});

test('a stored position whose binlog was purged exits 5 naming the file', { timeout: 120_000 }, async () => {
  const f = fixture();
  const g = await otherReplica(f);
  await f.conn.query(`CREATE TABLE IF NOT EXISTS \`${f.db}\`.gone (id INT PRIMARY KEY, v VARCHAR(10))`);
  const args = ['run', '--source', mysqlUrl(), '--target', g.pg.url, '--include', f.db, '--use-gtid', 'false'];
  const a = start(args);
  await waitForRunStreaming(a);
  await writeRows(f, 'gone', 0, 5);
  await assertReplicaConverges(g, ['gone'], 60_000);
  await a.kill();
  const { file: stored } = await sourcePosition(f.conn);
  await writeRows(f, 'gone', 5, 5);
  await f.conn.query('FLUSH BINARY LOGS');
  const { file: now } = await sourcePosition(f.conn);
  // MariaDB keeps a binlog until its checkpoint and every dump thread reading it have moved on.
  await waitFor(`${stored} to be purged`, async () => {
    await f.conn.query(`PURGE BINARY LOGS TO '${now}'`);
    const [logs] = (await f.conn.query('SHOW BINARY LOGS')) as unknown as [Array<{ Log_name: string }>];
    return !logs.some((l) => l.Log_name === stored);
  }, 30_000, 500);
  const b = start(args);
  const code = await Promise.race([b.exited, sleep(30_000).then(() => 'still running')]);
  assert.equal(code, 5, b.log());
  assert.match(b.log(), new RegExp(`no longer has binlog ${stored.replace(/\./g, '\\.')}`));
});
