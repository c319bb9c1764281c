// Maxwell's output options, key formats and partition strings, on events captured from the real
// binlog of MariaDB.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type mysql from 'mysql2/promise';
import { CaptureStage } from '../../src/capture/capture-stage.js';
import { TableFilter } from '../../src/core/table-filter.js';
import { DEFAULT_OUTPUT, type OutputOptions } from '../../src/core/maxwell-keys.js';
import type { StreamMessage } from '../../src/core/events.js';
import { silentLogger } from '../../src/core/logger.js';
import type { BinlogPosition } from '../../src/core/position.js';
import type { Publisher } from '../../src/transport/transport.js';
import { mysqlConnection, mysqlUrl, randomSuffix, testSource, waitFor } from '../harness/servers.js';

/** A transaction's GTID as Maxwell writes it: MariaDB's domain-server-seq, MySQL's uuid:number. */
const ONE_GTID = testSource() === 'mysql' ? /^[0-9a-f-]{36}:\d+$/ : /^0-1-\d+$/;
const BINLOG_POSITION = /^(mariadb|mysql)-bin\.\d+:\d+$/;

/** A Publisher that keeps what it is given (our own contract, not a server). */
class CollectingPublisher implements Publisher {
  readonly messages: StreamMessage[] = [];
  async begin(): Promise<void> {}
  async send(m: StreamMessage[]): Promise<void> {
    this.messages.push(...m);
  }
  async commit(_p: BinlogPosition): Promise<void> {}
  async storedPosition(): Promise<BinlogPosition | null> {
    return null;
  }
  async close(): Promise<void> {}
}

const db = `opts_${randomSuffix()}`;
let conn: mysql.Connection;

before(async () => {
  conn = await mysqlConnection();
  await conn.query(`CREATE DATABASE \`${db}\``);
  await conn.query(`CREATE TABLE \`${db}\`.t (id INT PRIMARY KEY, name VARCHAR(10), note VARCHAR(10), n INT)`);
  await conn.query(`CREATE TABLE \`${db}\`.nokey (a INT)`);
});
after(async () => {
  await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await conn.end();
});

let nextId = 1;

/** Runs a capture with `output` until `fn`, given what it published, is done (after its schema snapshot). */
async function withCapture<T>(output: Partial<OutputOptions>, filter: string, fn: (publisher: CollectingPublisher) => Promise<T>): Promise<T> {
  const publisher = new CollectingPublisher();
  const stage = new CaptureStage({
    sourceUrl: mysqlUrl(),
    serverId: 7000 + Math.floor(Math.random() * 100000),
    filter: new TableFilter([db], [], filter),
    publisher,
    log: silentLogger,
    heartbeatMs: 0,
    output: { ...DEFAULT_OUTPUT, ...output },
  });
  const running = stage.run();
  try {
    await waitFor('the snapshot', async () => publisher.messages.length > 0, 30_000, 20);
    return await fn(publisher);
  } finally {
    await stage.stop();
    await running.catch(() => undefined);
  }
}

/** Runs a capture with `output`, writes one two-row transaction, an update and a no-key row. */
async function capture(output: Partial<OutputOptions>, filter = ''): Promise<StreamMessage[]> {
  return withCapture(output, filter, async (publisher) => {
    const a = nextId++;
    const b = nextId++;
    await conn.query('BEGIN');
    await conn.query(`INSERT INTO \`${db}\`.t VALUES (?, 'x', NULL, 1), (?, 'y', 'z', NULL)`, [a, b]);
    await conn.query('COMMIT');
    await conn.query(`UPDATE \`${db}\`.t SET n = 5, note = NULL WHERE id = ?`, [b]);
    await conn.query(`INSERT INTO \`${db}\`.nokey VALUES (1)`);
    const rows = () => publisher.messages.filter((m) => ['insert', 'update', 'delete'].includes(JSON.parse(m.value).type));
    await waitFor('the rows', async () => rows().some((m) => m.table === 'nokey'), 30_000, 20);
    return rows();
  });
}

const keysOf = (json: string) => Object.keys(JSON.parse(json));

test('defaults: xid on every row, xoffset except on the commit row, commit on the last', async () => {
  const [r1, r2, upd] = await capture({});
  assert.deepEqual(keysOf(r1.value), ['database', 'table', 'type', 'ts', 'xid', 'xoffset', 'data']);
  assert.deepEqual(keysOf(r2.value), ['database', 'table', 'type', 'ts', 'xid', 'commit', 'data']);
  assert.equal(JSON.parse(r1.value).xid, JSON.parse(r2.value).xid);
  assert.match(r1.value, /"data":\{"id":\d+,"name":"x","note":null,"n":1\}\}$/);
  assert.deepEqual(keysOf(upd.value), ['database', 'table', 'type', 'ts', 'xid', 'commit', 'data', 'old']);
  assert.match(upd.value, /"old":\{"note":"z","n":null\}\}$/);
  assert.equal(r1.key, `{"database":"${db}","table":"t","pk.id":${JSON.parse(r1.value).data.id}}`);
  assert.equal(r1.partitionKey, db);
});

test('every output_* field, in Maxwell order', async () => {
  const [r1] = await capture({ binlogPosition: true, gtidPosition: true, serverId: true, threadId: true, primaryKeys: true, primaryKeyColumns: true });
  const ev = JSON.parse(r1.value);
  // MariaDB before 11.5 records no thread id in its GTID events, so thread_id is absent there.
  assert.deepEqual(
    keysOf(r1.value).filter((k) => k !== 'thread_id'),
    ['database', 'table', 'type', 'ts', 'xid', 'xoffset', 'position', 'gtid', 'server_id', 'primary_key', 'primary_key_columns', 'data'],
  );
  assert.match(ev.position, BINLOG_POSITION);
  assert.match(ev.gtid, ONE_GTID);
  assert.equal(ev.server_id, 1);
  assert.deepEqual(ev.primary_key, [ev.data.id]);
  assert.deepEqual(ev.primary_key_columns, ['id']);
});

test('output_nulls=false drops null members of data and old; output_commit_info=false drops xid, xoffset, commit', async () => {
  const [r1, r2, upd] = await capture({ nulls: false, commitInfo: false });
  assert.doesNotMatch(r1.value, /"note"|"xid"|"xoffset"|"commit"/);
  assert.doesNotMatch(r2.value, /"n":|"commit"/);
  assert.match(upd.value, /"old":\{"note":"z"\}\}$/);
});

test('array keys, and random uuids for tables without a key', async () => {
  const msgs = await capture({ keyFormat: 'array' });
  assert.equal(msgs[0].key, `["${db}","t",[{"id":${JSON.parse(msgs[0].value).data.id}}]]`);
  assert.equal(msgs.find((m) => m.table === 'nokey')!.key, `["${db}","nokey",[]]`);
  const hash = await capture({});
  assert.match(hash.find((m) => m.table === 'nokey')!.key, new RegExp(`^\\{"database":"${db}","table":"nokey","_uuid":"[0-9a-f-]{36}"\\}$`));
});

test('partition strings for each producer_partition_by', async () => {
  const byTable = await capture({ partitionBy: 'table' });
  assert.equal(byTable[0].partitionKey, 't');
  const byKey = await capture({ partitionBy: 'primary_key' });
  assert.equal(byKey[0].partitionKey, String(JSON.parse(byKey[0].value).data.id));
  assert.equal(byKey.find((m) => m.table === 'nokey')!.partitionKey, `${db}nokey`);
  const byTx = await capture({ partitionBy: 'transaction_id' });
  assert.equal(byTx[0].partitionKey, String(JSON.parse(byTx[0].value).xid));
  assert.equal(byTx[0].partitionKey, byTx[1].partitionKey);
  const byColumn = await capture({ partitionBy: 'column', partitionColumns: ['name', 'n'], partitionFallback: 'table' });
  assert.equal(byColumn[0].partitionKey, 'x1');
  assert.equal(byColumn.find((m) => m.table === 'nokey')!.partitionKey, 'nokey', 'falls back when the columns are absent');
  const random = await capture({ partitionBy: 'random' });
  assert.match(random[0].partitionKey!, /^[0-9a-f]{10}$/);
});

test("a column value rule drops matching rows (Maxwell's filter)", async () => {
  const msgs = await capture({}, `exclude: ${db}.t.name = x`);
  const names = msgs.filter((m) => m.table === 't').map((m) => JSON.parse(m.value).data.name);
  assert.deepEqual(names, ['y', 'y']);
});

test("DDL events: Maxwell's position (the query event's start) and gtid only when asked; tx_position always", async () => {
  const ddlAfter = (output: Partial<OutputOptions>, sql: string) =>
    withCapture(output, '', async (publisher) => {
      await conn.query(sql);
      const found = () => publisher.messages.find((m) => JSON.parse(m.value).sql === sql);
      await waitFor('the DDL event', async () => found() !== undefined, 30_000, 20);
      return JSON.parse(found()!.value) as Record<string, string>;
    });
  const plain = await ddlAfter({}, `ALTER TABLE \`${db}\`.t COMMENT 'one'`);
  assert.deepEqual(Object.keys(plain), ['type', 'database', 'table', 'old', 'def', 'ts', 'sql', 'tx_position']);
  const sql = `ALTER TABLE \`${db}\`.t COMMENT 'two'`;
  const full = await ddlAfter({ binlogPosition: true, gtidPosition: true }, sql);
  assert.deepEqual(Object.keys(full), ['type', 'database', 'table', 'old', 'def', 'ts', 'sql', 'position', 'gtid', 'tx_position']);
  // position: where the statement's Query event starts; tx_position: its transaction (the GTID event before it).
  const [file, pos] = full.position.split(':');
  const [events] = await conn.query(`SHOW BINLOG EVENTS IN '${file}'`);
  const list = events as Array<{ Pos: number; Event_type: string; Info: string }>;
  const at = list.findIndex((e) => e.Event_type === 'Query' && e.Info.includes(sql));
  assert.ok(at > 0, 'the statement is in the binlog file');
  assert.equal(Number(pos), Number(list[at].Pos));
  assert.equal(full.tx_position, `${file}:${list[at - 1].Pos}`);
  assert.equal(list[at - 1].Event_type, 'Gtid');
  assert.match(full.gtid, ONE_GTID);
});
