// Databases, tables and columns named with spaces, quotes, backticks, semicolons, reserved
// words and mixed case replicate correctly: no name is ever pasted into SQL unquoted.

import { test } from 'node:test';
import { assertReplicaConverges, usePipelineFixture } from '../harness/pipeline.js';
import { mysqlUrl } from '../harness/servers.js';
import { waitForRunStreaming } from '../harness/waits.js';

const { fixture, start } = usePipelineFixture();

const q = (name: string) => `\`${name.replace(/`/g, '``')}\``;

test('hostile names replicate', { timeout: 120_000 }, async () => {
  const f = fixture();
  const weirdDb = `${f.db} Wéird "Db"`;
  const proc = start(['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', `${f.db},${weirdDb}`, '--server-id', f.serverId]);
  await waitForRunStreaming(proc);
  const tables = ['select', 'my table; drop table x', "it's \"quoted\"", 'back`tick', 'MixedCase'];
  const cols = ['order', 'a column', "o'brien", 'semi;colon', 'back`tick', '"dq"', 'Group'];
  for (const t of tables) {
    await f.conn.query(
      `CREATE TABLE ${q(f.db)}.${q(t)} (${q('id key')} INT PRIMARY KEY, ${cols.map((c) => `${q(c)} VARCHAR(20)`).join(', ')})`,
    );
    const insert = `INSERT INTO ${q(f.db)}.${q(t)} VALUES (?, ${cols.map(() => '?').join(', ')})`;
    for (let i = 1; i <= 3; i++) await f.conn.query(insert, [i, ...cols.map((c) => `${c}-${i}\\'";`)]);
    await f.conn.query(`UPDATE ${q(f.db)}.${q(t)} SET ${q('order')} = 'upd', ${q('id key')} = 10 WHERE ${q('id key')} = 1`);
    await f.conn.query(`DELETE FROM ${q(f.db)}.${q(t)} WHERE ${q('id key')} = 2`);
  }
  await assertReplicaConverges(f, tables, 60_000);

  await f.conn.query(`CREATE DATABASE ${q(weirdDb)}`);
  try {
    await f.conn.query(`CREATE TABLE ${q(weirdDb)}.${q('Table')} (${q('Key')} BIGINT PRIMARY KEY, ${q('v')} TEXT)`);
    await f.conn.query(`INSERT INTO ${q(weirdDb)}.${q('Table')} VALUES (1, 'a'), (2, 'b')`);
    await f.conn.query(`UPDATE ${q(weirdDb)}.${q('Table')} SET ${q('Key')} = 3 WHERE ${q('Key')} = 1`);
    await assertReplicaConverges({ ...f, db: weirdDb }, ['Table'], 60_000);
  } finally {
    await f.conn.query(`DROP DATABASE ${q(weirdDb)}`);
  }
});
