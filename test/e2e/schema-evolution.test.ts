// Schema evolution under load (`my2pg run`, embedded): DDL interleaved with a stream of writes —
// a column renamed while rows stream in, a primary key changed, two tables swapped with one
// RENAME, CREATE … SELECT, TRUNCATE then insert — leaves the replica equal to the source.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertReplicaConverges, usePipelineFixture } from '../harness/pipeline.js';
import { mysqlConnection, mysqlUrl, waitFor } from '../harness/servers.js';
import { waitForRunStreaming } from '../harness/waits.js';

const { fixture, start } = usePipelineFixture();

test('DDL interleaved with DML leaves the replica equal to the source', { timeout: 600_000 }, async () => {
  const f = fixture();
  const q = (sql: string, params: unknown[] = []) => f.conn.query(sql.replace(/\bdb\./g, `\`${f.db}\`.`), params);
  const proc = start(['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', f.db, '--server-id', f.serverId, '--batch-max-rows', '500']);
  await waitForRunStreaming(proc);
  await q('CREATE TABLE db.a (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20), n INT NOT NULL)');
  await q('CREATE TABLE db.b (id INT PRIMARY KEY, w INT NOT NULL DEFAULT 0, x VARCHAR(10))');
  await q('CREATE TABLE db.c (id INT PRIMARY KEY, w INT NOT NULL DEFAULT 0, x VARCHAR(10), note TEXT)');

  for (let i = 0; i < 20; i++) await q('INSERT INTO db.a (v, n) VALUES (?, ?)', [`seed${i}`, -i]);
  // The writer streams rows into a, b and c on its own connection while the DDL runs.
  const writer = await mysqlConnection();
  const w = (sql: string, params: unknown[] = []) => writer.query(sql.replace(/\bdb\./g, `\`${f.db}\`.`), params);
  let stop = false;
  let written = 0;
  let nextId = 1;
  const writing = (async () => {
    while (!stop) {
      const id = nextId++;
      for (;;) {
        try {
          await w('BEGIN');
          await w('INSERT INTO db.a (n) VALUES (?)', [id]);
          await w('UPDATE db.a SET n = n + 1 WHERE id = ?', [id + 17]);
          await w('INSERT INTO db.b (id, w, x) VALUES (?, ?, ?)', [id, id % 7, `b${id}`]);
          await w('INSERT INTO db.c (id, w, x) VALUES (?, ?, ?)', [id, id % 5, `c${id}`]);
          if (id % 4 === 0) await w('DELETE FROM db.b WHERE id = ?', [id - 2]);
          await w('COMMIT');
          break;
        } catch (err) {
          // A deadlock with the concurrent DDL rolls the transaction back: do it again.
          await w('ROLLBACK').catch(() => undefined);
          if ((err as { code?: string }).code !== 'ER_LOCK_DEADLOCK') throw err;
        }
      }
      written++;
    }
  })();
  writing.catch(() => undefined); // awaited below; rowsPass fails first with a timeout
  const rowsPass = async (n: number) => {
    const target = written + n;
    await waitFor(`${n} more transactions`, async () => written >= target, 60_000, 20);
  };

  await rowsPass(120);
  await q('ALTER TABLE db.a CHANGE v label VARCHAR(30)'); // rename while rows stream in
  await rowsPass(120);
  await q('ALTER TABLE db.b DROP PRIMARY KEY, ADD PRIMARY KEY (id, w)'); // a new primary key
  await rowsPass(120);
  await q('RENAME TABLE db.b TO db.tmp, db.c TO db.b, db.tmp TO db.c'); // swap
  await rowsPass(120);
  await q('CREATE TABLE db.d SELECT id, label, n FROM db.a WHERE id % 2 = 0'); // CREATE … SELECT
  await rowsPass(80);
  await q('TRUNCATE TABLE db.b');
  await rowsPass(80);
  await q('ALTER TABLE db.a ADD COLUMN extra INT NOT NULL DEFAULT 5 AFTER id, MODIFY n BIGINT NOT NULL, ADD INDEX by_n (n)');
  await rowsPass(80);
  await q('INSERT INTO db.d (id, label, n) VALUES (100000, ?, 1)', ['after-ctas']);
  // Text after a GEOMETRY column is decoded in the charset the tracker knows — here the
  // database's, as the statement names none (MariaDB's table map cannot be trusted there).
  await q('CREATE TABLE db.geo (id INT PRIMARY KEY, p POINT, s VARCHAR(10), t TEXT)');
  await q("INSERT INTO db.geo VALUES (1, ST_GeomFromText('POINT(1 2)'), 'héllo', 'tëxt')");
  stop = true;
  await writing;
  await writer.end();

  await assertReplicaConverges(f, ['a', 'b', 'c', 'd', 'geo']);
  assert.equal(proc.child.exitCode, null, `run died:\n${proc.log()}`);
  assert.doesNotMatch(proc.log(), /table stopped/);
  await proc.kill();
});
