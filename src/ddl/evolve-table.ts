// ALTER TABLE on a MySQL-side table schema, clause by clause, as MySQL applies it (column order
// included), with the columns it renamed. Each kind of clause is a step of its own below.

import { My2pgError } from '../core/errors.js';
import type { ColumnRename } from '../core/events.js';
import { hasCharset, TEXT_SIZES } from '../core/mysql-types.js';
import type { ColumnDef, IndexDef, TableSchema } from '../core/table-schema.js';
import type { AlterSpec, ColumnPosition, ColumnSpec } from './operations.js';
import { addForeignKeyIndex, nameIndexes, normaliseLiteral, sameName } from './parse.js';

/**
 * Applies ALTER TABLE clauses to one table: the new definition (a copy) and the columns renamed
 * (old name → final name). As in MySQL, DROP/CHANGE/MODIFY/RENAME COLUMN name columns of the
 * table as it was before the statement (so `RENAME COLUMN a TO b, RENAME COLUMN b TO a` swaps),
 * while AFTER, keys and indexes name columns as they are after it.
 */
export function evolveTable(old: TableSchema, specs: AlterSpec[]): { def: TableSchema; renames: ColumnRename[] } {
  const alteration = new TableAlteration(old);
  for (const s of specs) alteration.apply(s);
  return alteration.result();
}

type Clause<K extends AlterSpec['kind']> = Extract<AlterSpec, { kind: K }>;

/** A column while the clauses apply: `origin` is its original name until a clause redefines it. */
interface Col {
  id: number;
  origin: string | null;
  def: ColumnDef;
}

type Idx = Omit<IndexDef, 'columns'> & { ids: number[] };

/**
 * The table as the clauses so far made it. Columns carry stable ids while clauses rename them;
 * keys and indexes hold ids, not names.
 */
class TableAlteration {
  private nextId = 0;
  private cols: Col[];
  private pk: number[];
  /** Undefined when the table's indexes are not known: then there are none to track. */
  private indexes: Idx[] | undefined;
  private charset: string | null;
  private database: string;
  private table: string;

  constructor(private readonly old: TableSchema) {
    this.cols = old.columns.map((c) => ({ id: this.nextId++, origin: c.name, def: { ...c } }));
    this.pk = old.primaryKey.map((n) => this.idOf(n));
    this.indexes = old.indexes?.map((i) => ({ ...i, ids: i.columns.map((c) => (c === '' ? -1 : this.idOf(c))) }));
    this.charset = old.charset;
    this.database = old.database;
    this.table = old.table;
  }

  apply(s: AlterSpec): void {
    switch (s.kind) {
      case 'add-column':
        return this.addColumn(s);
      case 'drop-column':
        return this.dropColumn(s);
      case 'modify-column':
      case 'change-column':
        return this.redefineColumn(s);
      case 'rename-column':
        return this.renameColumn(s);
      case 'set-default':
      case 'drop-default':
        return this.setDefault(s);
      case 'add-primary-key':
        if (this.pk.length > 0) this.fail('a primary key already exists');
        this.pk = s.columns.map((c) => this.idOf(c));
        return;
      case 'drop-primary-key':
        this.pk = [];
        return;
      case 'add-index':
        return this.addIndex(s);
      case 'add-foreign-key':
        return this.addForeignKey(s);
      case 'drop-index':
        return this.dropIndex(s);
      case 'rename-index':
        return this.renameIndex(s);
      case 'rename-table':
        this.database = s.to.database;
        this.table = s.to.table;
        return;
      case 'convert-charset':
        return this.convertCharset(s);
      case 'default-charset':
        this.charset = s.charset;
        return;
      case 'no-op':
        return;
    }
  }

  /** The table after every clause: names checked unique, key columns NOT NULL, renames against `old`. */
  result(): { def: TableSchema; renames: ColumnRename[] } {
    const seen = new Set<string>();
    for (const c of this.cols) {
      if (seen.has(c.def.name.toLowerCase())) this.fail(`two columns named ${c.def.name}`);
      seen.add(c.def.name.toLowerCase());
      if (this.pk.includes(c.id)) c.def = { ...c.def, nullable: false };
    }
    const def: TableSchema = { database: this.database, table: this.table, charset: this.charset, columns: this.cols.map((c) => c.def), primaryKey: this.names(this.pk) };
    if (this.indexes) {
      def.indexes = this.indexes.map(({ ids, ...rest }) => ({ ...rest, columns: this.names(ids) }));
    }
    const renames: ColumnRename[] = [];
    for (const c of this.cols) {
      const before = this.old.columns[c.id]?.name;
      if (c.id < this.old.columns.length && before !== c.def.name) renames.push({ from: before, to: c.def.name });
    }
    return { def, renames };
  }

  private addColumn(s: Clause<'add-column'>): void {
    if (this.byName(s.column.def.name)) {
      if (s.ifNotExists) return;
      this.fail(`column ${s.column.def.name} already exists`);
    }
    const col: Col = { id: this.nextId++, origin: null, def: this.newDef(s.column, s.column.def.name) };
    this.settle(col, s.column, s.position);
  }

  /** DROP COLUMN: out of the key and of every index, and an index left with no column goes. */
  private dropColumn(s: Clause<'drop-column'>): void {
    const col = this.named(s.name, s.ifExists);
    if (!col) return;
    this.cols = this.cols.filter((c) => c !== col);
    this.pk = this.pk.filter((id) => id !== col.id);
    if (this.indexes) {
      for (const idx of this.indexes) {
        const keep = idx.ids.map((id) => id !== col.id);
        if (idx.prefixLengths) idx.prefixLengths = idx.prefixLengths.filter((_, j) => keep[j]);
        idx.ids = idx.ids.filter((_, j) => keep[j]);
      }
      this.indexes = this.indexes.filter((idx) => idx.ids.length > 0);
    }
  }

  /** MODIFY or CHANGE COLUMN: a new definition (and for CHANGE a new name), maybe a new place. */
  private redefineColumn(s: Clause<'modify-column' | 'change-column'>): void {
    const oldName = s.kind === 'change-column' ? s.oldName : s.column.def.name;
    const col = this.named(oldName, s.ifExists);
    if (!col) return;
    const name = s.kind === 'change-column' ? s.column.def.name : col.def.name;
    col.def = this.newDef(s.column, name);
    col.origin = null; // later clauses cannot name it by its old name
    this.settle(col, s.column, s.position);
  }

  private renameColumn(s: Clause<'rename-column'>): void {
    const col = this.named(s.oldName, s.ifExists);
    if (!col) return;
    col.def = { ...col.def, name: s.newName };
    col.origin = null;
  }

  /** ALTER COLUMN … SET DEFAULT / DROP DEFAULT (SET DEFAULT NULL as an expression drops it too). */
  private setDefault(s: Clause<'set-default' | 'drop-default'>): void {
    const col = this.byName(s.column);
    if (!col) return this.fail(`unknown column ${s.column}`);
    const c = { ...col.def };
    if (s.kind === 'drop-default' || (s.value === 'NULL' && s.valueKind === 'expression')) {
      c.default = null;
      delete c.defaultKind;
    } else {
      c.default = s.valueKind === 'literal' ? normaliseLiteral(s.value, c) : s.value;
      c.defaultKind = s.valueKind;
    }
    col.def = c;
  }

  private addIndex(s: Clause<'add-index'>): void {
    const indexes = this.indexes;
    if (!indexes) return; // indexes unknown: nothing to track
    if (s.index.name && indexes.some((i) => sameName(i.name, s.index.name))) {
      if (s.ifNotExists) return;
      this.fail(`index ${s.index.name} already exists`);
    }
    const { columns, ...rest } = s.index;
    indexes.push({ ...rest, ids: columns.map((c) => (c === '' ? -1 : this.idOf(c))) });
    this.nameNewIndexes();
  }

  /** ADD FOREIGN KEY: the index InnoDB adds unless one already leads with its columns. */
  private addForeignKey(s: Clause<'add-foreign-key'>): void {
    const indexes = this.indexes;
    if (!indexes) return;
    const names = (ids: number[]) => this.names(ids);
    const probe: TableSchema = {
      database: this.database,
      table: this.table,
      charset: this.charset,
      columns: [],
      primaryKey: names(this.pk),
      indexes: indexes.map((i) => ({ name: i.name, unique: i.unique, columns: names(i.ids), ...(i.kind ? { kind: i.kind } : {}) })),
    };
    const ids = s.index.columns.map((c) => this.idOf(c));
    addForeignKeyIndex(probe, { ...s.index, columns: names(ids) });
    if (probe.indexes!.length > indexes.length) indexes.push({ name: probe.indexes![probe.indexes!.length - 1].name, unique: false, ids });
  }

  private dropIndex(s: Clause<'drop-index'>): void {
    const indexes = this.indexes;
    if (!indexes) return;
    const k = indexes.findIndex((i) => sameName(i.name, s.name));
    if (k < 0) {
      if (s.ifExists) return;
      this.fail(`unknown index ${s.name}`);
    }
    indexes.splice(k, 1);
  }

  private renameIndex(s: Clause<'rename-index'>): void {
    const idx = this.indexes?.find((i) => sameName(i.name, s.oldName));
    if (idx) idx.name = s.newName;
    else if (this.indexes) this.fail(`unknown index ${s.oldName}`);
  }

  /** CONVERT TO CHARACTER SET: every character column and the table's default. */
  private convertCharset(s: Clause<'convert-charset'>): void {
    const cs = s.charset === 'default' ? this.charset : s.charset;
    if (!cs) return;
    for (const c of this.cols) if (hasCharset(c.def.type)) c.def = c.def.charset !== null ? convertColumn(c.def, cs) : { ...c.def, charset: cs };
    this.charset = cs;
  }

  private fail(msg: string): never {
    throw new My2pgError('UNSUPPORTED_DDL', `${this.old.database}.${this.old.table}: ${msg}; the known schema no longer matches the source`);
  }

  private idOf(name: string): number {
    const c = this.cols.filter((x) => sameName(x.def.name, name)).pop();
    if (!c) return this.fail(`unknown column ${name}`);
    return c.id;
  }

  /** A column of the original table, by its original name, unless dropped. */
  private original(name: string): Col | undefined {
    return this.cols.find((c) => c.origin !== null && sameName(c.origin, name));
  }

  private byName(name: string): Col | undefined {
    return this.cols.filter((c) => sameName(c.def.name, name)).pop();
  }

  /** The column a DROP/MODIFY/CHANGE/RENAME names (original name first); null if absent under IF EXISTS. */
  private named(name: string, ifExists: boolean): Col | null {
    const col = this.original(name) ?? this.byName(name);
    if (col || ifExists) return col ?? null;
    return this.fail(`unknown column ${name}`);
  }

  /** A new or redefined column: in its place, with the keys written on it; new indexes named. */
  private settle(col: Col, spec: ColumnSpec, position: ColumnPosition | undefined): void {
    this.place(col, position);
    this.inlineKeys(spec, col.id);
    this.nameNewIndexes();
  }

  /** A new or redefined column where FIRST/AFTER puts it (a new one without either goes last). */
  private place(col: Col, position: ColumnPosition | undefined): void {
    const cols = this.cols;
    const k = cols.indexOf(col);
    if (!position) {
      if (k < 0) cols.push(col);
      return;
    }
    if (k >= 0) cols.splice(k, 1);
    if (position.at === 'first') cols.unshift(col);
    else {
      const after = this.byName(position.column);
      if (!after) return this.fail(`AFTER names unknown column ${position.column}`);
      cols.splice(cols.indexOf(after) + 1, 0, col);
    }
  }

  /** A column definition of a clause; a character column without a charset of its own takes the table's. */
  private newDef(spec: ColumnSpec, name: string): ColumnDef {
    const c = { ...spec.def, name, values: spec.def.values ? [...spec.def.values] : null };
    if (!spec.explicitCharset && hasCharset(c.type)) c.charset = this.charset;
    return c;
  }

  /** PRIMARY KEY or UNIQUE written on the column itself. */
  private inlineKeys(spec: ColumnSpec, id: number): void {
    if (spec.inlinePrimaryKey) this.pk = [id];
    if (spec.inlineUnique && this.indexes) this.indexes.push({ name: '', unique: true, ids: [id] });
  }

  private names(ids: number[]): string[] {
    return ids.map((id) => (id < 0 ? '' : this.cols.find((c) => c.id === id)?.def.name ?? ''));
  }

  /** Indexes added without a name get MySQL's (after their first column). */
  private nameNewIndexes(): void {
    const indexes = this.indexes;
    if (!indexes) return;
    const defs = indexes.map((i) => ({ name: i.name, unique: i.unique, columns: this.names(i.ids) }));
    nameIndexes(defs);
    defs.forEach((d, k) => (indexes[k].name = d.name));
  }
}

/** Bytes per character of the charsets whose TEXT columns CONVERT TO widens. */
const MAX_BYTES: Record<string, number> = { latin1: 1, ascii: 1, binary: 1, cp1251: 1, cp1250: 1, cp1252: 1, koi8r: 1, greek: 1, hebrew: 1, ucs2: 2, utf8: 3, utf8mb3: 3, utf8mb4: 4, utf16: 4, utf32: 4 };

/** CONVERT TO CHARACTER SET keeps a TEXT column's capacity in characters, so it may grow a size. */
function convertColumn(c: ColumnDef, cs: string): ColumnDef {
  const out = { ...c, charset: cs };
  const k = TEXT_SIZES.findIndex((t) => t.name === c.type);
  const from = MAX_BYTES[c.charset ?? ''];
  const to = MAX_BYTES[cs];
  if (k < 0 || !from || !to || to <= from) return out;
  const chars = TEXT_SIZES[k].maxBytes! / from;
  let j = k;
  while (j < TEXT_SIZES.length - 1 && chars * to > TEXT_SIZES[j].maxBytes!) j++;
  const { name, maxBytes } = TEXT_SIZES[j];
  return { ...out, type: name, columnType: name, length: maxBytes! };
}
