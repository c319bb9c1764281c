// Connections to the MySQL/MariaDB source for queries (schemas, server checks, positions,
// bootstrap reads), URLs with their password hidden for messages, and what a lost connection
// looks like (the binlog reader's too).

import mysql from 'mysql2/promise';
import { isTransient, My2pgError } from '../core/errors.js';

export async function connectSource(url: string, extra: mysql.ConnectionOptions = {}): Promise<mysql.Connection> {
  try {
    return await mysql.createConnection({ uri: url, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, ...extra });
  } catch (err) {
    // Refused credentials are not an outage: retrying cannot fix them.
    const refused = [1044, 1045, 1698].includes((err as { errno?: number }).errno ?? 0);
    throw new My2pgError('UNREACHABLE', `cannot connect to the source ${redact(url)}: ${(err as Error).message}`, { retriable: !refused, cause: err });
  }
}

export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Server errors of a server going away: shutting down, connection killed, gone away, lost. */
const CONNECTION_ERRNOS = new Set([1053, 1927, 2006, 2013]);

/**
 * A MySQL connection (binlog or query) lost or refused, not refused by the server for a reason a
 * retry cannot fix: the drivers mark connection-level errors `fatal`, and zongji halts when its
 * control connection is gone.
 */
export function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: string; errno?: number; fatal?: boolean; message?: string } | null;
  if (!e) return false;
  if (isTransient(e) || CONNECTION_ERRNOS.has(e.errno ?? 0)) return true;
  if (/^Control connection unavailable/.test(e.message ?? '')) return true;
  return e.fatal === true && e.errno === undefined;
}
