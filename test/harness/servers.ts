// Test access to the real servers started by scripts/test.sh (or given by the environment):
// a fresh Postgres database or MySQL database per test, and the my2pg process under test.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import pg from 'pg';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests with "npm test", which starts the servers`);
  return v;
}

export const mysqlUrl = (): string => required('MY2PG_TEST_MYSQL_URL');
export const kafkaBrokers = (): string => required('MY2PG_TEST_KAFKA_BROKERS');
export const pgUrl = (): string => required('MY2PG_TEST_PG_URL');
export const redisUrl = (): string => process.env.MY2PG_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function randomSuffix(): string {
  return Math.random().toString(36).slice(2, 10);
}

/** Returns raw text for every Postgres type, so comparisons see exactly what the server holds. */
const rawTypes = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

export function pgClient(url: string): pg.Client {
  return new pg.Client({ connectionString: url, types: rawTypes });
}

/** Creates an empty Postgres database; the returned URL points at it. */
export async function createPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `my2pg_t_${randomSuffix()}`;
  const admin = pgClient(pgUrl());
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(pgUrl());
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = pgClient(pgUrl());
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function mysqlConnection(url = mysqlUrl(), extra: mysql.ConnectionOptions = {}): Promise<mysql.Connection> {
  return mysql.createConnection({ uri: url, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, multipleStatements: true, ...extra });
}

export interface My2pgProcess {
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
  log(): string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the real `my2pg` command (compiled) with its output in a log file. */
export function startMy2pg(args: string[], env: Record<string, string> = {}): My2pgProcess {
  const dir = mkdtempSync(join(tmpdir(), 'my2pg-proc-'));
  const logFile = join(dir, 'out.log');
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'my2pg.js'), ...args], {
    env: { ...process.env, MY2PG_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(out, { end: false });
  child.stderr!.pipe(out, { end: false });
  // Settled once the output is in the log file too ('exit' can come before the last of it).
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => out.end(() => resolve(code))));
  return {
    child,
    logFile,
    exited,
    log: () => readFileSync(logFile, 'utf8'),
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown = null;
  while (Date.now() < deadline) {
    try {
      if (await cond()) return;
      lastErr = null;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${lastErr ? `: ${(lastErr as Error).message}` : ''}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
