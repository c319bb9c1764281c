// The source-side table definitions the DDL events carry, as apply last saw them
// (`_my2pg.source_schemas`), written in the batch's transaction: `my2pg run` without Kafka resumes
// capture's schema tracker from them.

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
