// MySQL column defaults → Postgres DEFAULT expressions, and the implicit values MySQL gives
// existing rows when a NOT NULL column appears; anything without an equivalent is left out.

import { isBinaryFamily, isNumericFamily, typeFamily } from '../core/mysql-types.js';
import type { ColumnDef } from '../core/table-schema.js';

/** A Postgres string literal; E'' form when a backslash needs escaping, whatever standard_conforming_strings says. */
export function quoteLiteral(value: string): string {
  const v = value.replace(/\0/g, ''); // Postgres text cannot hold NUL (docs/TYPES.md drops it too)
  const body = v.replace(/'/g, "''");
  return v.includes('\\') ? `E'${body.replace(/\\/g, '\\\\')}'` : `'${body}'`;
}

const NOW = /^(current_timestamp|now|localtime|localtimestamp)\s*(\(\s*\d*\s*\))?$/i;
const TODAY = /^\(?\s*(current_date|curdate)\s*(\(\s*\))?\s*\)?$/i;
const CALL = /^[a-z_][a-z0-9_]*\s*\(.*\)$|^\(.*\)$/is;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** True when `c.default` is an expression (CURRENT_TIMESTAMP, (uuid()), …), not a value. */
export function isExpressionDefault(c: ColumnDef): boolean {
  if (c.defaultKind) return c.defaultKind === 'expression';
  if (c.default === null) return false;
  if (['datetime', 'timestamp', 'date'].includes(c.type) && (NOW.test(c.default) || TODAY.test(c.default))) return true;
  // Without the kind (e.g. a definition from an event), call-shaped text is taken for an
  // expression: dropping a default is safer than storing `uuid()` as a literal.
  return CALL.test(c.default);
}

export interface PgDefault {
  /** The DEFAULT expression, or null for none. */
  sql: string | null;
  /** Why a MySQL default was left out. */
  note?: string;
}

/**
 * The Postgres DEFAULT for a MySQL column whose Postgres type is `pgType` (`overridden` when a
 * type override chose it: then only boolean 0/1 defaults carry over).
 */
export function pgDefault(c: ColumnDef, pgType: string, overridden: boolean): PgDefault {
  if (c.default === null) return { sql: null };
  const v = c.default;
  const drop = (why: string): PgDefault => ({ sql: null, note: `column ${c.name}: DEFAULT ${v} dropped (${why})` });
  if (isExpressionDefault(c)) {
    if (NOW.test(v) && ['datetime', 'timestamp'].includes(c.type) && !overridden) return { sql: 'CURRENT_TIMESTAMP' };
    if ((TODAY.test(v) || NOW.test(v)) && c.type === 'date' && !overridden) return { sql: 'CURRENT_DATE' };
    return drop('an expression with no Postgres equivalent');
  }
  if (overridden) {
    if (pgType === 'boolean' && /^[01]$/.test(v)) return { sql: v === '1' ? 'true' : 'false' };
    return drop(`the column's type is overridden to ${pgType}`);
  }
  const family = typeFamily(c.type);
  if (isNumericFamily(family)) return NUMBER.test(v) ? { sql: v.replace(/^\+/, '') } : drop('not a number');
  if (family === 'bit') {
    const m = /^b'([01]*)'$/.exec(v) ?? (/^\d+$/.test(v) ? [v, BigInt(v).toString(2)] : null);
    if (!m) return drop('not a bit value');
    const n = c.length ?? 1;
    return { sql: `B'${m[1].padStart(n, '0').slice(-n)}'` };
  }
  if (family === 'char' || family === 'text' || family === 'enum') return { sql: quoteLiteral(v) };
  if (family === 'set') return { sql: setLiteral(v) };
  if (isBinaryFamily(family)) {
    let bytes = Buffer.from(v, 'utf8');
    if (c.type === 'binary' && c.length !== null && bytes.length < c.length) bytes = Buffer.concat([bytes, Buffer.alloc(c.length - bytes.length)]);
    return { sql: quoteLiteral(`\\x${bytes.toString('hex')}`) };
  }
  if (c.type === 'date' || c.type === 'datetime') {
    return isZeroDate(v) ? drop('a zero date, which Postgres stores as NULL') : { sql: quoteLiteral(v) };
  }
  if (c.type === 'timestamp') return drop('a TIMESTAMP literal is in the session time zone of the DDL, which the event does not carry');
  if (c.type === 'time') return { sql: quoteLiteral(v) };
  if (c.type === 'json') {
    try {
      JSON.parse(v);
      return { sql: quoteLiteral(v) };
    } catch {
      return drop('not valid JSON');
    }
  }
  return drop(`no Postgres equivalent for a ${c.type} default`);
}

/**
 * The value MySQL gives existing rows when a NOT NULL column without a usable DEFAULT is added
 * (or NULLs are made NOT NULL): 0, '', the first ENUM value, JSON null (MySQL writes an empty
 * document, which it reads as null; MariaDB an empty string, which jsonb cannot hold) … Null
 * when Postgres has none (zero dates become NULL here, geometry has no implicit value).
 */
export function implicitDefault(c: ColumnDef, pgType: string, overridden: boolean): string | null {
  if (overridden) return pgType === 'boolean' ? 'false' : null;
  if (pgType === 'jsonb') return "'null'::jsonb";
  const family = typeFamily(c.type);
  if (isNumericFamily(family)) return '0';
  if (family === 'bit') return `B'${'0'.repeat(c.length ?? 1)}'`;
  if (family === 'enum') return quoteLiteral(c.values?.[0] ?? '');
  if (family === 'char' || family === 'text') return "''";
  if (family === 'set') return "'{}'::text[]";
  if (c.type === 'binary') return quoteLiteral(`\\x${'00'.repeat(c.length ?? 1)}`);
  if (isBinaryFamily(family)) return quoteLiteral('\\x');
  if (family === 'time') return "'00:00:00'";
  return null;
}

function setLiteral(v: string): string {
  if (v === '') return "'{}'::text[]";
  return `ARRAY[${v.split(',').map(quoteLiteral).join(', ')}]::text[]`;
}

function isZeroDate(v: string): boolean {
  return /^\d{4}-00-|^\d{4}-\d{2}-00|^0000-00-00/.test(v);
}
