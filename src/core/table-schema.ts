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
  /**
   * How to read `default`: 'expression' for `CURRENT_TIMESTAMP`, `(uuid())` and the like,
   * 'literal' for a value. Absent: a CURRENT_TIMESTAMP-like default of a temporal column is an
   * expression, anything else a literal.
   */
  defaultKind?: 'literal' | 'expression';
  autoIncrement?: boolean;
}

/** A secondary index (never the primary key) as MySQL names it. */
export interface IndexDef {
  name: string;
  unique: boolean;
  /** Column names in index order; '' for a functional key part. */
  columns: string[];
  /** Prefix length per column (`KEY (name(10))`), or null for the whole column. */
  prefixLengths?: Array<number | null>;
  /** FULLTEXT and SPATIAL indexes have no Postgres B-tree counterpart. */
  kind?: 'fulltext' | 'spatial';
}

export interface TableSchema {
  database: string;
  table: string;
  charset: string | null;
  columns: ColumnDef[];
  primaryKey: string[];
  /** Secondary indexes; absent when not known (then no index is created, changed or dropped). */
  indexes?: IndexDef[];
}

/** A table definition as stored beside capture's position (null: the table is gone). */
export interface SchemaRecord {
  database: string;
  table: string;
  def: TableSchema | null;
}
