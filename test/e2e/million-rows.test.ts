// One million rows of 64-bit unsigned integers and DECIMAL(65,30) values replicate with zero
// differences (compared value by value as text on both servers).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { usePipelineFixture } from '../harness/pipeline.js';
import { mysqlUrl, pgClient, waitFor } from '../harness/servers.js';
import { waitForRunStreaming } from '../harness/waits.js';
import { seqRows } from '../harness/sequence.js';

const { fixture, start } = usePipelineFixture();
const ROWS = 1_000_000;
const CHUNK = 100_000;

test('1M rows of BIGINT UNSIGNED and DECIMAL(65,30) arrive exactly', { timeout: 900_000 }, async () => {
  const f = fixture();
  const run = start(['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', f.db, '--server-id', f.serverId]);
  await waitForRunStreaming(run);
  await f.conn.query(`CREATE TABLE \`${f.db}\`.big (id INT PRIMARY KEY, u BIGINT UNSIGNED, d DECIMAL(65,30), n DECIMAL(65,30))`);
  for (let from = 1; from <= ROWS; from += CHUNK) {
    await f.conn.query(
      `INSERT INTO \`${f.db}\`.big
       SELECT seq, 18446744073709551615 - seq * 7919,
              CAST(CONCAT(IF(seq % 2 = 1, '-', ''), REPEAT('9', 11), LPAD(seq, 7, '0'), '12345678901234567', '.', LPAD(seq * 7, 30, '0')) AS DECIMAL(65,30)),
              IF(seq % 3 = 0, NULL, CAST(CONCAT('0.', LPAD(seq, 30, '0')) AS DECIMAL(65,30)))
       FROM ${seqRows(from, from + CHUNK - 1)}`,
    );
  }
  const client = pgClient(f.pg.url);
  await client.connect();
  try {
    await waitFor(
      'all rows in the replica',
      async () => Number((await client.query(`SELECT count(*) AS n FROM "${f.db}".big`)).rows[0].n) === ROWS,
      600_000,
      2000,
    );
    let differences = 0;
    for (let from = 1; from <= ROWS; from += CHUNK) {
      const to = from + CHUNK - 1;
      const [src] = await f.conn.query({
        sql: `SELECT id, CAST(u AS CHAR), CAST(d AS CHAR), CAST(n AS CHAR) FROM \`${f.db}\`.big WHERE id BETWEEN ? AND ? ORDER BY id`,
        rowsAsArray: true,
        values: [from, to],
      });
      const dst = await client.query({ text: `SELECT id::text, u::text, d::text, n::text FROM "${f.db}".big WHERE id BETWEEN $1 AND $2 ORDER BY big.id`, values: [from, to], rowMode: 'array' });
      const a = src as unknown[][];
      assert.equal(dst.rows.length, a.length);
      for (let i = 0; i < a.length; i++) {
        if (a[i].map(String).join('|') !== dst.rows[i].map(String).join('|')) {
          if (differences++ < 3) assert.fail(`row differs:\n  mysql    ${a[i].join('|')}\n  postgres ${dst.rows[i].join('|')}`);
        }
      }
    }
    assert.equal(differences, 0);
  } finally {
    await client.end();
  }
  assert.equal(run.child.exitCode, null, run.log());
});
