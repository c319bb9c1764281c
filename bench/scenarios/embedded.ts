// embedded: `my2pg run` without Kafka (one process, in-process transport) applying an insert
// workload into an empty replica and an update-heavy one (50% updates, 10% deletes, 40%
// inserts) onto it, against raw COPY of the resulting rows into the same table
// (docs/PERFORMANCE.md "Embedded").

import type mysql from 'mysql2/promise';
import { createPgDatabase, mysqlConnection, mysqlUrl, pgClient, randomSuffix, startMy2pg, waitFor, type My2pgProcess } from '../../test/harness/servers.js';
import { cpuBudget, result, type BenchResult } from '../lib.js';
import { rawCopy } from './bootstrap.js';

const TX_ROWS = 10_000;

const COLUMNS = `id BIGINT UNSIGNED NOT NULL PRIMARY KEY, qty INT NOT NULL, price DECIMAL(20,6), ratio DOUBLE, name VARCHAR(64),
  note TEXT, created DATETIME(6), flag TINYINT(1), tag ENUM('a','b','c'), raw VARBINARY(16)`;
const VALUES = (expr: string, seq = `(${expr})`) => `${seq}, ${seq} % 1000, ${seq} / 7, ${seq} / 3, CONCAT('name-', ${seq}), IF(${seq} % 10 = 0, NULL, REPEAT('x', ${seq} % 50)),
  TIMESTAMP('2020-01-01') + INTERVAL ${seq} SECOND, ${seq} % 2, ELT(1 + ${seq} % 3, 'a', 'b', 'c'), UNHEX(LPAD(HEX(${seq}), 8, '0'))`;

/** Runs `sql(lo, hi)` for consecutive id ranges of TX_ROWS rows, each its own transaction. */
async function inTransactions(conn: mysql.Connection, total: number, sql: (lo: number, hi: number) => string): Promise<void> {
  for (let lo = 1; lo <= total; lo += TX_ROWS) await conn.query(sql(lo, Math.min(lo + TX_ROWS - 1, total)));
}

async function converged(conn: mysql.Connection, url: string, db: string): Promise<() => Promise<boolean>> {
  const c = pgClient(url);
  await c.connect();
  return async () => {
    const [rows] = await conn.query(`SELECT count(*) AS n, sum(qty) AS q FROM \`${db}\`.items`);
    const want = (rows as Array<{ n: number; q: string }>)[0];
    const have = (await c.query(`SELECT count(*) AS n, sum(qty) AS q FROM "${db}".items`).catch(() => ({ rows: [{ n: -1, q: null }] }))).rows[0];
    const done = Number(have.n) === Number(want.n) && String(have.q) === String(want.q);
    if (done) await c.end();
    return done;
  };
}

export async function embeddedScenario(n: number): Promise<BenchResult[]> {
  const db = `bench_emb_${randomSuffix()}`;
  const conn = await mysqlConnection();
  const replica = await createPgDatabase();
  let run: My2pgProcess | null = null;
  try {
    await conn.query(`CREATE DATABASE \`${db}\``);
    await conn.query(`CREATE TABLE \`${db}\`.items (${COLUMNS})`);
    run = startMy2pg(['run', '--source', mysqlUrl(), '--target', replica.url, '--include', db, '--server-id', String(8000 + Math.floor(Math.random() * 1000)), '--initial-bootstrap', 'false']);
    await waitFor('run to start', async () => /published the schema snapshot/.test(run!.log()), 120_000);

    // Inserts: n rows (ids 2, 4, …) in transactions of TX_ROWS.
    let started = performance.now();
    let cpu = cpuBudget(run.child.pid!);
    await inTransactions(conn, n, (lo, hi) => `INSERT INTO \`${db}\`.items SELECT ${VALUES('seq * 2')} FROM \`${db}\`.seq_${lo}_to_${hi}`);
    await waitFor('the inserts to be applied', await converged(conn, replica.url, db), 1_800_000, 200);
    const insertMs = performance.now() - started;
    console.error(`# embedded-insert: ${cpu(n)} (mariadbd also runs the workload)`);
    const insertCopyMs = await rawCopy(replica.url, `"${db}"."items"`);

    // Update-heavy: n events, 50% updates of existing keys, 10% deletes, 40% new keys (odd ids).
    started = performance.now();
    cpu = cpuBudget(run.child.pid!);
    const step = Math.ceil(n / TX_ROWS);
    for (let i = 0; i < step; i++) {
      const lo = 2 * i * TX_ROWS + 2;
      const hi = lo + 2 * TX_ROWS - 2;
      await conn.query(`UPDATE \`${db}\`.items SET qty = qty + 1, name = CONCAT(name, '+') WHERE id BETWEEN ${lo} AND ${hi} AND id % 20 < 10`);
      await conn.query(`DELETE FROM \`${db}\`.items WHERE id BETWEEN ${lo} AND ${hi} AND id % 20 = 10`);
      const from = i * TX_ROWS * 0.4 + 1;
      await conn.query(`INSERT INTO \`${db}\`.items SELECT ${VALUES('seq * 2 + 1')} FROM \`${db}\`.seq_${from}_to_${from + TX_ROWS * 0.4 - 1}`);
    }
    await waitFor('the updates to be applied', await converged(conn, replica.url, db), 1_800_000, 200);
    const updateMs = performance.now() - started;
    console.error(`# embedded-update: ${cpu(n)} (mariadbd also runs the workload)`);
    const updateCopyMs = await rawCopy(replica.url, `"${db}"."items"`);
    const [[{ rows }]] = (await conn.query(`SELECT count(*) AS \`rows\` FROM \`${db}\`.items`)) as unknown as [[{ rows: number }]];

    const shape = { unit: 'rows/s', limitName: 'raw COPY of the resulting rows into the same table, rows/s', rows: n };
    return [
      result({ ...shape, scenario: 'embedded-insert', figure: Math.round(n / (insertMs / 1000)), limit: Math.round(n / (insertCopyMs / 1000)), goal: { figure: 100_000, ratio: 0.5 } }),
      result({ ...shape, scenario: 'embedded-update', figure: Math.round(n / (updateMs / 1000)), limit: Math.round(Number(rows) / (updateCopyMs / 1000)), goal: { figure: 60_000, ratio: 0.5 } }),
    ];
  } finally {
    await run?.kill('SIGKILL');
    await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await conn.end();
    await replica.drop();
  }
}
