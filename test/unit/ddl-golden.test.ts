// The golden DDL corpus, as text: every statement, taken through the production path (schema
// tracker, DDL event on the wire, apply's translator), gives exactly the recorded Postgres and
// Greenplum statements and notes (test/integration/ddl-golden.test.ts runs them on Postgres).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { greenplumDialect, postgresDialect, type Dialect } from '../../src/target/dialect.js';
import { DDL_GOLDEN, type DdlGoldenCase } from '../fixtures/ddl-golden.js';
import { DdlStream } from '../harness/ddl-stream.js';

async function translate(c: DdlGoldenCase, dialect: Dialect) {
  const stream = new DdlStream(dialect);
  for (const sql of c.before ?? []) await stream.statement(sql);
  return stream.statement(c.sql);
}

test('the corpus covers at least 100 real-world statements from every source', () => {
  assert.ok(DDL_GOLDEN.length >= 100, `${DDL_GOLDEN.length} cases`);
  for (const source of ['mysqldump', 'binlog', 'rails', 'django', 'laravel', 'prisma', 'flyway']) {
    assert.ok(DDL_GOLDEN.filter((c) => c.name.startsWith(`${source}:`)).length >= 5, source);
  }
  assert.equal(new Set(DDL_GOLDEN.map((c) => c.name)).size, DDL_GOLDEN.length, 'case names are unique');
});

for (const c of DDL_GOLDEN) {
  test(`golden DDL: ${c.name}`, async () => {
    const pg = await translate(c, postgresDialect);
    assert.deepEqual(pg.statements, c.postgres, 'postgres');
    assert.deepEqual(pg.notes, c.notes ?? [], 'postgres notes');
    const gp = await translate(c, greenplumDialect);
    assert.deepEqual(gp.statements, c.greenplum, 'greenplum');
    assert.deepEqual(gp.notes, c.greenplumNotes ?? c.notes ?? [], 'greenplum notes');
  });
}
