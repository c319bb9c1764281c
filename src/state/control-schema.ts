// Creates and migrates the `_my2pg` control schema in the replica from the files in sql/.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClientBase } from 'pg';

const SQL_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'sql');
const LOCK_ID = 0x6d793270; // 'my2p': serialises concurrent migrators

export async function migrateControlSchema(client: ClientBase): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_ID]);
    await client.query('CREATE SCHEMA IF NOT EXISTS _my2pg');
    await client.query('CREATE TABLE IF NOT EXISTS _my2pg.migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM _my2pg.migrations')).rows.map((r) => r.version));
    for (const file of readdirSync(SQL_DIR).filter((f) => /^\d+_.*\.sql$/.test(f)).sort()) {
      const version = Number(file.split('_')[0]);
      if (done.has(version)) continue;
      await client.query(readFileSync(join(SQL_DIR, file), 'utf8'));
      await client.query('INSERT INTO _my2pg.migrations (version) VALUES ($1)', [version]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}
