// Opens a connection to the replica; a failure is the UNREACHABLE error, retriable unless the
// replica refused the credentials or the database (a retry cannot fix those).

import pg from 'pg';
import { My2pgError } from '../core/errors.js';

export async function connectReplica(url: string, applicationName?: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, ...(applicationName && { application_name: applicationName }) });
  try {
    await client.connect();
  } catch (err) {
    const refused = ['28P01', '28000', '3D000'].includes((err as { code?: string }).code ?? '');
    throw new My2pgError('UNREACHABLE', `cannot connect to the replica: ${(err as Error).message}`, { retriable: !refused, cause: err });
  }
  // A connection the server drops while it is idle (a restart) emits 'error', which would end
  // the process; the next query on it fails instead, and its caller retries or reports that.
  client.on('error', () => undefined);
  return client;
}

/** Runs `fn` on a connection of its own to the replica, closed afterwards. */
export async function withReplica<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectReplica(url);
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
