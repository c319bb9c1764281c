// Resume by GTID after a failover: capture reads a primary, stops; the replica (same GTIDs,
// other binlog files and offsets) takes over; a capture pointed at the replica resumes from the
// stored GTID position and publishes every transaction exactly once.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { publishedThrough, readTopic } from '../harness/kafka-reader.js';
import { kafkaBrokers, mysqlConnection, randomSuffix, REPO_ROOT, startMy2pg, waitFor, type My2pgProcess } from '../harness/servers.js';
import { sourcePosition, waitForCaptureStreaming } from '../harness/waits.js';

const dirs: string[] = [];
const running: My2pgProcess[] = [];

function startMariadb(serverId: number): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'my2pg-gtid-')), 'db');
  dirs.push(dir);
  return execFileSync('bash', [join(REPO_ROOT, 'scripts', 'mariadb.sh'), 'start', '--dir', dir, '--', `--server-id=${serverId}`, '--log-slave-updates'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

after(async () => {
  await Promise.all(running.map((p) => p.kill('SIGKILL')));
  for (const dir of dirs) execFileSync('bash', [join(REPO_ROOT, 'scripts', 'mariadb.sh'), 'stop', '--dir', dir], { stdio: 'ignore' });
});

test('capture resumes by GTID on the replica after a failover', { timeout: 300_000 }, async () => {
  const primaryUrl = startMariadb(1);
  const replicaUrl = startMariadb(2);
  const primary = await mysqlConnection(primaryUrl);
  const replica = await mysqlConnection(replicaUrl);
  try {
    await replica.query(
      `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${new URL(primaryUrl).port}, MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos`,
    );
    await replica.query('START SLAVE');
    const topic = `t_${randomSuffix()}`;
    const capture = (url: string) => {
      const p = startMy2pg(['capture', '--source', url, '--kafka', kafkaBrokers(), '--topic', topic, '--include', 'shop', '--server-id', '4242', '--client-id', topic]);
      running.push(p);
      return p;
    };
    const inserts = (values: string[]) => values.map((v) => JSON.parse(v)).filter((e) => e.type === 'insert').map((e) => e.data.id as number);

    let cap = capture(primaryUrl);
    await waitForCaptureStreaming(cap, primaryUrl);
    await primary.query('CREATE DATABASE shop');
    await primary.query('CREATE TABLE shop.t (id INT PRIMARY KEY)');
    for (let id = 1; id <= 20; id++) await primary.query('INSERT INTO shop.t VALUES (?)', [id]);
    await readTopic(topic, (v) => inserts(v).length >= 20);
    await cap.kill('SIGTERM');

    // Written while no capture runs; then the primary is gone and the replica takes over.
    for (let id = 21; id <= 40; id++) await primary.query('INSERT INTO shop.t VALUES (?)', [id]);
    await waitFor('the replica to catch up', async () => {
      const [rows] = await replica.query('SELECT COUNT(*) AS n FROM shop.t');
      return Number((rows as Array<{ n: number }>)[0].n) === 40;
    });
    await replica.query('STOP SLAVE');
    for (let id = 41; id <= 50; id++) await replica.query('INSERT INTO shop.t VALUES (?)', [id]);

    cap = capture(replicaUrl);
    // Everything the replica holds is published once a heartbeat at its end is on the topic.
    const end = await sourcePosition(replica);
    const ids = inserts(await readTopic(topic, (v) => inserts(v).length >= 50 && publishedThrough(v, end)));
    assert.deepEqual([...ids].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1), 'every row exactly once');
    assert.match(cap.log(), /"gtid":"0-1-\d+".*"msg":"capture resuming"/);
    await cap.kill();
  } finally {
    await primary.end();
    await replica.end();
  }
});
