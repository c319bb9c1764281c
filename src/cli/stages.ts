// The stages each command runs, built from the configuration: the one module (with main.ts,
// which parses the command line and runs them) that knows every concrete implementation.

import type pg from 'pg';
import { ApplyStage } from '../apply/apply-stage.js';
import { Bootstrapper, runBootstrapWorker, type BootstrapOptions } from '../bootstrap/bootstrapper.js';
import { KafkaBootstrapEvents } from '../bootstrap/kafka-events.js';
import { finishInitialBootstrap, initialBootstrapPending, recordInitialBootstrap, waitForStreamStart } from '../state/initial-bootstrap.js';
import { listBootstraps } from '../state/bootstrap-registry.js';
import { readCheckpoints } from '../state/checkpoints.js';
import { readSourceSchemas } from '../state/source-schemas.js';
import { CaptureStage } from '../capture/capture-stage.js';
import { TableFilter } from '../core/table-filter.js';
import type { OutputOptions } from '../core/maxwell-keys.js';
import type { Config } from '../config/schema.js';
import { Backoff } from '../core/backoff.js';
import { My2pgError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { tableKey } from '../core/table-key.js';
import { sourceTlsFromConfig } from '../source/connect.js';
import { withReplica } from '../target/connect.js';
import { migrateControlSchema } from '../state/control-schema.js';
import { dialectFor } from '../target/dialect.js';
import { Naming } from '../target/naming.js';
import { EMBEDDED_STREAM, InProcessTransport, resumePosition } from '../transport/in-process.js';
import type { BinlogPosition } from '../core/position.js';
import type { TableSchema } from '../core/table-schema.js';
import { captureOnThread } from './capture-thread.js';
import { heapCapMb } from '../core/heap.js';
import { KafkaPublisherThread } from '../transport/kafka-publisher-thread.js';
import { KafkaSubscriber } from '../transport/kafka-subscriber.js';
import type { Publisher } from '../transport/transport.js';

/** A stage with a lifecycle that the process runs until it ends or a signal stops it. */
export interface Runnable {
  run(): Promise<void>;
  stop(): Promise<void>;
}

export async function buildStages(command: string, c: Config, log: Logger, flags: { worker: boolean }): Promise<Runnable[]> {
  // The source's TLS files are read at the start: a missing one stops it before anything runs.
  if (command !== 'apply') sourceTlsFromConfig(c);
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
      throw new My2pgError('CONFIG', `unknown command "${command}"`);
  }
}

export function need<K extends keyof Config>(c: Config, key: K, command: string): NonNullable<Config[K]> {
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

/**
 * The server_id of the binlog connection: the configured one, or one derived from what names the
 * pipeline (the Kafka brokers, topic and client id, or `run`'s replica database), so that two
 * pipelines on one source do not share one (the source drops the older connection of two).
 */
export function pipelineServerId(c: Config): number {
  if (c.server_id !== undefined) return c.server_id;
  let name: string;
  if (c.kafka) {
    name = `kafka:${[...c.kafka].sort().join(',')}:${c.topic}:${c.client_id}`;
  } else {
    const u = new URL(need(c, 'target', 'run'));
    name = `run:${u.hostname}:${u.port || '5432'}${u.pathname}`;
  }
  // FNV-1a, into 1 … 2^32-1 (0 is not a valid server_id).
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(name)) h = Math.imul(h ^ ch, 0x01000193) >>> 0;
  return (h % 0xfffffffe) + 1;
}

export function captureStage(c: Config, command: string, publisher: Publisher, log: Logger, output?: OutputOptions): CaptureStage {
  const serverId = pipelineServerId(c);
  log.info({ server_id: serverId, derived: c.server_id === undefined, ...(c.kafka ? { client_id: c.client_id } : {}) }, 'capture identity on the source');
  return new CaptureStage({
    sourceUrl: need(c, 'source', command),
    sourceTls: sourceTlsFromConfig(c),
    serverId,
    useGtid: c.use_gtid,
    initPosition: c.init_position,
    heartbeatMs: c.heartbeat_interval_ms,
    output,
    filter: new TableFilter(c.include, c.exclude, c.filter),
    ddlSkip: c.ddl_skip,
    retryMaxMs: c.retry_max_ms,
    publisher,
    log: log.child({ stage: 'capture' }),
  });
}

function captureOverKafka(c: Config, log: Logger): Runnable {
  const brokers = need(c, 'kafka', 'capture');
  const publisher = new KafkaPublisherThread({
    brokers,
    topic: c.topic,
    partitions: c.topic_partitions,
    clientId: c.client_id,
    partitionHash: c.kafka_partition_hash,
    log,
    heapMb: heapCapMb(),
  });
  const stage = captureStage(c, 'capture', publisher, log, outputOptions(c));
  const backoff = new Backoff(log, c.retry_max_ms);
  return {
    run: async () => {
      try {
        // A broker that is down when capture starts is waited for, like one that goes down later.
        await backoff.retry('connecting to Kafka', (attempt) => (attempt === 0 ? publisher.connect() : publisher.restart()));
        await stage.run();
      } finally {
        await publisher.close();
      }
    },
    stop: async () => {
      backoff.cancel();
      await stage.stop();
    },
  };
}

function applyOverKafka(c: Config, log: Logger): Runnable {
  const brokers = need(c, 'kafka', 'apply');
  const subscriber = new KafkaSubscriber({ brokers, topic: c.topic, group: c.group, retryMaxMs: c.retry_max_ms, log });
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
    retryMaxMs: c.retry_max_ms,
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

/**
 * What the embedded transport keeps in the replica for capture: the binlog cursor apply committed
 * last (where capture resumes) and the table definitions stored with it.
 */
export function embeddedStore(c: Config): { position: () => Promise<BinlogPosition | null>; schemas: () => Promise<TableSchema[] | null> } {
  const targetUrl = need(c, 'target', 'run');
  const withClient = <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> =>
    withReplica(targetUrl, async (client) => {
      await migrateControlSchema(client);
      return fn(client);
    });
  return {
    position: () => withClient(async (client) => resumePosition((await readCheckpoints(client, EMBEDDED_STREAM)).get('0') ?? null)),
    schemas: () => withClient((client) => readSourceSchemas(client, EMBEDDED_STREAM)),
  };
}

/**
 * `run` without Kafka: capture on a thread of its own (capture-thread.ts) hands messages to apply
 * here through an in-memory queue; the binlog cursor is committed in the replica with the data.
 * Maxwell's output options shape Kafka messages only: without Kafka, capture keeps its defaults.
 */
function embedded(c: Config, log: Logger): Runnable[] {
  const transport = new InProcessTransport(10_000);
  return [captureOnThread(c, transport, log), applyStage(c, transport, log)];
}

function bootstrapOptions(c: Config, log: Logger, command: string): BootstrapOptions {
  return {
    sourceUrl: need(c, 'source', command),
    sourceTls: sourceTlsFromConfig(c),
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
  const events = bootstrapEvents(c, log);
  const b = new Bootstrapper({ ...bootstrapOptions(c, log, 'bootstrap'), events });
  // A job, but a long one: an outage of a server is ridden out, and the copy resumes at its unfinished chunks.
  const backoff = new Backoff(log, c.retry_max_ms);
  return {
    run: async () => {
      await backoff.retry('connecting to Kafka', async () => events?.connect());
      try {
        await backoff.retry('the bootstrap', async () => b.run(await b.includedTables(new TableFilter(c.include, c.exclude, c.filter))));
      } finally {
        await events?.close();
      }
    },
    stop: async () => {
      backoff.cancel();
      b.stop();
    },
  };
}

/** With --kafka, Maxwell's bootstrap events for other consumers (docs/BOOTSTRAP.md "Kafka"). */
function bootstrapEvents(c: Config, log: Logger): KafkaBootstrapEvents | undefined {
  if (!c.kafka) return undefined;
  return new KafkaBootstrapEvents({ brokers: c.kafka, topic: c.topic, partitions: c.topic_partitions, partitionHash: c.kafka_partition_hash, output: outputOptions(c), log });
}

/** `my2pg bootstrap --worker`: serves chunk jobs from Redis until stopped (with --kafka, publishing their events too). */
function bootstrapWorker(c: Config, log: Logger): Runnable {
  const redisUrl = need(c, 'redis', 'bootstrap --worker');
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const events = bootstrapEvents(c, log);
  return {
    run: async () => {
      await events?.connect();
      try {
        await runBootstrapWorker({ ...bootstrapOptions(c, log, 'bootstrap --worker'), redisUrl, events }, stopped);
      } finally {
        await events?.close();
      }
    },
    stop: async () => stop(),
  };
}

/**
 * For `run`: on first start (nothing applied yet) the included tables are bootstrapped while the
 * stream runs, chosen once the stream has fixed its start (src/state/initial-bootstrap.ts);
 * after a restart, unfinished bootstraps resume (docs/BOOTSTRAP.md).
 */
async function initialBootstrap(c: Config, log: Logger): Promise<Runnable[]> {
  const stream = c.kafka ? `kafka:${c.group}` : EMBEDDED_STREAM;
  const targetUrl = need(c, 'target', 'run');
  const { pending, unfinished } = await withReplica(targetUrl, async (client) => {
    await migrateControlSchema(client);
    if (c.initial_bootstrap && (await readCheckpoints(client, stream)).size === 0) await recordInitialBootstrap(client, stream);
    return {
      pending: await initialBootstrapPending(client, stream),
      unfinished: (await listBootstraps(client)).filter((b) => b.state === 'copying').map((b) => ({ db: b.sourceDb, table: b.sourceTable })),
    };
  });
  if (!pending && unfinished.length === 0) return [];
  let stopped = false;
  const b = new Bootstrapper({ ...bootstrapOptions(c, log, 'run'), waitForTables: true });
  // An outage of either server is ridden out like the stream's: the bootstrap runs again and resumes.
  const backoff = new Backoff(log, c.retry_max_ms);
  return [
    {
      run: async () => {
        const tables: Array<{ db: string; table: string }> = [];
        if (pending) {
          await withReplica(targetUrl, (client) => waitForStreamStart(client, stream, () => stopped));
          tables.push(...(await b.includedTables(new TableFilter(c.include, c.exclude, c.filter))));
        }
        const names = new Set(tables.map((t) => tableKey(t.db, t.table)));
        await backoff.retry('the first-start bootstrap', () => b.run([...tables, ...unfinished.filter((t) => !names.has(tableKey(t.db, t.table)))]));
        if (pending && !stopped) await withReplica(targetUrl, (client) => finishInitialBootstrap(client, stream));
      },
      stop: async () => {
        stopped = true;
        backoff.cancel();
        b.stop();
      },
    },
  ];
}
