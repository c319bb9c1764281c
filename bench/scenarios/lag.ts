// lag: end-to-end lag at a steady load (goal: p99 ≤ 1 s at 10k rows/s sustained;
// docs/PERFORMANCE.md "End-to-end lag"); lag-big-tx: the same while another database gets one
// transaction of BENCH_BIG_TX_ROWS rows (default 1,000,000) a third of the way in.
// `my2pg capture` and `my2pg apply` run as separate processes over Kafka while BENCH_LAG_RATE
// rows/s (default 10,000) are inserted for BENCH_LAG_SECONDS (default 60), paced by the wall
// clock as one autocommit INSERT of STATEMENT_ROWS rows at a time; a statement that falls behind
// schedule goes at once, and the achieved rate is reported. Each row carries its commit time
// (`committed_at = UTC_TIMESTAMP(6)`, the statement's start, about a millisecond before its
// commit). On the replica a deferred constraint trigger on the table records clock_timestamp()
// and the transaction id for every row as apply's transaction commits (its INSERT … SELECT from
// staging fires it); the last such time of a transaction is when its rows became visible (to
// within the commit record's flush). The lag is the difference; MariaDB and Postgres share the
// host's clock, and both sides are compared in UTC. The trigger's own cost (a few ms per batch
// of thousands of rows) is inside the figure.
//
// The same workload runs BENCH_LAG_WARMUP seconds (default 20) first, not counted: a Kafka broker
// that has not served this traffic yet compiles its code paths for it (measured: about 14 s of
// JIT compilation CPU and 3 s lags in the first 20 s of a fresh broker, docs/PERFORMANCE.md),
// and the goal is the sustained lag.

import { createPgDatabase, kafkaBrokers, mysqlConnection, mysqlUrl, pgClient, randomSuffix, sleep, startMy2pg, waitFor, type My2pgProcess } from '../../test/harness/servers.js';
import { createBigTable } from '../../test/harness/big-table.js';
import { partitionFor } from '../../src/transport/partitioner.js';
import { cpuSeconds, result, type BenchResult } from '../lib.js';

const GOAL_MS = 1000;
const STATEMENT_ROWS = 100;

/**
 * `bigTx`: a third of the way into the measured seconds, another database (in another partition
 * of the topic) gets one transaction of that many rows of the 10-column table, on a connection of
 * its own: the lag of the steady feed while it streams (`lag-big-tx`).
 */
export async function lagScenario(bigTx = 0): Promise<BenchResult[]> {
  const seconds = Number(process.env.BENCH_LAG_SECONDS ?? 60);
  const warmupSeconds = Number(process.env.BENCH_LAG_WARMUP ?? 20);
  const rate = Number(process.env.BENCH_LAG_RATE ?? 10_000);
  const db = `bench_lag_${randomSuffix()}`;
  const partitions = 4;
  const bigDb = ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => `${db}_${x}`).find((d) => partitionFor(d, partitions) !== partitionFor(db, partitions))!;
  const name = bigTx > 0 ? 'lag-big-tx' : 'lag';
  const topic = `bench_lag_${randomSuffix()}`;
  const conn = await mysqlConnection();
  const bigConn = bigTx > 0 ? await mysqlConnection() : null;
  const replica = await createPgDatabase();
  const probe = pgClient(replica.url);
  const common = ['--kafka', kafkaBrokers(), '--topic', topic, ...(bigTx > 0 ? ['--topic-partitions', String(partitions), '--include', `${db},${bigDb}`] : ['--include', db])];
  let big: Promise<void> | null = null;
  let capture: My2pgProcess | null = null;
  let apply: My2pgProcess | null = null;
  try {
    await probe.connect();
    await conn.query(`CREATE DATABASE \`${db}\``);
    if (bigConn) await bigConn.query(`CREATE DATABASE \`${bigDb}\``);
    capture = startMy2pg(['capture', '--source', mysqlUrl(), '--server-id', String(9000 + Math.floor(Math.random() * 1000)), ...common]);
    await waitFor('capture to start', async () => /published the schema snapshot/.test(capture!.log()), 120_000);
    apply = startMy2pg(['apply', '--target', replica.url, '--group', `g_${topic}`, ...common]);
    await conn.query(`CREATE TABLE \`${db}\`.feed (id BIGINT NOT NULL PRIMARY KEY, committed_at DATETIME(6) NOT NULL,
      qty INT, price DECIMAL(12,2), name VARCHAR(64), note TEXT, score DOUBLE) CHARACTER SET utf8mb4`);
    await waitFor('apply to create the replica table', async () => (await probe.query(`SELECT to_regclass('"${db}".feed') AS t`)).rows[0].t !== null, 120_000);
    // A constraint trigger deferred to commit: runs as apply commits, just before its rows become visible.
    await probe.query(`CREATE SCHEMA lag_probe;
      CREATE TABLE lag_probe.visible (id bigint NOT NULL, visible_at timestamptz NOT NULL, xid bigint NOT NULL);
      CREATE FUNCTION lag_probe.record() RETURNS trigger LANGUAGE plpgsql AS
        $$BEGIN INSERT INTO lag_probe.visible VALUES (NEW.id, clock_timestamp(), txid_current()); RETURN NULL; END$$;
      CREATE CONSTRAINT TRIGGER lag_probe AFTER INSERT ON "${db}".feed DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION lag_probe.record()`);

    // Earlier scenarios leave Postgres with dirty buffers: write them out now, not during the workload.
    await probe.query('CHECKPOINT');
    // The workload: statement k is due at start + k × interval; rows up to `warmup` are not counted.
    const warmup = Math.round(rate * warmupSeconds);
    const total = warmup + Math.round(rate * seconds);
    const intervalMs = (STATEMENT_ROWS / rate) * 1000;
    const started = performance.now();
    let measuredFrom = started;
    let cpuFrom = [0, 0];
    let behindMs = 0;
    for (let k = 0, lo = 1; lo <= total; k++, lo += STATEMENT_ROWS) {
      if (lo === warmup + 1) {
        measuredFrom = performance.now();
        cpuFrom = [cpuSeconds(capture!.child.pid!), cpuSeconds(apply!.child.pid!)];
      }
      if (bigConn && big === null && lo > warmup + (total - warmup) / 3) {
        big = createBigTable(bigConn, bigDb, bigTx);
        console.error(`# ${name}: a ${bigTx}-row transaction into ${bigDb} starts`);
      }
      const wait = started + k * intervalMs - performance.now();
      if (wait > 0) await sleep(wait);
      else behindMs = Math.max(behindMs, -wait);
      await conn.query(`INSERT INTO \`${db}\`.feed SELECT seq, UTC_TIMESTAMP(6), seq % 1000, seq / 7, CONCAT('name-', seq),
        REPEAT('x', seq % 50), seq / 3 FROM \`${db}\`.seq_${lo}_to_${Math.min(lo + STATEMENT_ROWS - 1, total)}`);
    }
    await big;
    const measured = total - warmup;
    const achieved = Math.round(measured / ((performance.now() - measuredFrom) / 1000));
    await waitFor(
      `all ${total} rows to be visible in the replica`,
      async () => Number((await probe.query('SELECT count(*) AS n FROM lag_probe.visible')).rows[0].n) >= total,
      600_000,
      500,
    );
    const [captureUs, applyUs] = [capture!.child.pid!, apply!.child.pid!].map((pid, i) => Math.round(((cpuSeconds(pid) - cpuFrom[i]) * 1e6) / measured));

    const lag = (
      await probe.query(`SELECT count(*) AS n, count(DISTINCT xid) AS txs, min(ms) AS min, max(ms) AS max,
        percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY ms) AS p
        FROM (SELECT v.xid, extract(epoch FROM max(v.visible_at) OVER (PARTITION BY v.xid) - (f.committed_at AT TIME ZONE 'UTC')) * 1000 AS ms
              FROM lag_probe.visible v JOIN "${db}".feed f USING (id) WHERE id > ${warmup}) s`)
    ).rows[0];
    const [p50, p95, p99] = (lag.p as string).slice(1, -1).split(',').map((v) => Math.round(Number(v)));
    // When the lag happened: the worst row of each 5 s of the workload.
    const timeline = (
      await probe.query(`SELECT floor(extract(epoch FROM f.committed_at - min(f.committed_at) OVER ()) / 5) * 5 AS at,
        extract(epoch FROM v.visible_at - (f.committed_at AT TIME ZONE 'UTC')) * 1000 AS ms
        FROM lag_probe.visible v JOIN "${db}".feed f USING (id) WHERE id > ${warmup}`)
    ).rows.reduce((worst: Map<number, number>, r: { at: string; ms: string }) => worst.set(Number(r.at), Math.max(worst.get(Number(r.at)) ?? 0, Number(r.ms))), new Map<number, number>());
    console.error(`# ${name}: worst ms per 5 s: ${[...timeline].sort((a, b) => a[0] - b[0]).map(([at, ms]) => `${at}s ${Math.round(ms)}`).join(', ')}`);
    if (Number(lag.n) !== measured) throw new Error(`${lag.n} measured rows were recorded visible, expected ${measured}`);
    // Same clock on both sides: a row cannot be visible before it was committed.
    if (Number(lag.min) < -1) throw new Error(`negative lag ${lag.min} ms: commit and visibility times are not on one clock`);
    console.error(
      `# ${name}: ${measured} rows in ${seconds} s after ${warmupSeconds} s of warm-up, achieved ${achieved} rows/s of ${rate} (at most ${Math.round(behindMs)} ms behind schedule); ` +
        `apply committed ${lag.txs} transactions (${Math.round(measured / Number(lag.txs))} rows each); CPU µs per row: capture ${captureUs}, apply ${applyUs}; ` +
        `lag ms min ${Math.round(Number(lag.min))} p50 ${p50} p95 ${p95} p99 ${p99} max ${Math.round(Number(lag.max))}`,
    );
    const shape = { unit: 'ms', limit: GOAL_MS, limitName: 'the 1 s goal (docs/PERFORMANCE.md)', goal: { figure: GOAL_MS, ratio: 1, lowerIsBetter: true }, rows: measured };
    return [
      result({ ...shape, scenario: `${name}-p50`, figure: p50 }),
      result({ ...shape, scenario: `${name}-p95`, figure: p95 }),
      result({ ...shape, scenario: `${name}-p99`, figure: p99 }),
    ];
  } finally {
    await capture?.kill('SIGKILL');
    await apply?.kill('SIGKILL');
    await probe.end().catch(() => undefined);
    await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await conn.query(`DROP DATABASE IF EXISTS \`${bigDb}\``);
    await conn.end();
    await bigConn?.end();
    await replica.drop();
  }
}
