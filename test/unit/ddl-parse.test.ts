// The DDL pre-processor and parser: tokens, column definitions, every ALTER clause, ignored
// statements and clear errors for what cannot be read.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ColumnDef } from '../../src/core/table-schema.js';
import { lex } from '../../src/ddl/lexer.js';
import type { AlterSpec, DdlOperation } from '../../src/ddl/operations.js';
import { parseDdl } from '../../src/ddl/parse.js';

function specs(sql: string): AlterSpec[] {
  const op = parseDdl(sql, 'cur');
  assert.equal(op.op, 'alter-table', sql);
  return (op as Extract<DdlOperation, { op: 'alter-table' }>).specs;
}

function created(sql: string) {
  const op = parseDdl(sql, 'cur');
  assert.equal(op.op, 'create-table', sql);
  return (op as Extract<DdlOperation, { op: 'create-table' }>).def;
}

function column(sql: string): ColumnDef {
  return created(`CREATE TABLE t (${sql})`).columns[0];
}

const base: ColumnDef = { name: 'c', type: '', columnType: '', nullable: true, default: null, unsigned: false, charset: null, length: null, precision: null, scale: null, fsp: null, values: null };

test('lexer: version comments keep their body, plain comments go, quoting unescapes', () => {
  const texts = (sql: string) => lex(sql).filter((t) => t.kind !== 'eof').map((t) => `${t.kind}:${t.text}`);
  assert.deepEqual(texts('/*!40101 SET x */ /* gone */ a -- gone\n# gone\nb'), ['word:SET', 'word:x', 'word:a', 'word:b']);
  assert.deepEqual(texts('/*M!100100 IF EXISTS */'), ['word:IF', 'word:EXISTS']);
  assert.deepEqual(texts("`a``b` 'it''s\\n' \"dq\" N'n' 0x41 b'01' X'4a'"), ['ident:a`b', "string:it's\n", 'string:dq', 'string:n', 'hex:41', 'bit:01', 'hex:4a']);
  const intro = lex("_utf8mb4'x' _binary 'y' _latin1 X'41'");
  assert.deepEqual(intro.slice(0, 3).map((t) => [t.kind, t.text, t.charset]), [['string', 'x', 'utf8mb4'], ['string', 'y', 'binary'], ['hex', '41', 'latin1']]);
  assert.deepEqual(texts('1.5e3 .5 t.5c 1st'), ['number:1.5e3', 'number:.5', 'word:t', 'op:.', 'word:5c', 'word:1st']);
  assert.deepEqual(texts('a--b'), ['word:a', 'op:-', 'op:-', 'word:b'], '-- needs a space to start a comment');
});

test('column definitions match what information_schema reports', () => {
  assert.deepEqual(column('`id` bigint(20) unsigned NOT NULL AUTO_INCREMENT'), {
    ...base, name: 'id', type: 'bigint', columnType: 'bigint(20) unsigned', nullable: false, unsigned: true, precision: 20, scale: 0, autoIncrement: true,
  });
  assert.deepEqual(column("c varchar(255) CHARACTER SET latin1 COLLATE latin1_bin DEFAULT 'a''b'"), {
    ...base, type: 'varchar', columnType: 'varchar(255)', charset: 'latin1', length: 255, default: "a'b", defaultKind: 'literal',
  });
  assert.deepEqual(column("c enum('x','y''z') NOT NULL DEFAULT 'x'"), {
    ...base, type: 'enum', columnType: "enum('x','y''z')", nullable: false, length: 3, values: ['x', "y'z"], default: 'x', defaultKind: 'literal',
  });
  assert.deepEqual(column('c decimal(10,2) DEFAULT 1.5'), { ...base, type: 'decimal', columnType: 'decimal(10,2)', precision: 10, scale: 2, default: '1.50', defaultKind: 'literal' });
  assert.deepEqual(column('c datetime(6) DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)'), {
    ...base, type: 'datetime', columnType: 'datetime(6)', fsp: 6, default: 'CURRENT_TIMESTAMP(6)', defaultKind: 'expression',
  });
  assert.deepEqual(column('c timestamp NULL DEFAULT now()'), { ...base, type: 'timestamp', columnType: 'timestamp', fsp: 0, default: 'CURRENT_TIMESTAMP', defaultKind: 'expression' });
  assert.deepEqual(column('c bit(4) DEFAULT 5'), { ...base, type: 'bit', columnType: 'bit(4)', length: 4, default: "b'101'", defaultKind: 'literal' });
  assert.deepEqual(column('c bool DEFAULT TRUE'), { ...base, type: 'tinyint', columnType: 'tinyint(1)', precision: 3, scale: 0, default: '1', defaultKind: 'literal' });
  assert.deepEqual(column("c set('a','b') DEFAULT 'a,b'"), { ...base, type: 'set', columnType: "set('a','b')", length: 3, values: ['a', 'b'], default: 'a,b', defaultKind: 'literal' });
  assert.deepEqual(column('c char(36) DEFAULT (uuid())'), { ...base, type: 'char', columnType: 'char(36)', length: 36, default: 'uuid()', defaultKind: 'expression' });
  assert.deepEqual(column("c varchar(3) DEFAULT ('abc')"), { ...base, type: 'varchar', columnType: 'varchar(3)', length: 3, default: 'abc', defaultKind: 'literal' });
  assert.equal(column('c double precision').type, 'double');
  assert.equal(column('c float(30)').type, 'double');
  assert.equal(column('c national varchar(10)').type, 'varchar');
  assert.equal(column('c char(4) character set binary').type, 'binary');
  assert.equal(column('c long varchar').type, 'mediumtext');
  assert.equal(column('c int zerofill').columnType, 'int unsigned zerofill');
  assert.equal(column('c int GENERATED ALWAYS AS (1 + 2) VIRTUAL NOT NULL').nullable, false);
  assert.equal(column('c longtext CHECK (json_valid(`c`))').type, 'json');
  assert.deepEqual(column('c serial'), { ...base, type: 'bigint', columnType: 'bigint unsigned', unsigned: true, nullable: false, precision: 20, scale: 0, autoIncrement: true });
});

test('CREATE TABLE: keys, implicit NOT NULL, charset inheritance, MySQL index names', () => {
  const def = created(
    'CREATE TABLE IF NOT EXISTS `db`.`t` (a int, b varchar(5), c int UNIQUE, d int, PRIMARY KEY (a), KEY (b), KEY (b), ' +
      'CONSTRAINT fk FOREIGN KEY (d) REFERENCES o (id), FULLTEXT KEY ft (b), UNIQUE INDEX named USING BTREE (c, d)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4',
  );
  assert.equal(def.database, 'db');
  assert.equal(def.charset, 'utf8mb4');
  assert.deepEqual(def.primaryKey, ['a']);
  assert.equal(def.columns[0].nullable, false);
  assert.equal(def.columns[1].charset, 'utf8mb4');
  assert.equal(def.columns[0].charset, null);
  assert.deepEqual(
    def.indexes!.map((i) => [i.name, i.unique, i.columns.join(','), i.kind ?? '']),
    [['b', false, 'b', ''], ['b_2', false, 'b', ''], ['ft', false, 'b', 'fulltext'], ['named', true, 'c,d', ''], ['c', true, 'c', ''], ['fk', false, 'd', '']],
  );
});

test('CREATE TABLE … LIKE and … SELECT are recognised', () => {
  assert.deepEqual(parseDdl('CREATE TABLE a LIKE b.c', 'cur'), { op: 'create-table-like', table: { database: 'cur', table: 'a' }, like: { database: 'b', table: 'c' }, ifNotExists: false, orReplace: false });
  assert.equal(parseDdl('CREATE TABLE a (LIKE c)', 'cur').op, 'create-table-like');
  for (const sql of ['CREATE TABLE a AS SELECT * FROM b', 'CREATE TABLE a SELECT 1', 'CREATE TABLE a (x int) ENGINE=InnoDB SELECT x FROM b', 'CREATE TABLE a (SELECT 1)', 'CREATE OR REPLACE TABLE a IGNORE SELECT * FROM b']) {
    assert.equal(parseDdl(sql, 'cur').op, 'create-table-select', sql);
  }
  const op = parseDdl('CREATE TABLE a (x int NOT NULL) AS SELECT x FROM b', 'cur') as Extract<DdlOperation, { op: 'create-table-select' }>;
  assert.deepEqual(op.declared.columns.map((c) => c.name), ['x']);
});

test('every ALTER TABLE clause', () => {
  const kinds = specs(
    'ALTER TABLE t ADD COLUMN a int FIRST, ADD b int AFTER a, ADD (c int, d int), DROP COLUMN e, DROP f, MODIFY g int, CHANGE h i int, ' +
      'RENAME COLUMN j TO k, ALTER COLUMN l SET DEFAULT 1, ALTER m DROP DEFAULT, ADD PRIMARY KEY (a), DROP PRIMARY KEY, ADD INDEX ix (a), ' +
      'ADD UNIQUE (b), DROP INDEX ix, DROP KEY `PRIMARY`, RENAME INDEX p TO q, RENAME TO u, CONVERT TO CHARACTER SET utf8mb4, DEFAULT CHARSET latin1, ' +
      'ENGINE=InnoDB, ALGORITHM=INPLACE, LOCK=NONE, FORCE, ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES o(id), DROP FOREIGN KEY fk, ADD CHECK (a > 0)',
  ).map((s) => s.kind);
  assert.deepEqual(kinds, [
    'add-column', 'add-column', 'add-column', 'add-column', 'drop-column', 'drop-column', 'modify-column', 'change-column', 'rename-column',
    'set-default', 'drop-default', 'add-primary-key', 'drop-primary-key', 'add-index', 'add-index', 'drop-index', 'drop-primary-key',
    'rename-index', 'rename-table', 'convert-charset', 'default-charset', 'no-op', 'no-op', 'no-op', 'no-op', 'add-foreign-key', 'no-op', 'no-op',
  ]);
  assert.deepEqual(specs('ALTER TABLE t ADD x int AFTER `y``z`')[0], {
    kind: 'add-column', ifNotExists: false, position: { at: 'after', column: 'y`z' },
    column: { def: { ...base, name: 'x', type: 'int', columnType: 'int', precision: 10, scale: 0 }, explicitNullability: false, explicitCharset: false, inlinePrimaryKey: false, inlineUnique: false },
  });
  assert.deepEqual(specs('ALTER TABLE t CHANGE COLUMN IF EXISTS a b int')[0], { ...specs('ALTER TABLE t CHANGE a b int')[0], ifExists: true });
  assert.deepEqual(specs("ALTER TABLE t ALTER c SET DEFAULT _utf8mb4'x'")[0], { kind: 'set-default', column: 'c', value: 'x', valueKind: 'literal' });
  assert.deepEqual(specs('ALTER TABLE t RENAME AS o.u')[0], { kind: 'rename-table', to: { database: 'o', table: 'u' } });
  assert.deepEqual(specs('ALTER TABLE t ENGINE=InnoDB DEFAULT CHARSET=latin1').map((s) => s.kind), ['no-op', 'default-charset'], 'options without commas');
  assert.deepEqual(specs('ALTER TABLE t ADD x int, PARTITION BY HASH(id) PARTITIONS 4').map((s) => s.kind), ['add-column', 'no-op']);
  assert.deepEqual(specs('ALTER TABLE t REMOVE PARTITIONING').map((s) => s.kind), ['no-op']);
});

test('CREATE/DROP INDEX, RENAME, DROP, TRUNCATE and database statements', () => {
  assert.deepEqual(parseDdl('CREATE UNIQUE INDEX u ON s.t (a(10), b DESC) ALGORITHM=INPLACE', 'cur'), {
    op: 'alter-table', table: { database: 's', table: 't' },
    specs: [{ kind: 'add-index', ifNotExists: false, index: { name: 'u', unique: true, columns: ['a', 'b'], prefixLengths: [10, null] } }],
  });
  assert.deepEqual(parseDdl('DROP INDEX `i` ON t', 'cur'), { op: 'alter-table', table: { database: 'cur', table: 't' }, specs: [{ kind: 'drop-index', name: 'i', ifExists: false }] });
  assert.deepEqual(parseDdl('RENAME TABLE a TO b, c.d TO e.f', 'cur'), {
    op: 'rename-tables', pairs: [{ from: { database: 'cur', table: 'a' }, to: { database: 'cur', table: 'b' } }, { from: { database: 'c', table: 'd' }, to: { database: 'e', table: 'f' } }],
  });
  assert.deepEqual(parseDdl('DROP TABLE IF EXISTS a, b.c CASCADE', 'cur'), { op: 'drop-tables', ifExists: true, tables: [{ database: 'cur', table: 'a' }, { database: 'b', table: 'c' }] });
  assert.deepEqual(parseDdl('TRUNCATE TABLE a;', 'cur'), { op: 'truncate-table', table: { database: 'cur', table: 'a' } });
  assert.deepEqual(parseDdl('CREATE DATABASE IF NOT EXISTS `x` CHARACTER SET utf8mb4', 'cur'), { op: 'create-database', database: 'x', ifNotExists: true, orReplace: false, charset: 'utf8mb4' });
  assert.deepEqual(parseDdl('CREATE DATABASE x', 'cur'), { op: 'create-database', database: 'x', ifNotExists: false, orReplace: false, charset: null });
  // mysqldump's form: the options in executable comments, COLLATE after the character set.
  assert.deepEqual(
    parseDdl("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `x` /*!40100 DEFAULT CHARACTER SET latin1 COLLATE latin1_swedish_ci */ /*!80016 DEFAULT ENCRYPTION='N' */", 'cur'),
    { op: 'create-database', database: 'x', ifNotExists: true, orReplace: false, charset: 'latin1' },
  );
  assert.deepEqual(parseDdl("CREATE SCHEMA x COMMENT 'charset' DEFAULT COLLATE = 'utf8mb4_bin'", 'cur'), { op: 'create-database', database: 'x', ifNotExists: false, orReplace: false, charset: 'utf8mb4' });
  assert.deepEqual(parseDdl('DROP SCHEMA x', 'cur'), { op: 'drop-database', database: 'x', ifExists: false });
  assert.deepEqual(parseDdl('ALTER DATABASE CHARACTER SET latin1', 'cur'), { op: 'alter-database', database: 'cur', charset: 'latin1' });
  assert.deepEqual(parseDdl('ALTER SCHEMA `y` COLLATE utf8mb4_bin', 'cur'), { op: 'alter-database', database: 'y', charset: 'utf8mb4' });
  assert.deepEqual(parseDdl("ALTER DATABASE y READ ONLY = 1 COMMENT 'x'", 'cur'), { op: 'alter-database', database: 'y', charset: null });
});

test('statements that change no table are ignored', () => {
  for (const sql of [
    'GRANT ALL ON *.* TO x', 'REVOKE INSERT ON db.* FROM y', 'CREATE USER u', 'DROP USER u', 'ALTER USER u ACCOUNT LOCK', 'RENAME USER a TO b',
    "SET PASSWORD FOR u = 'x'", 'CREATE VIEW v AS SELECT 1', 'CREATE OR REPLACE VIEW v AS SELECT 1', 'DROP VIEW v', 'ALTER VIEW v AS SELECT 2',
    'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET @x = 1', 'DROP TRIGGER tr', 'CREATE PROCEDURE p() SELECT 1', 'DROP PROCEDURE IF EXISTS p',
    'CREATE FUNCTION f() RETURNS INT RETURN 1', 'DROP FUNCTION f', 'CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1', 'ALTER EVENT e DISABLE',
    'DROP EVENT e', 'ANALYZE TABLE t', 'OPTIMIZE TABLE t', 'REPAIR TABLE t', 'CHECK TABLE t', 'FLUSH TABLES', 'CREATE TEMPORARY TABLE t (id int)',
    'DROP TEMPORARY TABLE t', 'CREATE DEFINER=`a`@`b` SQL SECURITY INVOKER VIEW v AS SELECT 1', 'INSERT INTO t VALUES (1)', 'XA START 1',
    'CREATE SEQUENCE s', 'CREATE ROLE r', 'INSTALL PLUGIN p SONAME "x"', '/* only a comment */', 'CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (USER "r")',
  ]) {
    assert.equal(parseDdl(sql, 'cur').op, 'ignored', sql);
  }
});

test('a table change that cannot be read is a clear UNSUPPORTED_DDL error with the statement', () => {
  for (const sql of [
    'ALTER TABLE t FROBNICATE x',
    'CREATE TABLE t (id frob)',
    'ALTER TABLE t ADD COLUMN x int UNKNOWNATTR',
    'CREATE TABLE t (id int',
    'ALTER TABLE t ADD COLUMN x int x',
    'DROP TABLE',
    'CREATE TABLE t (a varchar)',
    'RENAME TABLE a b',
    'CREATE WIDGET w',
  ]) {
    assert.throws(() => parseDdl(sql, 'cur'), (e: Error & { code?: string }) => e.code === 'UNSUPPORTED_DDL' && e.message.includes(sql), sql);
  }
});
