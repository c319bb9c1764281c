// MySQL schema changes → Postgres/Greenplum statements: CREATE TABLE with defaults and indexes,
// and ALTER/RENAME as the difference between a table's old and new definitions (docs/DDL.md).

import { createHash } from 'node:crypto';
import { My2pgError } from '../core/errors.js';
import { typeFamily } from '../core/mysql-types.js';
import type { ColumnDef, IndexDef, TableSchema } from '../core/table-schema.js';
import type { Dialect } from '../target/dialect.js';
import type { Naming } from '../target/naming.js';
import { qualify, quoteIdent } from '../target/quote.js';
import { evolveSchema, type ColumnRename, type SchemaChange } from './evolve.js';
import { parseDdl } from './parse.js';
import { usingExpression } from './pg-cast.js';
import { implicitDefault, pgDefault } from './pg-default.js';
import { overrideFor, type TypeOverrides } from './type-overrides.js';
import { mapColumnType } from './type-map.js';

export interface TranslateOptions {
  overrides?: TypeOverrides;
  /** Create, rebuild and drop secondary indexes (default true). Primary keys are always kept. */
  indexes?: boolean;
}

/** Statements to run in order, and what could not be expressed (defaults dropped, column order, …). */
export interface DdlTranslation {
  statements: string[];
  notes: string[];
}

const MAX_IDENT_BYTES = 63; // Postgres NAMEDATALEN - 1

/** The Postgres type of a column, and whether a type override chose it. */
export function pgColumnType(def: TableSchema, c: ColumnDef, overrides: TypeOverrides = {}): { type: string; overridden: boolean } {
  const o = overrideFor(overrides, def.database, def.table, c);
  return o !== undefined ? { type: o, overridden: true } : { type: mapColumnType(c), overridden: false };
}

/** The name Postgres gives a table's primary-key constraint: `<table>_pkey`, clipped to 63 bytes. */
export function pkConstraintName(pgTable: string): string {
  return clipBytes(pgTable, MAX_IDENT_BYTES - '_pkey'.length) + '_pkey';
}

/**
 * The Postgres name of a MySQL index (`<table>_<index>`, Postgres index names are per schema),
 * shortened with a hash when longer than 63 bytes.
 */
export function pgIndexName(pgTable: string, pgIndex: string): string {
  const full = `${pgTable}_${pgIndex}`;
  if (Buffer.byteLength(full) <= MAX_IDENT_BYTES) return full;
  return `${clipBytes(full, MAX_IDENT_BYTES - 9)}_${createHash('sha1').update(full).digest('hex').slice(0, 8)}`;
}

function clipBytes(s: string, max: number): string {
  let out = '';
  for (const ch of s) {
    if (Buffer.byteLength(out + ch) > max) break;
    out += ch;
  }
  return out;
}

// ---- CREATE TABLE ------------------------------------------------------------------------------

/**
 * CREATE TABLE IF NOT EXISTS for `def`, then its secondary indexes (unless options.indexes is
 * false). `keepExisting`: the table may already exist with its indexes (CREATE … IF NOT EXISTS,
 * snapshots); where the dialect has no CREATE INDEX IF NOT EXISTS the indexes are then skipped.
 * Throws My2pgError('UNSUPPORTED_DDL') for a column type without mapping or colliding names.
 */
export function translateCreateTable(def: TableSchema, dialect: Dialect, naming: Naming, options: TranslateOptions = {}, keepExisting = false): DdlTranslation {
  const notes: string[] = [];
  const names = naming.columns(`${def.database}.${def.table}`, def.columns.map((c) => c.name));
  const cols = def.columns.map((c, i) => {
    const { type, overridden } = pgColumnType(def, c, options.overrides);
    const d = pgDefault(c, type, overridden);
    if (d.note) notes.push(d.note);
    return `${quoteIdent(names[i])} ${type}${d.sql !== null ? ` DEFAULT ${d.sql}` : ''}${c.nullable ? '' : ' NOT NULL'}`;
  });
  const pk = def.primaryKey.map((p) => naming.name(p));
  if (pk.length > 0) cols.push(`PRIMARY KEY (${pk.map(quoteIdent).join(', ')})`);
  const table = qualify(naming.name(def.database), naming.name(def.table));
  const statements = [`CREATE TABLE IF NOT EXISTS ${table} (${cols.join(', ')})${dialect.tableSuffix(pk)}`];
  if (options.indexes !== false) {
    for (const idx of def.indexes ?? []) {
      if (keepExisting && !dialect.createIndexIfNotExists) {
        notes.push(`index ${idx.name}: not created, the table may already exist and ${dialect.name} has no CREATE INDEX IF NOT EXISTS`);
        continue;
      }
      const s = indexStatement(def, idx, dialect, naming);
      if (s.note) notes.push(s.note);
      if (s.sql) statements.push(s.sql);
    }
  }
  return { statements, notes };
}

/** MySQL types too wide for a Postgres B-tree entry (about 2.7 kB): indexes on them are skipped. */
function isWide(c: ColumnDef): boolean {
  const f = typeFamily(c.type);
  if (f === 'text' || f === 'blob' || f === 'json' || f === 'geometry') return true;
  return (f === 'char' || f === 'binary') && (c.length ?? 0) > 512;
}

/** CREATE INDEX for a MySQL secondary index, or why it has no Postgres counterpart. */
function indexStatement(def: TableSchema, idx: IndexDef, dialect: Dialect, naming: Naming): { sql: string | null; note?: string } {
  const skip = (why: string) => ({ sql: null, note: `index ${idx.name}: not created (${why})` });
  if (idx.kind) return skip(`${idx.kind.toUpperCase()} has no B-tree equivalent`);
  if (idx.columns.some((c) => c === '')) return skip('functional key parts are MySQL expressions');
  const cols: ColumnDef[] = [];
  for (const name of idx.columns) {
    const c = def.columns.find((x) => x.name.toLowerCase() === name.toLowerCase());
    if (!c) return skip(`unknown column ${name}`);
    if (isWide(c)) return skip(`column ${c.name} is too wide for a B-tree index`);
    cols.push(c);
  }
  const pgCols = cols.map((c) => naming.name(c.name));
  const pk = def.primaryKey.map((p) => naming.name(p));
  let unique = idx.unique;
  let note: string | undefined;
  if (unique && dialect.uniqueIndexNeedsDistributionKey && !(pk.length > 0 && pk.every((p) => pgCols.includes(p)))) {
    unique = false;
    note = `index ${idx.name}: created non-unique (a ${dialect.name} unique index must contain the distribution key)`;
  }
  const table = naming.name(def.table);
  const sql =
    `CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${dialect.createIndexIfNotExists ? 'IF NOT EXISTS ' : ''}` +
    `${quoteIdent(pgIndexName(table, naming.name(idx.name)))} ON ${qualify(naming.name(def.database), table)} (${pgCols.map(quoteIdent).join(', ')})`;
  return note ? { sql, note } : { sql };
}

// ---- ALTER TABLE / RENAME TABLE ---------------------------------------------------------------

/**
 * The statements that turn the replica table of `old` into the one of `def` (both MySQL-side
 * definitions, e.g. a table-alter event's `old` and `def`). `renames` says which columns of
 * `old` were renamed (CHANGE / RENAME COLUMN; evolveTable computes them); any other column of
 * `old` missing from `def` is dropped, any column of `def` not in `old` is added. A different
 * database/table name in `def` renames (and moves) the table first. Order: rename table, drop
 * changed indexes, drop the primary key if it changes, drop, rename, add, then alter columns
 * (type with USING, NOT NULL, DEFAULT), then the new primary key (Greenplum: redistributed
 * first) and indexes. Not idempotent: run it once, in one transaction with the offsets.
 */
export function translateTableAlter(
  old: TableSchema,
  def: TableSchema,
  renames: ColumnRename[],
  dialect: Dialect,
  naming: Naming,
  options: TranslateOptions = {},
): DdlTranslation {
  return new TableAlterTranslation(old, def, renames, dialect, naming, options).translate();
}

/** A column of `old` that lives on in `def`. */
interface Survivor {
  before: ColumnDef;
  after: ColumnDef;
}

/** How the primary key changes (names as in Postgres). */
interface KeyChange {
  oldPk: string[];
  newPk: string[];
  /** Greenplum: a distribution key column changes type or goes, so the table is redistributed. */
  distributionTouched: boolean;
  /** The primary key is dropped and added again. */
  rebuild: boolean;
}

/** The secondary indexes of `def` as statements, and which of them already exist (kept or renamed). */
interface IndexPlan {
  newIdx: IndexDef[];
  newSql: Map<IndexDef, { sql: string | null; note?: string }>;
  keptSql: Set<string>;
}

/** The steps of translateTableAlter, in the order their statements run. */
class TableAlterTranslation {
  private readonly statements: string[] = [];
  private readonly notes: string[] = [];
  private readonly schema: string;
  private readonly table: string;
  /** The replica table, qualified. */
  private readonly q: string;
  private readonly survivors: Survivor[] = [];
  private readonly dropped: ColumnDef[] = [];
  private readonly added: ColumnDef[];
  /** `old` as it will look once the table and its columns are renamed: the base for comparisons. */
  private readonly oldRenamed: TableSchema;

  constructor(
    private readonly old: TableSchema,
    private readonly def: TableSchema,
    renames: ColumnRename[],
    private readonly dialect: Dialect,
    private readonly naming: Naming,
    private readonly options: TranslateOptions,
  ) {
    naming.columns(`${def.database}.${def.table}`, def.columns.map((c) => c.name));
    this.schema = naming.name(def.database);
    this.table = naming.name(def.table);
    this.q = qualify(this.schema, this.table);

    // Columns of `old` that live on in `def`, under their new names.
    const renameOf = new Map(renames.map((r) => [r.from.toLowerCase(), r.to]));
    const newCol = (name: string) => def.columns.find((c) => c.name.toLowerCase() === name.toLowerCase());
    for (const c of old.columns) {
      const after = newCol(renameOf.get(c.name.toLowerCase()) ?? c.name);
      if (after) this.survivors.push({ before: c, after });
      else this.dropped.push(c);
    }
    this.added = def.columns.filter((c) => !this.survivors.some((s) => s.after === c));
    const toNew = (name: string) => {
      const s = this.survivors.find((x) => x.before.name.toLowerCase() === name.toLowerCase());
      return s ? s.after.name : null;
    };
    this.oldRenamed = {
      ...old,
      database: def.database,
      table: def.table,
      columns: old.columns.map((c) => ({ ...c, name: toNew(c.name) ?? c.name })),
      primaryKey: old.primaryKey.map((p) => toNew(p) ?? p),
      ...(old.indexes ? { indexes: old.indexes.map((i) => ({ ...i, columns: i.columns.map((c) => (c === '' ? '' : toNew(c) ?? `\u0000dropped`)) })) } : {}),
    };
  }

  translate(): DdlTranslation {
    // 1. rename / move the table, with its primary-key and index names
    renameTable(this.old, this.def, this.dialect, this.naming, this.options, this.statements);
    const key = this.keyChange();
    // 2. indexes that change or go away
    const indexes = this.dropChangedIndexes(key);
    // 3. the old primary key, when the key changes
    const randomly = this.dropPrimaryKey(key);
    // 4. dropped columns, 5. renamed columns, 6. added columns, 7. changed columns
    for (const c of this.dropped) this.alter(`DROP COLUMN ${quoteIdent(this.naming.name(c.name))}`);
    this.renameColumns();
    this.addColumns();
    this.changeColumns();
    this.noteColumnOrder();
    // 8. the new primary key (Greenplum: distributed by it first), 9. new and changed indexes
    this.addPrimaryKey(key, randomly);
    this.createIndexes(indexes);
    return { statements: this.statements, notes: this.notes };
  }

  private alter(clause: string): void {
    this.statements.push(`ALTER TABLE ${this.q} ${clause}`);
  }

  private typeOf(t: TableSchema, c: ColumnDef): { type: string; overridden: boolean } {
    return pgColumnType(t, c, this.options.overrides ?? {});
  }

  /** Whether the primary key changes; with types, to see which key columns change type (Greenplum cannot do that in place). */
  private keyChange(): KeyChange {
    const { old, def, naming } = this;
    const typeChanged = this.survivors.filter((s) => this.typeOf(old, s.before).type !== this.typeOf(def, s.after).type);
    const oldPk = this.oldRenamed.primaryKey.map((p) => naming.name(p));
    const newPk = def.primaryKey.map((p) => naming.name(p));
    const pkChanged = oldPk.join('\u0000') !== newPk.join('\u0000');
    const distributionTouched =
      this.dialect.distributionKeyTypeLocked &&
      (typeChanged.some((s) => old.primaryKey.some((p) => p.toLowerCase() === s.before.name.toLowerCase())) ||
        this.dropped.some((d) => old.primaryKey.some((p) => p.toLowerCase() === d.name.toLowerCase())));
    return { oldPk, newPk, distributionTouched, rebuild: pkChanged || distributionTouched };
  }

  /** Drops the indexes that change or go away; renames those that only get a new name (RENAME INDEX). */
  private dropChangedIndexes(key: KeyChange): IndexPlan {
    const { old, def, oldRenamed, schema, options } = this;
    const indexSql = (t: TableSchema, idx: IndexDef) => (idx.columns.includes('\u0000dropped') ? { sql: null } : indexStatement(t, idx, this.dialect, this.naming));
    const oldIdx = options.indexes === false || !old.indexes || !def.indexes ? [] : oldRenamed.indexes ?? [];
    const newIdx = options.indexes === false || !old.indexes || !def.indexes ? [] : def.indexes;
    const oldSql = new Map(oldIdx.map((i) => [i, indexSql(oldRenamed, i).sql]));
    const newSql = new Map(newIdx.map((i) => [i, indexSql(def, i)]));
    // Greenplum cannot redistribute randomly while a unique index exists: rebuild those too.
    const rebuild = (sql: string) => key.distributionTouched && sql.startsWith('CREATE UNIQUE');
    const keptSql = new Set<string>();
    const pgName = (i: IndexDef) => pgIndexName(this.table, this.naming.name(i.name));
    /** The CREATE INDEX statement without the index name: equal shapes differ only by name. */
    const shape = (i: IndexDef, sql: string) => sql.replace(` ${quoteIdent(pgName(i))} ON `, ' ON ');
    for (const [i, sql] of oldSql) {
      if (sql === null) continue;
      if (newIdx.some((n) => newSql.get(n)!.sql === sql) && !rebuild(sql)) {
        keptSql.add(sql);
        continue;
      }
      // RENAME INDEX: same definition under a new name
      const renamed = newIdx.find((n) => {
        const ns = newSql.get(n)!.sql;
        return ns !== null && !keptSql.has(ns) && !oldIdx.some((o) => o.name.toLowerCase() === n.name.toLowerCase()) && shape(n, ns) === shape(i, sql) && !rebuild(sql);
      });
      if (renamed) {
        this.statements.push(`ALTER INDEX IF EXISTS ${qualify(schema, pgName(i))} RENAME TO ${quoteIdent(pgName(renamed))}`);
        keptSql.add(newSql.get(renamed)!.sql!);
      } else {
        this.statements.push(`DROP INDEX IF EXISTS ${qualify(schema, pgName(i))}`);
      }
    }
    return { newIdx, newSql, keptSql };
  }

  /** Drops the primary key when it changes; true when the table was left distributed randomly (Greenplum). */
  private dropPrimaryKey(key: KeyChange): boolean {
    if (key.rebuild && key.oldPk.length > 0) this.alter(`DROP CONSTRAINT ${quoteIdent(pkConstraintName(this.table))}`);
    if (key.rebuild && key.distributionTouched) {
      const clause = this.dialect.setDistribution([]);
      if (clause) {
        this.alter(clause);
        return true;
      }
    }
    return false;
  }

  /** Renamed columns, via temporary names when names are swapped. */
  private renameColumns(): void {
    const naming = this.naming;
    const moves = this.survivors
      .map((s) => ({ from: naming.name(s.before.name), to: naming.name(s.after.name) }))
      .filter((m) => m.from !== m.to);
    const taken = new Set(this.survivors.map((s) => naming.name(s.before.name)));
    if (moves.some((m) => taken.has(m.to))) {
      moves.forEach((m, k) => this.alter(`RENAME COLUMN ${quoteIdent(m.from)} TO ${quoteIdent(`_my2pg_tmp_${k}`)}`));
      moves.forEach((m, k) => this.alter(`RENAME COLUMN ${quoteIdent(`_my2pg_tmp_${k}`)} TO ${quoteIdent(m.to)}`));
    } else {
      for (const m of moves) this.alter(`RENAME COLUMN ${quoteIdent(m.from)} TO ${quoteIdent(m.to)}`);
    }
  }

  /** Added columns, at the end; existing rows of a NOT NULL column get the type's implicit value. */
  private addColumns(): void {
    const { def, notes } = this;
    const lastSurvivor = Math.max(-1, ...this.survivors.map((s) => def.columns.indexOf(s.after)));
    for (const c of this.added) {
      const { type, overridden } = this.typeOf(def, c);
      const name = quoteIdent(this.naming.name(c.name));
      const d = pgDefault(c, type, overridden);
      if (d.note) notes.push(d.note);
      const withDefault = d.sql !== null ? ` DEFAULT ${d.sql}` : '';
      const fill = !c.nullable && d.sql === null ? implicitDefault(c, type, overridden) : null;
      if (fill !== null) {
        // MySQL gives existing rows the type's implicit value; Postgres needs it as a default.
        this.alter(`ADD COLUMN ${name} ${type} DEFAULT ${fill} NOT NULL`);
        this.alter(`ALTER COLUMN ${name} DROP DEFAULT`);
      } else {
        this.alter(`ADD COLUMN ${name} ${type}${withDefault}${c.nullable ? '' : ' NOT NULL'}`);
      }
      if (c.autoIncrement) notes.push(`column ${c.name}: MySQL numbered existing rows itself (AUTO_INCREMENT); they get ${fill ?? 'no value'} here until bootstrapped again`);
      else if (fill !== null && d.note) notes.push(`column ${c.name}: existing rows get ${fill}, not MySQL's computed default`);
      if (def.columns.indexOf(c) < lastSurvivor) notes.push(`column ${c.name}: appended at the end in Postgres (MySQL position ${def.columns.indexOf(c) + 1})`);
    }
  }

  /** Changed columns: type (with USING), NOT NULL, DEFAULT. */
  private changeColumns(): void {
    const { old, def, notes } = this;
    for (const s of this.survivors) {
      const name = quoteIdent(this.naming.name(s.after.name));
      const before = this.typeOf(old, s.before);
      const after = this.typeOf(def, s.after);
      const oldDefault = pgDefault(s.before, before.type, before.overridden);
      const newDefault = pgDefault(s.after, after.type, after.overridden);
      const retyped = before.type !== after.type;
      if (retyped) {
        if (oldDefault.sql !== null) this.alter(`ALTER COLUMN ${name} DROP DEFAULT`);
        this.alter(`ALTER COLUMN ${name} TYPE ${after.type} USING ${usingExpression(name, before.type, after.type, { from: s.before.values, to: s.after.values })}`);
        if (before.type.startsWith('timestamp') && after.type.startsWith('timestamp') && before.type.endsWith('with time zone') !== after.type.endsWith('with time zone')) {
          notes.push(`column ${s.after.name}: DATETIME/TIMESTAMP conversion used the Postgres session time zone`);
        }
      }
      if (s.before.nullable && !s.after.nullable) {
        const fill = implicitDefault(s.after, after.type, after.overridden);
        if (fill !== null) this.statements.push(`UPDATE ${this.q} SET ${name} = ${fill} WHERE ${name} IS NULL`);
        this.alter(`ALTER COLUMN ${name} SET NOT NULL`);
      } else if (!s.before.nullable && s.after.nullable) {
        this.alter(`ALTER COLUMN ${name} DROP NOT NULL`);
      }
      if (retyped ? newDefault.sql !== null : oldDefault.sql !== newDefault.sql) {
        this.alter(newDefault.sql !== null ? `ALTER COLUMN ${name} SET DEFAULT ${newDefault.sql}` : `ALTER COLUMN ${name} DROP DEFAULT`);
      }
      if (newDefault.note && (retyped || s.before.default !== s.after.default || s.before.defaultKind !== s.after.defaultKind)) notes.push(newDefault.note);
    }
  }

  /** FIRST/AFTER moved columns: Postgres keeps its order, which a note says. */
  private noteColumnOrder(): void {
    const order = (cols: string[]) => cols.filter((n) => this.survivors.some((s) => s.after.name === n)).join('\u0000');
    if (order(this.oldRenamed.columns.map((c) => c.name)) !== order(this.def.columns.map((c) => c.name))) {
      this.notes.push('column order changed in MySQL (FIRST/AFTER); Postgres keeps its order');
    }
  }

  /** The new primary key (Greenplum: distributed by it first). */
  private addPrimaryKey(key: KeyChange, randomly: boolean): void {
    if (!key.rebuild) return;
    const clause = this.dialect.setDistribution(key.newPk);
    if (clause && !(randomly && key.newPk.length === 0)) this.alter(clause);
    if (key.newPk.length > 0) this.alter(`ADD PRIMARY KEY (${key.newPk.map(quoteIdent).join(', ')})`);
  }

  /** The indexes of `def` that do not exist yet. */
  private createIndexes({ newIdx, newSql, keptSql }: IndexPlan): void {
    for (const i of newIdx) {
      const s = newSql.get(i)!;
      if (s.sql !== null && keptSql.has(s.sql)) continue;
      if (s.note) this.notes.push(s.note);
      if (s.sql !== null) this.statements.push(s.sql);
    }
  }
}

function renameTable(old: TableSchema, def: TableSchema, dialect: Dialect, naming: Naming, options: TranslateOptions, out: string[]): void {
  const fromSchema = naming.name(old.database);
  const fromTable = naming.name(old.table);
  const toSchema = naming.name(def.database);
  const toTable = naming.name(def.table);
  if (fromSchema === toSchema && fromTable === toTable) return;
  if (fromSchema === toSchema) {
    out.push(`ALTER TABLE ${qualify(fromSchema, fromTable)} RENAME TO ${quoteIdent(toTable)}`);
  } else {
    out.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(toSchema)}`);
    if (fromTable === toTable) {
      out.push(`ALTER TABLE ${qualify(fromSchema, fromTable)} SET SCHEMA ${quoteIdent(toSchema)}`);
    } else {
      // Through a temporary name: either final name may still be taken in the other schema.
      const tmp = `_my2pg_tmp_${createHash('sha1').update(`${fromSchema}.${fromTable}`).digest('hex').slice(0, 12)}`;
      out.push(`ALTER TABLE ${qualify(fromSchema, fromTable)} RENAME TO ${quoteIdent(tmp)}`);
      out.push(`ALTER TABLE ${qualify(fromSchema, tmp)} SET SCHEMA ${quoteIdent(toSchema)}`);
      out.push(`ALTER TABLE ${qualify(toSchema, tmp)} RENAME TO ${quoteIdent(toTable)}`);
    }
  }
  if (fromTable === toTable) return;
  // Postgres keeps index names on rename; ours are derived from the table name.
  if (old.primaryKey.length > 0) {
    out.push(`ALTER INDEX IF EXISTS ${qualify(toSchema, pkConstraintName(fromTable))} RENAME TO ${quoteIdent(pkConstraintName(toTable))}`);
  }
  if (options.indexes === false) return;
  for (const idx of old.indexes ?? []) {
    if (indexStatement(old, idx, dialect, naming).sql === null) continue;
    const name = naming.name(idx.name);
    out.push(`ALTER INDEX IF EXISTS ${qualify(toSchema, pgIndexName(fromTable, name))} RENAME TO ${quoteIdent(pgIndexName(toTable, name))}`);
  }
}

export { usingExpression } from './pg-cast.js';
