// Per-column type overrides (docs/TYPES.md): `db.table.column` patterns (`*` matches any name)
// or a MySQL column type such as `tinyint(1)`, each mapped to the Postgres type to use instead.

import type { ColumnDef } from '../core/table-schema.js';

export type TypeOverrides = Record<string, string>;

/** The overriding Postgres type for a column, if a rule names it (column rules win over type rules). */
export function overrideFor(overrides: TypeOverrides, database: string, table: string, c: ColumnDef): string | undefined {
  let byType: string | undefined;
  for (const [rule, pgType] of Object.entries(overrides)) {
    const parts = rule.split('.');
    if (parts.length === 3) {
      const [d, t, col] = parts;
      if (matches(d, database) && matches(t, table) && matches(col, c.name)) return pgType;
    } else if (rule.toLowerCase() === c.columnType.toLowerCase()) {
      byType = pgType;
    }
  }
  return byType;
}

function matches(pattern: string, name: string): boolean {
  return pattern === '*' || pattern === name;
}
