// The schema evolver: applies a parsed DDL operation to the MySQL-side table schemas, exactly as
// MySQL does (column order included), and says what changed, for translation (pg-ddl.ts).

import { My2pgError } from '../core/errors.js';
import type { TableSchema } from '../core/table-schema.js';
import { tableKey } from '../core/table-key.js';
import type { DdlOperation, TableName } from './operations.js';
import { evolveTable } from './evolve-table.js';

export { evolveTable };

/** A column that CHANGE or RENAME COLUMN gave a new name (MySQL names, before Naming). */
export type { ColumnRename } from '../core/events.js';
import type { ColumnRename } from '../core/events.js';

/** One table or database change, in statement order. */
export type SchemaChange =
  | { kind: 'create-database'; database: string }
  | { kind: 'drop-database'; database: string }
  | { kind: 'alter-database'; database: string }
  /** `replaces`: a table of that name existed (CREATE OR REPLACE, or a stale definition). */
  | { kind: 'create-table'; def: TableSchema; ifNotExists: boolean; replaces: boolean }
  /** CREATE TABLE … SELECT: the definition must be read from the source (information_schema). */
  | { kind: 'create-table-select'; table: TableName; replaces: boolean }
  /** Any ALTER TABLE, and each pair of RENAME TABLE; `def` may carry a new database/table name. */
  | { kind: 'alter-table'; old: TableSchema; def: TableSchema; renames: ColumnRename[] }
  | { kind: 'drop-table'; table: TableName; old: TableSchema | null }
  | { kind: 'truncate-table'; table: TableName };

export interface EvolveResult {
  /** The schemas after the statement: a new map; the input map is not modified. */
  schemas: Map<string, TableSchema>;
  changes: SchemaChange[];
}

/**
 * Applies `op` to `schemas` (keyed by tableKey). Throws My2pgError('UNSUPPORTED_DDL') when the
 * statement refers to a table or column the schemas do not have (they no longer match the source).
 * CREATE TABLE … LIKE copies the known definition; CREATE TABLE … SELECT reports a
 * `create-table-select` change and leaves the new table out of the map until capture reads it.
 */
export function evolveSchema(op: DdlOperation, schemas: ReadonlyMap<string, TableSchema>): EvolveResult {
  const out = new Map(schemas);
  const changes: SchemaChange[] = [];
  const find = (t: TableName): TableSchema | undefined => out.get(tableKey(t.database, t.table));
  const require = (t: TableName): TableSchema => {
    const s = find(t);
    if (!s) throw new My2pgError('UNSUPPORTED_DDL', `no known schema for table ${t.database}.${t.table}; cannot apply the DDL to it`);
    return s;
  };
  switch (op.op) {
    case 'ignored':
      break;
    case 'create-database':
      changes.push({ kind: 'create-database', database: op.database });
      break;
    case 'alter-database':
      changes.push({ kind: 'alter-database', database: op.database });
      break;
    case 'drop-database':
      for (const [k, s] of out) if (s.database === op.database) out.delete(k);
      changes.push({ kind: 'drop-database', database: op.database });
      break;
    case 'create-table':
    case 'create-table-like': {
      const existing = find(op.table);
      if (existing && op.ifNotExists && !op.orReplace) break; // MySQL kept the existing table
      let def: TableSchema;
      if (op.op === 'create-table') def = clone(op.def);
      else def = { ...clone(require(op.like)), database: op.table.database, table: op.table.table };
      out.set(tableKey(def.database, def.table), def);
      changes.push({ kind: 'create-table', def, ifNotExists: op.ifNotExists, replaces: existing !== undefined });
      break;
    }
    case 'create-table-select': {
      const existing = find(op.table);
      if (existing && op.ifNotExists && !op.orReplace) break;
      out.delete(tableKey(op.table.database, op.table.table));
      changes.push({ kind: 'create-table-select', table: op.table, replaces: existing !== undefined });
      break;
    }
    case 'alter-table': {
      const old = require(op.table);
      const { def, renames } = evolveTable(old, op.specs);
      out.delete(tableKey(old.database, old.table));
      out.set(tableKey(def.database, def.table), def);
      changes.push({ kind: 'alter-table', old, def, renames });
      break;
    }
    case 'rename-tables':
      for (const { from, to } of op.pairs) {
        const old = require(from);
        const def = { ...clone(old), database: to.database, table: to.table };
        out.delete(tableKey(from.database, from.table));
        out.set(tableKey(to.database, to.table), def);
        changes.push({ kind: 'alter-table', old, def, renames: [] });
      }
      break;
    case 'drop-tables':
      for (const t of op.tables) {
        const old = find(t) ?? null;
        out.delete(tableKey(t.database, t.table));
        changes.push({ kind: 'drop-table', table: t, old });
      }
      break;
    case 'truncate-table':
      changes.push({ kind: 'truncate-table', table: op.table });
      break;
  }
  return { schemas: out, changes };
}

function clone(s: TableSchema): TableSchema {
  const out: TableSchema = {
    ...s,
    columns: s.columns.map((c) => ({ ...c, values: c.values ? [...c.values] : null })),
    primaryKey: [...s.primaryKey],
  };
  if (s.indexes) out.indexes = s.indexes.map((i) => ({ ...i, columns: [...i.columns], ...(i.prefixLengths ? { prefixLengths: [...i.prefixLengths] } : {}) }));
  return out;
}
