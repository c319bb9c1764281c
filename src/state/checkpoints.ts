// Positions apply has committed, per stream and part, in `_my2pg.checkpoints`. Reads lock the
// rows so that two appliers on one stream serialise; writes happen in the data's transaction.

import type { ClientBase } from 'pg';

export async function readCheckpoints(client: ClientBase, stream: string, lock: boolean): Promise<Map<string, string>> {
  const res = await client.query<{ part: string; position: string }>(
    `SELECT part, position FROM _my2pg.checkpoints WHERE stream = $1${lock ? ' FOR UPDATE' : ''}`,
    [stream],
  );
  return new Map(res.rows.map((r) => [r.part, r.position]));
}

/**
 * Upsert without ON CONFLICT, which Greenplum 6 lacks: the UPDATE, and the INSERT when it
 * matched no row. Both statements take the same parameters.
 */
async function upsert(client: ClientBase, update: string, insert: string, params: unknown[]): Promise<void> {
  const upd = await client.query(update, params);
  if (upd.rowCount === 0) await client.query(insert, params);
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

export async function recordDeadLetter(
  client: ClientBase,
  stream: string,
  msg: { part: string; position: string; value: string },
  error: string,
): Promise<void> {
  await client.query(
    'INSERT INTO _my2pg.dead_letters (stream, part, position, error, message) VALUES ($1, $2, $3, $4, $5)',
    [stream, msg.part, msg.position, error, msg.value],
  );
}

/** Records the newest heartbeat of a part (one delivered again, older, changes nothing). */
export async function recordHeartbeat(client: ClientBase, stream: string, part: string, tsMs: number, position: string): Promise<void> {
  await upsert(
    client,
    'UPDATE _my2pg.heartbeats SET ts = greatest(ts, $3), position = CASE WHEN $3 >= ts THEN $4 ELSE position END, applied_at = now() WHERE stream = $1 AND part = $2',
    'INSERT INTO _my2pg.heartbeats (stream, part, ts, position) VALUES ($1, $2, $3, $4)',
    [stream, part, new Date(tsMs).toISOString(), position],
  );
}
