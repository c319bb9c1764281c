// A message on the topic that is not a valid event neither stops apply nor gets lost: it goes
// to `_my2pg.dead_letters` and the dead-letter topic, and the events after it still apply.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kafka, logLevel } from '../../src/transport/kafkajs.js';
import { readTopicMessages } from '../harness/kafka-reader.js';
import { assertReplicaConverges, usePipelineFixture } from '../harness/pipeline.js';
import { kafkaBrokers, mysqlUrl, pgClient, randomSuffix, waitFor } from '../harness/servers.js';
import { waitForCaptureStreaming } from '../harness/waits.js';

const { fixture, start } = usePipelineFixture();

test('invalid messages go to the dead letters and apply keeps going', { timeout: 180_000 }, async () => {
  const f = fixture();
  const topic = `t_${randomSuffix()}`;
  const common = ['--kafka', kafkaBrokers(), '--topic', topic];
  const cap = start(['capture', '--source', mysqlUrl(), '--include', f.db, '--server-id', f.serverId, '--client-id', topic, ...common]);
  const app = start(['apply', '--target', f.pg.url, '--group', `g_${topic}`, ...common]);
  await waitForCaptureStreaming(cap);
  await f.conn.query(`CREATE TABLE \`${f.db}\`.t (id INT PRIMARY KEY)`);
  await f.conn.query(`INSERT INTO \`${f.db}\`.t VALUES (1)`);

  // A foreign producer writes garbage onto the topic.
  const producer = new Kafka({ clientId: 'test', brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ value: 'this is not json' }, { value: '{"type":"insert","database":"x"}' }] });
  await producer.disconnect();

  await f.conn.query(`INSERT INTO \`${f.db}\`.t VALUES (2), (3)`);
  await assertReplicaConverges(f, ['t']);
  const client = pgClient(f.pg.url);
  await client.connect();
  try {
    await waitFor('dead letters in the replica', async () => (await client.query('SELECT 1 FROM _my2pg.dead_letters')).rows.length === 2);
    const rows = (await client.query('SELECT message, error FROM _my2pg.dead_letters ORDER BY position::bigint')).rows;
    assert.deepEqual(rows.map((r) => r.message), ['this is not json', '{"type":"insert","database":"x"}']);
    assert.match(rows[1].error, /without a "data" object/);
  } finally {
    await client.end();
  }
  const dlq = await readTopicMessages(`${topic}.my2pg-dead-letters`, (v) => v.length >= 2);
  assert.deepEqual(dlq.map((m) => m.value), ['this is not json', '{"type":"insert","database":"x"}']);
  assert.equal(app.child.exitCode, null, app.log());
});
