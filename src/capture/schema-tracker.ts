// The schema tracker: the MySQL-side definition of every included table as of the binlog
// position capture has read to, advanced by the DDL statements of the binlog itself (never by
// information_schema at DDL time, which is already ahead when capture lags).

import { createHash } from 'node:crypto';
import { My2pgError } from '../core/errors.js';
import type { DdlEventFields } from '../core/maxwell.js';
import type { SchemaRecord, TableSchema } from '../core/table-schema.js';
import { tableKey } from '../core/table-key.js';
import { classifyDdl } from '../ddl/classify.js';
import { evolveSchema, type SchemaChange } from '../ddl/evolve.js';
import type { DdlOperation, TableName } from '../ddl/operations.js';
import { hasCharset } from '../core/mysql-types.js';
import { parseDdl } from '../ddl/parse.js';
import type { TableFilter } from '../core/table-filter.js';


/** Reads a table's current definition from the source (only where the binlog cannot say). */
export type SourceReader = (database: string, table: string) => Promise<TableSchema | null>;

/** What one DDL statement did: the events to publish and the definitions to store. */
export interface TrackedStatement {
  events: DdlEventFields[];
  records: SchemaRecord[];
}

/**
 * The fingerprint of a statement for `ddl_skip`: `sha256:` and the first 16 hex digits of the
 * SHA-256 of the statement with runs of white space made one space, trimmed, without a
 * trailing `;`. Stable across servers and restarts; printed when capture stops on it.
 */
export function ddlFingerprint(sql: string): string {
  const normal = sql.replace(/\s+/g, ' ').trim().replace(/;$/, '').trim();
  return `sha256:${createHash('sha256').update(normal).digest('hex').slice(0, 16)}`;
}

/** What a table inherits its character set from: each database's default, and the server's. */
export interface CharsetDefaults {
  /** Default character set of each database (information_schema.SCHEMATA). */
  databases?: Iterable<[string, string]>;
  /** `@@character_set_server`: the default of a CREATE DATABASE that names none. */
  server?: string | null;
}

export class SchemaTracker {
  private schemas: Map<string, TableSchema>;
  private databaseCharsets: Map<string, string>;
  private readonly serverCharset: string | null;

  constructor(
    private readonly filter: TableFilter,
    initial: Iterable<TableSchema> = [],
    charsets: CharsetDefaults = {},
  ) {
    this.schemas = new Map([...initial].map((s) => [tableKey(s.database, s.table), s]));
    this.databaseCharsets = new Map(charsets.databases ?? []);
    this.serverCharset = charsets.server ?? null;
  }

  /** The default character set of a database, as of the position read to (undefined: unknown). */
  databaseCharset(database: string): string | undefined {
    return this.databaseCharsets.get(database);
  }

  get(database: string, table: string): TableSchema | undefined {
    return this.schemas.get(tableKey(database, table));
  }

  get size(): number {
    return this.schemas.size;
  }

  all(): TableSchema[] {
    return [...this.schemas.values()];
  }

  /** Starts tracking a table read from the source (first start, or a table that became included). */
  track(def: TableSchema): void {
    this.schemas.set(tableKey(def.database, def.table), def);
  }

  /**
   * Parses a statement of the binlog. Throws My2pgError('UNSUPPORTED_DDL') when it touches an
   * included table or database and cannot be parsed; returns `{op: 'ignored'}` for a statement
   * that cannot be parsed but only names objects outside the filter.
   */
  parse(sql: string, defaultDatabase: string): DdlOperation {
    try {
      return parseDdl(sql, defaultDatabase);
    } catch (err) {
      if (!this.concernsIncluded(sql, defaultDatabase)) return { op: 'ignored', reason: 'unparsed, outside the filter' };
      throw err;
    }
  }

  private concernsIncluded(sql: string, defaultDatabase: string): boolean {
    const s = classifyDdl(sql, defaultDatabase);
    const f = this.filter;
    switch (s.kind) {
      case 'ignored':
        return false;
      case 'database-create':
      case 'database-drop':
      case 'database-alter':
        return f.includesDatabase(s.database);
      case 'table-drop':
        return s.refs.some((r) => f.includesTable(r.database, r.table));
      case 'table-rename':
        return s.pairs.some(([a, b]) => f.includesTable(a.database, a.table) || f.includesTable(b.database, b.table));
      default:
        return f.includesTable(s.ref.database, s.ref.table);
    }
  }

  /**
   * Applies one parsed statement: the DDL events (Maxwell's shape, `old`/`def` from the tracked
   * definitions) and the changed definitions. `base` holds the fields every event of the
   * statement shares. The tracker changes only when the whole statement succeeded.
   */
  async apply(op: DdlOperation, base: Pick<DdlEventFields, 'ts' | 'sql' | 'position' | 'eventPosition' | 'gtid'>, read: SourceReader): Promise<TrackedStatement> {
    const f = this.filter;
    const included = (t: TableName) => f.includesTable(t.database, t.table);
    let schemas = new Map(this.schemas);
    const charsets = new Map(this.databaseCharsets);
    const events: DdlEventFields[] = [];
    const records = new Map<string, SchemaRecord>();
    const store = (database: string, table: string, def: TableSchema | null) => records.set(tableKey(database, table), { database, table, def });
    const evolve = (o: DdlOperation): SchemaChange[] => {
      const r = evolveSchema(o, schemas);
      schemas = r.schemas;
      return r.changes;
    };
    /** The definition with the character sets it inherits written out (tracked that way too). */
    const resolved = (def: TableSchema, createdIn = def.database): TableSchema => {
      const out = inheritCharsets(def, charsets.get(createdIn) ?? null);
      if (out !== def && schemas.get(tableKey(def.database, def.table)) === def) schemas.set(tableKey(def.database, def.table), out);
      return out;
    };
    const created = (table: TableSchema, keepExisting = false) => {
      const def = resolved(table);
      events.push({ ...base, type: 'table-create', database: def.database, table: def.table, def, keepExisting });
      store(def.database, def.table, def);
    };
    const dropped = (t: TableName) => {
      events.push({ ...base, type: 'table-drop', database: t.database, table: t.table });
      store(t.database, t.table, null);
    };
    /** An included table the tracker does not know (created while excluded): read it now. */
    const readInto = async (t: TableName): Promise<TableSchema | null> => {
      const def = await read(t.database, t.table);
      if (def) schemas.set(tableKey(t.database, t.table), def);
      return def;
    };
    /** One table-alter (any ALTER TABLE, or one pair of RENAME TABLE), with the filter applied to both names. */
    const altered = (ch: Extract<SchemaChange, { kind: 'alter-table' }>) => {
      const { renames } = ch;
      const old = inheritCharsets(ch.old, charsets.get(ch.old.database) ?? null);
      const renamed = old.database !== ch.def.database || old.table !== ch.def.table;
      if (renamed) store(old.database, old.table, null);
      if (!included(ch.def)) {
        // Moved out of the filter: the replica table goes, as if dropped.
        schemas.delete(tableKey(ch.def.database, ch.def.table));
        dropped(old);
        return;
      }
      // A table renamed into another database keeps the character set it had.
      const def = resolved(ch.def, ch.old.database);
      store(def.database, def.table, def);
      events.push({ ...base, type: 'table-alter', database: old.database, table: old.table, old, def, ...(renames.length > 0 ? { renames } : {}) });
    };

    switch (op.op) {
      case 'ignored':
        break;
      case 'create-database': {
        evolve(op);
        // IF NOT EXISTS of an existing database changes nothing; otherwise the statement's
        // character set, or the server's default.
        const kept = op.ifNotExists && !op.orReplace ? charsets.get(op.database) : undefined;
        const charset = kept ?? op.charset ?? this.serverCharset;
        if (charset !== null) charsets.set(op.database, charset);
        else charsets.delete(op.database);
        if (f.includesDatabase(op.database)) events.push({ ...base, type: 'database-create', database: op.database, charset });
        break;
      }
      case 'alter-database':
        evolve(op);
        if (op.charset !== null) charsets.set(op.database, op.charset);
        if (f.includesDatabase(op.database)) events.push({ ...base, type: 'database-alter', database: op.database, charset: op.charset });
        break;
      case 'drop-database': {
        const gone = [...schemas.values()].filter((s) => s.database === op.database);
        evolve(op);
        charsets.delete(op.database);
        for (const s of gone) store(s.database, s.table, null);
        if (f.includesDatabase(op.database)) events.push({ ...base, type: 'database-drop', database: op.database });
        break;
      }
      case 'create-table':
      case 'create-table-like':
      case 'create-table-select': {
        if (!included(op.table)) break;
        if (op.op === 'create-table-like' && !schemas.has(tableKey(op.like.database, op.like.table))) {
          // LIKE a table outside the filter: its definition now (the best the source can say).
          const like = await read(op.like.database, op.like.table);
          if (!like) throw new My2pgError('UNSUPPORTED_DDL', `CREATE TABLE … LIKE ${op.like.database}.${op.like.table}: that table is unknown`);
          schemas.set(tableKey(like.database, like.table), like);
          evolve(op);
          schemas.delete(tableKey(like.database, like.table));
        } else {
          evolve(op);
        }
        if (op.op === 'create-table-select') {
          // Only the server knows the query's columns (statement-based logging): read the table now.
          const def = await readInto(op.table);
          if (def) created(def, op.ifNotExists && !op.orReplace);
          break;
        }
        const def = schemas.get(tableKey(op.table.database, op.table.table));
        const before = this.schemas.get(tableKey(op.table.database, op.table.table));
        if (def && def !== before) created(def, op.ifNotExists && !op.orReplace);
        break;
      }
      case 'alter-table': {
        if (!included(op.table)) {
          // ALTER … RENAME of an excluded table into the filter: read what it became.
          const to = op.specs.find((s) => s.kind === 'rename-table');
          if (to && to.kind === 'rename-table' && included(to.to)) {
            const def = await readInto(to.to);
            if (def) created(def);
          }
          break;
        }
        for (const ch of evolve(op)) if (ch.kind === 'alter-table') altered(ch);
        break;
      }
      case 'rename-tables':
        for (const pair of op.pairs) {
          if (schemas.has(tableKey(pair.from.database, pair.from.table))) {
            for (const ch of evolve({ op: 'rename-tables', pairs: [pair] })) if (ch.kind === 'alter-table') altered(ch);
          } else if (included(pair.to)) {
            const def = await readInto(pair.to);
            if (def) created(def);
          }
        }
        break;
      case 'drop-tables': {
        const mine = op.tables.filter(included);
        if (mine.length === 0) break;
        evolve({ ...op, tables: mine });
        for (const t of mine) dropped(t);
        break;
      }
      case 'truncate-table':
        if (included(op.table)) events.push({ ...base, type: 'table-truncate', database: op.table.database, table: op.table.table });
        break;
    }
    for (const [k, s] of schemas) if (!f.includesTable(s.database, s.table)) schemas.delete(k);
    this.schemas = schemas;
    this.databaseCharsets = charsets;
    return { events, records: [...records.values()] };
  }
}

/**
 * A table as MySQL defines it after CREATE TABLE: without a DEFAULT CHARSET of its own it takes
 * its database's, and its character columns without one take the table's. Unchanged (the same
 * object) when there is nothing to fill in or no database default is known.
 */
export function inheritCharsets(def: TableSchema, databaseCharset: string | null): TableSchema {
  const charset = def.charset ?? databaseCharset;
  if (charset === null) return def;
  const inherits = (c: TableSchema['columns'][number]) => c.charset === null && hasCharset(c.type);
  if (charset === def.charset && !def.columns.some(inherits)) return def;
  return { ...def, charset, columns: def.columns.map((c) => (inherits(c) ? { ...c, charset } : c)) };
}
