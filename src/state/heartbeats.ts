// Capture's heartbeats as apply receives them, in `_my2pg.heartbeats`: the newest per stream and
// part, from which the replica's lag is read (docs/OPERATIONS.md "Resuming, failover and lag").

import type { ClientBase } from 'pg';
import { upsert } from './upsert.js';

/** Records the newest heartbeat of a part (one delivered again, older, changes nothing). */
export async function recordHeartbeat(client: ClientBase, stream: string, part: string, tsMs: number, position: string): Promise<void> {
  await upsert(
    client,
    'UPDATE _my2pg.heartbeats SET ts = greatest(ts, $3), position = CASE WHEN $3 >= ts THEN $4 ELSE position END, applied_at = now() WHERE stream = $1 AND part = $2',
    'INSERT INTO _my2pg.heartbeats (stream, part, ts, position) VALUES ($1, $2, $3, $4)',
    [stream, part, new Date(tsMs).toISOString(), position],
  );
}
