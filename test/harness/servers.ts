// Test access to the real servers started by scripts/test.sh (or given by the environment):
// a fresh Postgres database or MySQL database per test, and the my2pg process under test.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
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
/**
 * Which server the source is (MY2PG_TEST_SOURCE, set by scripts/with-servers.sh; set it yourself
 * with MY2PG_TEST_MYSQL_URL pointing at a MySQL). Tests whose expectations differ between the
 * two ask this.
 */
export const testSource = (): 'mariadb' | 'mysql' => (process.env.MY2PG_TEST_SOURCE === 'mysql' ? 'mysql' : 'mariadb');
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

/**
 * Starts the real `my2pg` command (compiled) with its output in a log file, at log level
 * `MY2PG_TEST_LOG_LEVEL` (default info).
 */
export function startMy2pg(args: string[], env: Record<string, string> = {}): My2pgProcess {
  const dir = mkdtempSync(join(tmpdir(), 'my2pg-proc-'));
  const logFile = join(dir, 'out.log');
  const out = createWriteStream(logFile);
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'my2pg.js'), ...args], {
    env: { ...process.env, MY2PG_LOG_LEVEL: process.env.MY2PG_TEST_LOG_LEVEL ?? 'info', ...env },
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

/** The process's peak resident memory so far (the kernel's high-water mark, VmHWM), in MB. */
export function peakRssMb(p: My2pgProcess): number {
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.child.pid}/status`, 'utf8'))?.[1] ?? NaN);
  return Math.round(kb / 102.4) / 10;
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

/** Thrown by a waitForState reader: stop waiting at once (the process under test has exited, say). */
export class WaitAborted extends Error {}

/**
 * Reads `read()` every `everyMs` until `done` holds for what it returned, and returns that. On
 * timeout it fails with what it read last (through `show`) or the error the last read threw; a
 * WaitAborted from `read` fails it at once.
 */
export async function waitForState<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 60_000, everyMs = 200, show = (v: T) => JSON.stringify(v) }: { timeoutMs?: number; everyMs?: number; show?: (value: T) => string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: { value: T } | null = null;
  let lastErr: unknown = null;
  for (;;) {
    try {
      const value = await read();
      if (done(value)) return value;
      last = { value };
      lastErr = null;
    } catch (err) {
      if (err instanceof WaitAborted) throw new Error(`waiting for ${what}: ${err.message}`);
      lastErr = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(everyMs);
  }
  const saw = lastErr ? `the last read failed: ${(lastErr as Error).message}` : last ? `last saw ${show(last.value)}` : 'nothing was read';
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; ${saw}`);
}

/** Fails a wait at once (WaitAborted) when the process has exited, with the end of its log. */
export function assertRunning(proc: My2pgProcess): void {
  const { exitCode, signalCode } = proc.child;
  if (exitCode === null && signalCode === null) return;
  throw new WaitAborted(`my2pg ${proc.child.spawnargs.slice(2, 3).join('')} exited (${exitCode ?? signalCode}):\n${logTail(proc)}`);
}

/** The last lines of a process's log, for failure messages. */
export function logTail(proc: My2pgProcess, lines = 20): string {
  return proc.log().trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Local ports of the process's established TCP connections to `remotePort`, from /proc (Linux):
 * what identifies its sessions in a server's list of connections.
 */
export function tcpPortsTo(pid: number, remotePort: number): Set<number> {
  const sockets = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return new Set();
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) sockets.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const port = (address: string) => parseInt(address.slice(address.lastIndexOf(':') + 1), 16);
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    // sl local_address rem_address st … inode; st 01 = ESTABLISHED
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '01' && sockets.has(f[9]) && port(f[2]) === remotePort) ports.add(port(f[1]));
    }
  }
  return ports;
}
