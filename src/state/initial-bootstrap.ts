// `my2pg run`'s first-start copy (docs/BOOTSTRAP.md), kept in `_my2pg.initial_bootstraps`. It is
// recorded before anything streams, and the tables to copy are chosen only once the stream has a
// committed position: capture fixes its start before it publishes anything, so every table that
// exists then is listed, and every change after it is streamed. Choosing them earlier lost the
// rows written to a table created in between (neither copied nor streamed).

import type { ClientBase } from 'pg';
import { My2pgError } from '../core/errors.js';

/** Records a pending first-start copy for a stream that has never committed anything. */
export async function recordInitialBootstrap(client: ClientBase, stream: string): Promise<void> {
  await client.query(
    "INSERT INTO _my2pg.initial_bootstraps (stream, state) SELECT $1, 'pending' WHERE NOT EXISTS (SELECT 1 FROM _my2pg.initial_bootstraps WHERE stream = $1)",
    [stream],
  );
}

export async function initialBootstrapPending(client: ClientBase, stream: string): Promise<boolean> {
  const res = await client.query("SELECT 1 FROM _my2pg.initial_bootstraps WHERE stream = $1 AND state = 'pending'", [stream]);
  return res.rows.length > 0;
}

export async function finishInitialBootstrap(client: ClientBase, stream: string): Promise<void> {
  await client.query("UPDATE _my2pg.initial_bootstraps SET state = 'done', finished_at = now() WHERE stream = $1", [stream]);
}

/** Waits until the stream has committed a position in the replica (its start is fixed). */
export async function waitForStreamStart(client: ClientBase, stream: string, stopped: () => boolean): Promise<void> {
  while ((await client.query('SELECT 1 FROM _my2pg.checkpoints WHERE stream = $1 LIMIT 1', [stream])).rows.length === 0) {
    if (stopped()) throw new My2pgError('TARGET', 'stopped while waiting for the stream to start');
    await new Promise((r) => setTimeout(r, 200));
  }
}
