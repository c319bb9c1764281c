// A DDL statement capture cannot parse stops it (exit code 6) with the statement, its binlog
// position and its fingerprint; listed in `ddl_skip`, it is passed over and the stream goes on.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertReplicaConverges, usePipelineFixture } from '../harness/pipeline.js';
import { mysqlUrl, testSource } from '../harness/servers.js';
import { waitForRunStreaming } from '../harness/waits.js';

const { fixture, start } = usePipelineFixture();

/**
 * A statement the server takes and the parser does not read, on an included table, and the one
 * that undoes it: MariaDB's system versioning; MySQL's NOT SECONDARY (a column left out of a
 * secondary engine).
 */
const UNREADABLE =
  testSource() === 'mysql'
    ? { sql: 'ALTER TABLE T MODIFY COLUMN a INT NOT SECONDARY', logged: /ALTER TABLE `[^`]+`\.sv MODIFY COLUMN a INT NOT SECONDARY/, undo: 'ALTER TABLE T MODIFY COLUMN a INT' }
    : { sql: 'ALTER TABLE T ADD SYSTEM VERSIONING', logged: /ALTER TABLE `[^`]+`\.sv ADD SYSTEM VERSIONING/, undo: 'ALTER TABLE T DROP SYSTEM VERSIONING' };

test('an unparseable DDL stops capture with its position and fingerprint; ddl_skip moves past it', { timeout: 300_000 }, async () => {
  const f = fixture();
  const q = (sql: string, params: unknown[] = []) => f.conn.query(sql.replace(/\bT\b/g, `\`${f.db}\`.sv`), params);
  const args = ['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', f.db, '--server-id', f.serverId];
  let proc = start(args);
  await waitForRunStreaming(proc);
  await q('CREATE TABLE T (id INT PRIMARY KEY, a INT)');
  await q('INSERT INTO T VALUES (1, 1), (2, 2)');
  await assertReplicaConverges(f, ['sv']);
  await q(UNREADABLE.sql);
  assert.equal(await proc.exited, 6, proc.log());
  const stop = /capture stopped at binlog position (\S+) .*add "(sha256:[0-9a-f]{16})" \(its fingerprint\)/.exec(proc.log());
  assert.ok(stop, proc.log());
  assert.match(proc.log(), UNREADABLE.logged);

  // Started again without the skip, it stops at the same place (it does not pass silently).
  proc = start(args);
  assert.equal(await proc.exited, 6);
  assert.ok(proc.log().includes(stop[2]));

  // The operator undoes the change on the source and lists the statement in ddl_skip.
  await q(UNREADABLE.undo);
  await q('INSERT INTO T VALUES (3, 3)');
  proc = start([...args, '--ddl-skip', stop[2]]);
  await q('UPDATE T SET a = 20 WHERE id = 2');
  await assertReplicaConverges(f, ['sv']);
  assert.match(proc.log(), /DDL statement skipped \(ddl_skip\)/);
  assert.equal(proc.child.exitCode, null, proc.log());
  await proc.kill();

  // The position works as well as the fingerprint (validated at start).
  proc = start([...args, '--ddl-skip', `${stop[1]},${stop[2]}`]);
  await waitForRunStreaming(proc);
  await proc.kill();
});
