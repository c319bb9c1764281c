// MySQL's JSON column values as Maxwell's Daemon writes them. Maxwell (mysql-binlog-connector's
// JsonStringFormatter) prints the binary JSON of the binlog compactly: `,` and `:` without
// spaces, keys in the stored order, strings with `"` `\` and control characters escaped (the
// latter as \b \t \n \f \r or \u00XX, upper-case hex), everything else raw; integers as they are;
// a double as Java's Double.toString, unless that is in scientific form, then as the double's
// exact decimal value in plain form (Java's new BigDecimal(d).toPlainString():
// 1.2345678901234568E22 → 12345678901234567741440). Values MySQL keeps as SQL types inside JSON
// (opaque: DECIMAL, dates and times, anything else) as Maxwell writes them too.
// MariaDB's JSON is text and is not read here (Maxwell passes it through as stored).

import { javaFloatingString } from './java-format.js';

/** The text Maxwell writes for a MySQL binary JSON value (an empty value is JSON's null, as in MySQL). */
export function mysqlBinaryJsonText(b: Buffer): string {
  if (b.length === 0) return 'null';
  return new BinaryJsonReader(b).value(b[0], 1);
}

/**
 * MySQL's own text for a JSON value (what SELECT returns) in the form mysqlBinaryJsonText gives
 * for the same value: spaces dropped, strings re-escaped, numbers that MySQL prints as doubles
 * (with a `.` or an exponent; it writes `100.0` for the double 100) as Maxwell prints them.
 * Inexact only for values MySQL keeps as SQL types inside JSON: a DECIMAL reads as a double
 * (`1.50` → `1.5`), and dates, times and binary values keep MySQL's text.
 */
export function mysqlJsonTextAsMaxwell(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      out += maxwellJsonString(JSON.parse(text.slice(i, end + 1)) as string);
      i = end + 1;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let end = i + 1;
      while (end < text.length && /[0-9.eE+-]/.test(text[end])) end++;
      const token = text.slice(i, end);
      out += /[.eE]/.test(token) ? maxwellJsonDouble(Number(token)) : token;
      i = end;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** A double inside a JSON value, as Maxwell writes it (see the top of this file). */
export function maxwellJsonDouble(v: number): string {
  const java = javaFloatingString(v);
  return java.includes('E') ? exactDecimal(v) : java;
}

/** The exact decimal value of a finite double, plain, without trailing fraction zeros. */
function exactDecimal(v: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & 0xfffffffffffffn;
  let exp: number;
  if (biased === 0) {
    exp = -1074; // subnormal
  } else {
    mantissa |= 1n << 52n;
    exp = biased - 1075;
  }
  if (mantissa === 0n) return negative ? '-0' : '0';
  while ((mantissa & 1n) === 0n) {
    mantissa >>= 1n;
    exp++;
  }
  const sign = negative ? '-' : '';
  if (exp >= 0) return `${sign}${(mantissa << BigInt(exp)).toString()}`;
  // mantissa / 2^k = mantissa * 5^k / 10^k, and an odd mantissa leaves no trailing zero.
  const k = -exp;
  const digits = (mantissa * 5n ** BigInt(k)).toString().padStart(k + 1, '0');
  return `${sign}${digits.slice(0, -k)}.${digits.slice(-k)}`;
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };

/** A JSON string as Maxwell's JSON formatter writes it (not Jackson: non-ASCII stays raw). */
export function maxwellJsonString(s: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code >= 0x20 && code !== 0x22 && code !== 0x5c) continue;
    out += s.slice(from, i) + (SHORT_ESCAPES[s[i]] ?? `\\u00${code.toString(16).toUpperCase().padStart(2, '0')}`);
    from = i + 1;
  }
  return `${out}${s.slice(from)}"`;
}

// Value types of MySQL's binary JSON (sql-common/json_binary.h).
const SMALL_OBJECT = 0;
const LARGE_OBJECT = 1;
const SMALL_ARRAY = 2;
const LARGE_ARRAY = 3;
const LITERAL = 4;
const INT16 = 5;
const UINT16 = 6;
const INT32 = 7;
const UINT32 = 8;
const INT64 = 9;
const UINT64 = 10;
const DOUBLE = 11;
const STRING = 12;
const OPAQUE = 15;

// MySQL field types of opaque values that Maxwell prints as text.
const FIELD_DECIMAL = 0;
const FIELD_NEWDECIMAL = 246;
const FIELD_DATE = 10;
const FIELD_TIME = 11;
const FIELD_TIME2 = 19;
const DATETIME_FIELDS = new Set([7, 12, 17, 18]); // TIMESTAMP, DATETIME, TIMESTAMP2, DATETIME2

class BinaryJsonReader {
  constructor(private readonly b: Buffer) {}

  /** The value of `type` whose data starts at `at`. */
  value(type: number, at: number): string {
    const b = this.b;
    switch (type) {
      case SMALL_OBJECT:
      case LARGE_OBJECT:
        return this.container(at, type === LARGE_OBJECT, true);
      case SMALL_ARRAY:
      case LARGE_ARRAY:
        return this.container(at, type === LARGE_ARRAY, false);
      case LITERAL:
        return literal(b[at]);
      case INT16:
        return String(b.readInt16LE(at));
      case UINT16:
        return String(b.readUInt16LE(at));
      case INT32:
        return String(b.readInt32LE(at));
      case UINT32:
        return String(b.readUInt32LE(at));
      case INT64:
        return b.readBigInt64LE(at).toString();
      case UINT64:
        return b.readBigUInt64LE(at).toString();
      case DOUBLE:
        return maxwellJsonDouble(b.readDoubleLE(at));
      case STRING: {
        const [length, start] = this.varLength(at);
        return maxwellJsonString(b.toString('utf8', start, start + length));
      }
      case OPAQUE:
        return this.opaque(at);
      default:
        throw new Error(`MySQL JSON: unknown value type ${type} at byte ${at - 1}`);
    }
  }

  /**
   * An object or array: element count and byte size, then (objects) key entries of offset and
   * length, then value entries of a type and an inline value or an offset, offsets counted from
   * `start`. Small containers use 2-byte counts and offsets, large ones 4.
   */
  private container(start: number, large: boolean, object: boolean): string {
    const b = this.b;
    const width = large ? 4 : 2;
    const read = (at: number) => (large ? b.readUInt32LE(at) : b.readUInt16LE(at));
    const count = read(start);
    let p = start + 2 * width;
    const keys: string[] = [];
    if (object) {
      for (let i = 0; i < count; i++, p += width + 2) {
        const offset = start + read(p);
        keys.push(maxwellJsonString(b.toString('utf8', offset, offset + b.readUInt16LE(p + width))));
      }
    }
    const values: string[] = [];
    for (let i = 0; i < count; i++, p += 1 + width) {
      const type = b[p];
      const inline = type === LITERAL || type === INT16 || type === UINT16 || (large && (type === INT32 || type === UINT32));
      values.push(this.value(type, inline ? p + 1 : start + read(p + 1)));
    }
    if (!object) return `[${values.join(',')}]`;
    return `{${values.map((v, i) => `${keys[i]}:${v}`).join(',')}}`;
  }

  /** MySQL's variable-length integer (7 bits a byte, low first): [value, offset after it]. */
  private varLength(at: number): [number, number] {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const byte = this.b[at + i];
      value += (byte & 0x7f) * 2 ** (7 * i);
      if ((byte & 0x80) === 0) return [value, at + i + 1];
    }
    throw new Error(`MySQL JSON: bad length at byte ${at}`);
  }

  /** A SQL value inside JSON: its field type, a length, its bytes. */
  private opaque(at: number): string {
    const field = this.b[at];
    const [length, start] = this.varLength(at + 1);
    const data = this.b.subarray(start, start + length);
    if (field === FIELD_DECIMAL || field === FIELD_NEWDECIMAL) return binaryDecimal(data.subarray(2), data[0], data[1]);
    if (field === FIELD_DATE) return `"${packedDatetime(data.readBigInt64LE(0)).slice(0, 10)}"`;
    if (DATETIME_FIELDS.has(field)) return `"${packedDatetime(data.readBigInt64LE(0))}"`;
    if (field === FIELD_TIME || field === FIELD_TIME2) return `"${packedTime(data.readBigInt64LE(0))}"`;
    return `"${data.toString('base64')}"`;
  }
}

function literal(v: number): string {
  if (v === 0) return 'null';
  if (v === 1) return 'true';
  if (v === 2) return 'false';
  throw new Error(`MySQL JSON: unknown literal ${v}`);
}

const two = (n: number) => String(n).padStart(2, '0');

/** `.ffffff` without trailing zeros, nothing for 0 (as Maxwell's formatter). */
function fraction(micros: number): string {
  return micros === 0 ? '' : `.${String(micros).padStart(6, '0').replace(/0+$/, '')}`;
}

/** MySQL's packed DATETIME (TIME_to_longlong_datetime_packed) as `YYYY-MM-DD HH:MM:SS[.f]`. */
function packedDatetime(packed: bigint): string {
  const micros = Number(packed & 0xffffffn);
  const v = packed >> 24n;
  const ymd = v >> 17n;
  const hms = Number(v & 0x1ffffn);
  const ym = Number(ymd >> 5n);
  const date = `${String(Math.floor(ym / 13)).padStart(4, '0')}-${two(ym % 13)}-${two(Number(ymd & 31n))}`;
  return `${date} ${two(hms >> 12)}:${two((hms >> 6) & 63)}:${two(hms & 63)}${fraction(micros)}`;
}

/** MySQL's packed TIME (TIME_to_longlong_time_packed, negated when negative) as `[-]HH:MM:SS[.f]`. */
function packedTime(packed: bigint): string {
  const negative = packed < 0n;
  const a = negative ? -packed : packed;
  const micros = Number(a & 0xffffffn);
  const hms = Number(a >> 24n);
  return `${negative ? '-' : ''}${two(hms >> 12)}:${two((hms >> 6) & 63)}:${two(hms & 63)}${fraction(micros)}`;
}

const DIG2BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/**
 * MySQL's binary DECIMAL (decimal2bin: groups of nine digits in four big-endian bytes, a shorter
 * group for the leftover digits, the sign in the first bit, all bits inverted when negative) as
 * Java's BigDecimal.toPlainString prints it: the scale kept, no negative zero.
 */
export function binaryDecimal(bytes: Buffer, precision: number, scale: number): string {
  const intDigits = precision - scale;
  const b = Buffer.from(bytes);
  const negative = (b[0] & 0x80) === 0;
  b[0] ^= 0x80;
  if (negative) for (let i = 0; i < b.length; i++) b[i] ^= 0xff;
  let p = 0;
  const group = (digits: number): string => {
    const size = digits === 9 ? 4 : DIG2BYTES[digits];
    let n = 0;
    for (let i = 0; i < size; i++) n = n * 256 + b[p + i];
    p += size;
    return String(n).padStart(digits, '0');
  };
  let int = '';
  if (intDigits % 9 > 0) int += group(intDigits % 9);
  for (let i = 0; i < Math.floor(intDigits / 9); i++) int += group(9);
  let frac = '';
  for (let i = 0; i < Math.floor(scale / 9); i++) frac += group(9);
  if (scale % 9 > 0) frac += group(scale % 9);
  int = int.replace(/^0+/, '') || '0';
  const zero = /^0*$/.test(int + frac);
  return `${negative && !zero ? '-' : ''}${int}${scale > 0 ? `.${frac}` : ''}`;
}
