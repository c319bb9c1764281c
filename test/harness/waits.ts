// Waits on what the servers show of a my2pg process, instead of on its log's wording: its binlog
// dump thread on the source, its apply connection to the replica, its bootstrap worker on the
// Redis queue, the members of its consumer group, the positions it stored. Each fails at once
// when the process exits, and on timeout with what it saw last.

import { Queue } from 'bullmq';
import type mysql from 'mysql2/promise';
import { comparePositions, type BinlogPosition } from '../../src/core/position.js';
import { Kafka, logLevel } from '../../src/transport/kafkajs.js';
import { assertRunning, kafkaBrokers, logTail, mysqlConnection, mysqlUrl, pgClient, tcpPortsTo, testSource, waitForState, type My2pgProcess } from './servers.js';

const portOf = (url: string, fallback: number) => Number(new URL(url).port || fallback);

/**
 * Waits until the process reads the source's binlog: the source lists a binlog dump thread on
 * one of the process's connections to it (capture has fixed its start position, published the
 * schema snapshot on a first start, and streams). Works for `capture` and `run`, whatever the
 * server_id.
 */
export async function waitForCaptureStreaming(proc: My2pgProcess, sourceUrl = mysqlUrl(), timeoutMs = 60_000): Promise<void> {
  const conn = await mysqlConnection(sourceUrl);
  const port = portOf(sourceUrl, 3306);
  try {
    await waitForState(
      `my2pg (pid ${proc.child.pid}) to stream the binlog of ${new URL(sourceUrl).host}`,
      async () => {
        assertRunning(proc);
        const [rows] = (await conn.query("SELECT HOST AS host FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'")) as unknown as [Array<{ host: string }>];
        return { dumps: rows.map((r) => r.host), mine: [...tcpPortsTo(proc.child.pid!, port)] };
      },
      (s) => s.dumps.some((host) => s.mine.includes(Number(host.slice(host.lastIndexOf(':') + 1)))),
      {
        timeoutMs,
        show: (s) =>
          `binlog dump threads for ${s.dumps.join(', ') || 'no one'}; the process's connections to the source from ports ${s.mine.join(', ') || 'none'}; its log ends:\n${logTail(proc)}`,
      },
    );
  } finally {
    await conn.end();
  }
}

/** The value of `--name` on the process's command line. */
function flag(proc: My2pgProcess, name: string): string | undefined {
  const args = proc.child.spawnargs;
  const at = args.lastIndexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
}

/**
 * For `my2pg run`: waits until it streams the binlog (waitForCaptureStreaming) and its first-start
 * copy, if it has one, is done. That copy lists the tables only after the stream has a position,
 * and may list one created after it (it also copies it, and a DDL on it meanwhile fails the
 * copy): a table created once this returns reaches the replica through the binlog only. Source,
 * replica and stream are the process's own (--source, --target, --kafka/--group).
 */
export async function waitForRunStreaming(proc: My2pgProcess, timeoutMs = 60_000): Promise<void> {
  const source = flag(proc, 'source') ?? mysqlUrl();
  const target = flag(proc, 'target');
  if (!target) throw new Error('waitForRunStreaming: the process has no --target');
  const stream = flag(proc, 'kafka') ? `kafka:${flag(proc, 'group') ?? 'my2pg'}` : 'binlog';
  await waitForCaptureStreaming(proc, source, timeoutMs);
  const client = pgClient(target);
  await client.connect();
  try {
    await waitForState(
      `the first-start copy of stream ${stream} to be done (or none)`,
      async () => {
        assertRunning(proc);
        const r = await client.query<{ state: string }>('SELECT state FROM _my2pg.initial_bootstraps WHERE stream = $1', [stream]);
        return r.rows[0]?.state ?? null;
      },
      (state) => state === null || state === 'done',
      { timeoutMs, show: (state) => `state ${state}; the process's log ends:\n${logTail(proc)}` },
    );
  } finally {
    await client.end();
  }
}

/**
 * Waits until the process's apply stage holds its connection to the replica (application_name
 * `my2pg apply`): apply has started, it migrates the control schema and reads its positions next.
 */
export async function waitForApplyConnected(proc: My2pgProcess, targetUrl: string, timeoutMs = 60_000, everyMs = 20): Promise<void> {
  const database = decodeURIComponent(new URL(targetUrl).pathname.slice(1));
  const port = portOf(targetUrl, 5432);
  const client = pgClient(targetUrl);
  await client.connect();
  try {
    await waitForState(
      `my2pg (pid ${proc.child.pid}) to connect its apply stage to ${database}`,
      async () => {
        assertRunning(proc);
        const r = await client.query<{ port: string }>("SELECT client_port AS port FROM pg_stat_activity WHERE datname = $1 AND application_name = 'my2pg apply'", [database]);
        return { apply: r.rows.map((row) => Number(row.port)), mine: [...tcpPortsTo(proc.child.pid!, port)] };
      },
      (s) => s.apply.some((p) => s.mine.includes(p)),
      { timeoutMs, everyMs, show: (s) => `apply connections from ports ${s.apply.join(', ') || 'none'}; the process's from ${s.mine.join(', ') || 'none'}; its log ends:\n${logTail(proc)}` },
    );
  } finally {
    await client.end();
  }
}

/** The stored position of a stream's part in `_my2pg.checkpoints`, or null (none, or no control schema yet). */
export async function storedCheckpoint(targetUrl: string, stream: string, part = '0'): Promise<string | null> {
  const client = pgClient(targetUrl);
  await client.connect();
  try {
    const r = await client.query<{ position: string }>('SELECT position FROM _my2pg.checkpoints WHERE stream = $1 AND part = $2', [stream, part]).catch(() => ({ rows: [] }));
    return r.rows[0]?.position ?? null;
  } finally {
    await client.end();
  }
}

/** Waits until apply has committed a position for the stream in the replica (with the data of its batch). */
export async function waitForCheckpoint(proc: My2pgProcess, targetUrl: string, stream: string, timeoutMs = 60_000): Promise<string> {
  const position = await waitForState(
    `a position of stream ${stream} committed in the replica`,
    async () => {
      assertRunning(proc);
      return storedCheckpoint(targetUrl, stream);
    },
    (p) => p !== null,
    { timeoutMs, show: () => `no checkpoint; the process's log ends:\n${logTail(proc)}` },
  );
  return position!;
}

/** Waits until a `bootstrap --worker` (or any bullmq worker) serves the queue: it is connected to Redis under the queue's name. */
export async function waitForBootstrapWorker(proc: My2pgProcess, queueName: string, redisUrl: string, timeoutMs = 30_000): Promise<void> {
  const queue = new Queue(queueName, { connection: { url: redisUrl, maxRetriesPerRequest: null } });
  try {
    await waitForState(
      `a worker on the bootstrap queue ${queueName}`,
      async () => {
        assertRunning(proc);
        return (await queue.getWorkers()).length;
      },
      (n) => n > 0,
      { timeoutMs, show: (n) => `${n} workers; the process's log ends:\n${logTail(proc)}` },
    );
  } finally {
    await queue.close();
  }
}

export interface GroupMember {
  memberId: string;
  /** `topic:partition` of each partition assigned to it. */
  partitions: string[];
}

/** A consumer group's state and members (with their assignments) as the broker has them. */
export async function consumerGroup(group: string): Promise<{ state: string; members: GroupMember[] }> {
  const admin = new Kafka({ clientId: 'my2pg-test', brokers: kafkaBrokers().split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const [g] = (await admin.describeGroups([group])).groups;
    return { state: g.state, members: g.members.map((m) => ({ memberId: m.memberId, partitions: assignedPartitions(m.memberAssignment) })) };
  } finally {
    await admin.disconnect();
  }
}

/** Decodes a consumer protocol assignment: version, [topic, [partition]], user data. */
function assignedPartitions(b: Buffer): string[] {
  if (b.length < 6) return [];
  const out: string[] = [];
  let at = 2;
  const topics = b.readInt32BE(at);
  at += 4;
  for (let t = 0; t < topics; t++) {
    const len = b.readInt16BE(at);
    const topic = b.toString('utf8', at + 2, at + 2 + len);
    at += 2 + len;
    const n = b.readInt32BE(at);
    at += 4;
    for (let i = 0; i < n; i++, at += 4) out.push(`${topic}:${b.readInt32BE(at)}`);
  }
  return out;
}

/** Waits until the consumer group is stable and `done` holds for its members. */
export async function waitForConsumerGroup(what: string, group: string, done: (members: GroupMember[]) => boolean, timeoutMs = 60_000): Promise<GroupMember[]> {
  const g = await waitForState(what, () => consumerGroup(group), (s) => s.state === 'Stable' && done(s.members), {
    timeoutMs,
    everyMs: 500,
    show: (s) => `group ${group} ${s.state}, members ${s.members.map((m) => `${m.memberId}: [${m.partitions.join(' ')}]`).join('; ') || 'none'}`,
  });
  return g.members;
}

/**
 * Where the source's binlog ends now: SHOW BINLOG STATUS on MariaDB, SHOW BINARY LOG STATUS on
 * MySQL (8.4 dropped SHOW MASTER STATUS), by the server the test source is (testSource()).
 */
export async function sourcePosition(conn: mysql.Connection): Promise<BinlogPosition> {
  const statement = testSource() === 'mysql' ? 'SHOW BINARY LOG STATUS' : 'SHOW BINLOG STATUS';
  const [[status]] = (await conn.query(statement)) as unknown as [[{ File: string; Position: number | string }]];
  return { file: status.File, pos: Number(status.Position) };
}

/** Whether a `file:offset` position (as heartbeats carry it) is at or past `p`. */
export function atOrPast(position: string, p: BinlogPosition): boolean {
  const at = position.lastIndexOf(':');
  return at > 0 && comparePositions({ file: position.slice(0, at), pos: Number(position.slice(at + 1)) }, p) >= 0;
}
