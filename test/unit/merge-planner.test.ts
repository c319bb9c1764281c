import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deleteOneMatching, planMerge } from '../../src/target/merge-planner.js';
import { greenplumDialect, postgresDialect } from '../../src/target/dialect.js';

const table = {
  schema: 'shop',
  table: 'order "items"',
  columns: [
    { name: 'order_id', pgType: 'bigint' },
    { name: 'line', pgType: 'integer' },
    { name: 'note', pgType: 'text' },
  ],
  primaryKey: ['order_id', 'line'],
};

test('postgres merge plan (golden)', () => {
  assert.deepEqual(planMerge(table, '_my2pg_stage_0', postgresDialect), {
    createStaging: 'CREATE TEMP TABLE "_my2pg_stage_0" ("_my2pg_op" "char" NOT NULL, "order_id" bigint, "line" integer, "note" text) ON COMMIT DROP',
    copyIntoStaging: 'COPY "_my2pg_stage_0" ("_my2pg_op", "order_id", "line", "note") FROM STDIN',
    deleteMatched: 'DELETE FROM "shop"."order ""items""" AS t USING "_my2pg_stage_0" AS s WHERE t."order_id" = s."order_id" AND t."line" = s."line"',
    insertUpserts: 'INSERT INTO "shop"."order ""items""" ("order_id", "line", "note") SELECT "order_id", "line", "note" FROM "_my2pg_stage_0" WHERE "_my2pg_op" = \'U\'',
  });
});

test('greenplum staging is distributed like the target, and no ON CONFLICT/MERGE anywhere', () => {
  const plan = planMerge(table, 's', greenplumDialect);
  assert.match(plan.createStaging, / DISTRIBUTED BY \("order_id", "line"\)$/);
  for (const sql of Object.values(plan)) assert.doesNotMatch(sql, /ON CONFLICT|MERGE/i);
});

test('delete of one duplicate matches NULL-safely, by row identity per dialect (golden)', () => {
  const noPk = { ...table, primaryKey: [] };
  assert.equal(
    deleteOneMatching(noPk, postgresDialect),
    'DELETE FROM "shop"."order ""items""" AS d WHERE d.ctid = (SELECT t.ctid FROM "shop"."order ""items""" AS t WHERE t."order_id" IS NOT DISTINCT FROM $1::bigint AND t."line" IS NOT DISTINCT FROM $2::integer AND t."note" IS NOT DISTINCT FROM $3::text LIMIT 1)',
  );
  assert.match(deleteOneMatching(noPk, greenplumDialect), /WHERE \(d\.gp_segment_id, d\.ctid\) = \(SELECT t\.gp_segment_id, t\.ctid FROM/);
});
