// Positions apply has committed, per stream and part, in `_my2pg.checkpoints`. Reads lock the
// rows so that two appliers on one stream serialise; writes happen in the data's transaction.

import type { ClientBase } from 'pg';
import { upsert } from './upsert.js';

export async function readCheckpoints(client: ClientBase, stream: string, lock: boolean): Promise<Map<string, string>> {
  const res = await client.query<{ part: string; position: string }>(
    `SELECT part, position FROM _my2pg.checkpoints WHERE stream = $1${lock ? ' FOR UPDATE' : ''}`,
    [stream],
  );
  return new Map(res.rows.map((r) => [r.part, r.position]));
}

export async function writeCheckpoints(client: ClientBase, stream: string, positions: Map<string, string>): Promise<void> {
  for (const [part, position] of positions) {
    await upsert(
      client,
      'UPDATE _my2pg.checkpoints SET position = $3, updated_at = now() WHERE stream = $1 AND part = $2',
      'INSERT INTO _my2pg.checkpoints (stream, part, position) VALUES ($1, $2, $3)',
      [stream, part, position],
    );
  }
}
