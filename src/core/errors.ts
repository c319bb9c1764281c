// Error type shared by every stage: a stable code, whether retrying can help, and the cause.

export type ErrorCode =
  | 'CONFIG'
  | 'UNREACHABLE'
  | 'SOURCE_SETTINGS'
  | 'BINLOG_PURGED'
  | 'UNSUPPORTED_DDL'
  | 'BAD_EVENT'
  | 'STREAM'
  | 'TARGET';

export class My2pgError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, opts: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'My2pgError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
  }
}

/** Wraps any error with what we were doing, keeping its code and retriability when it has them. */
export function wrapError(context: string, err: unknown): My2pgError {
  if (err instanceof My2pgError) {
    return new My2pgError(err.code, `${context}: ${err.message}`, { retriable: err.retriable, cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new My2pgError('STREAM', `${context}: ${message}`, { retriable: isTransient(err), cause: err });
}

const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'PROTOCOL_CONNECTION_LOST']);

/** A socket-level failure (refused, reset, timed out, lost): the server is out, not refusing. */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_CODES.has(code);
}

/**
 * SQLSTATEs of a Postgres that is down, restarting or has dropped the connection: connection
 * exceptions (class 08), shutdown and start-up (57P01-57P03), too many connections (53300).
 */
const OUTAGE_SQLSTATE = /^(08|57P0[123]$|53300$)/;
/** The same outages as messages only (errors that crossed a thread or a job queue as text). */
const OUTAGE_MESSAGE =
  /Connection terminated|connection error and is not queryable|Client was closed|terminating connection due to|the database system is (starting up|shutting down|in recovery mode)|Connection lost: The server closed the connection|Can't add new command when connection is in closed state|ECONNREFUSED|ECONNRESET/;

/**
 * `err` with what we were doing; retriable when a server is out (down, restarting, or it dropped
 * the connection), whatever wrapped the error on its way here (docs/OPERATIONS.md "Outages and retries").
 */
export function outageError(what: string, err: unknown): My2pgError {
  const e = err instanceof My2pgError ? err : wrapError(what, err);
  if (e.retriable) return e;
  for (let c: unknown = err; c; c = (c as { cause?: unknown }).cause) {
    const { code, message } = c as { code?: unknown; message?: unknown };
    const outage = (typeof code === 'string' && (OUTAGE_SQLSTATE.test(code) || TRANSIENT_CODES.has(code))) || (typeof message === 'string' && OUTAGE_MESSAGE.test(message));
    if (outage) return new My2pgError('UNREACHABLE', e.message, { retriable: true, cause: err });
  }
  return e;
}

/** Process exit codes: distinct per failure class so supervisors can tell them apart. */
export const EXIT_CODES: Record<ErrorCode | 'INTERNAL', number> = {
  CONFIG: 2,
  UNREACHABLE: 3,
  SOURCE_SETTINGS: 4,
  BINLOG_PURGED: 5,
  UNSUPPORTED_DDL: 6,
  BAD_EVENT: 7,
  STREAM: 8,
  TARGET: 9,
  INTERNAL: 70,
};

/** An error's parts that cross a thread boundary (structured clone keeps no class or code). */
export interface ErrorParts {
  message: string;
  stack?: string;
  code?: ErrorCode;
  retriable: boolean;
}

export function errorParts(err: unknown): ErrorParts {
  const e = err as Error | undefined;
  const mine = err instanceof My2pgError ? err : null;
  return { message: e?.message ?? String(err), stack: e?.stack, code: mine?.code, retriable: mine?.retriable ?? false };
}

/** The error again, with its code (and so the process's exit code) when it had one. */
export function errorFromParts(p: ErrorParts): Error {
  const err = p.code ? new My2pgError(p.code, p.message, { retriable: p.retriable }) : new Error(p.message);
  if (p.stack) err.stack = p.stack;
  return err;
}

/**
 * A thread's failure as the user should read it: running out of its capped heap
 * (MY2PG_HEAP_MB, `heapMb`) gets one clear message; anything else is itself.
 */
export function threadFailure(err: Error & { code?: string }, heapMb: number | null): Error {
  if (err.code !== 'ERR_WORKER_OUT_OF_MEMORY') return err;
  return new Error(`my2pg ran out of its ${heapMb} MB heap. Nothing acknowledged is lost: restart it with a bigger MY2PG_HEAP_MB, and tell us what it was doing`);
}
