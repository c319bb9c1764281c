// Maxwell JSON value → Postgres text representation, per target column type (docs/TYPES.md),
// plus COPY text-format escaping. Values Postgres cannot hold follow the lossy-value policy.

import { My2pgError } from '../core/errors.js';
import { JsonNull, JsonNumber, type JsonValue } from '../core/events.js';
import { stringifyJson } from '../core/json.js';

/** How a target column's values are written; derived once from the catalog type. */
export type ValueKind =
  | 'text'
  | 'number'
  | 'boolean'
  | 'bytea'
  | 'bit'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'interval'
  | 'jsonb'
  | 'text[]';

export function valueKindOf(pgType: string): ValueKind {
  const t = pgType.toLowerCase();
  if (t === 'bytea') return 'bytea';
  if (t.startsWith('bit')) return 'bit';
  if (t === 'date') return 'date';
  if (t.startsWith('timestamp')) return t.includes('with time zone') ? 'timestamptz' : 'timestamp';
  if (t === 'interval') return 'interval';
  if (t === 'jsonb' || t === 'json') return 'jsonb';
  if (t.endsWith('[]')) return 'text[]';
  if (t === 'boolean') return 'boolean';
  if (/^(smallint|integer|bigint|numeric|real|double precision)/.test(t)) return 'number';
  return 'text';
}

/** Why a value could not be stored as it is; counted per column by the caller. */
export type LossReason = 'zero-date' | 'nul-character';

export type LossCallback = (reason: LossReason) => void;

/**
 * Returns the Postgres text form of a value, or null for SQL NULL. `bits` is a bit(n) column's n.
 * JSON_NULL (a JSON column holding JSON's null) is jsonb `null`, or the text `null` in a column
 * overridden to text.
 */
export function toPgText(
  v: JsonValue | undefined,
  kind: ValueKind,
  onLoss: LossCallback,
  bits = 0,
): string | null {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'number':
      if (v instanceof JsonNumber || typeof v === 'string') return String(v);
      if (typeof v === 'boolean') return v ? '1' : '0';
      break;
    case 'boolean':
      if (typeof v === 'boolean') return v ? 't' : 'f';
      if (v instanceof JsonNumber || typeof v === 'string') return String(v) === '0' ? 'f' : 't';
      break;
    case 'text':
      return dropNul(typeof v === 'string' ? v : stringifyJson(v), onLoss);
    case 'bytea':
      if (typeof v === 'string') return `\\x${Buffer.from(v, 'base64').toString('hex')}`;
      break;
    case 'bit':
      return bitString(v).padStart(bits, '0');
    case 'date':
    case 'timestamp':
      if (typeof v === 'string') return isZeroDate(v) ? lost('zero-date', onLoss) : v;
      break;
    case 'timestamptz':
      if (typeof v === 'string') return isZeroDate(v) ? lost('zero-date', onLoss) : `${v}+00`;
      break;
    case 'interval':
      if (typeof v === 'string') return v;
      break;
    case 'jsonb':
      return dropNul(stringifyJson(v), onLoss, '\\u0000');
    case 'text[]':
      if (Array.isArray(v)) return `{${v.map((e) => arrayElement(String(e), onLoss)).join(',')}}`;
      if (typeof v === 'string') return `{${v === '' ? '' : v.split(',').map((e) => arrayElement(e, onLoss)).join(',')}}`;
      break;
  }
  throw new My2pgError('BAD_EVENT', `value ${v instanceof JsonNull ? "JSON null (listed in json_nulls)" : stringifyJson(v)} does not fit a ${kind} column`);
}

function lost(reason: LossReason, onLoss: LossCallback): null {
  onLoss(reason);
  return null;
}

function dropNul(s: string, onLoss: LossCallback, nul = '\u0000'): string {
  if (!s.includes(nul)) return s;
  onLoss('nul-character');
  return s.split(nul).join('');
}

/** Zero and partial-zero dates (`0000-00-00`, `2024-00-10`) have no Postgres value. */
function isZeroDate(s: string): boolean {
  return /^0000-|^\d{4}-00-|^\d{4}-\d{2}-00/.test(s);
}

function bitString(v: JsonValue): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (v instanceof JsonNumber) return BigInt(v.text).toString(2);
  if (typeof v === 'string' && /^[01]*$/.test(v)) return v;
  throw new My2pgError('BAD_EVENT', `value ${stringifyJson(v)} is not a BIT value`);
}

function arrayElement(s: string, onLoss: LossCallback): string {
  return `"${dropNul(s, onLoss).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Escapes a field for COPY … FROM STDIN in text format. */
export function copyField(s: string | null): string {
  if (s === null) return '\\N';
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, copyEscape) : s;
}

function copyEscape(c: string): string {
  switch (c) {
    case '\\': return '\\\\';
    case '\t': return '\\t';
    case '\n': return '\\n';
    default: return '\\r';
  }
}
