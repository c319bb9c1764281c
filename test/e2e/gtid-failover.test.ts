// Resume by GTID after a failover: my2pg reads a primary, which goes away; its replica (same
// GTIDs, other binlog files and offsets, here behind the primary's) takes over. Both servers are
// of the suite's source kind (testSource()): MariaDB's domain-server-seq GTIDs or MySQL's sets.
// Through Kafka, and with `run` (whose cursor is stored in the replica), each transaction
// arrives exactly once: when the process is restarted on the new server, and when one address
// moves under it.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type mysql from 'mysql2/promise';
import { publishedThrough, readTopic } from '../harness/kafka-reader.js';
import {
  createPgDatabase,
  kafkaBrokers,
  mysqlConnection,
  logTail,
  pgClient,
  randomSuffix,
  REPO_ROOT,
  startMy2pg,
  testSource,
  waitFor,
  waitForState,
  type My2pgProcess,
} from '../harness/servers.js';
import { tcpForwarder } from '../harness/tcp-proxy.js';
import { sourcePosition, waitForCaptureStreaming, waitForRunStreaming } from '../harness/waits.js';

const dirs: string[] = [];
const running: My2pgProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];

const onMysql = testSource() === 'mysql';
const script = join(REPO_ROOT, 'scripts', onMysql ? 'mysql.sh' : 'mariadb.sh');
/** How capture logs the GTID state it resumes from: MySQL's set of the first server, MariaDB's position. */
const RESUMES_BY_GTID = onMysql ? /"gtid":"[0-9a-f-]{36}:1-\d+".*"msg":"capture resuming"/ : /"gtid":"0-1-\d+".*"msg":"capture resuming"/;

/** A server of the source's kind that logs what it replicates (MySQL does by default). */
function startServer(serverId: number): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'my2pg-gtid-')), 'db');
  dirs.push(dir);
  const extra = onMysql ? [`--server-id=${serverId}`] : [`--server-id=${serverId}`, '--log-slave-updates'];
  return execFileSync('bash', [script, 'start', '--dir', dir, '--', ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

after(async () => {
  await Promise.all(running.map((p) => p.kill('SIGKILL')));
  for (const c of cleanups) await c();
  for (const dir of dirs) execFileSync('bash', [script, 'stop', '--dir', dir], { stdio: 'ignore' });
});

interface Topology {
  primaryUrl: string;
  replicaUrl: string;
  primary: mysql.Connection;
  replica: mysql.Connection;
  /** Waits for the replica to hold `rows` rows of shop.t, then stops replication: the replica is the source now. */
  promote(rows: number): Promise<void>;
}

/**
 * A primary with database `shop` and table `t` and a replica of it. The primary's binlog is
 * rotated first, so its files and offsets are ahead of the replica's for the same transactions.
 */
async function topology(): Promise<Topology> {
  const primaryUrl = startServer(1);
  const replicaUrl = startServer(2);
  const primary = await mysqlConnection(primaryUrl);
  const replica = await mysqlConnection(replicaUrl);
  cleanups.push(async () => {
    await primary.end();
    await replica.end();
  });
  for (let i = 0; i < 3; i++) await primary.query('FLUSH BINARY LOGS');
  await primary.query('CREATE DATABASE shop');
  await primary.query('CREATE TABLE shop.t (id INT PRIMARY KEY)');
  const port = new URL(primaryUrl).port;
  if (onMysql) {
    await replica.query(`CHANGE REPLICATION SOURCE TO SOURCE_HOST='127.0.0.1', SOURCE_PORT=${port}, SOURCE_USER='root', SOURCE_PASSWORD='', SOURCE_AUTO_POSITION=1`);
    await replica.query('START REPLICA');
  } else {
    await replica.query(`CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${port}, MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos`);
    await replica.query('START SLAVE');
  }
  return {
    primaryUrl,
    replicaUrl,
    primary,
    replica,
    promote: async (rows) => {
      await waitFor('the replica to catch up', async () => {
        const [r] = await replica.query('SELECT COUNT(*) AS n FROM shop.t');
        return Number((r as Array<{ n: number }>)[0].n) === rows;
      });
      await replica.query(onMysql ? 'STOP REPLICA' : 'STOP SLAVE');
    },
  };
}

const insertRows = async (conn: mysql.Connection, from: number, to: number) => {
  for (let id = from; id <= to; id++) await conn.query('INSERT INTO shop.t VALUES (?)', [id]);
};

const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

test('capture resumes by GTID on the replica after a failover', { timeout: 300_000 }, async () => {
  const { primaryUrl, replicaUrl, primary, replica, promote } = await topology();
  const topic = `t_${randomSuffix()}`;
  const capture = (url: string) => {
    const p = startMy2pg(['capture', '--source', url, '--kafka', kafkaBrokers(), '--topic', topic, '--include', 'shop', '--server-id', '4242', '--client-id', topic]);
    running.push(p);
    return p;
  };
  const inserts = (values: string[]) => values.map((v) => JSON.parse(v)).filter((e) => e.type === 'insert').map((e) => e.data.id as number);

  let cap = capture(primaryUrl);
  await waitForCaptureStreaming(cap, primaryUrl);
  await insertRows(primary, 1, 20);
  await readTopic(topic, (v) => inserts(v).length >= 20);
  await cap.kill('SIGTERM');

  // Written while no capture runs; then the primary is gone and the replica takes over.
  await insertRows(primary, 21, 40);
  await promote(40);
  await insertRows(replica, 41, 50);

  cap = capture(replicaUrl);
  // Everything the replica holds is published once a heartbeat at its end is on the topic.
  const end = await sourcePosition(replica);
  const ids = inserts(await readTopic(topic, (v) => inserts(v).length >= 50 && publishedThrough(v, end)));
  assert.deepEqual([...ids].sort((a, b) => a - b), oneToN(50), 'every row exactly once');
  assert.match(cap.log(), RESUMES_BY_GTID);
  await cap.kill();
});

/** A private replica database and a reader of shop.t's ids in it. */
async function pgReplica(): Promise<{ url: string; ids: () => Promise<number[]> }> {
  const pg = await createPgDatabase();
  const client = pgClient(pg.url);
  await client.connect();
  cleanups.push(async () => {
    await client.end();
    await pg.drop();
  });
  return {
    url: pg.url,
    ids: async () => (await client.query<{ id: string }>('SELECT id FROM shop.t ORDER BY id').catch(() => ({ rows: [] }))).rows.map((r) => Number(r.id)),
  };
}

const runOn = (source: string, target: string) => {
  const p = startMy2pg(['run', '--source', source, '--target', target, '--include', 'shop', '--server-id', '4243']);
  running.push(p);
  return p;
};

async function waitForIds(replica: { ids: () => Promise<number[]> }, n: number, proc: My2pgProcess): Promise<void> {
  await waitForState(`${n} rows in the replica`, replica.ids, (ids) => ids.length >= n, {
    timeoutMs: 90_000,
    show: (ids) => `${ids.length} rows (${ids.slice(0, 60).join(' ')}); the process's log ends:\n${logTail(proc, 30)}`,
  });
  // Give a wrongly skipped or doubled change time to show.
  await new Promise((r) => setTimeout(r, 2000));
  assert.deepEqual(await replica.ids(), oneToN(n), 'every row exactly once');
}

test('run without Kafka, restarted on the replica after a failover, resumes by GTID', { timeout: 300_000 }, async () => {
  const { primaryUrl, replicaUrl, primary, replica, promote } = await topology();
  const pg = await pgReplica();
  let run = runOn(primaryUrl, pg.url);
  await waitForRunStreaming(run);
  await insertRows(primary, 1, 20);
  await waitForIds(pg, 20, run);
  await run.kill('SIGTERM');

  await insertRows(primary, 21, 40);
  await promote(40);
  await insertRows(replica, 41, 50);

  run = runOn(replicaUrl, pg.url);
  await waitForIds(pg, 50, run);
  assert.match(run.log(), RESUMES_BY_GTID);
  await run.kill();
});

test('run without Kafka follows its source address to the replica that took over', { timeout: 300_000 }, async () => {
  const { primaryUrl, replicaUrl, primary, replica, promote } = await topology();
  const pg = await pgReplica();
  const address = await tcpForwarder(Number(new URL(primaryUrl).port));
  cleanups.push(() => address.close());
  const source = new URL(primaryUrl);
  source.port = String(address.port);
  // Not waitForRunStreaming: the source sees the forwarder's connections, not the process's.
  // Rows written before the stream starts come through the first-start copy.
  const run = runOn(source.toString(), pg.url);
  await insertRows(primary, 1, 20);
  await waitForIds(pg, 20, run);

  // The primary stops taking writes, the replica catches up and the address moves to it.
  await promote(20);
  address.moveTo(Number(new URL(replicaUrl).port));
  await insertRows(replica, 21, 50);
  await waitForIds(pg, 50, run);
  assert.equal(run.child.exitCode, null, `run died:\n${run.log()}`);
  await run.kill();
});
