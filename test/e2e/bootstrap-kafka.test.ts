// `bootstrap --kafka` (docs/BOOTSTRAP.md "Kafka"): a chunk counts as done only once Kafka has
// acknowledged its events. Its events are split to fit the topic's max.message.bytes, and a
// single event over that limit fails the bootstrap, leaving the chunk to do. Every
// bootstrap-insert goes to the partition capture uses for the same row.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Kafka, logLevel } from '../../src/transport/kafkajs.js';
import { readTopic, readTopicMessages, type TopicMessage } from '../harness/kafka-reader.js';
import { usePipelineFixture } from '../harness/pipeline.js';
import { createPgDatabase, kafkaBrokers, mysqlUrl, pgClient, randomSuffix, redisUrl } from '../harness/servers.js';
import { waitForBootstrapWorker, waitForCaptureStreaming } from '../harness/waits.js';
import { seqRows } from '../harness/sequence.js';

const { fixture, start } = usePipelineFixture();

const LIMIT = 65_536;

/** Creates `topic` with `partitions` partitions and the given topic configuration. */
async function createTopic(topic: string, partitions: number, config: Record<string, string> = {}): Promise<void> {
  const admin = new Kafka({ clientId: 'my2pg-test', brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const configEntries = Object.entries(config).map(([name, value]) => ({ name, value }));
    assert.ok(await admin.createTopics({ topics: [{ topic, numPartitions: partitions, configEntries }], waitForLeaders: true }));
  } finally {
    await admin.disconnect();
  }
}

async function setTopicConfig(topic: string, name: string, value: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'my2pg-test', brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2 /* TOPIC */, name: topic, configEntries: [{ name, value }] }] });
  } finally {
    await admin.disconnect();
  }
}

async function chunkStates(url: string, db: string, table: string): Promise<string[]> {
  const client = pgClient(url);
  await client.connect();
  try {
    const r = await client.query('SELECT state FROM _my2pg.bootstrap_chunks WHERE source_db = $1 AND source_table = $2 ORDER BY chunk_no', [db, table]);
    return r.rows.map((row) => row.state as string);
  } finally {
    await client.end();
  }
}

const parse = (v: string) => JSON.parse(v) as { type: string; table: string; data: { id: number } };
const insertIds = (values: string[], table: string) =>
  values.map(parse).filter((e) => e.type === 'bootstrap-insert' && e.table === table).map((e) => e.data.id).sort((a, b) => a - b);

test('chunks whose events exceed the topic\'s max.message.bytes are sent in pieces: every row arrives', { timeout: 300_000 }, async () => {
  const f = fixture();
  const replica = await createPgDatabase();
  const topic = `bk_${randomSuffix()}`;
  try {
    await createTopic(topic, 2, { 'max.message.bytes': String(LIMIT) });
    // 3 chunks of 1000 rows of about 1 kB each: each chunk's events are ~1 MB, 16 times the limit.
    await f.conn.query(`CREATE TABLE \`${f.db}\`.wide (id INT PRIMARY KEY, body VARCHAR(2000) NOT NULL)`);
    await f.conn.query(`INSERT INTO \`${f.db}\`.wide SELECT seq, REPEAT(CHAR(65 + seq % 26), 1000) FROM ${seqRows(1, 3000)}`);
    const boot = start(['bootstrap', '--source', mysqlUrl(), '--target', replica.url, '--include', `${f.db}.wide`, '--kafka', kafkaBrokers(), '--topic', topic, '--bootstrap-chunk-rows', '1000']);
    assert.equal(await boot.exited, 0, boot.log());
    const states = await chunkStates(replica.url, f.db, 'wide');
    assert.ok(states.length >= 3 && states.every((s) => s === 'done'), `chunks: ${states.join(', ')}`);
    const values = await readTopic(topic, (vs) => vs.some((v) => v.includes('"bootstrap-complete"')), 30_000);
    const ids = insertIds(values, 'wide');
    assert.equal(new Set(ids).size, 3000, `distinct rows on the topic: ${new Set(ids).size} of 3000`);
    assert.deepEqual([...new Set(ids)], Array.from({ length: 3000 }, (_, i) => i + 1));
  } finally {
    await replica.drop();
  }
});

test('an event bigger than the topic\'s max.message.bytes fails the bootstrap naming table, chunk, size and limit; the chunk stays to do', { timeout: 300_000 }, async () => {
  const f = fixture();
  const replica = await createPgDatabase();
  const topic = `bk_${randomSuffix()}`;
  try {
    await createTopic(topic, 1, { 'max.message.bytes': String(LIMIT) });
    await f.conn.query(`CREATE TABLE \`${f.db}\`.huge (id INT PRIMARY KEY, body MEDIUMTEXT NOT NULL)`);
    await f.conn.query(`INSERT INTO \`${f.db}\`.huge SELECT seq, IF(seq = 5, REPEAT('x', 100000), 'small') FROM ${seqRows(1, 10)}`);
    const args = ['bootstrap', '--source', mysqlUrl(), '--target', replica.url, '--include', `${f.db}.huge`, '--kafka', kafkaBrokers(), '--topic', topic];
    const boot = start(args);
    const code = await boot.exited;
    assert.notEqual(code, 0, boot.log());
    assert.doesNotMatch(boot.log(), /bootstrap complete/);
    console.log(`# exit code ${code}: ${boot.log().split('\n').filter((l) => /"level":[56]0/.test(l)).join(' | ')}`);
    assert.match(boot.log(), new RegExp(`bootstrap-insert event of ${f.db}\\.huge \\(chunk 0\\) is \\d+ bytes, more than the ${LIMIT} bytes topic ${topic} accepts.*max\\.message\\.bytes`));
    assert.deepEqual(await chunkStates(replica.url, f.db, 'huge'), ['pending']);

    // The remedy the message gives: raise the limit, run the bootstrap again.
    await setTopicConfig(topic, 'max.message.bytes', String(1024 * 1024));
    const again = start(args);
    assert.equal(await again.exited, 0, again.log());
    assert.deepEqual(await chunkStates(replica.url, f.db, 'huge'), ['done']);
    const values = await readTopic(topic, (vs) => vs.some((v) => v.includes('"bootstrap-complete"')), 30_000);
    assert.deepEqual([...new Set(insertIds(values, 'huge'))], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  } finally {
    await replica.drop();
  }
});

// Every partitioning of rows by producer_partition_by, with each of the two hashes.
const PARTITIONINGS: Array<{ by: string; args: string[]; spreads: boolean }> = [
  { by: 'database', args: [], spreads: false },
  // output_nulls false: the null values are left out of both kinds of event alike.
  { by: 'table', args: ['--output-nulls', 'false'], spreads: false },
  { by: 'primary_key', args: [], spreads: true },
  { by: 'column', args: ['--producer-partition-columns', 'v'], spreads: true },
];

test('bootstrap-insert events go to the partition capture\'s events of the same row go to, under every partitioning and hash (the topic\'s real partition count)', { timeout: 600_000 }, async (t) => {
  const f = fixture();
  for (const hash of ['default', 'murmur3']) {
    for (const { by, args, spreads } of PARTITIONINGS) {
      await t.test(`${by}, ${hash}`, async () => {
        const topic = `bk_${randomSuffix()}`;
        const table = `parts_${by}_${hash}`;
        // The topic has 6 partitions; topic_partitions (only used to create a topic) says 2.
        await createTopic(topic, 6);
        const common = ['--kafka', kafkaBrokers(), '--topic', topic, '--topic-partitions', '2', '--kafka-partition-hash', hash, '--producer-partition-by', by, ...args];
        const cap = start(['capture', '--source', mysqlUrl(), '--include', `${f.db}.${table}`, '--server-id', f.serverId, '--client-id', topic, ...common]);
        await waitForCaptureStreaming(cap);
        await f.conn.query(`CREATE TABLE \`${f.db}\`.${table} (id INT PRIMARY KEY, v VARCHAR(20))`);
        const rows = Array.from({ length: 60 }, (_, i) => [i + 1, i % 10 === 9 ? null : `v${i + 1}`]);
        await f.conn.query(`INSERT INTO \`${f.db}\`.${table} VALUES ?`, [rows]);
        await readTopic(topic, (vs) => vs.filter((v) => v.includes('"type":"insert"')).length >= 60, 60_000);
        await cap.kill();

        const boot = start(['bootstrap', '--source', mysqlUrl(), '--target', f.pg.url, '--include', `${f.db}.${table}`, ...common]);
        assert.equal(await boot.exited, 0, boot.log());
        const messages = await readTopicMessages(topic, (vs) => vs.some((v) => v.includes('"bootstrap-complete"')), 30_000);
        // Each row's partition, key and data: the same from capture and from the bootstrap.
        const seen = (m: TopicMessage) => ({ partition: m.partition, key: m.key, data: m.value.slice(m.value.indexOf('"data":')) });
        const captured = new Map<number, ReturnType<typeof seen>>();
        const bootstrapped = new Map<number, ReturnType<typeof seen>>();
        for (const m of messages) {
          const e = parse(m.value);
          if (e.table !== table) continue;
          if (e.type === 'insert') captured.set(e.data.id, seen(m));
          if (e.type === 'bootstrap-insert') bootstrapped.set(e.data.id, seen(m));
        }
        assert.equal(captured.size, 60);
        assert.equal(bootstrapped.size, 60);
        if (spreads) assert.ok(new Set([...captured.values()].map((c) => c.partition)).size > 2, 'capture spreads the rows over more partitions than topic_partitions');
        for (const [id, c] of captured) assert.deepEqual(bootstrapped.get(id), c, `row ${id}: capture's event, then bootstrap's`);
      });
    }
  }
});

test('chunks copied by a `bootstrap --worker` publish their events too', { timeout: 300_000 }, async () => {
  const f = fixture();
  const replica = await createPgDatabase();
  const topic = `bw_${randomSuffix()}`;
  const queue = `my2pg-test-${randomSuffix()}`;
  try {
    await f.conn.query(`CREATE TABLE \`${f.db}\`.helped (id INT PRIMARY KEY, v VARCHAR(20))`);
    await f.conn.query(`INSERT INTO \`${f.db}\`.helped SELECT seq, CONCAT('v', seq) FROM ${seqRows(1, 3000)}`);
    const common = ['--source', mysqlUrl(), '--target', replica.url, '--kafka', kafkaBrokers(), '--topic', topic, '--redis', redisUrl(), '--bootstrap-queue', queue];
    const helper = start(['bootstrap', '--worker', ...common, '--bootstrap-concurrency', '1']);
    await waitForBootstrapWorker(helper, queue, redisUrl());
    // The coordinator copies nothing itself: every chunk goes through the worker.
    const main = start(['bootstrap', ...common, '--include', `${f.db}.helped`, '--bootstrap-chunk-rows', '500', '--bootstrap-concurrency', '0']);
    assert.equal(await main.exited, 0, main.log());
    await helper.kill();
    const ids = insertIds(await readTopic(topic, (vs) => vs.some((v) => v.includes('"bootstrap-complete"')), 30_000), 'helped');
    assert.deepEqual([...new Set(ids)], Array.from({ length: 3000 }, (_, i) => i + 1));
  } finally {
    await replica.drop();
  }
});
