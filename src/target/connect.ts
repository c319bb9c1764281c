// Opens a connection to the replica; a failure is the retriable UNREACHABLE error.

import pg from 'pg';
import { My2pgError } from '../core/errors.js';

export async function connectReplica(url: string, applicationName?: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, ...(applicationName && { application_name: applicationName }) });
  try {
    await client.connect();
  } catch (err) {
    throw new My2pgError('UNREACHABLE', `cannot connect to the replica: ${(err as Error).message}`, { retriable: true, cause: err });
  }
  return client;
}
