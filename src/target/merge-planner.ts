// SQL for merging a staged batch into its target table. Only shapes Greenplum 6 also runs:
// no ON CONFLICT, no MERGE, and a changed key is a delete plus an insert.

import type { Dialect } from './dialect.js';
import { qualify, quoteIdent } from './quote.js';

export interface MergeTable {
  schema: string;
  table: string;
  columns: Array<{ name: string; pgType: string }>;
  primaryKey: string[];
}

/** Name of the op column in staging tables: 'U' for upsert, 'D' for delete. */
export const OP_COLUMN = '_my2pg_op';

export interface MergePlan {
  createStaging: string;
  copyIntoStaging: string;
  deleteMatched: string;
  insertUpserts: string;
}

export function planMerge(t: MergeTable, staging: string, dialect: Dialect): MergePlan {
  const stage = quoteIdent(staging);
  const target = qualify(t.schema, t.table);
  const cols = t.columns.map((c) => quoteIdent(c.name));
  const colDefs = t.columns.map((c) => `${quoteIdent(c.name)} ${c.pgType}`);
  const keyMatch = t.primaryKey.map((k) => `t.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(' AND ');
  return {
    createStaging:
      `CREATE TEMP TABLE ${stage} (${quoteIdent(OP_COLUMN)} "char" NOT NULL, ${colDefs.join(', ')}) ` +
      `ON COMMIT DROP${dialect.tableSuffix(t.primaryKey)}`,
    copyIntoStaging: `COPY ${stage} (${quoteIdent(OP_COLUMN)}, ${cols.join(', ')}) FROM STDIN`,
    deleteMatched: `DELETE FROM ${target} AS t USING ${stage} AS s WHERE ${keyMatch}`,
    insertUpserts:
      `INSERT INTO ${target} (${cols.join(', ')}) SELECT ${cols.join(', ')} FROM ${stage} ` +
      `WHERE ${quoteIdent(OP_COLUMN)} = 'U'`,
  };
}

/** Tables without a primary key: append rows straight into the target. */
export function copyIntoTarget(t: MergeTable): string {
  return `COPY ${qualify(t.schema, t.table)} (${t.columns.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN`;
}

/**
 * Tables without a primary key: delete exactly one row equal to the before-image (NULL-safe),
 * keeping the other duplicates. Parameters are the image's values in column order.
 */
export function deleteOneMatching(t: MergeTable, dialect: Dialect): string {
  const target = qualify(t.schema, t.table);
  const match = t.columns
    .map((c, i) => `t.${quoteIdent(c.name)} IS NOT DISTINCT FROM $${i + 1}::${c.pgType}`)
    .join(' AND ');
  const ids = dialect.rowIdentity;
  const outer = ids.map((c) => `d.${c}`).join(', ');
  const lhs = ids.length > 1 ? `(${outer})` : outer;
  return `DELETE FROM ${target} AS d WHERE ${lhs} = (SELECT ${ids.map((c) => `t.${c}`).join(', ')} FROM ${target} AS t WHERE ${match} LIMIT 1)`;
}
