// A binlog table id names a table only until the server restarts: a restarted MariaDB hands the
// same ids out again, to whichever table it opens first. A capture that reads across a restart
// (it resumes from a position before it, as after an outage) must decode each rows event with
// the table map of its own binlog file. Here the ids of two tables swap across a crash and
// restart (checked in the binlog, so the test cannot pass by not setting the trap), as do the
// ids of two tables of one name in two databases, which only differ in their columns' types
// and whose columns the driver reads from information_schema.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Connection } from 'mysql2/promise';
import { assertReplicaConverges, type PipelineFixture } from '../harness/pipeline.js';
import { startScriptServer, type CrashableServer } from '../harness/outages.js';
import { createPgDatabase, mysqlConnection, randomSuffix, startMy2pg, waitFor, type My2pgProcess } from '../harness/servers.js';

let mariadb: CrashableServer;
const running: My2pgProcess[] = [];

before(() => {
  mariadb = startScriptServer('mariadb');
});

after(async () => {
  await Promise.all(running.map((p) => p.kill('SIGKILL')));
  await mariadb?.stop();
});

/** Table id → `db.table` of every table map in one binlog file. */
async function tableIds(conn: Connection, file: string): Promise<Map<number, string>> {
  const [rows] = (await conn.query(`SHOW BINLOG EVENTS IN '${file}'`)) as unknown as [Array<{ Event_type: string; Info: string }>];
  const ids = new Map<number, string>();
  for (const r of rows) {
    const m = r.Event_type === 'Table_map' ? /table_id: (\d+) \((.+)\)/.exec(r.Info) : null;
    if (m) ids.set(Number(m[1]), m[2]!);
  }
  return ids;
}

test('rows written after a source restart reuse table ids, and each is decoded with its own table', { timeout: 300_000 }, async () => {
  const db = `tid_${randomSuffix()}`;
  let conn = await mysqlConnection(mariadb.url);
  await conn.query(`CREATE DATABASE \`${db}\``);
  await conn.query(`CREATE DATABASE \`${db}_y\``);
  await conn.query(`CREATE TABLE \`${db}\`.a (a_id INT PRIMARY KEY, note VARCHAR(10))`);
  await conn.query(`CREATE TABLE \`${db}\`.b (b_id INT PRIMARY KEY, x INT)`);
  // MariaDB 5.3's DATETIME(6) format, which the binlog's metadata cannot tell from DATETIME: the
  // driver reads these tables' columns from information_schema, and caches them per table id.
  await conn.query('SET GLOBAL mysql56_temporal_format = OFF');
  await conn.query(`CREATE TABLE \`${db}\`.same (id INT PRIMARY KEY, v VARCHAR(20), at DATETIME(6))`);
  await conn.query(`CREATE TABLE \`${db}_y\`.same (id INT PRIMARY KEY, v BIGINT, at DATETIME(6))`);
  await conn.query('SET GLOBAL mysql56_temporal_format = ON');
  const [[status]] = (await conn.query('SHOW MASTER STATUS')) as unknown as [[{ File: string; Position: number }]];

  // Before the restart the tables are opened in the order same, db_y.same, a, b …
  await conn.query(`INSERT INTO \`${db}\`.same VALUES (1, 'text', '2020-01-01 00:00:00.5')`);
  await conn.query(`INSERT INTO \`${db}_y\`.same VALUES (1, 9007199254740993, '2021-01-01 00:00:00.25')`);
  await conn.query(`INSERT INTO \`${db}\`.a VALUES (1, 'one'), (2, 'two')`);
  await conn.query(`INSERT INTO \`${db}\`.b VALUES (1, 10), (2, 20)`);
  await conn.end();
  await mariadb.crash();
  await mariadb.restart();
  await waitFor('MariaDB to accept connections', async () => {
    conn = await mysqlConnection(mariadb.url);
    return true;
  });
  // … and after it in the order db_y.same, same, b, a, so that each pair swaps ids.
  await conn.query(`INSERT INTO \`${db}_y\`.same VALUES (2, -42, '2022-01-01 00:00:00.125')`);
  await conn.query(`INSERT INTO \`${db}\`.same VALUES (2, 'more text', '2023-01-01 00:00:00.0625')`);
  await conn.query(`INSERT INTO \`${db}\`.b VALUES (3, 30)`);
  await conn.query(`INSERT INTO \`${db}\`.a VALUES (3, 'three')`);
  await conn.query(`UPDATE \`${db}\`.a SET note = 'uno' WHERE a_id = 1`);
  await conn.query(`DELETE FROM \`${db}\`.b WHERE b_id = 2`);

  const [logs] = (await conn.query('SHOW BINARY LOGS')) as unknown as [Array<{ Log_name: string }>];
  const before = await tableIds(conn, status.File);
  const afterRestart = await tableIds(conn, logs[logs.length - 1]!.Log_name);
  const swapped = (x: string, y: string) => [...afterRestart].some(([id, t]) => t === y && before.get(id) === x);
  assert.ok(
    swapped(`${db}.a`, `${db}.b`) && swapped(`${db}.same`, `${db}_y.same`),
    `the restart was to give the tables each other's ids: before ${[...before].join(' ')}; after ${[...afterRestart].join(' ')}`,
  );

  const replica = await createPgDatabase();
  try {
    const serverId = String(1000 + Math.floor(Math.random() * 1_000_000));
    const proc = startMy2pg(['run', '--source', mariadb.url, '--target', replica.url, '--include', `${db},${db}_y`, '--server-id', serverId, '--init-position', `${status.File}:${status.Position}`, '--initial-bootstrap', 'false']);
    running.push(proc);
    const f: PipelineFixture = { db, conn, pg: replica, serverId, cleanup: async () => undefined };
    await assertReplicaConverges(f, ['a', 'b', 'same'], 90_000).catch((err: Error) => assert.fail(`${err.message}\n${proc.log().slice(-4000)}`));
    await assertReplicaConverges({ ...f, db: `${db}_y` }, ['same'], 30_000);
    assert.equal(await proc.kill('SIGTERM'), 0, proc.log());
  } finally {
    await conn.end();
    await replica.drop();
  }
});
