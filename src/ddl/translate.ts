// Translates DDL events into Postgres/Greenplum statements for the replica, in stream order.

import { My2pgError } from '../core/errors.js';
import type { DdlEvent } from '../core/events.js';
import type { TableSchema } from '../core/table-schema.js';
import type { Dialect } from '../target/dialect.js';
import type { Naming } from '../target/naming.js';
import { qualify, quoteIdent } from '../target/quote.js';
import { lex } from './lexer.js';
import { translateCreateTable, translateTableAlter, type DdlTranslation, type TranslateOptions } from './pg-ddl.js';
import type { TypeOverrides } from './type-overrides.js';

/**
 * The replica statements for a DDL event, in order. table-alter is translated from the event's
 * `old` and `def` images and its `column-renames` (translateTableAlter); one without both images
 * is refused (UNSUPPORTED_DDL). `options.indexes` (default true) creates, rebuilds and drops
 * secondary indexes.
 */
export function translateDdl(ev: DdlEvent, dialect: Dialect, naming: Naming, overrides: TypeOverrides = {}, options: Omit<TranslateOptions, 'overrides'> = {}): string[] {
  return translateDdlEvent(ev, dialect, naming, overrides, options).statements;
}

/** translateDdl with the notes on what the replica cannot express (to log). */
export function translateDdlEvent(ev: DdlEvent, dialect: Dialect, naming: Naming, overrides: TypeOverrides = {}, options: Omit<TranslateOptions, 'overrides'> = {}): DdlTranslation {
  const schema = naming.name(ev.database);
  const only = (...statements: string[]): DdlTranslation => ({ statements, notes: [] });
  switch (ev.type) {
    case 'database-create':
      return only(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    case 'database-drop':
      return only(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    case 'database-alter':
      return only(); // charset changes have no Postgres counterpart
    case 'table-create': {
      if (!ev.def) throw new My2pgError('BAD_EVENT', `table-create for ${ev.database}.${ev.table} has no "def"`);
      const statements = [`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`];
      // MySQL only creates a table that did not exist, so a replica table of that name is stale,
      // except after CREATE … IF NOT EXISTS (binlogged even when it did nothing) or a snapshot.
      const keep = keepsExistingTable(ev);
      if (!keep) statements.push(`DROP TABLE IF EXISTS ${qualify(schema, naming.name(ev.def.table))}`);
      const t = translateCreateTable(ev.def, dialect, naming, { ...options, overrides }, keep);
      return { statements: [...statements, ...t.statements], notes: t.notes };
    }
    case 'table-drop':
      return only(`DROP TABLE IF EXISTS ${qualify(schema, naming.name(requireTable(ev)))}`);
    case 'table-truncate':
      return only(`TRUNCATE ${qualify(schema, naming.name(requireTable(ev)))}`);
    case 'table-alter':
      if (ev.old && ev.def) return translateTableAlter(ev.old, ev.def, ev.renames ?? [], dialect, naming, { ...options, overrides });
      throw new My2pgError(
        'UNSUPPORTED_DDL',
        `table-alter for ${ev.database}.${ev.table ?? '?'} without "old" and "def" table images (written by a ` +
          `capture that does not track schemas); the replica cannot follow it. Statement: ${ev.sql}`,
      );
  }
}

/**
 * CREATE TABLE IF NOT EXISTS: a replica table that already exists is kept (docs/OPERATIONS.md).
 * Columns, translatable defaults, NOT NULL and the primary key; no secondary indexes (see
 * translateCreateTable for those and for the notes on what was left out).
 */
export function createTable(def: TableSchema, dialect: Dialect, naming: Naming, overrides: TypeOverrides = {}): string {
  return translateCreateTable(def, dialect, naming, { overrides, indexes: false }).statements[0];
}

/**
 * Whether a table-create keeps a replica table that already exists: its `keep_existing`, or for
 * events without it (other producers, e.g. Maxwell) whether its SQL says CREATE TABLE IF NOT EXISTS.
 */
export function keepsExistingTable(ev: DdlEvent): boolean {
  if (ev.keepExisting !== undefined) return ev.keepExisting;
  const words = lex(ev.sql).filter((t) => t.kind === 'word').map((t) => t.text.toUpperCase());
  const at = words.indexOf('TABLE');
  return at >= 0 && words[at + 1] === 'IF' && words[at + 2] === 'NOT' && words[at + 3] === 'EXISTS';
}

function requireTable(ev: DdlEvent): string {
  if (!ev.table) throw new My2pgError('BAD_EVENT', `${ev.type} event without "table"`);
  return ev.table;
}
