// `my2pg run`'s first-start copy while the source changes the table's shape: a column added (and
// filled), renamed and dropped, the key column renamed, and a table dropped, all while its chunks
// are being copied. The copy follows each change, `run` keeps going, and the replica ends equal
// to the source (docs/BOOTSTRAP.md "Schema changes during a bootstrap").

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBigTable } from '../harness/big-table.js';
import { assertReplicaConverges, usePipelineFixture } from '../harness/pipeline.js';
import { logTail, mysqlUrl, pgClient, waitFor, waitForState } from '../harness/servers.js';

const { fixture, start } = usePipelineFixture();

const ROWS = 60_000;

test('run: the first-start copy follows DDL on the tables it is copying', { timeout: 300_000 }, async () => {
  const f = fixture();
  const q = (sql: string) => f.conn.query(sql.replaceAll('@', `\`${f.db}\`.`));
  await createBigTable(f.conn, f.db, ROWS, 'shape');
  await createBigTable(f.conn, f.db, ROWS, 'keyed');
  await createBigTable(f.conn, f.db, ROWS, 'gone');
  await createBigTable(f.conn, f.db, 2_000, 'after');
  const proc = start(['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', f.db, '--server-id', f.serverId,
    '--bootstrap-chunk-rows', '500', '--bootstrap-concurrency', '1']);
  const client = pgClient(f.pg.url);
  await client.connect();
  try {
    const chunksDone = async (table: string) =>
      Number((await client.query("SELECT count(*) AS n FROM _my2pg.bootstrap_chunks WHERE source_table = $1 AND state = 'done'", [table]).catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n);
    const copying = (table: string) =>
      waitForState(`the copy of ${table} to be under way`, () => chunksDone(table), (n) => n >= 2, { timeoutMs: 120_000, everyMs: 20, show: (n) => `${n} chunks of ${table} done; the log ends:\n${logTail(proc)}` });

    // Tables are copied in turn: each change lands while its own table is mid-copy.
    await copying('gone');
    await q('DROP TABLE @gone');

    await copying('keyed');
    await q('ALTER TABLE @keyed CHANGE id ident BIGINT UNSIGNED NOT NULL');
    await q('UPDATE @keyed SET qty = qty + 1 WHERE ident % 1000 = 0');

    await copying('shape');
    await q('ALTER TABLE @shape ADD COLUMN w INT NOT NULL DEFAULT 7');
    await q('UPDATE @shape SET w = id WHERE id % 500 = 0');
    await q('ALTER TABLE @shape RENAME COLUMN name TO label');
    await q('ALTER TABLE @shape DROP COLUMN note');
    await q('UPDATE @shape SET label = CONCAT(label, "!") WHERE id % 700 = 0');

    await assertReplicaConverges(f, ['shape', 'keyed', 'after'], 180_000);
    await waitFor('every first-start copy to finish', async () => (await client.query("SELECT 1 FROM _my2pg.initial_bootstraps WHERE state = 'done'")).rows.length === 1, 60_000);
    const gone = await client.query("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'gone'", [f.db]);
    assert.equal(Number(gone.rows[0].n), 0, 'the dropped table is dropped in the replica');
    assert.match(proc.log(), /gone.*(dropped|renamed)|(dropped|renamed).*gone/, 'the log says the copy of the dropped table stopped');
    assert.match(proc.log(), /key changed in the source: starting its bootstrap over/, 'the copy of the re-keyed table started over');
    assert.equal(proc.child.exitCode, null, `run died:\n${logTail(proc, 40)}`);
  } finally {
    await client.end();
  }
  await proc.kill();
});
