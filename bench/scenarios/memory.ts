// memory: peak RSS of `my2pg capture` and of `my2pg apply` (separate processes, over Kafka),
// and of `my2pg run` (without Kafka), through a single transaction of BENCH_ROWS rows of the
// 10-column table (docs/PERFORMANCE.md "Memory").
// The peak is the kernel's high-water mark (VmHWM) read just before each process is stopped.

import { createBigTable } from '../../test/harness/big-table.js';
import { createPgDatabase, kafkaBrokers, mysqlConnection, mysqlUrl, peakRssMb, pgClient, randomSuffix, startMy2pg, waitFor, type My2pgProcess } from '../../test/harness/servers.js';
import { waitForRunStreaming } from '../../test/harness/waits.js';
import { result, type BenchResult } from '../lib.js';

const GOAL_MB = 256;

function memoryResult(scenario: string, figure: number, rows: number): BenchResult {
  return result({ scenario, figure, unit: 'MB peak RSS', limit: GOAL_MB, limitName: 'the 256 MB goal (docs/PERFORMANCE.md)', goal: { figure: GOAL_MB, ratio: 1, lowerIsBetter: true }, rows });
}

/** `my2pg run` through the same transaction: one process with capture's thread and apply's. */
export async function runMemory(n: number): Promise<BenchResult> {
  const db = `bench_mem_${randomSuffix()}`;
  const conn = await mysqlConnection();
  const replica = await createPgDatabase();
  let run: My2pgProcess | null = null;
  try {
    await conn.query(`CREATE DATABASE \`${db}\``);
    run = startMy2pg(['run', '--source', mysqlUrl(), '--target', replica.url, '--include', db, '--server-id', String(7000 + Math.floor(Math.random() * 1000)), '--initial-bootstrap', 'false']);
    await waitForRunStreaming(run);
    await createBigTable(conn, db, n);
    await waitForRows(replica.url, db, n);
    return memoryResult('memory-run', peakRssMb(run), n);
  } finally {
    await run?.kill('SIGKILL');
    await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await conn.end();
    await replica.drop();
  }
}

async function waitForRows(url: string, db: string, n: number): Promise<void> {
  const probe = pgClient(url);
  await probe.connect();
  try {
    await waitFor(
      `the ${n}-row transaction to be applied`,
      async () => Number((await probe.query(`SELECT count(*) AS n FROM "${db}".big`).catch(() => ({ rows: [{ n: -1 }] }))).rows[0].n) === n,
      1_800_000,
      1000,
    );
  } finally {
    await probe.end();
  }
}

export async function memoryScenario(n: number): Promise<BenchResult[]> {
  const db = `bench_mem_${randomSuffix()}`;
  const topic = `bench_mem_${randomSuffix()}`;
  const conn = await mysqlConnection();
  const replica = await createPgDatabase();
  const common = ['--kafka', kafkaBrokers(), '--topic', topic, '--include', db];
  let capture: My2pgProcess | null = null;
  let apply: My2pgProcess | null = null;
  try {
    await conn.query(`CREATE DATABASE \`${db}\``);
    capture = startMy2pg(['capture', '--source', mysqlUrl(), '--server-id', String(7000 + Math.floor(Math.random() * 1000)), ...common]);
    await waitFor('capture to start', async () => /published the schema snapshot/.test(capture!.log()), 120_000);
    apply = startMy2pg(['apply', '--target', replica.url, '--group', `g_${topic}`, ...common]);
    // One transaction: CREATE … then INSERT … SELECT of every row.
    await createBigTable(conn, db, n);
    await waitForRows(replica.url, db, n);
    const captureMb = peakRssMb(capture);
    const applyMb = peakRssMb(apply);
    return [memoryResult('memory-capture', captureMb, n), memoryResult('memory-apply', applyMb, n), await runMemory(n)];
  } finally {
    await capture?.kill('SIGKILL');
    await apply?.kill('SIGKILL');
    await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await conn.end();
    await replica.drop();
  }
}
