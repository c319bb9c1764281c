// bootstrap: a 10-column mixed-type MySQL table copied into an empty replica by my2pg's
// bootstrap, against pgloader (Debian's package) on the same table and raw COPY of the same
// rows into the same table, all in the same run (docs/PERFORMANCE.md "Bootstrap").

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { Bootstrapper } from '../../src/bootstrap/bootstrapper.js';
import { silentLogger } from '../../src/core/logger.js';
import { postgresDialect } from '../../src/target/dialect.js';
import { Naming } from '../../src/target/naming.js';
import { createBigTable } from '../../test/harness/big-table.js';
import { createPgDatabase, mysqlConnection, mysqlUrl, pgClient, randomSuffix } from '../../test/harness/servers.js';
import { cpuBudget, result, type BenchResult } from '../lib.js';

const run = promisify(execFile);

export async function bootstrapScenario(n: number): Promise<BenchResult[]> {
  const db = `bench_boot_${randomSuffix()}`;
  const conn = await mysqlConnection();
  const mine = await createPgDatabase();
  const theirs = await createPgDatabase();
  try {
    await conn.query(`CREATE DATABASE \`${db}\``);
    await createBigTable(conn, db, n, 'items');

    const boot = new Bootstrapper({
      sourceUrl: mysqlUrl(), targetUrl: mine.url, dialect: postgresDialect, naming: new Naming(), chunkRows: 20_000,
      concurrency: Number(process.env.BENCH_BOOTSTRAP_CONCURRENCY ?? 2), queueName: 'unused', log: silentLogger,
    });
    let started = performance.now();
    const cpu = cpuBudget(process.pid);
    await boot.run([{ db, table: 'items' }]);
    const bootMs = performance.now() - started;
    console.error(`# bootstrap: ${cpu(n)} (my2pg: every thread of this process)`);

    await expectRows(mine.url, `"${db}"."items"`, n, 'my2pg bootstrap');
    const copyMs = await rawCopy(mine.url, `"${db}"."items"`);

    started = performance.now();
    await run('pgloader', ['--quiet', `${mysqlUrl()}/${db}`, theirs.url], { maxBuffer: 64 * 2 ** 20 });
    const pgloaderMs = performance.now() - started;
    await expectRows(theirs.url, `"${db}"."items"`, n, 'pgloader');

    const figure = Math.round(n / (bootMs / 1000));
    const common = { figure, unit: 'rows/s', rows: n };
    return [
      result({ ...common, scenario: 'bootstrap', limit: Math.round(n / (copyMs / 1000)), limitName: 'raw COPY of the same rows into the same table, rows/s', goal: { figure: 0, ratio: 0.75 } }),
      result({ ...common, scenario: 'bootstrap-pgloader', limit: Math.round(n / (pgloaderMs / 1000)), limitName: 'pgloader 3.6 (Debian) on the same table, rows/s', goal: { figure: 0, ratio: 2 } }),
    ];
  } finally {
    await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await conn.end();
    await mine.drop();
    await theirs.drop();
  }
}

/** Times COPY FROM of the rows a table holds (dumped first, then the table emptied): the limit. */
export async function rawCopy(url: string, table: string): Promise<number> {
  const c = pgClient(url);
  await c.connect();
  try {
    const chunks: Buffer[] = [];
    await pipeline(c.query(copyTo(`COPY ${table} TO STDOUT`)), async function* (source: AsyncIterable<Buffer>) {
      for await (const b of source) chunks.push(b);
    });
    await c.query(`TRUNCATE ${table}`);
    await c.query('CHECKPOINT');
    const started = performance.now();
    await pipeline(Readable.from(chunks), c.query(copyFrom(`COPY ${table} FROM STDIN`)));
    return performance.now() - started;
  } finally {
    await c.end();
  }
}

export async function expectRows(url: string, table: string, n: number, who: string): Promise<void> {
  const c = pgClient(url);
  await c.connect();
  try {
    const have = Number((await c.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
    if (have !== n) throw new Error(`${who} left ${have} rows in ${table}, expected ${n}`);
  } finally {
    await c.end();
  }
}
