// The schema evolver: applies a parsed DDL operation to the MySQL-side table schemas, exactly as
// MySQL does (column order included), and says what changed, for translation (pg-ddl.ts).

import { My2pgError } from '../core/errors.js';
import type { ColumnDef, IndexDef, TableSchema } from '../core/table-schema.js';
import { tableKey } from '../core/table-key.js';
import type { AlterSpec, ColumnPosition, ColumnSpec, DdlOperation, TableName } from './operations.js';
import { addForeignKeyIndex, isCharType, nameIndexes, normaliseLiteral, sameName } from './parse.js';

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

/**
 * Applies ALTER TABLE clauses to one table: the new definition (a copy) and the columns renamed
 * (old name → final name). As in MySQL, DROP/CHANGE/MODIFY/RENAME COLUMN name columns of the
 * table as it was before the statement (so `RENAME COLUMN a TO b, RENAME COLUMN b TO a` swaps),
 * while AFTER, keys and indexes name columns as they are after it.
 */
export function evolveTable(old: TableSchema, specs: AlterSpec[]): { def: TableSchema; renames: ColumnRename[] } {
  const fail = (msg: string): never => {
    throw new My2pgError('UNSUPPORTED_DDL', `${old.database}.${old.table}: ${msg}; the known schema no longer matches the source`);
  };
  // Columns carry stable ids while clauses rename them; keys and indexes hold ids, not names.
  interface Col { id: number; origin: string | null; def: ColumnDef }
  let nextId = 0;
  let cols: Col[] = old.columns.map((c) => ({ id: nextId++, origin: c.name, def: { ...c } }));
  const idOf = (name: string): number => {
    const c = cols.filter((x) => sameName(x.def.name, name)).pop();
    if (!c) return fail(`unknown column ${name}`);
    return c.id;
  };
  let pk = old.primaryKey.map(idOf);
  type Idx = Omit<IndexDef, 'columns'> & { ids: number[] };
  let indexes: Idx[] | undefined = old.indexes?.map((i) => ({ ...i, ids: i.columns.map((c) => (c === '' ? -1 : idOf(c))) }));
  let charset = old.charset;
  let database = old.database;
  let table = old.table;

  /** A column of the original table, by its original name, unless dropped. */
  const original = (name: string): Col | undefined => cols.find((c) => c.origin !== null && sameName(c.origin, name));
  const byName = (name: string): Col | undefined => cols.filter((c) => sameName(c.def.name, name)).pop();
  /** The column a DROP/MODIFY/CHANGE/RENAME names (original name first); null if absent under IF EXISTS. */
  const named = (name: string, ifExists: boolean): Col | null => {
    const col = original(name) ?? byName(name);
    if (col || ifExists) return col ?? null;
    return fail(`unknown column ${name}`);
  };
  const place = (col: Col, position: ColumnPosition | undefined) => {
    const k = cols.indexOf(col);
    if (!position) {
      if (k < 0) cols.push(col);
      return;
    }
    if (k >= 0) cols.splice(k, 1);
    if (position.at === 'first') cols.unshift(col);
    else {
      const after = byName(position.column);
      if (!after) return fail(`AFTER names unknown column ${position.column}`);
      cols.splice(cols.indexOf(after) + 1, 0, col);
    }
  };
  const newDef = (spec: ColumnSpec, name: string): ColumnDef => {
    const c = { ...spec.def, name, values: spec.def.values ? [...spec.def.values] : null };
    if (!spec.explicitCharset && isCharType(c.type)) c.charset = charset;
    return c;
  };
  const inlineKeys = (spec: ColumnSpec, id: number) => {
    if (spec.inlinePrimaryKey) pk = [id];
    if (spec.inlineUnique && indexes) indexes.push({ name: '', unique: true, ids: [id] });
  };
  const names = (ids: number[]) => ids.map((id) => (id < 0 ? '' : cols.find((c) => c.id === id)?.def.name ?? ''));
  const nameNewIndexes = () => {
    if (!indexes) return;
    const defs = indexes.map((i) => ({ name: i.name, unique: i.unique, columns: names(i.ids) }));
    nameIndexes(defs);
    defs.forEach((d, k) => (indexes![k].name = d.name));
  };

  for (const s of specs) {
    switch (s.kind) {
      case 'add-column': {
        if (byName(s.column.def.name)) {
          if (s.ifNotExists) break;
          fail(`column ${s.column.def.name} already exists`);
        }
        const col: Col = { id: nextId++, origin: null, def: newDef(s.column, s.column.def.name) };
        place(col, s.position);
        inlineKeys(s.column, col.id);
        nameNewIndexes();
        break;
      }
      case 'drop-column': {
        const col = named(s.name, s.ifExists);
        if (!col) break;
        cols = cols.filter((c) => c !== col);
        pk = pk.filter((id) => id !== col.id);
        if (indexes) {
          for (const idx of indexes) {
            const keep = idx.ids.map((id) => id !== col.id);
            if (idx.prefixLengths) idx.prefixLengths = idx.prefixLengths.filter((_, j) => keep[j]);
            idx.ids = idx.ids.filter((_, j) => keep[j]);
          }
          indexes = indexes.filter((idx) => idx.ids.length > 0);
        }
        break;
      }
      case 'modify-column':
      case 'change-column': {
        const oldName = s.kind === 'change-column' ? s.oldName : s.column.def.name;
        const col = named(oldName, s.ifExists);
        if (!col) break;
        const name = s.kind === 'change-column' ? s.column.def.name : col.def.name;
        col.def = newDef(s.column, name);
        col.origin = null; // later clauses cannot name it by its old name
        place(col, s.position);
        inlineKeys(s.column, col.id);
        nameNewIndexes();
        break;
      }
      case 'rename-column': {
        const col = named(s.oldName, s.ifExists);
        if (!col) break;
        col.def = { ...col.def, name: s.newName };
        col.origin = null;
        break;
      }
      case 'set-default':
      case 'drop-default': {
        const col = byName(s.column);
        if (!col) return fail(`unknown column ${s.column}`);
        const c = { ...col.def };
        if (s.kind === 'drop-default' || (s.value === 'NULL' && s.valueKind === 'expression')) {
          c.default = null;
          delete c.defaultKind;
        } else {
          c.default = s.valueKind === 'literal' ? normaliseLiteral(s.value, c) : s.value;
          c.defaultKind = s.valueKind;
        }
        col.def = c;
        break;
      }
      case 'add-primary-key':
        if (pk.length > 0) fail('a primary key already exists');
        pk = s.columns.map(idOf);
        break;
      case 'drop-primary-key':
        pk = [];
        break;
      case 'add-index': {
        if (!indexes) break; // indexes unknown: nothing to track
        if (s.index.name && indexes.some((i) => sameName(i.name, s.index.name))) {
          if (s.ifNotExists) break;
          fail(`index ${s.index.name} already exists`);
        }
        const { columns, ...rest } = s.index;
        indexes.push({ ...rest, ids: columns.map((c) => (c === '' ? -1 : idOf(c))) });
        nameNewIndexes();
        break;
      }
      case 'add-foreign-key': {
        if (!indexes) break;
        const probe: TableSchema = { database, table, charset, columns: [], primaryKey: names(pk), indexes: indexes.map((i) => ({ name: i.name, unique: i.unique, columns: names(i.ids), ...(i.kind ? { kind: i.kind } : {}) })) };
        const ids = s.index.columns.map(idOf);
        addForeignKeyIndex(probe, { ...s.index, columns: names(ids) });
        if (probe.indexes!.length > indexes.length) indexes.push({ name: probe.indexes![probe.indexes!.length - 1].name, unique: false, ids });
        break;
      }
      case 'drop-index': {
        if (!indexes) break;
        const k = indexes.findIndex((i) => sameName(i.name, s.name));
        if (k < 0) {
          if (s.ifExists) break;
          fail(`unknown index ${s.name}`);
        }
        indexes.splice(k, 1);
        break;
      }
      case 'rename-index': {
        const idx = indexes?.find((i) => sameName(i.name, s.oldName));
        if (idx) idx.name = s.newName;
        else if (indexes) fail(`unknown index ${s.oldName}`);
        break;
      }
      case 'rename-table':
        database = s.to.database;
        table = s.to.table;
        break;
      case 'convert-charset': {
        const cs = s.charset === 'default' ? charset : s.charset;
        if (!cs) break;
        for (const c of cols) if (isCharType(c.def.type)) c.def = c.def.charset !== null ? convertColumn(c.def, cs) : { ...c.def, charset: cs };
        charset = cs;
        break;
      }
      case 'default-charset':
        charset = s.charset;
        break;
      case 'no-op':
        break;
    }
  }

  const seen = new Set<string>();
  for (const c of cols) {
    if (seen.has(c.def.name.toLowerCase())) fail(`two columns named ${c.def.name}`);
    seen.add(c.def.name.toLowerCase());
    if (pk.includes(c.id)) c.def = { ...c.def, nullable: false };
  }
  const def: TableSchema = { database, table, charset, columns: cols.map((c) => c.def), primaryKey: names(pk) };
  if (indexes) {
    def.indexes = indexes.map(({ ids, ...rest }) => ({ ...rest, columns: names(ids) }));
  }
  const renames: ColumnRename[] = [];
  for (const c of cols) {
    const before = old.columns[c.id]?.name;
    if (c.id < old.columns.length && before !== c.def.name) renames.push({ from: before, to: c.def.name });
  }
  return { def, renames };
}

/** Bytes per character of the charsets whose TEXT columns CONVERT TO widens. */
const MAX_BYTES: Record<string, number> = { latin1: 1, ascii: 1, binary: 1, cp1251: 1, cp1250: 1, cp1252: 1, koi8r: 1, greek: 1, hebrew: 1, ucs2: 2, utf8: 3, utf8mb3: 3, utf8mb4: 4, utf16: 4, utf32: 4 };
const TEXT_TYPES = ['tinytext', 'text', 'mediumtext', 'longtext'];
const TEXT_BYTES = [255, 65535, 16777215, 4294967295];

/** CONVERT TO CHARACTER SET keeps a TEXT column's capacity in characters, so it may grow a size. */
function convertColumn(c: ColumnDef, cs: string): ColumnDef {
  const out = { ...c, charset: cs };
  const k = TEXT_TYPES.indexOf(c.type);
  const from = MAX_BYTES[c.charset ?? ''];
  const to = MAX_BYTES[cs];
  if (k < 0 || !from || !to || to <= from) return out;
  const chars = TEXT_BYTES[k] / from;
  let j = k;
  while (j < TEXT_TYPES.length - 1 && chars * to > TEXT_BYTES[j]) j++;
  return { ...out, type: TEXT_TYPES[j], columnType: TEXT_TYPES[j], length: TEXT_BYTES[j] };
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
