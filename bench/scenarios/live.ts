// live: what users run. MySQL is written while the pipeline replicates: BENCH_LIVE_ROWS rows
// (default 500,000) of the 10-column table inserted as transactions of 10,000, timed from the
// first insert to the last row visible in Postgres, through capture → Kafka → apply
// (`live-kafka`) and through `my2pg run` without Kafka (`live-run`), each beside raw COPY of the
// same rows into the same table in the same run. my2pg runs under a non-UTC time zone
// (BENCH_TZ, default America/New_York), as a user's may. CPU per row of every process (my2pg's
// and each server's) is printed beside each result (docs/PERFORMANCE.md "Live pipeline").

import { createBigTable, fillBigTable } from '../../test/harness/big-table.js';
import { createPgDatabase, kafkaBrokers, mysqlConnection, mysqlUrl, pgClient, randomSuffix, startMy2pg, waitFor, type My2pgProcess } from '../../test/harness/servers.js';
import { waitForCaptureStreaming, waitForRunStreaming } from '../../test/harness/waits.js';
import { commandCpuSeconds, cpuSeconds, result, type BenchResult } from '../lib.js';
import { rawCopy } from './bootstrap.js';

const TX_ROWS = 10_000;
const SERVERS = ['mariadbd', 'mysqld', 'java', 'postgres'];

/** CPU µs per row since the call, of each named process and each server command that ran. */
function cpuPerRow(processes: Record<string, My2pgProcess>): (rows: number) => Record<string, number> {
  const read = () => ({
    ...Object.fromEntries(Object.entries(processes).map(([name, p]) => [name, cpuSeconds(p.child.pid!)])),
    ...Object.fromEntries(SERVERS.map((s) => [s, commandCpuSeconds(s)])),
  });
  const from = read();
  return (rows) => {
    const now = read();
    const out: Record<string, number> = {};
    for (const [name, s] of Object.entries(now)) {
      const us = ((s - from[name]) * 1e6) / rows;
      if (us > 0) out[name] = Math.round(us * 10) / 10;
    }
    return out;
  };
}

async function liveRun(mode: 'kafka' | 'run', n: number): Promise<BenchResult> {
  const db = `bench_live_${randomSuffix()}`;
  const topic = `bench_live_${randomSuffix()}`;
  const conn = await mysqlConnection();
  const replica = await createPgDatabase();
  const env = { TZ: process.env.BENCH_TZ ?? 'America/New_York', MY2PG_LOG_LEVEL: 'warn' };
  const serverId = () => String(9000 + Math.floor(Math.random() * 1000));
  const processes: Record<string, My2pgProcess> = {};
  try {
    await conn.query(`CREATE DATABASE \`${db}\``);
    if (mode === 'kafka') {
      const common = ['--kafka', kafkaBrokers(), '--topic', topic, '--include', db];
      processes.capture = startMy2pg(['capture', '--source', mysqlUrl(), '--server-id', serverId(), '--client-id', topic, ...common], env);
      processes.apply = startMy2pg(['apply', '--target', replica.url, '--group', `g_${topic}`, ...common], env);
      await waitForCaptureStreaming(processes.capture);
    } else {
      processes.run = startMy2pg(['run', '--source', mysqlUrl(), '--target', replica.url, '--include', db, '--server-id', serverId(), '--initial-bootstrap', 'false'], env);
      await waitForRunStreaming(processes.run);
    }
    // The empty table first, so that the timed part is rows only.
    await createBigTable(conn, db, 0);
    const probe = pgClient(replica.url);
    await probe.connect();
    const count = async () => Number((await probe.query(`SELECT count(*) AS n FROM "${db}".big`).catch(() => ({ rows: [{ n: -1 }] }))).rows[0].n);
    try {
      await waitFor('the table in the replica', async () => (await count()) === 0, 120_000, 100);
      const cpu = cpuPerRow(processes);
      const started = performance.now();
      await fillBigTable(conn, db, 1, n, 'big', TX_ROWS);
      await waitFor('every row in the replica', async () => (await count()) === n, 1_800_000, 50);
      const ms = performance.now() - started;
      console.error(`# live-${mode}: CPU µs per row ${JSON.stringify(cpu(n))} (mariadbd/mysqld also runs the inserts)`);
      const copyMs = await rawCopy(replica.url, `"${db}"."big"`);
      return result({
        scenario: `live-${mode}`,
        figure: Math.round(n / (ms / 1000)),
        unit: 'rows/s',
        limit: Math.round(n / (copyMs / 1000)),
        limitName: 'raw COPY of the same rows into the same table, rows/s',
        goal: mode === 'kafka' ? { figure: 0, ratio: 0.3 } : { figure: 0, ratio: 0.4 },
        rows: n,
      });
    } finally {
      await probe.end();
    }
  } finally {
    for (const p of Object.values(processes)) await p.kill('SIGKILL');
    await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await conn.end();
    await replica.drop();
  }
}

/** Both paths, or one (`kafka`, `run`). */
export async function liveScenario(only?: 'kafka' | 'run'): Promise<BenchResult[]> {
  const n = Number(process.env.BENCH_LIVE_ROWS ?? 500_000);
  const modes = only ? [only] : (['kafka', 'run'] as const);
  const results: BenchResult[] = [];
  for (const mode of modes) results.push(await liveRun(mode, n));
  return results;
}
