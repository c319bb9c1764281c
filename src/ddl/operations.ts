// The typed result of parsing one MySQL/MariaDB DDL statement (src/ddl/parse.ts): what the
// statement does to databases and tables, with names resolved against the default database.

import type { ColumnDef, IndexDef, TableSchema } from '../core/table-schema.js';

export interface TableName {
  database: string;
  table: string;
}

/** Where MySQL puts an added or moved column; Postgres can only append (docs/DDL.md). */
export type ColumnPosition = { at: 'first' } | { at: 'after'; column: string };

/** A column as written in a statement, plus the inline keys it declares. */
export interface ColumnSpec {
  def: ColumnDef;
  /** `NULL`/`NOT NULL` written explicitly (a PRIMARY KEY column becomes NOT NULL regardless). */
  explicitNullability: boolean;
  /** `CHARACTER SET`/`COLLATE` written explicitly (else the table's charset applies). */
  explicitCharset: boolean;
  inlinePrimaryKey: boolean;
  inlineUnique: boolean;
}

export type AlterSpec =
  | { kind: 'add-column'; column: ColumnSpec; position?: ColumnPosition; ifNotExists: boolean }
  | { kind: 'drop-column'; name: string; ifExists: boolean }
  | { kind: 'modify-column'; column: ColumnSpec; position?: ColumnPosition; ifExists: boolean }
  | { kind: 'change-column'; oldName: string; column: ColumnSpec; position?: ColumnPosition; ifExists: boolean }
  | { kind: 'rename-column'; oldName: string; newName: string; ifExists: boolean }
  | { kind: 'set-default'; column: string; value: string; valueKind: 'literal' | 'expression' }
  | { kind: 'drop-default'; column: string }
  | { kind: 'add-primary-key'; columns: string[] }
  | { kind: 'drop-primary-key' }
  /** `index.name` is '' when the statement names none (MySQL then names it after its first column). */
  | { kind: 'add-index'; index: IndexDef; ifNotExists: boolean }
  | { kind: 'drop-index'; name: string; ifExists: boolean }
  /** ADD FOREIGN KEY: InnoDB adds an index on its columns unless one already leads with them. */
  | { kind: 'add-foreign-key'; index: IndexDef }
  | { kind: 'rename-index'; oldName: string; newName: string }
  | { kind: 'rename-table'; to: TableName }
  | { kind: 'convert-charset'; charset: string }
  | { kind: 'default-charset'; charset: string }
  /** Changes nothing the replica has: ENGINE, ALGORITHM, LOCK, partitions, foreign keys, checks, … */
  | { kind: 'no-op'; text: string };

export type DdlOperation =
  /** `charset`: the DEFAULT CHARACTER SET (or COLLATE's) the statement gives, else null. */
  | { op: 'create-database'; database: string; ifNotExists: boolean; orReplace: boolean; charset: string | null }
  | { op: 'drop-database'; database: string; ifExists: boolean }
  | { op: 'alter-database'; database: string; charset: string | null }
  /**
   * CREATE TABLE with its full definition. `def.charset` is the table's DEFAULT CHARSET when
   * the statement gives one, else null (the database default, which the statement does not say).
   */
  | { op: 'create-table'; table: TableName; def: TableSchema; ifNotExists: boolean; orReplace: boolean }
  | { op: 'create-table-like'; table: TableName; like: TableName; ifNotExists: boolean; orReplace: boolean }
  /**
   * CREATE TABLE … SELECT: the columns come from the query, which only the server can resolve;
   * capture reads the resulting table from information_schema. `declared` holds columns the
   * statement lists before the SELECT, if any.
   */
  | { op: 'create-table-select'; table: TableName; declared: TableSchema; ifNotExists: boolean; orReplace: boolean }
  | { op: 'alter-table'; table: TableName; specs: AlterSpec[] }
  /** RENAME TABLE a TO b, c TO d: applied pair by pair, in order, as MySQL does. */
  | { op: 'rename-tables'; pairs: Array<{ from: TableName; to: TableName }> }
  | { op: 'drop-tables'; tables: TableName[]; ifExists: boolean }
  | { op: 'truncate-table'; table: TableName }
  /** Changes no replicated table: GRANT, views, routines, temporary tables, maintenance, … */
  | { op: 'ignored'; reason: string };
