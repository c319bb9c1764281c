// Structured logs (pino) on stdout. Row payloads are logged only at debug level.

import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Lines are written to stdout synchronously: on a thread other than the main one pino's default destination is
 * asynchronous, and a line logged just before the thread exits (`stopping`, a fatal error) was
 * lost about once in fifteen exits when stdout is a pipe.
 */
export function createLogger(level: string = process.env.MY2PG_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { app: 'my2pg' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 1, sync: true }));
}

/** A logger that drops everything, for library use and tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
