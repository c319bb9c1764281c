// Structured logs (pino) on stdout. Row payloads are logged only at debug level.

import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.MY2PG_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { app: 'my2pg' }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A logger that drops everything, for library use and tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
