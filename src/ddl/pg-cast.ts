// The USING expressions of ALTER COLUMN … TYPE: converting a replica column's values from one
// Postgres type to another the way MySQL converted them, including pairs Postgres has no cast
// for (TIME ↔ numbers as HHMMSS, dates ↔ numbers as YYYYMMDD[HHMMSS], SET ↔ its bitmask, …).
// No subqueries: Postgres refuses them in a transform expression.

import { quoteLiteral } from './pg-default.js';

/** The ENUM/SET values of the column before and after the change, when it has them. */
export interface CastValues {
  from?: string[] | null;
  to?: string[] | null;
}

const textual = (t: string) => t === 'text' || /^(varchar|char)\(/.test(t);
const integral = (t: string) => ['smallint', 'integer', 'bigint'].includes(t) || /^numeric\(\d+,0\)$/.test(t);
const numeric = (t: string) => integral(t) || /^numeric\(/.test(t) || t === 'real' || t === 'double precision';
const temporal = (t: string) => t === 'date' || t.startsWith('timestamp');

/** `CASE WHEN col IS NULL THEN NULL ELSE expr END`, for expressions that would turn NULL into a value. */
const keepNull = (col: string, expr: string) => `CASE WHEN ${col} IS NULL THEN NULL ELSE ${expr} END`;

/** The USING expression converting `col` from Postgres type `from` to `to`. */
export function usingExpression(col: string, from: string, to: string, values: CastValues = {}): string {
  if (to === 'bytea') return textual(from) ? `convert_to(${col}, 'UTF8')` : `convert_to(${col}::text, 'UTF8')`;
  if (from === 'bytea') {
    if (to === 'text[]') return fromText(`convert_from(${col}, 'UTF8')`, to);
    return `convert_from(${col}, 'UTF8')::${to}`;
  }
  if (to === 'text[]') {
    if (numeric(from) && values.to) return keepNull(col, setFromBits(col, values.to));
    return fromText(textual(from) ? col : `${col}::text`, to);
  }
  if (from === 'text[]') {
    if (numeric(to) && values.from) return keepNull(col, `(${bitsFromSet(col, values.from)})::${to}`);
    return `array_to_string(${col}, ',')::${to}`;
  }
  if (from.startsWith('bit(') && (to.startsWith('bit(') || integral(to))) return `${col}::bigint::${to}`;
  if (numeric(from) && to.startsWith('bit(')) return `${col}::bigint::${to}`;
  // Other types meet BIT as a number, as in MySQL.
  if (from.startsWith('bit(') && !textual(to)) return usingExpression(`${col}::bigint`, 'bigint', to, values);
  if (to.startsWith('bit(') && !textual(from)) return `(${usingExpression(col, from, 'bigint', values)})::bigint::${to}`;
  if (to === 'jsonb') return textual(from) ? `${col}::jsonb` : `to_jsonb(${col})`;
  if (from === 'jsonb' && !textual(to)) return `(${col} #>> '{}')::${to}`;
  // MySQL reads a number as a TIME [H]HMMSS[.ffffff], and a TIME as that number.
  if (numeric(from) && to === 'interval') {
    const n = `${col}::numeric`;
    return `make_interval(hours => trunc(${n} / 10000)::int, mins => (trunc(${n} / 100) % 100)::int, secs => (${n} % 100)::double precision)`;
  }
  if (from === 'interval' && numeric(to)) return `(extract(hour from ${col}) * 10000 + extract(minute from ${col}) * 100 + extract(second from ${col}))::${to}`;
  // … a DATE as YYYYMMDD and a DATETIME as YYYYMMDDHHMMSS (0: the zero date, NULL here).
  if (numeric(from) && temporal(to)) {
    const digits = (n: number) => `lpad(trunc(${col}::numeric)::text, ${n}, '0')`;
    return `CASE WHEN ${col} = 0 THEN NULL WHEN ${col} < 100000000 THEN to_timestamp(${digits(8)}, 'YYYYMMDD')::${to} ELSE to_timestamp(${digits(14)}, 'YYYYMMDDHH24MISS')::${to} END`;
  }
  if (temporal(from) && numeric(to)) return `to_char(${col}, '${from === 'date' ? 'YYYYMMDD' : 'YYYYMMDDHH24MISS'}')::numeric::${to}`;
  // DATETIME → TIME keeps the time of day; TIME → DATE/DATETIME is on the current date.
  if (from.startsWith('timestamp') && to === 'interval') return `${col}::time::interval`;
  if (from === 'date' && to === 'interval') return keepNull(col, `interval '0'`);
  if (from === 'interval' && temporal(to)) return `(current_date + ${col})::${to}`;
  return `${col}::${to}`;
}

/** Text to text[] the way MySQL reads a SET: comma-separated, '' is the empty set. */
function fromText(text: string, to: string): string {
  return `CASE WHEN ${text} = '' THEN '{}'::${to} ELSE string_to_array(${text}, ',') END`;
}

/** The SET members whose bit is set in the number `col` (MySQL's numeric SET value). */
function setFromBits(col: string, members: string[]): string {
  const parts = members.map((m, i) => `CASE WHEN trunc(${col}::numeric / ${bit(i)}) % 2 <> 0 THEN ${quoteLiteral(m)} END`);
  return `array_remove(ARRAY[${parts.join(', ')}]::text[], NULL)`;
}

/** The number whose bits are the members present in the text[] `col`. */
function bitsFromSet(col: string, members: string[]): string {
  return members.map((m, i) => `CASE WHEN ${quoteLiteral(m)} = ANY(${col}) THEN ${bit(i)} ELSE 0 END`).join(' + ') || '0';
}

/** 2^i as a literal (a numeric literal from bit 63 on, past bigint). */
function bit(i: number): string {
  return String(1n << BigInt(i));
}
