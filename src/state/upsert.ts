// The upsert of the control schema's tables, in statements Greenplum 6 also runs.

import type { ClientBase } from 'pg';

/**
 * Upsert without ON CONFLICT, which Greenplum 6 lacks: the UPDATE, and the INSERT when it
 * matched no row. Both statements take the same parameters.
 */
export async function upsert(client: ClientBase, update: string, insert: string, params: unknown[]): Promise<void> {
  const upd = await client.query(update, params);
  if (upd.rowCount === 0) await client.query(insert, params);
}
