// Test-private servers that a test can crash (SIGKILL) and start again on the same port and data
// directory: MariaDB and Kafka through scripts/mariadb.sh and scripts/kafka.sh, and a Postgres of
// its own (initdb into a temporary directory), so the suite's shared servers are never touched.

import { execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgClient, REPO_ROOT, waitFor } from './servers.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface CrashableServer {
  /** How clients reach it (a URL, or Kafka's bootstrap brokers). */
  url: string;
  /** Its directory (data and log), kept by a failing test for a look afterwards. */
  dir: string;
  /** SIGKILL to the server and everything it started. */
  crash(): Promise<void>;
  /** Starts it again, as it was started first, and waits until it listens. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A server process that leads its own process group: crash() kills the group, restart() runs the
 * same command line again. A restarted server that dies on its own (MariaDB 10.11 was seen to
 * segfault soon after its crash recovery, once in about a dozen restarts) is started again, as its
 * supervisor would, with the end of its log shown: the test is about my2pg riding out outages.
 */
class ServerProcess {
  private pid: number;
  private readonly argv: string[];
  /** Killed or stopped on purpose: its exit is not a death to recover from. */
  private down = false;
  private retired = false;

  constructor(
    pid: number,
    private readonly port: number,
    private readonly logFile: string,
    private readonly user?: { uid: number; gid: number },
  ) {
    this.pid = pid;
    this.argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  }

  async crash(): Promise<void> {
    this.down = true;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      process.kill(this.pid, 'SIGKILL');
    }
    await waitFor(`pid ${this.pid} to end`, async () => !isAlive(this.pid), 30_000, 50);
    await waitFor(`port ${this.port} to close`, async () => !(await listens(this.port)), 30_000, 50);
  }

  async restart(): Promise<void> {
    const out = openSync(this.logFile, 'a');
    const child = spawn(this.argv[0], this.argv.slice(1), { detached: true, stdio: ['ignore', out, out], ...this.user });
    child.unref();
    this.pid = child.pid!;
    this.down = false;
    child.on('exit', (code, signal) => {
      if (this.down || this.retired || child.pid !== this.pid) return;
      const log = readFileSync(this.logFile, 'utf8').split('\n').slice(-15).join('\n# ');
      console.log(`# the server (pid ${child.pid}) died on its own (${signal ?? `exit ${code}`}); starting it again. Its log ends:\n# ${log}`);
      void this.restart();
    });
    await waitFor(`the server to listen on ${this.port} again`, () => listens(this.port), 120_000, 100);
  }

  /** No more restarts: the test is stopping the server. */
  retire(): void {
    this.retired = true;
  }

  get processId(): number {
    return this.pid;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

function envFile(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** A MariaDB (scripts/mariadb.sh) or Kafka broker (scripts/kafka.sh) of the test's own. */
export function startScriptServer(kind: 'mariadb' | 'kafka'): CrashableServer {
  const dir = mkdtempSync(join(tmpdir(), `my2pg-outage-${kind}-`));
  const script = join(REPO_ROOT, 'scripts', `${kind}.sh`);
  const url = execFileSync('bash', [script, 'start', '--dir', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  const env = envFile(join(dir, kind === 'mariadb' ? 'mariadb.env' : 'broker.env'));
  const pid = Number(kind === 'mariadb' ? env.MARIADB_PID : env.KAFKA_PID);
  const port = Number(kind === 'mariadb' ? env.MARIADB_PORT : env.KAFKA_PORT);
  const server = new ServerProcess(pid, port, join(dir, kind === 'mariadb' ? 'mariadbd.err' : 'kafka.out'));
  return {
    url,
    dir,
    crash: () => server.crash(),
    restart: () => server.restart(),
    stop: async () => {
      server.retire();
      // kafka.sh finds a restarted broker by its command line; mariadbd writes its own pid file.
      execFileSync('bash', [script, 'stop', '--dir', dir], { stdio: 'ignore' });
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** A Postgres of the test's own (run as user postgres when the test runs as root), trust authentication. */
export async function startPrivatePostgres(): Promise<CrashableServer> {
  const dir = mkdtempSync(join(tmpdir(), 'my2pg-outage-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) } : undefined;
  if (user) chownSync(dir, user.uid, user.gid);
  execFileSync(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync'], { stdio: 'ignore', ...user });
  const port = await freePort();
  const logFile = join(dir, 'postgres.log');
  const out = openSync(logFile, 'a');
  const child = spawn(join(PG_BIN, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=50'], {
    detached: true,
    stdio: ['ignore', out, out],
    ...user,
  });
  child.unref();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  // Listening is not enough: after a crash it refuses connections until recovery is done.
  const ready = () =>
    waitFor('the private Postgres to accept connections', async () => {
      const c = pgClient(url);
      await c.connect();
      await c.end();
      return true;
    }, 120_000, 100);
  await ready();
  const server = new ServerProcess(child.pid!, port, logFile, user);
  return {
    url,
    dir,
    crash: () => server.crash(),
    restart: async () => {
      await server.restart();
      await ready();
    },
    stop: async () => {
      server.retire();
      if (isAlive(server.processId)) process.kill(server.processId, 'SIGTERM');
      await waitFor('the private Postgres to stop', async () => !isAlive(server.processId), 30_000, 100).catch(() => server.crash());
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates database `name` on a Postgres of the test's own (startPrivatePostgres); returns its URL. */
export async function createPrivateDatabase(postgres: CrashableServer, name: string): Promise<string> {
  const admin = pgClient(postgres.url);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgres.url);
  url.pathname = `/${name}`;
  return url.toString();
}
