// What apply keeps about DDL in the replica's control schema, in the batch's transaction:
// the source-side table definitions the DDL events carry (`_my2pg.source_schemas`, from which
// embedded capture resumes its schema tracker) and the history of applied DDL
// (`_my2pg.ddl_history`). Stopped tables are in parked-events.ts.

import type { ClientBase } from 'pg';
import type { DdlEvent } from '../core/events.js';
import { parseJson, stringifyJson } from '../core/json.js';
import { schemaFromJson, schemaToJson } from '../core/maxwell.js';
import type { TableSchema } from '../core/table-schema.js';

/** Updates the stored source definitions after one DDL event (applied or not). */
export async function recordSourceSchema(client: ClientBase, stream: string, position: string, ev: DdlEvent): Promise<void> {
  const del = (db: string, table: string) =>
    client.query('DELETE FROM _my2pg.source_schemas WHERE stream = $1 AND source_db = $2 AND source_table = $3', [stream, db, table]);
  switch (ev.type) {
    case 'database-drop':
      await client.query('DELETE FROM _my2pg.source_schemas WHERE stream = $1 AND source_db = $2', [stream, ev.database]);
      return;
    case 'table-drop':
      if (ev.table !== undefined) await del(ev.database, ev.table);
      return;
    case 'table-create':
    case 'table-alter': {
      if (!ev.def) return;
      if (ev.table !== undefined) await del(ev.database, ev.table);
      await del(ev.def.database, ev.def.table);
      await client.query('INSERT INTO _my2pg.source_schemas (stream, source_db, source_table, position, def) VALUES ($1, $2, $3, $4, $5)', [
        stream,
        ev.def.database,
        ev.def.table,
        position,
        stringifyJson(schemaToJson(ev.def)),
      ]);
      return;
    }
    default:
      return;
  }
}

/** The stored source definitions of a stream, or null when there are none. */
export async function readSourceSchemas(client: ClientBase, stream: string): Promise<TableSchema[] | null> {
  const res = await client.query<{ def: string }>('SELECT def FROM _my2pg.source_schemas WHERE stream = $1', [stream]);
  if (res.rows.length === 0) return null;
  return res.rows.map((r) => schemaFromJson(parseJson(r.def) as Parameters<typeof schemaFromJson>[0]));
}

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
