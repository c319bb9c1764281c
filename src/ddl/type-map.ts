// MySQL column type → Postgres column type: the lossless default mapping of docs/TYPES.md.

import { My2pgError } from '../core/errors.js';
import { mysqlType } from '../core/mysql-types.js';
import type { ColumnDef } from '../core/table-schema.js';

/** Returns the Postgres type for a MySQL column (docs/TYPES.md). */
export function mapColumnType(c: ColumnDef): string {
  const t = mysqlType(c.type);
  switch (t?.family) {
    case 'integer':
      return integerType(t.name, c.unsigned);
    case 'year':
      return 'smallint';
    case 'decimal':
      return `numeric(${c.precision ?? 10},${c.scale ?? 0})`;
    case 'float':
      return 'real';
    case 'double':
      return 'double precision';
    case 'bit':
      return `bit(${c.length ?? 1})`;
    case 'char':
      return `${t.name}(${Math.max(c.length ?? 1, 1)})`;
    case 'text':
    case 'enum':
    case 'geometry':
      return 'text';
    case 'set':
      return 'text[]';
    case 'binary':
    case 'blob':
      return 'bytea';
    case 'date':
      return 'date';
    case 'datetime':
      return `timestamp(${c.fsp ?? 0}) without time zone`;
    case 'timestamp':
      return `timestamp(${c.fsp ?? 0}) with time zone`;
    case 'time':
      return 'interval';
    case 'json':
      return 'jsonb';
    default:
      throw new My2pgError('UNSUPPORTED_DDL', `column ${c.name}: no Postgres mapping for MySQL type ${c.columnType}`);
  }
}

/** The smallest Postgres integer type that holds every value of a MySQL integer type. */
function integerType(name: string, unsigned: boolean): string {
  switch (name) {
    case 'tinyint':
      return 'smallint';
    case 'smallint':
      return unsigned ? 'integer' : 'smallint';
    case 'mediumint':
      return 'integer';
    case 'int':
      return unsigned ? 'bigint' : 'integer';
    default:
      return unsigned ? 'numeric(20,0)' : 'bigint';
  }
}
