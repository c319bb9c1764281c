// A source whose binlog settings cannot give full row images is refused at start, naming the
// setting; the exit code says it is a settings problem.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type mysql from 'mysql2/promise';
import { checkSourceServer } from '../../src/source/server-check.js';
import { EXIT_CODES } from '../../src/core/errors.js';
import { createPgDatabase, mysqlConnection, mysqlUrl, startMy2pg } from '../harness/servers.js';

let conn: mysql.Connection;

before(async () => {
  conn = await mysqlConnection();
});
after(async () => {
  await conn.query("SET GLOBAL binlog_format = 'ROW', GLOBAL binlog_row_metadata = 'FULL', GLOBAL binlog_row_image = 'FULL'");
  await conn.end();
});

test('the test server itself is accepted', async () => {
  const info = await checkSourceServer(conn);
  assert.ok(info.serverId > 0);
});

test('binlog_format=MIXED is refused with the setting to change', async () => {
  await conn.query("SET GLOBAL binlog_format = 'MIXED'");
  try {
    await assert.rejects(checkSourceServer(conn), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'SOURCE_SETTINGS');
      assert.match(e.message, /binlog_format is MIXED, must be ROW/);
      assert.match(e.message, /binlog_format=ROW/);
      return true;
    });
  } finally {
    await conn.query("SET GLOBAL binlog_format = 'ROW'");
  }
});

test('my2pg run refuses a source without FULL row metadata, exit code 4', { timeout: 60_000 }, async () => {
  await conn.query("SET GLOBAL binlog_row_metadata = 'MINIMAL'");
  const pg = await createPgDatabase();
  try {
    const p = startMy2pg(['run', '--source', mysqlUrl(), '--target', pg.url]);
    const code = await p.exited;
    assert.equal(code, EXIT_CODES.SOURCE_SETTINGS, p.log());
    assert.match(p.log(), /binlog_row_metadata is MINIMAL, must be FULL/);
  } finally {
    await conn.query("SET GLOBAL binlog_row_metadata = 'FULL'");
    await pg.drop();
  }
});

test('a bad option is a config error naming the key, exit code 2', { timeout: 60_000 }, async () => {
  const p = startMy2pg(['run', '--source', 'postgres://wrong', '--target', 'postgres://x@127.0.0.1/db']);
  assert.equal(await p.exited, EXIT_CODES.CONFIG);
  assert.match(p.log(), /source: must be a mysql:\/\/user:pass@host:port URL/);
});
