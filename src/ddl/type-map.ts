// MySQL column type → Postgres column type: the lossless default mapping of docs/TYPES.md.

import { My2pgError } from '../core/errors.js';
import type { ColumnDef } from '../core/table-schema.js';

/** Returns the Postgres type for a MySQL column (docs/TYPES.md). */
export function mapColumnType(c: ColumnDef): string {
  switch (c.type) {
    case 'tinyint':
    case 'year':
      return 'smallint';
    case 'smallint':
      return c.unsigned ? 'integer' : 'smallint';
    case 'mediumint':
      return 'integer';
    case 'int':
    case 'integer':
      return c.unsigned ? 'bigint' : 'integer';
    case 'bigint':
      return c.unsigned ? 'numeric(20,0)' : 'bigint';
    case 'decimal':
    case 'numeric':
      return `numeric(${c.precision ?? 10},${c.scale ?? 0})`;
    case 'float':
      return 'real';
    case 'double':
    case 'real':
      return 'double precision';
    case 'bit':
      return `bit(${c.length ?? 1})`;
    case 'char':
      return `char(${Math.max(c.length ?? 1, 1)})`;
    case 'varchar':
      return `varchar(${Math.max(c.length ?? 1, 1)})`;
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
    case 'enum':
      return 'text';
    case 'set':
      return 'text[]';
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
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
    case 'geometry':
    case 'point':
    case 'linestring':
    case 'polygon':
    case 'multipoint':
    case 'multilinestring':
    case 'multipolygon':
    case 'geometrycollection':
    case 'geomcollection':
      return 'text';
    default:
      throw new My2pgError('UNSUPPORTED_DDL', `column ${c.name}: no Postgres mapping for MySQL type ${c.columnType}`);
  }
}
