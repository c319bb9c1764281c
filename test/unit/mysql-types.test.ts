// The registry of MySQL types: every name it knows is read by the DDL parser, mapped by the
// type map (MariaDB's own types excepted, with a clear error), given an implicit value by the
// default translator and an encoding by the row encoder; every alias stands for its type.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { My2pgError } from '../../src/core/errors.js';
import { MYSQL_TYPES, mysqlType, TYPE_ALIASES } from '../../src/core/mysql-types.js';
import type { ColumnDef } from '../../src/core/table-schema.js';
import { parseDdl } from '../../src/ddl/parse.js';
import { implicitDefault } from '../../src/ddl/pg-default.js';
import { mapColumnType } from '../../src/ddl/type-map.js';
import { rowColumnsFromSchema } from '../../src/source/row-encoder.js';

/** A column of that type as the parser reads it, with the arguments the type needs. */
function parsed(type: string): ColumnDef {
  const args = type === 'enum' || type === 'set' ? "('a','b')" : /varchar|varbinary/.test(type) ? '(5)' : '';
  const op = parseDdl(`CREATE TABLE t (c ${type}${args})`, 'db');
  assert.equal(op.op, 'create-table');
  return (op as Extract<typeof op, { op: 'create-table' }>).def.columns[0];
}

test('every type of the registry is parsed as itself and mapped, MariaDB-only types refused by name', () => {
  for (const t of MYSQL_TYPES) {
    const c = parsed(t.name);
    assert.equal(c.type, t.name);
    if (t.family === 'mariadb') {
      assert.throws(() => mapColumnType(c), (e: unknown) => e instanceof My2pgError && e.code === 'UNSUPPORTED_DDL' && e.message.includes(t.name));
    } else {
      assert.match(mapColumnType(c), /^[a-z]/, t.name);
    }
  }
});

test('every alias is parsed as the type it stands for and maps as that type does', () => {
  for (const [alias, name] of Object.entries(TYPE_ALIASES)) {
    const c = parsed(alias);
    assert.equal(c.type, name, alias);
    assert.equal(mysqlType(alias), mysqlType(name), alias);
    assert.equal(mapColumnType({ ...c, type: alias }), mapColumnType(c), alias);
  }
});

test('implicit values of NOT NULL columns added to rows, by family', () => {
  const expected: Record<string, string | null> = {
    tinyint: '0', bigint: '0', year: '0', decimal: '0', float: '0', double: '0', bit: "B'0'",
    char: "''", varchar: "''", text: "''", longtext: "''", enum: "'a'", set: "'{}'::text[]",
    binary: "E'\\\\x00'", varbinary: "E'\\\\x'", blob: "E'\\\\x'", json: "'null'::jsonb",
    time: "'00:00:00'", date: null, datetime: null, timestamp: null, point: null,
  };
  for (const [type, value] of Object.entries(expected)) {
    const c = parsed(type);
    assert.equal(implicitDefault(c, mapColumnType(c), false), value, type);
  }
});

test('rows read by SELECT are encoded by the family of each column type', () => {
  const kinds = (types: string[]) =>
    rowColumnsFromSchema({ database: 'db', table: 't', charset: null, primaryKey: [], columns: types.map((t, i) => ({ ...parsed(t), name: `c${i}` })) }, 'mariadb').map((c) => c.kind);
  assert.deepEqual(
    kinds(['mediumint', 'year', 'float', 'double', 'decimal', 'bit', 'varchar', 'mediumtext', 'enum', 'set', 'varbinary', 'longblob', 'date', 'time', 'json', 'multipolygon', 'inet6']),
    ['integer', 'year', 'float', 'double', 'decimal', 'bit', 'string', 'string', 'enum', 'set', 'binary', 'binary', 'temporal', 'temporal', 'json', 'geometry', 'string'],
  );
});
