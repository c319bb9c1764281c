// The `my2pg` command: parses arguments, loads configuration, and wires concrete drivers into
// the stages. The only module that knows every implementation.

import { parseArgs } from 'node:util';
import { parentPort } from 'node:worker_threads';
import type pg from 'pg';
import { ApplyStage } from '../apply/apply-stage.js';
import { Bootstrapper, runBootstrapWorker, type BootstrapOptions } from '../bootstrap/bootstrapper.js';
import { KafkaBootstrapEvents } from '../bootstrap/kafka-events.js';
import { listBootstraps, tableKey } from '../bootstrap/registry.js';
import { readCheckpoints } from '../apply/checkpoint-store.js';
import { readSourceSchemas } from '../apply/ddl-store.js';
import { CaptureStage } from '../capture/capture-stage.js';
import { TableFilter } from '../capture/filter.js';
import type { OutputOptions } from '../capture/output-options.js';
import { loadConfig } from '../config/load.js';
import { CONFIG_KEYS, type Config } from '../config/schema.js';
import { EXIT_CODES, My2pgError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { connectReplica } from '../target/connect.js';
import { migrateControlSchema } from '../target/control-schema.js';
import { dialectFor } from '../target/dialect.js';
import { Naming } from '../target/naming.js';
import { EMBEDDED_STREAM, InProcessTransport } from '../transport/in-process.js';
import { KafkaPublisher } from '../transport/kafka-publisher.js';
import { KafkaSubscriber } from '../transport/kafka-subscriber.js';
import type { Publisher } from '../transport/transport.js';

const USAGE = `usage:
  my2pg capture --source URL --kafka BROKERS [--topic maxwell] [--include db[.table],...]
  my2pg apply   --target URL --kafka BROKERS [--topic maxwell] [--group my2pg]
  my2pg run     --source URL --target URL [--kafka BROKERS] [--include ...]
  my2pg bootstrap --source URL --target URL --include db[.table],... [--where SQL] [--kafka BROKERS]
                  [--redis URL] [--bootstrap-chunk-rows N] [--bootstrap-concurrency N]
  my2pg bootstrap --worker --source URL --target URL --redis URL     (copy chunks for others)
  my2pg bootstrap --status --target URL                               (what is done, running, left)
common options: --config FILE, --exclude RULES, --client-id ID, --server-id N, --use-gtid true|false,
  --init-position FILE:OFFSET, --heartbeat-interval-ms N, --topic-partitions N,
  --batch-max-rows N, --batch-max-wait-ms N, --dialect postgres|greenplum, --keep-case, --log-level LEVEL
Every option can also come from MY2PG_<OPTION> environment variables or the YAML config file.`;

const FLAG_OPTIONS: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
  config: { type: 'string' },
  source: { type: 'string' },
  target: { type: 'string' },
  kafka: { type: 'string' },
  topic: { type: 'string' },
  'topic-partitions': { type: 'string' },
  group: { type: 'string' },
  include: { type: 'string' },
  exclude: { type: 'string' },
  'client-id': { type: 'string' },
  'server-id': { type: 'string' },
  'use-gtid': { type: 'string' },
  'heartbeat-interval-ms': { type: 'string' },
  'batch-max-rows': { type: 'string' },
  'batch-max-wait-ms': { type: 'string' },
  dialect: { type: 'string' },
  'keep-case': { type: 'boolean' },
  'log-level': { type: 'string' },
  worker: { type: 'boolean' },
  status: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};
// Every other option of the schema is a string flag too (--output-nulls false, …).
for (const key of CONFIG_KEYS) FLAG_OPTIONS[key.replace(/_/g, '-')] ??= { type: 'string' };

/** A stage with a lifecycle that the process runs until it ends or a signal stops it. */
interface Runnable {
  run(): Promise<void>;
  stop(): Promise<void>;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : EXIT_CODES.CONFIG;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: FLAG_OPTIONS, strict: true, allowPositionals: false });
  } catch (err) {
    throw new My2pgError('CONFIG', `${(err as Error).message}\n${USAGE}`);
  }
  const { config: file, help, worker, status, ...flags } = parsed.values;
  if (help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const configFile = typeof file === 'string' ? file : process.env.MY2PG_CONFIG;
  const config = loadConfig({ flags, env: process.env, file: configFile });
  const log = createLogger(config.log_level);
  if (command === 'bootstrap' && status) return printBootstrapStatus(need(config, 'target', 'bootstrap --status'));
  const stages = await buildStages(command, config, log, { worker: worker === true });
  return runStages(stages, log);
}

async function buildStages(command: string, c: Config, log: Logger, flags: { worker: boolean }): Promise<Runnable[]> {
  switch (command) {
    case 'bootstrap':
      return [flags.worker ? bootstrapWorker(c, log) : bootstrap(c, log)];
    case 'capture':
      return [captureOverKafka(c, log)];
    case 'apply':
      return [applyOverKafka(c, log)];
    case 'run': {
      need(c, 'source', 'run');
      need(c, 'target', 'run');
      const initial = await initialBootstrap(c, log);
      if (c.kafka) return [captureOverKafka(c, log), applyOverKafka(c, log), ...initial];
      return [...embedded(c, log), ...initial];
    }
    default:
      throw new My2pgError('CONFIG', `unknown command "${command}"\n${USAGE}`);
  }
}

function need<K extends keyof Config>(c: Config, key: K, command: string): NonNullable<Config[K]> {
  const v = c[key];
  if (v === undefined || v === null) {
    throw new My2pgError('CONFIG', `${command} needs --${String(key)} (or MY2PG_${String(key).toUpperCase()})`);
  }
  return v as NonNullable<Config[K]>;
}

/** Maxwell's output options from the configuration. */
function outputOptions(c: Config): OutputOptions {
  return {
    binlogPosition: c.output_binlog_position,
    gtidPosition: c.output_gtid_position,
    serverId: c.output_server_id,
    threadId: c.output_thread_id,
    primaryKeys: c.output_primary_keys,
    primaryKeyColumns: c.output_primary_key_columns,
    nulls: c.output_nulls,
    commitInfo: c.output_commit_info,
    xoffset: c.output_xoffset,
    keyFormat: c.kafka_key_format,
    partitionBy: c.producer_partition_by,
    partitionColumns: c.producer_partition_columns,
    partitionFallback: c.producer_partition_by_fallback,
  };
}

function captureStage(c: Config, command: string, publisher: Publisher, log: Logger, output?: OutputOptions): CaptureStage {
  return new CaptureStage({
    sourceUrl: need(c, 'source', command),
    serverId: c.server_id,
    useGtid: c.use_gtid,
    initPosition: c.init_position,
    heartbeatMs: c.heartbeat_interval_ms,
    output,
    filter: new TableFilter(c.include, c.exclude, c.filter),
    ddlSkip: c.ddl_skip,
    publisher,
    log: log.child({ stage: 'capture' }),
  });
}

function captureOverKafka(c: Config, log: Logger): Runnable {
  const brokers = need(c, 'kafka', 'capture');
  const publisher = new KafkaPublisher({
    brokers,
    topic: c.topic,
    partitions: c.topic_partitions,
    clientId: c.client_id,
    partitionHash: c.kafka_partition_hash,
    log,
  });
  const stage = captureStage(c, 'capture', publisher, log, outputOptions(c));
  return {
    run: async () => {
      await publisher.connect();
      try {
        await stage.run();
      } finally {
        await publisher.close();
      }
    },
    stop: () => stage.stop(),
  };
}

function applyOverKafka(c: Config, log: Logger): Runnable {
  const brokers = need(c, 'kafka', 'apply');
  const subscriber = new KafkaSubscriber({ brokers, topic: c.topic, group: c.group, partitions: c.topic_partitions, log });
  return applyStage(c, subscriber, log);
}

function applyStage(c: Config, subscriber: ConstructorParameters<typeof ApplyStage>[0], log: Logger): Runnable {
  const stage = new ApplyStage(subscriber, {
    targetUrl: need(c, 'target', 'apply'),
    dialect: dialectFor(c.dialect),
    naming: new Naming(c.keep_case),
    typeOverrides: c.type_overrides,
    ddlIndexes: c.ddl_indexes,
    batchMaxRows: c.batch_max_rows,
    batchMaxWaitMs: c.batch_max_wait_ms,
    log: log.child({ stage: 'apply' }),
  });
  return {
    run: async () => {
      try {
        await stage.run();
      } finally {
        await stage.close();
      }
    },
    stop: () => stage.stop(),
  };
}

/** `run` without Kafka: the binlog cursor is committed in the replica with the data. */
function embedded(c: Config, log: Logger): Runnable[] {
  const targetUrl = need(c, 'target', 'run');
  const withClient = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = await connectReplica(targetUrl);
    try {
      await migrateControlSchema(client);
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  const transport = new InProcessTransport(
    20_000,
    () => withClient(async (client) => (await readCheckpoints(client, EMBEDDED_STREAM, false)).get('0') ?? null),
    () => withClient((client) => readSourceSchemas(client, EMBEDDED_STREAM)),
  );
  // Maxwell's output options shape Kafka messages only: without Kafka, capture keeps its defaults.
  const capture = captureStage(c, 'run', transport, log);
  return [
    { run: () => capture.run(), stop: () => capture.stop() },
    applyStage(c, transport, log),
  ];
}

function bootstrapOptions(c: Config, log: Logger, command: string): BootstrapOptions {
  return {
    sourceUrl: need(c, 'source', command),
    targetUrl: need(c, 'target', command),
    dialect: dialectFor(c.dialect),
    naming: new Naming(c.keep_case),
    typeOverrides: c.type_overrides,
    where: c.where ?? null,
    chunkRows: c.bootstrap_chunk_rows,
    concurrency: c.bootstrap_concurrency,
    redisUrl: c.redis,
    queueName: c.bootstrap_queue,
    log: log.child({ stage: 'bootstrap' }),
  };
}

/** `my2pg bootstrap --include …`: copies the tables, then exits. */
function bootstrap(c: Config, log: Logger): Runnable {
  if (c.include.length === 0 && !c.filter) {
    throw new My2pgError('CONFIG', 'bootstrap needs --include db[.table],... (or a filter) naming what to copy');
  }
  const events = c.kafka ? new KafkaBootstrapEvents({ brokers: c.kafka, topic: c.topic, partitions: c.topic_partitions, output: outputOptions(c), log }) : undefined;
  const b = new Bootstrapper({ ...bootstrapOptions(c, log, 'bootstrap'), events });
  return {
    run: async () => {
      await events?.connect();
      try {
        await b.run(await b.includedTables(new TableFilter(c.include, c.exclude, c.filter)));
      } finally {
        await events?.close();
      }
    },
    stop: async () => b.stop(),
  };
}

/** `my2pg bootstrap --worker`: serves chunk jobs from Redis until stopped. */
function bootstrapWorker(c: Config, log: Logger): Runnable {
  const redisUrl = need(c, 'redis', 'bootstrap --worker');
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  return {
    run: () => runBootstrapWorker({ ...bootstrapOptions(c, log, 'bootstrap --worker'), redisUrl }, stopped),
    stop: async () => stop(),
  };
}

/**
 * For `run`: on first start (nothing applied yet) the included tables are bootstrapped while the
 * stream runs; after a restart, unfinished bootstraps resume (docs/BOOTSTRAP.md).
 */
async function initialBootstrap(c: Config, log: Logger): Promise<Runnable[]> {
  const stream = c.kafka ? `kafka:${c.group}` : EMBEDDED_STREAM;
  const client = await connectReplica(need(c, 'target', 'run'));
  let first: boolean;
  let unfinished: Array<{ db: string; table: string }>;
  try {
    await migrateControlSchema(client);
    first = (await readCheckpoints(client, stream, false)).size === 0;
    unfinished = (await listBootstraps(client)).filter((b) => b.state === 'copying').map((b) => ({ db: b.sourceDb, table: b.sourceTable }));
  } finally {
    await client.end();
  }
  if (!(first && c.initial_bootstrap) && unfinished.length === 0) return [];
  const b = new Bootstrapper({ ...bootstrapOptions(c, log, 'run'), waitForTables: true });
  return [
    {
      run: async () => {
        const tables = first && c.initial_bootstrap ? await b.includedTables(new TableFilter(c.include, c.exclude, c.filter)) : [];
        const names = new Set(tables.map((t) => tableKey(t.db, t.table)));
        await b.run([...tables, ...unfinished.filter((t) => !names.has(tableKey(t.db, t.table)))]);
      },
      stop: async () => b.stop(),
    },
  ];
}

/** `my2pg bootstrap --status`: one line per table. */
async function printBootstrapStatus(targetUrl: string): Promise<number> {
  const client = await connectReplica(targetUrl);
  try {
    await migrateControlSchema(client);
    const rows = await client.query<{ source_db: string; source_table: string; state: string; chunks: string; done: string; rows: string; rows_estimated: string; planned_all: boolean; started_at: Date; finished_at: Date | null }>(`
      SELECT t.source_db, t.source_table, t.state, t.rows_estimated, t.planned_all, t.started_at, t.finished_at,
             count(c.chunk_no) AS chunks, count(c.chunk_no) FILTER (WHERE c.state = 'done') AS done,
             coalesce(sum(c.rows_copied), 0) AS rows
      FROM _my2pg.bootstrap_tables t
      LEFT JOIN _my2pg.bootstrap_chunks c USING (source_db, source_table)
      GROUP BY t.source_db, t.source_table ORDER BY t.source_db, t.source_table`);
    if (rows.rows.length === 0) process.stdout.write('no bootstraps recorded\n');
    for (const r of rows.rows) {
      const state = r.state === 'done' ? `done at ${r.finished_at?.toISOString()}` : `copying since ${r.started_at.toISOString()}`;
      const left = Number(r.chunks) - Number(r.done);
      process.stdout.write(
        `${r.source_db}.${r.source_table}: ${state}; ${r.rows} of ~${r.rows_estimated} rows; ` +
          `chunks ${r.done} done, ${left} left${r.planned_all ? '' : ' (still planning)'}\n`,
      );
    }
    return 0;
  } finally {
    await client.end();
  }
}

/**
 * The first SIGINT/SIGTERM, kept from the moment the module loads: one that arrives while the
 * command is still starting (reading its configuration, connecting) stops it as soon as its
 * stages exist, instead of being lost before anything listens for it.
 */
let signalled: NodeJS.Signals | null = null;
let onSignal: ((signal: NodeJS.Signals) => void) | null = null;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    signalled ??= sig;
    onSignal?.(sig);
  });
}
// On the launcher's worker thread (src/cli/launch.ts) signals arrive as messages.
parentPort?.on('message', (m: { signal?: NodeJS.Signals }) => {
  if (m.signal) process.emit(m.signal, m.signal);
});

/** Runs stages side by side; the first failure or a signal stops them all. */
async function runStages(stages: Runnable[], log: Logger): Promise<number> {
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled(stages.map((s) => s.stop()));
  };
  onSignal = (sig) => {
    log.info({ signal: sig }, 'stopping');
    void stopAll();
  };
  if (signalled) {
    onSignal(signalled);
    return 0;
  }
  let failure: unknown = null;
  await Promise.all(
    stages.map((s) =>
      s.run().catch(async (err) => {
        // After a signal, a stage interrupted in mid-step (a connection closed under a query, a
        // wait cut short) has acknowledged nothing it did not finish: the stop is still clean.
        if (signalled) {
          log.info({ error: (err as Error)?.message ?? String(err) }, 'a stage was interrupted by the stop');
          return;
        }
        failure ??= err;
        await stopAll();
      }),
    ),
  );
  if (failure) throw failure;
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err instanceof My2pgError ? err : null;
    const code = e ? EXIT_CODES[e.code] : EXIT_CODES.INTERNAL;
    const log = createLogger(process.env.MY2PG_LOG_LEVEL ?? 'info');
    log.fatal({ code: e?.code ?? 'INTERNAL', err }, e ? e.message : String((err as Error)?.stack ?? err));
    process.stderr.write(`my2pg: ${e ? e.message : String((err as Error)?.message ?? err)}\n`);
    setTimeout(() => process.exit(code), 50);
  },
);
