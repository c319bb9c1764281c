// What apply keeps about DDL in the replica's control schema, in the batch's transaction:
// the source-side table definitions the DDL events carry (`_my2pg.source_schemas`, from which
// embedded capture resumes its schema tracker), the tables stopped on a DDL the replica could
// not take (`_my2pg.stopped_tables`), and the history of applied DDL (`_my2pg.ddl_history`).

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
    'INSERT INTO _my2pg.ddl_history (stream, position, source_db, source_table, event_type, source_sql, statements) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [stream, position, ev.database, ev.table ?? null, ev.type, ev.sql, statements.join(';\n')],
  );
}

/** Stopped tables, by `database\0table` of the source. */
export async function readStoppedTables(client: ClientBase): Promise<Set<string>> {
  const res = await client.query<{ source_db: string; source_table: string }>('SELECT source_db, source_table FROM _my2pg.stopped_tables');
  return new Set(res.rows.map((r) => stoppedKey(r.source_db, r.source_table)));
}

export function stoppedKey(database: string, table: string): string {
  return `${database}\u0000${table}`;
}

export async function stopTable(client: ClientBase, stream: string, position: string, ev: DdlEvent, table: string, error: string): Promise<void> {
  await client.query(
    'INSERT INTO _my2pg.stopped_tables (source_db, source_table, stream, position, statement, error) VALUES ($1, $2, $3, $4, $5, $6)',
    [ev.database, table, stream, position, ev.sql, error],
  );
}

/** Counts events skipped for stopped tables. */
export async function countSkipped(client: ClientBase, skipped: Map<string, number>): Promise<void> {
  for (const [key, n] of skipped) {
    const [db, table] = key.split('\u0000');
    await client.query('UPDATE _my2pg.stopped_tables SET skipped_events = skipped_events + $3 WHERE source_db = $1 AND source_table = $2', [db, table, n]);
  }
}
