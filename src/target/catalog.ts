// Reads table shapes from the replica's catalog, cached until a DDL invalidates them.

import type { ClientBase } from 'pg';
import { valueKindOf, type ValueKind } from './pg-value.js';

export interface TargetColumn {
  name: string;
  pgType: string;
  kind: ValueKind;
  /** n of a bit(n) column. */
  bits: number;
}

export interface TargetTable {
  schema: string;
  table: string;
  columns: TargetColumn[];
  byName: Map<string, TargetColumn>;
  primaryKey: string[];
}

const TABLE_SQL = `
  SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
         coalesce(a.attnum = ANY (i.indkey), false) AS pk
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
  WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
  ORDER BY a.attnum`;

const PK_ORDER_SQL = `
  SELECT a.attname AS name
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
  WHERE n.nspname = $1 AND c.relname = $2 AND i.indisprimary
  ORDER BY k.ord`;

export class Catalog {
  private readonly cache = new Map<string, TargetTable | null>();

  async table(client: ClientBase, schema: string, table: string): Promise<TargetTable | null> {
    const key = `${schema}\u0000${table}`;
    if (this.cache.has(key)) return this.cache.get(key) ?? null;
    const cols = await client.query<{ name: string; type: string }>(TABLE_SQL, [schema, table]);
    let result: TargetTable | null = null;
    if (cols.rows.length > 0) {
      const pk = await client.query<{ name: string }>(PK_ORDER_SQL, [schema, table]);
      const columns = cols.rows.map((r) => ({
        name: r.name,
        pgType: r.type,
        kind: valueKindOf(r.type),
        bits: Number(/^bit\((\d+)\)/.exec(r.type)?.[1] ?? 0),
      }));
      result = {
        schema,
        table,
        columns,
        byName: new Map(columns.map((c) => [c.name, c])),
        primaryKey: pk.rows.map((r) => r.name),
      };
    }
    this.cache.set(key, result);
    return result;
  }

  /** The table's shape if it is cached (no query); undefined when it would have to be read. */
  cached(schema: string, table: string): TargetTable | null | undefined {
    return this.cache.get(`${schema}\u0000${table}`);
  }

  /** Forgets everything: called after any DDL, and when a transaction rolls back. */
  invalidate(): void {
    this.cache.clear();
  }
}
