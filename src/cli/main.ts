// The `my2pg` command: parses arguments, loads configuration, and wires concrete drivers into
// the stages. The only module that knows every implementation.

import { parseArgs } from 'node:util';
import pg from 'pg';
import { ApplyStage } from '../apply/apply-stage.js';
import { readCheckpoints } from '../apply/checkpoint-store.js';
import { CaptureStage } from '../capture/capture-stage.js';
import { TableFilter } from '../capture/filter.js';
import type { OutputOptions } from '../capture/output-options.js';
import { loadConfig } from '../config/load.js';
import { CONFIG_KEYS, type Config } from '../config/schema.js';
import { EXIT_CODES, My2pgError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { migrateControlSchema } from '../target/control-schema.js';
import { dialectFor } from '../target/dialect.js';
import { Naming } from '../target/naming.js';
import { EMBEDDED_STREAM, InProcessTransport } from '../transport/in-process.js';
import { KafkaPublisher } from '../transport/kafka-publisher.js';
import { KafkaSubscriber } from '../transport/kafka-subscriber.js';

const USAGE = `usage:
  my2pg capture --source URL --kafka BROKERS [--topic maxwell] [--include db[.table],...]
  my2pg apply   --target URL --kafka BROKERS [--topic maxwell] [--group my2pg]
  my2pg run     --source URL --target URL [--kafka BROKERS] [--include ...]
common options: --config FILE, --exclude RULES, --client-id ID, --server-id N, --use-gtid true|false,
  --heartbeat-interval-ms N, --topic-partitions N,
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
  const { config: file, help, ...flags } = parsed.values;
  if (help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const configFile = typeof file === 'string' ? file : process.env.MY2PG_CONFIG;
  const config = loadConfig({ flags, env: process.env, file: configFile });
  const log = createLogger(config.log_level);
  const stages = buildStages(command, config, log);
  return runStages(stages, log);
}

function buildStages(command: string, c: Config, log: Logger): Runnable[] {
  switch (command) {
    case 'capture':
      return [captureOverKafka(c, log)];
    case 'apply':
      return [applyOverKafka(c, log)];
    case 'run': {
      need(c, 'source', 'run');
      need(c, 'target', 'run');
      if (c.kafka) return [captureOverKafka(c, log), applyOverKafka(c, log)];
      return embedded(c, log);
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
  const stage = new CaptureStage({
    sourceUrl: need(c, 'source', 'capture'),
    serverId: c.server_id,
    useGtid: c.use_gtid,
    heartbeatMs: c.heartbeat_interval_ms,
    output: outputOptions(c),
    filter: new TableFilter(c.include, c.exclude, c.filter),
    publisher,
    log: log.child({ stage: 'capture' }),
  });
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
  const transport = new InProcessTransport(20_000, async () => {
    const client = new pg.Client({ connectionString: targetUrl });
    await client.connect().catch((err: Error) => {
      throw new My2pgError('UNREACHABLE', `cannot connect to the replica: ${err.message}`, { retriable: true, cause: err });
    });
    try {
      await migrateControlSchema(client);
      return (await readCheckpoints(client, EMBEDDED_STREAM, false)).get('0') ?? null;
    } finally {
      await client.end();
    }
  });
  const capture = new CaptureStage({
    sourceUrl: need(c, 'source', 'run'),
    serverId: c.server_id,
    useGtid: c.use_gtid,
    heartbeatMs: c.heartbeat_interval_ms,
    filter: new TableFilter(c.include, c.exclude, c.filter),
    publisher: transport,
    log: log.child({ stage: 'capture' }),
  });
  return [
    { run: () => capture.run(), stop: () => capture.stop() },
    applyStage(c, transport, log),
  ];
}

/** Runs stages side by side; the first failure or a signal stops them all. */
async function runStages(stages: Runnable[], log: Logger): Promise<number> {
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled(stages.map((s) => s.stop()));
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log.info({ signal: sig }, 'stopping');
      void stopAll();
    });
  }
  let failure: unknown = null;
  await Promise.all(
    stages.map((s) =>
      s.run().catch(async (err) => {
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
