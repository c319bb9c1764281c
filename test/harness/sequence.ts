// The integers from…to as a derived table with one column `seq`, for INSERT … SELECT on either
// server (MariaDB's seq_1_to_N tables come from its sequence engine, which MySQL lacks): the
// cross product of as many digit tables as the count needs, cut at `to`.

export function seqRows(from: number, to: number): string {
  const count = to - from + 1;
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || count < 1) throw new Error(`seqRows: bad range ${from}…${to}`);
  const digits = '(SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)';
  let places = 1;
  while (10 ** places < count) places++;
  const tables = Array.from({ length: places }, (_, i) => `${digits} AS d${i}`);
  const sum = Array.from({ length: places }, (_, i) => `d${i}.n * ${10 ** i}`).join(' + ');
  return `(SELECT ${from} + ${sum} AS seq FROM ${tables.join(' CROSS JOIN ')} WHERE ${sum} < ${count}) AS seqs`;
}
