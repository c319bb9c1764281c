// The history of the DDL apply has run (`_my2pg.ddl_history`), written in the batch's
// transaction: what each event became in the replica, and whether an event delivered again was
// applied already. The source-side definitions are in source-schemas.ts, stopped tables in
// parked-events.ts.

import type { ClientBase } from 'pg';
import type { DdlEvent } from '../core/events.js';

export async function recordDdlHistory(client: ClientBase, stream: string, position: string, ev: DdlEvent, statements: string[]): Promise<void> {
  await client.query(
    'INSERT INTO _my2pg.ddl_history (stream, position, source_db, source_table, event_type, source_sql, statements, source_position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    [stream, position, ev.database, ev.table ?? null, ev.type, ev.sql, statements.join(';\n'), ev.position ?? null],
  );
}

/** Whether this DDL event (same binlog position, statement and object) was applied on the stream already. */
export async function ddlApplied(client: ClientBase, stream: string, ev: DdlEvent): Promise<boolean> {
  const res = await client.query(
    `SELECT 1 FROM _my2pg.ddl_history WHERE stream = $1 AND source_position = $2 AND event_type = $3 AND source_db = $4
       AND source_table IS NOT DISTINCT FROM $5 AND source_sql = $6 LIMIT 1`,
    [stream, ev.position, ev.type, ev.database, ev.table ?? null, ev.sql],
  );
  return res.rows.length > 0;
}
