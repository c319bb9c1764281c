// Server outages are ridden out in-process (docs/OPERATIONS.md, "Outages and retries"): under a
// mixed workload the Kafka broker is killed and started again, Postgres crashes and stays down
// for 10 s, MariaDB is killed and started again; each my2pg process is started once, never exits
// until the final SIGTERM (exit 0), and the replica converges to the source. The servers are the
// test's own (test/harness/outages.ts), so the suite's shared ones are never interrupted.

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { assertReplicaConverges, type PipelineFixture } from '../harness/pipeline.js';
import { createPrivateDatabase, startPrivatePostgres, startScriptServer, type CrashableServer } from '../harness/outages.js';
import { mysqlConnection, pgClient, randomSuffix, sleep, startMy2pg, waitFor, type My2pgProcess } from '../harness/servers.js';
import { createWorkloadTables, Workload, WORKLOAD_TABLES } from '../harness/workload.js';
import { waitForCaptureStreaming, waitForRunStreaming } from '../harness/waits.js';

let mariadb: CrashableServer;
let kafka: CrashableServer;
let postgres: CrashableServer;
const running: My2pgProcess[] = [];

before(async () => {
  mariadb = startScriptServer('mariadb');
  kafka = startScriptServer('kafka');
  postgres = await startPrivatePostgres();
});

after(async () => {
  await Promise.all(running.map((p) => p.kill('SIGKILL')));
  await Promise.allSettled([mariadb?.stop(), kafka?.stop(), postgres?.stop()]);
});

/** A source database and a replica database on the test's own servers. */
async function fixture(): Promise<PipelineFixture> {
  const db = `faults_${randomSuffix()}`;
  const conn = await mysqlConnection(mariadb.url);
  await conn.query(`CREATE DATABASE \`${db}\``);
  const url = await createPrivateDatabase(postgres, db);
  return { db, conn, pg: { url, drop: async () => undefined }, serverId: String(1000 + Math.floor(Math.random() * 1_000_000)), cleanup: async () => undefined };
}

function start(args: string[]): My2pgProcess {
  // Retries with a budget far above the outages here: the process must not give up.
  const p = startMy2pg([...args, '--retry-max-ms', '120000']);
  running.push(p);
  return p;
}

/** Runs workload steps until stopped; resolves with how many ran. */
function workInBackground(w: Workload): { stop: () => Promise<number> } {
  let stopping = false;
  let steps = 0;
  const done = (async () => {
    while (!stopping) {
      await w.step();
      steps++;
      await sleep(5);
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await done;
      return steps;
    },
  };
}

/** Kills MariaDB between two workload transactions, starts it again and reconnects the workload. */
async function restartMariadb(f: PipelineFixture, w: Workload): Promise<void> {
  await mariadb.crash();
  await sleep(2000);
  await mariadb.restart();
  await waitFor('MariaDB to accept connections', async () => {
    f.conn = await mysqlConnection(mariadb.url);
    return true;
  });
  w.useConnection(f.conn);
}

/**
 * assertReplicaConverges, showing the end of the processes' logs when it does not; their whole
 * logs and the servers' directories are kept in a directory it names.
 */
async function converges(f: PipelineFixture, procs: My2pgProcess[]): Promise<void> {
  await assertReplicaConverges(f, WORKLOAD_TABLES, 180_000).catch(async (err: Error) => {
    const kept = mkdtempSync(join(tmpdir(), 'my2pg-faults-failed-'));
    procs.forEach((p, i) => writeFileSync(join(kept, `process-${i}.log`), p.log()));
    // What the replica's sessions were doing (a wait that never ends shows here).
    const pg = pgClient(postgres.url);
    await pg.connect();
    const activity = await pg.query(
      `SELECT a.pid, a.state, a.wait_event_type, a.wait_event, now() - a.xact_start AS xact_age, left(a.query, 300) AS query,
              (SELECT json_agg(json_build_object('type', l.locktype, 'mode', l.mode, 'granted', l.granted, 'objid', l.objid)) FROM pg_locks l WHERE l.pid = a.pid) AS locks
       FROM pg_stat_activity a WHERE a.datname IS NOT NULL AND a.pid <> pg_backend_pid()`,
    );
    await pg.end();
    writeFileSync(join(kept, 'pg_stat_activity.json'), JSON.stringify(activity.rows, null, 1));
    for (const s of [mariadb, kafka, postgres]) cpSync(s.dir, join(kept, basename(s.dir)), { recursive: true });
    assert.fail(`${err.message}\n(whole logs and the servers' directories: ${kept})\n${procs.map((p) => p.log().slice(-6000)).join('\n---\n')}`);
  });
}

function assertStartedOnce(procs: My2pgProcess[]): void {
  for (const p of procs) {
    assert.equal(p.child.exitCode, null, `a my2pg process exited:\n${p.log()}`);
    assert.match(p.log(), /retrying/, 'the outages were retried');
  }
}

test('capture and apply over Kafka ride out Kafka, Postgres and MariaDB outages', { timeout: 600_000 }, async () => {
  const f = await fixture();
  const topic = `faults_${randomSuffix()}`;
  const common = ['--kafka', kafka.url, '--topic', topic];
  const cap = start(['capture', '--source', mariadb.url, '--include', f.db, '--server-id', f.serverId, '--client-id', topic, ...common]);
  const app = start(['apply', '--target', f.pg.url, '--group', `g_${topic}`, ...common]);
  await waitForCaptureStreaming(cap, mariadb.url, 90_000);
  await createWorkloadTables(f.conn, f.db);
  const w = new Workload(f.conn, f.db, 21);
  for (let i = 0; i < 100; i++) await w.step();

  // (a) the broker is killed while rows flow, and started again on its port and data.
  let bg = workInBackground(w);
  await sleep(1000);
  await kafka.crash();
  await sleep(3000);
  await kafka.restart();
  await sleep(2000);
  await bg.stop();
  await converges(f, [cap, app]);

  // (b) Postgres crashes and is down for 10 s while rows flow.
  bg = workInBackground(w);
  await sleep(1000);
  await postgres.crash();
  await sleep(10_000);
  await postgres.restart();
  await bg.stop();
  await converges(f, [cap, app]);

  // (c) MariaDB is killed and started again.
  for (let i = 0; i < 50; i++) await w.step();
  await restartMariadb(f, w);
  for (let i = 0; i < 100; i++) await w.step();
  await converges(f, [cap, app]);

  assertStartedOnce([cap, app]);
  assert.equal(await cap.kill('SIGTERM'), 0, cap.log());
  assert.equal(await app.kill('SIGTERM'), 0, app.log());
  await f.conn.end();
});

test('run without Kafka rides out Postgres and MariaDB outages', { timeout: 600_000 }, async () => {
  const f = await fixture();
  const run = start(['run', '--source', mariadb.url, '--target', f.pg.url, '--include', f.db, '--server-id', f.serverId]);
  await waitForRunStreaming(run, 90_000);
  await createWorkloadTables(f.conn, f.db);
  const w = new Workload(f.conn, f.db, 22);
  for (let i = 0; i < 100; i++) await w.step();

  const bg = workInBackground(w);
  await sleep(1000);
  await postgres.crash();
  await sleep(10_000);
  await postgres.restart();
  await bg.stop();
  await converges(f, [run]);

  for (let i = 0; i < 50; i++) await w.step();
  await restartMariadb(f, w);
  for (let i = 0; i < 100; i++) await w.step();
  await converges(f, [run]);

  assertStartedOnce([run]);
  assert.equal(await run.kill('SIGTERM'), 0, run.log());
  await f.conn.end();
});

test('capture and apply started while the Kafka broker is down wait for it', { timeout: 300_000 }, async () => {
  const f = await fixture();
  const topic = `down_${randomSuffix()}`;
  const common = ['--kafka', kafka.url, '--topic', topic];
  await kafka.crash();
  const cap = start(['capture', '--source', mariadb.url, '--include', f.db, '--server-id', f.serverId, '--client-id', topic, ...common]);
  const app = start(['apply', '--target', f.pg.url, '--group', `g_${topic}`, ...common]);
  // kafkajs retries the first connection itself for a while; past that, capture's backoff does.
  await waitFor('capture to retry', async () => /connecting to Kafka failed; retrying/.test(cap.log()), 150_000, 500).catch((err: Error) =>
    assert.fail(`${err.message}\n${cap.log()}`),
  );
  assert.equal(cap.child.exitCode, null, `capture gave up on the broker:\n${cap.log()}`);
  await kafka.restart();
  await waitForCaptureStreaming(cap, mariadb.url, 120_000);
  await createWorkloadTables(f.conn, f.db);
  const w = new Workload(f.conn, f.db, 24);
  for (let i = 0; i < 50; i++) await w.step();
  await converges(f, [cap, app]);
  for (const p of [cap, app]) assert.equal(p.child.exitCode, null, p.log());
  assert.equal(await cap.kill('SIGTERM'), 0, cap.log());
  assert.equal(await app.kill('SIGTERM'), 0, app.log());
  await f.conn.end();
});
