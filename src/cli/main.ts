// The `my2pg` command: parses arguments, loads configuration, and runs the command's stages
// (built in stages.ts) until they end or a signal stops them.

import { parseArgs } from 'node:util';
import { parentPort } from 'node:worker_threads';
import { loadConfig } from '../config/load.js';
import { CONFIG_KEYS } from '../config/schema.js';
import { EXIT_CODES, My2pgError } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { connectReplica } from '../target/connect.js';
import { bootstrapStatus } from '../state/bootstrap-registry.js';
import { migrateControlSchema } from '../state/control-schema.js';
import { buildStages, need, type Runnable } from './stages.js';

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
source TLS: --source-ssl-mode DISABLED|PREFERRED|REQUIRED|VERIFY_CA|VERIFY_IDENTITY (default PREFERRED),
  --source-ssl-ca FILE, --source-ssl-cert FILE --source-ssl-key FILE, --source-rsa-public-key FILE
Every option can also come from MY2PG_<OPTION> environment variables or the YAML config file.`;

const COMMANDS = ['capture', 'apply', 'run', 'bootstrap'];

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
  if (!COMMANDS.includes(command)) throw new My2pgError('CONFIG', `unknown command "${command}"\n${USAGE}`);
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

/** `my2pg bootstrap --status`: one line per table. */
async function printBootstrapStatus(targetUrl: string): Promise<number> {
  const client = await connectReplica(targetUrl);
  try {
    await migrateControlSchema(client);
    const rows = await bootstrapStatus(client);
    if (rows.length === 0) process.stdout.write('no bootstraps recorded\n');
    for (const r of rows) {
      const state =
        r.state === 'copying' ? `copying since ${r.started_at.toISOString()}` : `${r.state === 'done' ? 'done' : 'stopped: the source table was dropped or renamed'} at ${r.finished_at?.toISOString()}`;
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
// On the launcher's thread (src/cli/launch.ts) signals arrive as messages.
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
