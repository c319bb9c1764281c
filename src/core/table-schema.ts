// The shape of a source table as capture describes it in DDL events (Maxwell `def` plus metadata).

export interface ColumnDef {
  name: string;
  /** MySQL data type, lower case, without modifiers: `int`, `varchar`, `decimal`, `datetime`, … */
  type: string;
  /** Full column type as MySQL prints it, e.g. `bigint(20) unsigned`, `enum('a','b')`. */
  columnType: string;
  nullable: boolean;
  default: string | null;
  unsigned: boolean;
  charset: string | null;
  /** Character length for string types, display bits for BIT. */
  length: number | null;
  precision: number | null;
  scale: number | null;
  /** Fractional-second digits for DATETIME, TIMESTAMP and TIME. */
  fsp: number | null;
  /** Allowed values for ENUM and SET. */
  values: string[] | null;
}

export interface TableSchema {
  database: string;
  table: string;
  charset: string | null;
  columns: ColumnDef[];
  primaryKey: string[];
}
