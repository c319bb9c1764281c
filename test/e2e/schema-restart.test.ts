// A capture that restarts behind DDL (killed, then the table changed twice while it was down)
// decodes and describes every row with the schema it was written under: the definitions are
// stored with its position (Kafka: the positions topic, in the same Kafka transaction;
// embedded: `_my2pg.source_schemas`, in the same Postgres transaction) — not re-read from
// information_schema, which is already ahead.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readTopic } from '../harness/kafka-reader.js';
import { assertReplicaConverges, usePipelineFixture } from '../harness/pipeline.js';
import { kafkaBrokers, mysqlUrl, randomSuffix } from '../harness/servers.js';
import { waitForRunStreaming } from '../harness/waits.js';

const { fixture, start } = usePipelineFixture();

async function restartBehindDdl(mode: 'kafka' | 'embedded'): Promise<void> {
  const f = fixture();
  const table = `lag_${mode}`;
  const topic = `t_${randomSuffix()}`;
  const serverId = String(Number(f.serverId) + (mode === 'kafka' ? 1 : 2));
  const args = ['run', '--source', mysqlUrl(), '--target', f.pg.url, '--include', `${f.db}.${table}`, '--server-id', serverId];
  if (mode === 'kafka') args.push('--kafka', kafkaBrokers(), '--topic', topic, '--client-id', topic, '--group', topic);
  const q = (sql: string, params: unknown[] = []) => f.conn.query(sql.replace(/\bT\b/g, `\`${f.db}\`.\`${table}\``), params);

  let proc = start(args);
  await waitForRunStreaming(proc);
  await q('CREATE TABLE T (id INT PRIMARY KEY, a INT, j JSON)');
  for (let id = 1; id <= 5; id++) await q('INSERT INTO T VALUES (?, ?, ?)', [id, id, `{"k":${id}}`]);
  await assertReplicaConverges(f, [table]);
  assert.equal(await proc.kill('SIGKILL'), null);

  // While capture is down: rows under three successive shapes.
  for (let id = 6; id <= 10; id++) await q('INSERT INTO T VALUES (?, ?, ?)', [id, id, `{"k":${id}}`]);
  await q("ALTER TABLE T CHANGE a b BIGINT, ADD COLUMN c VARCHAR(5) NOT NULL DEFAULT 'x'");
  for (let id = 11; id <= 15; id++) await q('INSERT INTO T (id, b, j, c) VALUES (?, ?, ?, ?)', [id, id * 1000, `{"k":${id}}`, `c${id}`]);
  await q('ALTER TABLE T DROP COLUMN j');
  for (let id = 16; id <= 20; id++) await q('INSERT INTO T (id, b, c) VALUES (?, ?, ?)', [id, -id, 'late']);

  proc = start(args);
  await assertReplicaConverges(f, [table]);
  assert.match(proc.log(), /schema tracker loaded the definitions stored with the position/);
  assert.doesNotMatch(proc.log(), /read them from information_schema/);
  assert.equal(proc.child.exitCode, null, `run died:\n${proc.log()}`);
  await proc.kill();
  if (mode !== 'kafka') return;

  // On the wire: the rows written before the DDL carry `j` as JSON (a JSON column of the table
  // as it was), and the first ALTER is described as it happened, `j` still there.
  const values = await readTopic(topic, (v) => v.some((m) => m.includes('"late"')));
  const events = values.map((v) => JSON.parse(v) as { type: string; table?: string; data?: Record<string, unknown>; def?: { columns: Array<{ name: string }> }; old?: unknown; 'column-renames'?: unknown });
  const row6 = events.find((e) => e.type === 'insert' && e.data?.id === 6);
  assert.deepEqual(row6?.data, { id: 6, a: 6, j: { k: 6 } });
  const alters = events.filter((e) => e.type === 'table-alter');
  assert.equal(alters.length, 2);
  assert.deepEqual(alters[0].def?.columns.map((c) => c.name), ['id', 'b', 'j', 'c']);
  assert.deepEqual(alters[0]['column-renames'], [{ from: 'a', to: 'b' }]);
  assert.ok(alters[0].old);
  assert.deepEqual(alters[1].def?.columns.map((c) => c.name), ['id', 'b', 'c']);
}

test('Kafka: a capture restarted behind two ALTERs decodes each row with the schema it was written under', { timeout: 300_000 }, () => restartBehindDdl('kafka'));

test('embedded: the same, with the definitions stored in the replica', { timeout: 300_000 }, () => restartBehindDdl('embedded'));
