// Positions apply has committed, per stream and part, in `_my2pg.checkpoints`. A read for apply
// locks the rows of the parts it applies, so that two appliers of one part (a consumer group
// rebalancing) serialise, while a replica transaction left open by a large source transaction
// holds back no other part; writes happen in the data's transaction.

import type { ClientBase } from 'pg';
import { upsert } from './upsert.js';

/** The stream's positions; `lockParts`: only those parts', locked until the transaction ends. */
export async function readCheckpoints(client: ClientBase, stream: string, lockParts?: readonly string[]): Promise<Map<string, string>> {
  const res = await client.query<{ part: string; position: string }>(
    lockParts
      ? 'SELECT part, position FROM _my2pg.checkpoints WHERE stream = $1 AND part = ANY($2) FOR UPDATE'
      : 'SELECT part, position FROM _my2pg.checkpoints WHERE stream = $1',
    lockParts ? [stream, [...lockParts]] : [stream],
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
