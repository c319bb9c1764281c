// Splits a source table into key ranges of about `chunkRows` rows, walking its key index from
// where planning last stopped (so a restarted bootstrap continues its plan).

import type { Connection } from 'mysql2/promise';
import { fromClause, keyRange, keyValue, type SourceTable } from './source-table.js';
import type { KeyValues } from '../state/bootstrap-registry.js';

export interface PlannedChunk {
  lower: KeyValues | null;
  upper: KeyValues | null;
  last: boolean;
}

export async function* planChunks(
  conn: Connection,
  src: SourceTable,
  from: KeyValues | null,
  chunkRows: number,
  where: string | null,
): AsyncGenerator<PlannedChunk> {
  if (src.key.length === 0) {
    yield { lower: null, upper: null, last: true }; // no usable key: one streamed pass
    return;
  }
  const keyCols = src.key.map((k) => `\`${k.replace(/`/g, '``')}\``).join(', ');
  let lower = from;
  for (;;) {
    const range = keyRange(src.key, lower, null);
    const [rows] = await conn.query({
      sql: `SELECT ${keyCols} FROM ${fromClause(src.def)} WHERE ${range.sql}${where ? ` AND (${where})` : ''} ` +
        `ORDER BY ${keyCols} LIMIT 1 OFFSET ${chunkRows - 1}`,
      values: range.params,
      rowsAsArray: true,
    });
    const row = (rows as unknown[][])[0];
    if (!row) {
      yield { lower, upper: null, last: true };
      return;
    }
    const upper = row.map(keyValue);
    yield { lower, upper, last: false };
    lower = upper;
  }
}
