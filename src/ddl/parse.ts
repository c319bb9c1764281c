// Parses one MySQL/MariaDB DDL statement into a typed operation (src/ddl/operations.ts).
// Hand-written over src/ddl/lexer.ts rather than node-sql-parser, whose MySQL/MariaDB grammar
// (5.4.0) rejects or misreads statements the binlog is full of: `ALTER COLUMN … SET DEFAULT`,
// `ADD (a INT, b INT)`, doubled backticks inside names, `'a''b'` defaults (docs/DDL.md).

import { My2pgError } from '../core/errors.js';
import { hasCharset, mysqlType, typeFamily } from '../core/mysql-types.js';
import type { ColumnDef, IndexDef, TableSchema } from '../core/table-schema.js';
import { lex, type Token } from './lexer.js';
import type { AlterSpec, ColumnPosition, ColumnSpec, DdlOperation, TableName } from './operations.js';

/**
 * Parses `sql` as written to the binlog (or in a dump, or a migration); `defaultDatabase` is
 * the event's default schema, used for unqualified table names. Returns `{op: 'ignored'}` for
 * statements that change no replicated table. Throws My2pgError('UNSUPPORTED_DDL') naming the
 * statement when it is a table or database change this parser cannot read.
 */
export function parseDdl(sql: string, defaultDatabase: string): DdlOperation {
  const p = new Parser(sql, defaultDatabase);
  try {
    return p.statement();
  } catch (err) {
    if (err instanceof My2pgError) throw err;
    throw new My2pgError('UNSUPPORTED_DDL', `cannot parse DDL (${(err as Error).message}): ${sql}`, { cause: err });
  }
}

class ParseFailure extends Error {}

/** Table options: `name [=] value`, in CREATE TABLE and as ALTER TABLE clauses. */
const TABLE_OPTIONS = new Set([
  'ENGINE', 'TYPE', 'ALGORITHM', 'LOCK', 'COMMENT', 'AUTO_INCREMENT', 'ROW_FORMAT', 'KEY_BLOCK_SIZE', 'AVG_ROW_LENGTH', 'MAX_ROWS',
  'MIN_ROWS', 'PACK_KEYS', 'CHECKSUM', 'TABLE_CHECKSUM', 'STATS_PERSISTENT', 'STATS_AUTO_RECALC', 'STATS_SAMPLE_PAGES', 'DELAY_KEY_WRITE',
  'INSERT_METHOD', 'COMPRESSION', 'ENCRYPTION', 'ENCRYPTION_KEY_ID', 'ENCRYPTED', 'TABLESPACE', 'PAGE_CHECKSUM', 'TRANSACTIONAL',
  'PAGE_COMPRESSED', 'PAGE_COMPRESSION_LEVEL', 'IETF_QUOTES', 'SECONDARY_ENGINE', 'UNION', 'DATA', 'INDEX', 'CONNECTION',
  'PASSWORD', 'STORAGE', 'ENGINE_ATTRIBUTE', 'SECONDARY_ENGINE_ATTRIBUTE', 'AUTOEXTEND_SIZE', 'START', 'DEFAULT', 'CHARACTER',
  'CHARSET', 'COLLATE', 'SEQUENCE',
]);

/** Words that start a table-level definition inside CREATE TABLE ( … ), not a column. */
const CONSTRAINT_WORDS = new Set(['CONSTRAINT', 'PRIMARY', 'INDEX', 'KEY', 'FULLTEXT', 'SPATIAL', 'UNIQUE', 'FOREIGN', 'CHECK']);

const IGNORED_HEADS: Record<string, string> = {
  GRANT: 'privileges', REVOKE: 'privileges', SET: 'session statement', FLUSH: 'maintenance', ANALYZE: 'maintenance',
  OPTIMIZE: 'maintenance', REPAIR: 'maintenance', CHECK: 'maintenance', CHECKSUM: 'maintenance', INSTALL: 'plugin',
  UNINSTALL: 'plugin', BEGIN: 'transaction control', COMMIT: 'transaction control', ROLLBACK: 'transaction control',
  SAVEPOINT: 'transaction control', XA: 'transaction control', LOCK: 'locking', UNLOCK: 'locking', USE: 'session statement',
  CALL: 'routine call', DO: 'expression', HANDLER: 'handler', RESET: 'maintenance', PURGE: 'maintenance', KILL: 'maintenance',
  SHUTDOWN: 'maintenance', BINLOG: 'binlog', SIGNAL: 'routine', RESIGNAL: 'routine', INSERT: 'DML', UPDATE: 'DML', DELETE: 'DML',
  REPLACE: 'DML', SELECT: 'query', LOAD: 'DML', START: 'transaction control', STOP: 'replication', CHANGE: 'replication',
  HELP: 'help', SHOW: 'query', DESCRIBE: 'query', DESC: 'query', EXPLAIN: 'query', CACHE: 'maintenance', PREPARE: 'prepared statement',
  EXECUTE: 'prepared statement', DEALLOCATE: 'prepared statement', BACKUP: 'backup',
};

/** Object kinds whose CREATE/DROP/ALTER changes no replicated table. */
const IGNORED_OBJECTS = new Set([
  'USER', 'ROLE', 'VIEW', 'TRIGGER', 'PROCEDURE', 'FUNCTION', 'EVENT', 'SERVER', 'TABLESPACE', 'LOGFILE', 'SPATIAL',
  'RESOURCE', 'SEQUENCE', 'PACKAGE', 'AGGREGATE', 'INSTANCE', 'UNDO', 'SYNONYM', 'DEFINER', 'ALGORITHM', 'SQL', 'PREPARE',
]);

class Parser {
  private readonly t: Token[];
  private i = 0;

  constructor(private readonly sql: string, private readonly db: string) {
    this.t = lex(sql);
  }

  // ---- token helpers -------------------------------------------------------------------------

  private peek(k = 0): Token {
    return this.t[Math.min(this.i + k, this.t.length - 1)];
  }
  private word(k = 0): string {
    const tok = this.peek(k);
    return tok.kind === 'word' ? tok.text.toUpperCase() : '';
  }
  private isWord(...words: string[]): boolean {
    return words.includes(this.word());
  }
  private eatWord(...words: string[]): boolean {
    if (!this.isWord(...words)) return false;
    this.i++;
    return true;
  }
  /** Eats a sequence of words only when all of them follow. */
  private eatWords(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) if (this.word(k) !== words[k]) return false;
    this.i += words.length;
    return true;
  }
  private expectWord(...words: string[]): string {
    const w = this.word();
    if (!words.includes(w)) this.fail(`expected ${words.join(' or ')}`);
    this.i++;
    return w;
  }
  private isOp(op: string, k = 0): boolean {
    const tok = this.peek(k);
    return tok.kind === 'op' && tok.text === op;
  }
  private eatOp(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.i++;
    return true;
  }
  private expectOp(op: string): void {
    if (!this.eatOp(op)) this.fail(`expected "${op}"`);
  }
  private atEnd(): boolean {
    return this.peek().kind === 'eof' || (this.isOp(';') && this.peek(1).kind === 'eof');
  }
  private fail(what: string): never {
    const tok = this.peek();
    const near = tok.kind === 'eof' ? 'end of statement' : `"${this.sql.slice(tok.start, tok.start + 30)}"`;
    throw new ParseFailure(`${what} near ${near}`);
  }

  /** An identifier: a bare word, a backtick name, or a double-quoted name (ANSI_QUOTES). */
  private ident(): string {
    const tok = this.peek();
    if (tok.kind === 'word' || tok.kind === 'ident' || (tok.kind === 'string' && tok.doubleQuoted)) {
      this.i++;
      return tok.text;
    }
    return this.fail('expected a name');
  }
  /** A charset or collation name: `utf8mb4`, `'utf8mb4_unicode_ci'` (Laravel quotes it). */
  private charsetName(): string {
    const tok = this.peek();
    if (tok.kind === 'string') {
      this.i++;
      return tok.text.toLowerCase();
    }
    return this.ident().toLowerCase();
  }
  private isIdent(k = 0): boolean {
    const tok = this.peek(k);
    return tok.kind === 'word' || tok.kind === 'ident' || (tok.kind === 'string' && tok.doubleQuoted === true);
  }

  private tableName(): TableName {
    const first = this.ident();
    if (this.isOp('.')) {
      this.i++;
      return { database: first, table: this.ident() };
    }
    return { database: this.db, table: first };
  }

  /** Skips `( … )` with nesting; the current token must be `(`. */
  private skipParens(): void {
    this.expectOp('(');
    let depth = 1;
    while (depth > 0) {
      const tok = this.peek();
      if (tok.kind === 'eof') this.fail('unbalanced parentheses');
      if (tok.kind === 'op' && tok.text === '(') depth++;
      if (tok.kind === 'op' && tok.text === ')') depth--;
      this.i++;
    }
  }

  /** Skips to the next `,` or `)` at this nesting level, or the end; returns the skipped text. */
  private skipItem(): string {
    const from = this.peek().start;
    while (!this.atEnd() && !this.isOp(',') && !this.isOp(')')) {
      if (this.isOp('(')) this.skipParens();
      else this.i++;
    }
    return this.sql.slice(from, this.peek().start).trim();
  }

  private ifNotExists(): boolean {
    return this.eatWords('IF', 'NOT', 'EXISTS');
  }
  private ifExists(): boolean {
    return this.eatWords('IF', 'EXISTS');
  }

  // ---- statements ----------------------------------------------------------------------------

  statement(): DdlOperation {
    const head = this.word();
    if (head === '') {
      if (this.peek().kind === 'eof') return { op: 'ignored', reason: 'empty statement (comments only)' };
      this.fail('expected a statement');
    }
    this.i++;
    switch (head) {
      case 'CREATE':
        return this.create();
      case 'DROP':
        return this.drop();
      case 'ALTER':
        return this.alter();
      case 'RENAME':
        return this.rename();
      case 'TRUNCATE':
        this.eatWord('TABLE');
        return this.finish({ op: 'truncate-table', table: this.tableName() });
    }
    // Every table or database change starts with one of the words above; anything else
    // (DML, session and maintenance statements, statements of newer servers) changes no table.
    const reason = IGNORED_HEADS[head] ?? 'not a schema change';
    return { op: 'ignored', reason: `${head}: ${reason}` };
  }

  private finish<T extends DdlOperation>(op: T): T {
    this.eatOp(';');
    if (this.peek().kind !== 'eof') this.fail('unexpected text after the statement');
    return op;
  }

  private create(): DdlOperation {
    const orReplace = this.eatWords('OR', 'REPLACE');
    // DEFINER=… / ALGORITHM=… / SQL SECURITY … come only before views, routines, triggers, events.
    if (this.isWord('DEFINER', 'ALGORITHM', 'SQL')) return { op: 'ignored', reason: 'CREATE view/routine/trigger/event' };
    if (this.eatWord('TEMPORARY')) return { op: 'ignored', reason: 'temporary table (never written as rows to the binlog)' };
    if (this.eatWord('DATABASE', 'SCHEMA')) {
      const ifNotExists = this.ifNotExists();
      const database = this.ident();
      return { op: 'create-database', database, ifNotExists, orReplace, charset: this.databaseCharset() };
    }
    if (this.eatWord('TABLE')) return this.createTable(orReplace);
    this.eatWord('ONLINE', 'OFFLINE');
    if (this.isWord('UNIQUE', 'FULLTEXT', 'SPATIAL', 'INDEX')) return this.createIndex();
    const w = this.word();
    if (IGNORED_OBJECTS.has(w)) return { op: 'ignored', reason: `CREATE ${w}` };
    return this.fail(`unknown CREATE ${w}`);
  }

  /**
   * The default character set the rest of a CREATE/ALTER DATABASE sets (`[DEFAULT] CHARACTER
   * SET x`, or the character set of `[DEFAULT] COLLATE y`), or null; other options are passed over.
   */
  private databaseCharset(): string | null {
    let charset: string | null = null;
    while (!this.atEnd()) {
      if (this.eatWords('CHARACTER', 'SET') || this.eatWord('CHARSET')) {
        this.eatOp('=');
        charset = this.charsetName();
      } else if (this.eatWord('COLLATE')) {
        this.eatOp('=');
        charset = charsetOfCollation(this.charsetName());
      } else {
        this.i++;
      }
    }
    return charset;
  }

  private skipRest(): void {
    while (!this.atEnd()) this.i++;
  }

  private createIndex(): DdlOperation {
    const kind = this.eatWord('FULLTEXT') ? 'fulltext' : this.eatWord('SPATIAL') ? 'spatial' : undefined;
    const unique = this.eatWord('UNIQUE');
    this.expectWord('INDEX');
    const ifNotExists = this.ifNotExists();
    const name = this.ident();
    if (this.eatWord('USING')) this.ident();
    this.expectWord('ON');
    const table = this.tableName();
    const index = this.keyParts(name, unique, kind);
    this.skipRest(); // index options, ALGORITHM=, LOCK=
    return { op: 'alter-table', table, specs: [{ kind: 'add-index', index, ifNotExists }] };
  }

  private createTable(orReplace: boolean): DdlOperation {
    const ifNotExists = this.ifNotExists();
    const table = this.tableName();
    if (this.eatWord('LIKE')) return this.finish({ op: 'create-table-like', table, like: this.tableName(), ifNotExists, orReplace });
    if (this.isOp('(') && this.word(1) === 'LIKE') {
      this.i += 2;
      const like = this.tableName();
      this.expectOp(')');
      return this.finish({ op: 'create-table-like', table, like, ifNotExists, orReplace });
    }
    const def: TableSchema = { database: table.database, table: table.table, charset: null, columns: [], primaryKey: [], indexes: [] };
    const specs: ColumnSpec[] = [];
    const foreignKeys: IndexDef[] = [];
    let select = false;
    if (this.isOp('(') && !['SELECT', 'WITH', 'VALUES', 'TABLE'].includes(this.word(1))) {
      this.i++;
      for (;;) {
        this.createDefinition(def, specs, foreignKeys);
        if (this.eatOp(')')) break;
        this.expectOp(',');
      }
    }
    // table options, partitioning, then possibly [IGNORE | REPLACE] [AS] SELECT …
    while (!this.atEnd()) {
      if (this.isWord('SELECT', 'AS', 'IGNORE', 'REPLACE', 'VALUES') || (this.isWord('WITH') && this.word(1) !== 'SYSTEM') || (this.isWord('TABLE') && !this.isOp('=', 1)) || (this.isOp('(') && ['SELECT', 'WITH', 'VALUES', 'TABLE'].includes(this.word(1)))) {
        select = true;
        this.skipRest();
        break;
      }
      if (this.isWord('PARTITION') && this.word(1) === 'BY') {
        this.skipPartitioning();
        continue;
      }
      const charset = this.tableOption();
      if (charset) def.charset = charset;
    }
    this.finishColumns(def, specs, foreignKeys);
    if (select) return { op: 'create-table-select', table, declared: def, ifNotExists, orReplace };
    return this.finish({ op: 'create-table', table, def, ifNotExists, orReplace });
  }

  /**
   * Reads one table option (`ENGINE=InnoDB`, `DEFAULT CHARSET=utf8mb4`, `COMMENT='x'`, …) and
   * returns the charset when it sets one. Options are separated by spaces or commas.
   */
  private tableOption(): string | null {
    this.eatOp(',');
    if (this.atEnd()) return null;
    this.eatWord('DEFAULT');
    if (this.eatWords('CHARACTER', 'SET') || this.eatWord('CHARSET')) {
      this.eatOp('=');
      return this.charsetName();
    }
    if (this.eatWord('COLLATE')) {
      this.eatOp('=');
      return charsetOfCollation(this.charsetName());
    }
    if (!this.isIdent()) this.fail('expected a table option');
    // name [=] value, where value is a word, string, number or ( list ); some names are two words.
    this.i++;
    if (this.isWords2()) this.i++;
    this.eatOp('=');
    if (this.isOp('(')) this.skipParens();
    else if (!this.atEnd() && !this.isOp(',')) this.i++;
    return null;
  }
  /** Two-word option names: `DATA DIRECTORY`, `INDEX DIRECTORY`, `WITH SYSTEM VERSIONING`. */
  private isWords2(): boolean {
    const prev = this.t[this.i - 1].text.toUpperCase();
    return (prev === 'DATA' || prev === 'INDEX') && this.isWord('DIRECTORY') || (prev === 'WITH' && this.isWord('SYSTEM')) || (prev === 'SYSTEM' && this.isWord('VERSIONING'));
  }

  private skipPartitioning(): void {
    // PARTITION BY … [PARTITIONS n] [SUBPARTITION BY …] [(partition definitions)]
    while (!this.atEnd()) {
      if (this.isOp('(')) {
        this.skipParens();
        if (this.peek(-1).text === ')' && !this.isWord('PARTITIONS', 'SUBPARTITION', 'SUBPARTITIONS')) {
          // the partition definition list ends the clause once no more keywords follow
          if (this.atEnd() || this.isWord('SELECT', 'AS', 'IGNORE', 'REPLACE')) return;
        }
        continue;
      }
      if (this.isWord('SELECT', 'AS', 'IGNORE', 'REPLACE') || this.isOp(',')) return;
      this.i++;
    }
  }

  private createDefinition(def: TableSchema, specs: ColumnSpec[], foreignKeys: IndexDef[]): void {
    const tok = this.peek();
    const w = tok.kind === 'word' ? tok.text.toUpperCase() : '';
    if (CONSTRAINT_WORDS.has(w) || (w === 'PERIOD' && this.word(1) === 'FOR')) {
      const spec = this.keyDefinition();
      if (spec.kind === 'add-primary-key') def.primaryKey = spec.columns;
      else if (spec.kind === 'add-index') def.indexes!.push(spec.index);
      else if (spec.kind === 'no-op' && 'fk' in spec && spec.fk) foreignKeys.push(spec.fk);
      return;
    }
    specs.push(this.columnSpec(this.ident()));
  }

  /**
   * PRIMARY KEY / UNIQUE / INDEX / FULLTEXT / FOREIGN KEY / CHECK, optionally after
   * CONSTRAINT [name]. Foreign keys come back as no-op with the implicit index InnoDB adds.
   */
  private keyDefinition(): AlterSpec | { kind: 'no-op'; text: string; fk?: IndexDef } {
    const from = this.peek().start;
    let symbol = '';
    if (this.eatWord('CONSTRAINT')) {
      if (!this.isWord('PRIMARY', 'UNIQUE', 'FOREIGN', 'CHECK')) symbol = this.ident();
    }
    if (this.eatWords('PRIMARY', 'KEY')) {
      this.indexType();
      const idx = this.keyParts('PRIMARY', true);
      this.skipItem();
      return { kind: 'add-primary-key', columns: idx.columns };
    }
    if (this.isWord('UNIQUE', 'INDEX', 'KEY', 'FULLTEXT', 'SPATIAL')) {
      const kind = this.eatWord('FULLTEXT') ? 'fulltext' : this.eatWord('SPATIAL') ? 'spatial' : undefined;
      const unique = this.eatWord('UNIQUE');
      this.eatWord('INDEX', 'KEY');
      const ifNotExists = this.ifNotExists();
      let name = symbol;
      if (!this.isOp('(') && !this.isWord('USING')) name = this.ident();
      this.indexType();
      const index = this.keyParts(name, unique, kind);
      this.skipItem();
      return { kind: 'add-index', index, ifNotExists };
    }
    if (this.eatWords('FOREIGN', 'KEY')) {
      this.ifNotExists();
      let name = symbol;
      if (!this.isOp('(')) name = this.ident();
      const idx = this.keyParts(name || symbol, false);
      this.skipItem();
      return { kind: 'no-op', text: this.sql.slice(from, this.peek().start).trim(), fk: idx };
    }
    if (this.isWord('CHECK', 'PERIOD')) return { kind: 'no-op', text: this.skipItem() };
    return this.fail('expected a key definition');
  }

  private indexType(): void {
    if (this.eatWord('USING', 'TYPE')) this.ident();
  }

  /** `(col [(len)] [ASC|DESC], (expr), …)` */
  private keyParts(name: string, unique: boolean, kind?: 'fulltext' | 'spatial'): IndexDef {
    this.expectOp('(');
    const columns: string[] = [];
    const prefixLengths: Array<number | null> = [];
    for (;;) {
      if (this.isOp('(')) {
        this.skipParens(); // functional key part (MySQL 8.0.13+)
        columns.push('');
        prefixLengths.push(null);
      } else {
        columns.push(this.ident());
        let len: number | null = null;
        if (this.eatOp('(')) {
          len = Number(this.peek().text);
          this.i++;
          this.expectOp(')');
        }
        prefixLengths.push(len);
      }
      this.eatWord('ASC', 'DESC');
      if (this.eatOp(')')) break;
      this.expectOp(',');
    }
    const index: IndexDef = { name, unique, columns };
    if (prefixLengths.some((l) => l !== null)) index.prefixLengths = prefixLengths;
    if (kind) index.kind = kind;
    return index;
  }

  /** Resolves charsets, inline keys and InnoDB's implicit foreign-key indexes of a new table. */
  private finishColumns(def: TableSchema, specs: ColumnSpec[], foreignKeys: IndexDef[]): void {
    for (const s of specs) {
      const c = s.def;
      if (!s.explicitCharset && hasCharset(c.type)) c.charset = def.charset;
      def.columns.push(c);
      if (s.inlinePrimaryKey) def.primaryKey = [c.name];
    }
    for (const s of specs) {
      if (s.inlineUnique) def.indexes!.push({ name: '', unique: true, columns: [s.def.name] });
    }
    for (const pk of def.primaryKey) {
      const c = def.columns.find((x) => sameName(x.name, pk));
      if (c) c.nullable = false;
    }
    nameIndexes(def.indexes!);
    for (const fk of foreignKeys) addForeignKeyIndex(def, fk);
  }

  // ---- columns -------------------------------------------------------------------------------

  /** A column definition after its name: data type, then attributes in any order. */
  columnSpec(name: string): ColumnSpec {
    const c = this.dataType(name);
    const spec: ColumnSpec = { def: c, explicitNullability: false, explicitCharset: c.charset !== null, inlinePrimaryKey: false, inlineUnique: false };
    for (;;) {
      if (this.atEnd() || this.isOp(',') || this.isOp(')') || this.isWord('FIRST', 'AFTER') || (this.isWord('PARTITION') && this.word(1) === 'BY')) break;
      if (this.eatWords('NOT', 'NULL')) {
        c.nullable = false;
        spec.explicitNullability = true;
      } else if (this.eatWord('NULL')) {
        c.nullable = true;
        spec.explicitNullability = true;
      } else if (this.eatWord('DEFAULT')) {
        const [value, kind] = this.defaultValue(c);
        c.default = value;
        if (value === null) delete c.defaultKind;
        else c.defaultKind = kind;
      } else if (this.eatWord('AUTO_INCREMENT')) {
        c.autoIncrement = true;
      } else if (this.eatWords('SERIAL', 'DEFAULT', 'VALUE')) {
        c.autoIncrement = true;
        c.nullable = false;
        spec.inlineUnique = true;
      } else if (this.eatWord('UNIQUE')) {
        this.eatWord('KEY');
        spec.inlineUnique = true;
      } else if (this.eatWords('PRIMARY', 'KEY') || this.eatWord('KEY')) {
        spec.inlinePrimaryKey = true;
      } else if (this.eatWords('ON', 'UPDATE')) {
        this.expression();
      } else if (this.eatWord('COMMENT')) {
        this.stringValue();
      } else if (this.eatWords('CHARACTER', 'SET') || this.eatWord('CHARSET')) {
        this.eatOp('=');
        c.charset = this.charsetName();
        spec.explicitCharset = true;
        applyBinaryCharset(c);
      } else if (this.eatWord('COLLATE')) {
        this.eatOp('=');
        const cs = charsetOfCollation(this.charsetName());
        if (c.charset === null && cs && hasCharset(c.type)) {
          c.charset = cs;
          spec.explicitCharset = true;
        }
      } else if (this.eatWords('GENERATED', 'ALWAYS') || this.isWord('AS')) {
        if (this.eatWords('AS', 'IDENTITY')) continue;
        this.expectWord('AS');
        if (this.isOp('(')) this.skipParens();
        else this.expression();
      } else if (this.eatWord('VIRTUAL', 'STORED', 'PERSISTENT', 'VISIBLE', 'INVISIBLE', 'COMPRESSED', 'BINARY', 'ASCII', 'UNICODE', 'BYTE', 'SIGNED', 'UNSIGNED', 'ZEROFILL')) {
        // storage and visibility details; UNSIGNED here only when written after other attributes
        const prev = this.t[this.i - 1].text.toUpperCase();
        if (prev === 'UNSIGNED' || prev === 'ZEROFILL') markUnsigned(c, prev === 'ZEROFILL');
      } else if (this.eatWord('COLUMN_FORMAT', 'STORAGE')) {
        this.i++;
      } else if (this.eatWord('ENGINE_ATTRIBUTE', 'SECONDARY_ENGINE_ATTRIBUTE')) {
        this.eatOp('=');
        this.i++;
      } else if (this.eatWord('REFERENCES')) {
        this.tableName();
        if (this.isOp('(')) this.skipParens();
        while (this.isWord('MATCH', 'ON')) {
          if (this.eatWord('MATCH')) this.i++;
          else {
            this.i += 2; // ON DELETE|UPDATE
            if (!this.eatWords('SET', 'NULL') && !this.eatWords('SET', 'DEFAULT') && !this.eatWords('NO', 'ACTION')) this.i++;
          }
        }
      } else if (this.eatWord('CONSTRAINT')) {
        if (!this.isWord('CHECK')) this.ident();
      } else if (this.eatWord('CHECK')) {
        // MariaDB's JSON is LONGTEXT CHECK (json_valid(`col`)): JSON to us, as in schema-reader.ts
        const from = this.peek().start;
        this.skipParens();
        const check = lex(this.sql.slice(from, this.t[this.i - 1].end));
        if (check.length === 7 && check[1].text.toLowerCase() === 'json_valid' && sameName(check[3].text, name) && c.type === 'longtext') {
          Object.assign(c, { type: 'json', columnType: 'json', charset: null, length: null });
          spec.explicitCharset = true;
        }
        this.eatWords('NOT', 'ENFORCED') || this.eatWord('ENFORCED');
      } else if (this.eatWords('WITH', 'SYSTEM', 'VERSIONING') || this.eatWords('WITHOUT', 'SYSTEM', 'VERSIONING')) {
        // MariaDB system versioning: not replicated
      } else if (this.eatWord('SRID')) {
        this.i++;
      } else {
        this.fail(`unknown column attribute in ${name}`);
      }
    }
    return spec;
  }

  private stringValue(): string {
    const tok = this.peek();
    if (tok.kind !== 'string') this.fail('expected a string');
    let s = '';
    while (this.peek().kind === 'string') s += this.t[this.i++].text; // 'a' 'b' concatenates
    return s;
  }

  /** Skips one expression: a word/literal with optional call parentheses, or ( … ). */
  private expression(): string {
    const from = this.peek().start;
    if (this.isOp('(')) this.skipParens();
    else {
      this.i++;
      if (this.isOp('(')) this.skipParens();
    }
    return this.sql.slice(from, this.t[this.i - 1].end);
  }

  /** DEFAULT's value in information_schema's form: literals unquoted, expressions as text. */
  private defaultValue(c: ColumnDef): [string | null, 'literal' | 'expression'] {
    const tok = this.peek();
    if (tok.kind === 'op' && tok.text === '(') {
      const text = this.expression();
      const inner = text.slice(1, -1).trim();
      const lit = literalOf(inner, c);
      // information_schema shows `DEFAULT (uuid())` as uuid()
      return lit === undefined ? [inner, 'expression'] : [lit, 'literal'];
    }
    if (this.eatWord('NULL')) return [null, 'literal'];
    if (tok.kind === 'string') {
      return [normaliseLiteral(this.stringValue(), c), 'literal'];
    }
    if (tok.kind === 'op' && (tok.text === '-' || tok.text === '+') && this.peek(1).kind === 'number') {
      this.i += 2;
      return [normaliseLiteral((tok.text === '-' ? '-' : '') + this.t[this.i - 1].text, c), 'literal'];
    }
    if (tok.kind === 'number') {
      this.i++;
      return [normaliseLiteral(tok.text, c), 'literal'];
    }
    if (tok.kind === 'hex' || tok.kind === 'bit') {
      this.i++;
      const bits = tok.kind === 'bit' ? tok.text : BigInt('0x' + (tok.text || '0')).toString(2);
      if (c.type === 'bit' || !hasCharset(c.type)) return [c.type === 'bit' ? bitLiteral(bits) : BigInt('0b' + (bits || '0')).toString(), 'literal'];
      return [hexToText(tok.kind === 'hex' ? tok.text : BigInt('0b' + (bits || '0')).toString(16)), 'literal'];
    }
    if (this.eatWord('TRUE')) return [normaliseLiteral('1', c), 'literal'];
    if (this.eatWord('FALSE')) return [normaliseLiteral('0', c), 'literal'];
    if (this.isWord('DATE', 'TIME', 'TIMESTAMP') && this.peek(1).kind === 'string') {
      this.i++;
      return [this.stringValue(), 'literal'];
    }
    const w = this.word();
    if (/^(CURRENT_TIMESTAMP|NOW|LOCALTIME|LOCALTIMESTAMP)$/.test(w)) {
      this.i++;
      let fsp = '';
      if (this.eatOp('(')) {
        if (this.peek().kind === 'number') fsp = this.t[this.i++].text;
        this.expectOp(')');
      }
      return [fsp && fsp !== '0' ? `CURRENT_TIMESTAMP(${fsp})` : 'CURRENT_TIMESTAMP', 'expression'];
    }
    if (tok.kind === 'word') return [this.expression(), 'expression']; // MariaDB: DEFAULT uuid()
    return this.fail('expected a default value');
  }

  /** A data type with its modifiers (`bigint(20) unsigned`, `varchar(10) CHARACTER SET latin1`). */
  private dataType(name: string): ColumnDef {
    let raw = this.ident().toLowerCase();
    // multi-word spellings
    if (raw === 'double' && this.eatWord('PRECISION')) raw = 'double';
    else if (raw === 'national') raw = this.ident().toLowerCase() === 'varchar' ? 'varchar' : 'char';
    else if (raw === 'long') {
      if (this.eatWord('VARBINARY')) raw = 'mediumblob';
      else {
        this.eatWord('VARCHAR', 'CHARACTER', 'CHAR');
        raw = 'mediumtext';
      }
    }
    if ((raw === 'char' || raw === 'character' || raw === 'nchar') && this.eatWord('VARYING')) raw = 'varchar';
    if (raw === 'character' || raw === 'nchar') raw = 'char';
    const isBool = raw === 'bool' || raw === 'boolean';
    let type = mysqlType(raw)?.name ?? raw;
    const c: ColumnDef = { name, type, columnType: type, nullable: true, default: null, unsigned: false, charset: null, length: null, precision: null, scale: null, fsp: null, values: null };
    if (raw === 'serial') {
      Object.assign(c, { type: 'bigint', unsigned: true, nullable: false, autoIncrement: true, precision: 20, scale: 0, columnType: 'bigint unsigned' });
      return c; // the UNIQUE key SERIAL implies is added by the caller via inlineUnique
    }
    if (!mysqlType(type)) this.fail(`unknown data type ${raw}`);
    let args: string[] = [];
    let values: string[] | null = null;
    if (this.isOp('(')) {
      this.i++;
      if (type === 'enum' || type === 'set') {
        values = [];
        for (;;) {
          values.push(this.stringValue());
          if (this.eatOp(')')) break;
          this.expectOp(',');
        }
      } else {
        for (;;) {
          args.push(this.peek().text);
          this.i++;
          if (this.eatOp(')')) break;
          this.expectOp(',');
        }
      }
    }
    let unsigned = false;
    let zerofill = false;
    for (;;) {
      if (this.eatWord('UNSIGNED')) unsigned = true;
      else if (this.eatWord('ZEROFILL')) zerofill = unsigned = true;
      else if (!this.eatWord('SIGNED')) break;
    }
    if (type === 'float' && args.length === 1) {
      // FLOAT(p): single precision up to 24 bits, double above
      type = Number(args[0]) > 24 ? 'double' : 'float';
      args = [];
    }
    if (raw === 'char' && this.isWord('BYTE')) {
      this.i++;
      type = 'binary';
    }
    c.type = type;
    c.unsigned = unsigned;
    const width = args[0] !== undefined ? `(${args.join(',')})` : '';
    const sign = (unsigned ? ' unsigned' : '') + (zerofill ? ' zerofill' : '');
    const known = mysqlType(type)!;
    if (known.precision) {
      c.precision = known.precision[unsigned ? 1 : 0];
      c.scale = 0;
      c.columnType = `${type}${isBool ? '(1)' : width}${sign}`;
    } else if (type === 'decimal') {
      c.precision = args[0] !== undefined ? Number(args[0]) : 10;
      c.scale = args[1] !== undefined ? Number(args[1]) : 0;
      c.columnType = `decimal(${c.precision},${c.scale})${sign}`;
    } else if (type === 'float' || type === 'double') {
      c.precision = args[0] !== undefined ? Number(args[0]) : type === 'float' ? 12 : 22;
      c.scale = args[1] !== undefined ? Number(args[1]) : null;
      c.columnType = `${type}${args.length === 2 ? width : ''}${sign}`;
    } else if (type === 'bit') {
      c.length = args[0] !== undefined ? Number(args[0]) : 1;
      c.columnType = `bit(${c.length})`;
    } else if (type === 'char' || type === 'binary') {
      c.length = args[0] !== undefined ? Number(args[0]) : 1;
      c.columnType = `${type}(${c.length})`;
    } else if (type === 'varchar' || type === 'varbinary') {
      if (args[0] === undefined) this.fail(`${type} needs a length`);
      c.length = Number(args[0]);
      c.columnType = `${type}(${c.length})`;
    } else if (known.maxBytes !== undefined) {
      c.length = known.maxBytes;
      c.columnType = type;
    } else if (type === 'enum' || type === 'set') {
      c.values = values ?? [];
      c.length = type === 'enum' ? Math.max(0, ...c.values.map((v) => [...v].length)) : c.values.reduce((n, v) => n + [...v].length, 0) + Math.max(0, c.values.length - 1);
      c.columnType = `${type}(${c.values.map((v) => `'${v.replace(/'/g, "''")}'`).join(',')})`;
    } else if (type === 'datetime' || type === 'timestamp' || type === 'time') {
      c.fsp = args[0] !== undefined ? Number(args[0]) : 0;
      c.columnType = c.fsp > 0 ? `${type}(${c.fsp})` : type;
    } else if (type === 'year') {
      c.columnType = args[0] !== undefined ? `year(${args[0]})` : 'year';
    } else {
      c.columnType = type;
    }
    if (hasCharset(type)) {
      // CHARACTER SET / COLLATE / BINARY / ASCII / UNICODE directly after the type
      for (;;) {
        if (this.eatWords('CHARACTER', 'SET') || this.eatWord('CHARSET')) {
          this.eatOp('=');
          c.charset = this.charsetName();
          applyBinaryCharset(c);
        } else if (this.eatWord('ASCII')) {
          c.charset = 'latin1';
        } else if (this.eatWord('UNICODE')) {
          c.charset = 'ucs2';
        } else if (!this.eatWord('BINARY')) break;
      }
    }
    return c;
  }

  // ---- DROP / ALTER / RENAME -----------------------------------------------------------------

  private drop(): DdlOperation {
    if (this.eatWord('DATABASE', 'SCHEMA')) {
      const ifExists = this.ifExists();
      return this.finish({ op: 'drop-database', database: this.ident(), ifExists });
    }
    if (this.eatWord('TEMPORARY')) return { op: 'ignored', reason: 'temporary table' };
    if (this.eatWord('TABLE', 'TABLES')) {
      const ifExists = this.ifExists();
      const tables = [this.tableName()];
      while (this.eatOp(',')) tables.push(this.tableName());
      this.eatWord('RESTRICT', 'CASCADE');
      return this.finish({ op: 'drop-tables', tables, ifExists });
    }
    this.eatWord('ONLINE', 'OFFLINE');
    if (this.eatWord('INDEX')) {
      const ifExists = this.ifExists();
      const name = this.ident();
      this.expectWord('ON');
      const table = this.tableName();
      this.skipRest(); // ALGORITHM=, LOCK=
      const spec: AlterSpec = sameName(name, 'PRIMARY') ? { kind: 'drop-primary-key' } : { kind: 'drop-index', name, ifExists };
      return { op: 'alter-table', table, specs: [spec] };
    }
    const w = this.word();
    if (IGNORED_OBJECTS.has(w) || w === 'PREPARE') return { op: 'ignored', reason: `DROP ${w}` };
    return this.fail(`unknown DROP ${w}`);
  }

  private alter(): DdlOperation {
    this.eatWord('ONLINE', 'OFFLINE');
    this.eatWord('IGNORE');
    if (this.eatWord('DATABASE', 'SCHEMA')) {
      const named = this.isIdent() && (this.peek().kind !== 'word' || !['CHARACTER', 'CHARSET', 'COLLATE', 'DEFAULT', 'UPGRADE', 'READ', 'COMMENT', 'ENCRYPTION'].includes(this.word()));
      const database = named ? this.ident() : this.db;
      return { op: 'alter-database', database, charset: this.databaseCharset() };
    }
    if (this.eatWord('TABLE')) {
      this.ifExists();
      const table = this.tableName();
      const specs: AlterSpec[] = [];
      while (!this.atEnd()) {
        specs.push(...this.alterSpec());
        // table options and partition clauses may follow one another without a comma
        if (!this.eatOp(',') && !this.atEnd() && this.peek().kind !== 'word') this.fail('expected "," between ALTER TABLE clauses');
      }
      this.eatOp(';');
      return { op: 'alter-table', table, specs };
    }
    const w = this.word();
    if (IGNORED_OBJECTS.has(w)) return { op: 'ignored', reason: `ALTER ${w}` };
    return this.fail(`unknown ALTER ${w}`);
  }

  private position(): ColumnPosition | undefined {
    if (this.eatWord('FIRST')) return { at: 'first' };
    if (this.eatWord('AFTER')) return { at: 'after', column: this.ident() };
    return undefined;
  }

  private alterSpec(): AlterSpec[] {
    const from = this.peek().start;
    const noop = (): AlterSpec[] => {
      this.skipItem();
      return [{ kind: 'no-op', text: this.sql.slice(from, this.peek().start).trim() }];
    };
    if (this.eatWord('ADD')) {
      if (this.isWord('CONSTRAINT', 'PRIMARY', 'UNIQUE', 'INDEX', 'KEY', 'FULLTEXT', 'SPATIAL', 'FOREIGN', 'CHECK', 'PERIOD') && !(this.word() === 'PERIOD' && this.word(1) !== 'FOR')) {
        const spec = this.keyDefinition();
        if (spec.kind === 'no-op' && 'fk' in spec && spec.fk) return [{ kind: 'add-foreign-key', index: spec.fk }];
        return [spec.kind === 'no-op' ? { kind: 'no-op', text: spec.text } : spec];
      }
      if (this.isWord('PARTITION')) return noop();
      this.eatWord('COLUMN');
      const ifNotExists = this.ifNotExists();
      if (this.eatOp('(')) {
        const out: AlterSpec[] = [];
        for (;;) {
          if (this.isWord('CONSTRAINT', 'PRIMARY', 'UNIQUE', 'INDEX', 'KEY', 'FULLTEXT', 'SPATIAL', 'FOREIGN', 'CHECK')) {
            const spec = this.keyDefinition();
            out.push(spec.kind === 'no-op' ? { kind: 'no-op', text: spec.text } : spec);
          } else {
            out.push({ kind: 'add-column', column: this.columnSpec(this.ident()), ifNotExists });
          }
          if (this.eatOp(')')) break;
          this.expectOp(',');
        }
        return out;
      }
      const column = this.columnSpec(this.ident());
      const position = this.position();
      return [{ kind: 'add-column', column, ifNotExists, ...(position ? { position } : {}) }];
    }
    if (this.eatWord('DROP')) {
      if (this.eatWords('PRIMARY', 'KEY')) return [{ kind: 'drop-primary-key' }];
      if (this.eatWord('INDEX', 'KEY')) {
        const ifExists = this.ifExists();
        const name = this.ident();
        return [sameName(name, 'PRIMARY') ? { kind: 'drop-primary-key' } : { kind: 'drop-index', name, ifExists }];
      }
      if (this.isWord('FOREIGN', 'CHECK', 'CONSTRAINT', 'PARTITION', 'SYSTEM')) {
        // A foreign key's implicit index stays in MySQL; checks and partitions are not replicated.
        return noop();
      }
      this.eatWord('COLUMN');
      const ifExists = this.ifExists();
      const name = this.ident();
      this.eatWord('RESTRICT', 'CASCADE');
      return [{ kind: 'drop-column', name, ifExists }];
    }
    if (this.eatWord('MODIFY')) {
      this.eatWord('COLUMN');
      const ifExists = this.ifExists();
      const column = this.columnSpec(this.ident());
      const position = this.position();
      return [{ kind: 'modify-column', column, ifExists, ...(position ? { position } : {}) }];
    }
    if (this.eatWord('CHANGE')) {
      this.eatWord('COLUMN');
      const ifExists = this.ifExists();
      const oldName = this.ident();
      const column = this.columnSpec(this.ident());
      const position = this.position();
      return [{ kind: 'change-column', oldName, column, ifExists, ...(position ? { position } : {}) }];
    }
    if (this.eatWord('ALTER')) {
      if (this.isWord('INDEX', 'KEY', 'CHECK', 'CONSTRAINT')) return noop(); // visibility, enforcement
      this.eatWord('COLUMN');
      this.ifExists();
      const column = this.ident();
      if (this.eatWords('SET', 'DEFAULT')) {
        const probe: ColumnDef = { name: column, type: 'varchar', columnType: '', nullable: true, default: null, unsigned: false, charset: null, length: null, precision: null, scale: null, fsp: null, values: null };
        const [value, valueKind] = this.defaultValue(probe);
        if (value === null) return [{ kind: 'set-default', column, value: 'NULL', valueKind: 'expression' }];
        return [{ kind: 'set-default', column, value, valueKind }];
      }
      if (this.eatWords('DROP', 'DEFAULT')) return [{ kind: 'drop-default', column }];
      if (this.eatWord('SET', 'DROP')) return noop(); // SET VISIBLE / INVISIBLE
      return this.fail('expected SET DEFAULT or DROP DEFAULT');
    }
    if (this.eatWord('RENAME')) {
      if (this.eatWord('COLUMN')) {
        const ifExists = this.ifExists();
        const oldName = this.ident();
        this.expectWord('TO');
        return [{ kind: 'rename-column', oldName, newName: this.ident(), ifExists }];
      }
      if (this.eatWord('INDEX', 'KEY')) {
        const oldName = this.ident();
        this.expectWord('TO');
        return [{ kind: 'rename-index', oldName, newName: this.ident() }];
      }
      this.eatWord('TO', 'AS');
      return [{ kind: 'rename-table', to: this.tableName() }];
    }
    if (this.eatWord('CONVERT')) {
      this.expectWord('TO');
      if (!this.eatWords('CHARACTER', 'SET')) this.expectWord('CHARSET');
      this.eatOp('=');
      const charset = this.charsetName();
      this.skipItem(); // COLLATE …
      return [{ kind: 'convert-charset', charset }];
    }
    if (this.isWord('DEFAULT', 'CHARACTER', 'CHARSET', 'COLLATE')) {
      const cs = this.tableOption();
      return cs ? [{ kind: 'default-charset', charset: cs }] : [{ kind: 'no-op', text: this.sql.slice(from, this.t[this.i - 1].end).trim() }];
    }
    if (this.isWord('PARTITION') && this.word(1) === 'BY') {
      this.skipPartitioning();
      return [{ kind: 'no-op', text: this.sql.slice(from, this.peek().start).trim() }];
    }
    const head = this.word();
    if (TABLE_OPTIONS.has(head)) {
      this.tableOption();
      return [{ kind: 'no-op', text: this.sql.slice(from, this.t[this.i - 1].end).trim() }];
    }
    // FORCE, ORDER BY, ENABLE/DISABLE KEYS, partition maintenance (ADD/DROP/COALESCE/REORGANIZE/
    // TRUNCATE … PARTITION), DISCARD/IMPORT TABLESPACE, REMOVE PARTITIONING, … SYSTEM VERSIONING.
    if (['FORCE', 'ORDER', 'ENABLE', 'DISABLE', 'DISCARD', 'IMPORT', 'REMOVE', 'COALESCE', 'REORGANIZE', 'EXCHANGE', 'ANALYZE',
      'CHECK', 'OPTIMIZE', 'REBUILD', 'REPAIR', 'TRUNCATE', 'PARTITION', 'WAIT', 'NOWAIT', 'UPGRADE', 'WITH', 'WITHOUT'].includes(head)) {
      return noop();
    }
    return this.fail(`unknown ALTER TABLE clause ${head || this.peek().text}`);
  }

  private rename(): DdlOperation {
    if (this.eatWord('USER')) return { op: 'ignored', reason: 'RENAME USER' };
    this.expectWord('TABLE', 'TABLES');
    const pairs: Array<{ from: TableName; to: TableName }> = [];
    for (;;) {
      const from = this.tableName();
      this.expectWord('TO');
      pairs.push({ from, to: this.tableName() });
      if (!this.eatOp(',')) break;
    }
    return this.finish({ op: 'rename-tables', pairs });
  }
}

// ---- helpers shared with the evolver ---------------------------------------------------------

/** MySQL column and index names compare case-insensitively. */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** `utf8mb4_0900_ai_ci` → utf8mb4; `binary` → binary. */
export function charsetOfCollation(collation: string): string {
  const c = collation.toLowerCase();
  const at = c.indexOf('_');
  return at < 0 ? c : c.slice(0, at);
}

/** CHARACTER SET binary turns character types into their binary counterparts, as MySQL does. */
function applyBinaryCharset(c: ColumnDef): void {
  if (c.charset !== 'binary') return;
  const t = mysqlType(c.type)?.binary;
  if (!t) return;
  c.type = t;
  c.columnType = c.columnType.replace(/^[a-z]+/, t);
  c.charset = null;
}

function markUnsigned(c: ColumnDef, zerofill: boolean): void {
  const t = mysqlType(c.type);
  if (!t || !['integer', 'decimal', 'float', 'double'].includes(t.family)) return;
  if (!c.unsigned) {
    c.unsigned = true;
    c.columnType += ' unsigned';
    if (t.precision) c.precision = t.precision[1];
  }
  if (zerofill && !c.columnType.endsWith('zerofill')) c.columnType += ' zerofill';
}

function bitLiteral(bits: string): string {
  const trimmed = bits.replace(/^0+/, '');
  return `b'${trimmed || '0'}'`;
}

function hexToText(hex: string): string {
  return Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex').toString('utf8');
}

/** A literal inside DEFAULT ( … ): a plain number or string stays a literal, as MySQL stores it. */
function literalOf(inner: string, c: ColumnDef): string | undefined {
  const toks = lex(inner);
  if (toks.length === 2 && toks[0].kind === 'number') return normaliseLiteral(toks[0].text, c);
  if (toks.length === 2 && toks[0].kind === 'string' && !isJsonLike(c)) return normaliseLiteral(toks[0].text, c);
  return undefined;
}

/** JSON, TEXT, BLOB and spatial columns, whose DEFAULT MySQL takes only as an expression. */
function isJsonLike(c: ColumnDef): boolean {
  const f = typeFamily(c.type);
  return f === 'json' || f === 'text' || f === 'blob' || f === 'geometry';
}

/** Puts a literal default into the form information_schema shows (decimal scale, bit, bool). */
export function normaliseLiteral(v: string, c: ColumnDef): string {
  if (c.type === 'bit') {
    if (/^b'[01]*'$/.test(v)) return v;
    if (/^\d+$/.test(v)) return bitLiteral(BigInt(v).toString(2));
    return v;
  }
  if (c.type === 'decimal' && /^[-+]?\d*\.?\d+$/.test(v) && c.scale !== null) {
    const neg = v.startsWith('-');
    const [ip, fp = ''] = v.replace(/^[-+]/, '').split('.');
    if (fp.length <= c.scale) return `${neg ? '-' : ''}${ip || '0'}${c.scale > 0 ? '.' + fp.padEnd(c.scale, '0') : ''}`;
  }
  if (typeFamily(c.type) === 'integer' && /^[-+]?\d+$/.test(v)) return BigInt(v).toString();
  return v;
}

/** Gives unnamed indexes MySQL's names: the first column, then `_2`, `_3`, … on a clash. */
export function nameIndexes(indexes: IndexDef[]): void {
  for (const idx of indexes) {
    if (idx.name) continue;
    const base = idx.columns[0] || 'functional_index';
    let name = base;
    for (let k = 2; indexes.some((o) => o !== idx && sameName(o.name, name)) || sameName(name, 'PRIMARY'); k++) name = `${base}_${k}`;
    idx.name = name;
  }
}

/**
 * InnoDB indexes a foreign key's columns unless an index (or the primary key) already starts
 * with them; the index takes the constraint's name (or its first column's).
 */
export function addForeignKeyIndex(def: TableSchema, fk: IndexDef): void {
  const starts = (cols: string[]) => fk.columns.every((c, k) => cols[k] !== undefined && sameName(cols[k], c));
  if (starts(def.primaryKey) || (def.indexes ?? []).some((i) => !i.kind && starts(i.columns))) return;
  if (!def.indexes) return;
  const index: IndexDef = { name: fk.name, unique: false, columns: fk.columns };
  def.indexes.push(index);
  nameIndexes(def.indexes);
}
