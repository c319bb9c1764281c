// Lossless JSON: numbers keep their decimal text in both directions (never a JS number).

import { parse } from 'lossless-json';
import { JsonNull, JsonNumber, type JsonValue } from './events.js';

/**
 * Parses JSON keeping every number's text, with the native JSON.parse. One scan first turns every
 * number token outside strings into a marked string (U+E000 then the token), except integers of at
 * most 15 digits, which a JS number holds exactly and gives back as the same text; strings are
 * skipped with indexOf. A string value that itself starts with U+E000 (raw or escaped) gets a
 * second marker, so nothing is ever confused; keys are never restored, so they keep theirs. After
 * the parse, marked strings and numbers become JsonNumbers, in place.
 */
export function parseJson(text: string): JsonValue {
  const marked = markNumbers(text);
  if (marked === null) return parseSlow(text); // reports the bad number or the open string
  let doc: unknown;
  try {
    doc = JSON.parse(marked);
  } catch {
    return parseSlow(text); // reports the error against the original text
  }
  return restoreInPlace(doc);
}

/**
 * The text with its number tokens and marker-led string values marked (the text itself when
 * nothing needs it); null when a number token is not JSON or the text ends inside a string.
 */
function markNumbers(text: string): string | null {
  const n = text.length;
  let out = '';
  let copied = 0;
  let i = 0;
  for (;;) {
    const q = text.indexOf('"', i);
    const end = q < 0 ? n : q;
    // Outside strings there are only punctuation, literals, whitespace and numbers.
    for (let j = i; j < end; j++) {
      const c = text.charCodeAt(j);
      if (c !== 45 /* - */ && (c < 48 || c > 57)) continue;
      const k = numberEnd(text, j, end);
      if (k < 0) return null;
      if (!isSmallInteger(text, j, k)) {
        out += `${text.slice(copied, j)}"${MARK}${text.slice(j, k)}"`;
        copied = k;
      }
      j = k - 1;
    }
    if (q < 0) break;
    // The closing quote is the next one not escaped by an odd run of backslashes.
    let close = text.indexOf('"', q + 1);
    while (close > 0 && text.charCodeAt(close - 1) === 92 && oddBackslashesBefore(text, close)) close = text.indexOf('"', close + 1);
    if (close < 0) return null;
    const first = text.charCodeAt(q + 1);
    if ((first === 0xe000 || (first === 92 /* \ */ && ESCAPED_MARK.test(text.slice(q, q + 8)))) && !isKey(text, close + 1)) {
      out += `${text.slice(copied, q + 1)}${MARK}`;
      copied = q + 1;
    }
    i = close + 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Whether the string that ended just before `at` is an object key (a colon comes next). */
function isKey(text: string, at: number): boolean {
  while (at < text.length && ' \t\n\r'.includes(text[at])) at++;
  return text.charCodeAt(at) === 58 /* : */;
}

/**
 * The end of the number token at `from`, or -1 when it is not a JSON number
 * (-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?, ending at a non-number character).
 */
function numberEnd(text: string, from: number, limit: number): number {
  let k = from;
  if (text.charCodeAt(k) === 45) k++;
  const intStart = k;
  if (k < limit && text.charCodeAt(k) === 48) k++;
  else while (k < limit && isDigit(text.charCodeAt(k))) k++;
  if (k === intStart) return -1;
  if (k < limit && text.charCodeAt(k) === 46 /* . */) {
    const fracStart = ++k;
    while (k < limit && isDigit(text.charCodeAt(k))) k++;
    if (k === fracStart) return -1;
  }
  let c = k < limit ? text.charCodeAt(k) : 0;
  if (c === 101 /* e */ || c === 69 /* E */) {
    k++;
    c = k < limit ? text.charCodeAt(k) : 0;
    if (c === 43 /* + */ || c === 45 /* - */) k++;
    const expStart = k;
    while (k < limit && isDigit(text.charCodeAt(k))) k++;
    if (k === expStart) return -1;
  }
  // The token must end here: "01", "1.2.3" and the like are not JSON.
  return k < limit && isNumberChar(text.charCodeAt(k)) ? -1 : k;
}

/**
 * A JSON number token of at most 15 digits and no fraction or exponent, other than -0: a JS
 * number holds it exactly and String() gives the same text back, so it needs no marker.
 */
function isSmallInteger(text: string, from: number, to: number): boolean {
  const start = text.charCodeAt(from) === 45 ? from + 1 : from;
  if (to - start > 15) return false;
  for (let k = start; k < to; k++) if (!isDigit(text.charCodeAt(k))) return false;
  return !(start > from && text.charCodeAt(start) === 48);
}

function isNumberChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46 /* . */ || c === 101 /* e */ || c === 69 /* E */ || c === 43 /* + */ || c === 45 /* - */;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function oddBackslashesBefore(text: string, at: number): boolean {
  let count = 0;
  for (let k = at - 1; k >= 0 && text.charCodeAt(k) === 92; k--) count++;
  return count % 2 === 1;
}

/**
 * Turns a parsed document's JS numbers and marked strings into JsonNumbers, and twice-marked
 * strings back into themselves, in place. Only for documents from markNumbers.
 */
function restoreInPlace(v: unknown): JsonValue {
  if (v !== null && typeof v === 'object') {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = restoreInPlace(v[i]);
    } else {
      const o = v as Record<string, unknown>;
      // for-in: a parsed object has only own, enumerable, plain properties.
      for (const k in o) {
        const x = o[k];
        if (typeof x === 'number' || typeof x === 'object' || (typeof x === 'string' && x.charCodeAt(0) === 0xe000)) o[k] = restoreInPlace(x);
      }
    }
    return v as JsonValue;
  }
  if (typeof v === 'number') return new JsonNumber(String(v));
  if (typeof v === 'string' && v.charCodeAt(0) === 0xe000) return v.charCodeAt(1) === 0xe000 ? v.slice(1) : new JsonNumber(v.slice(1));
  return v as JsonValue;
}

function parseSlow(text: string): JsonValue {
  return parse(text, null, (digits: string) => new JsonNumber(digits)) as JsonValue;
}

const MARK = '\ue000';
const ESCAPED_MARK = /^"\\u[eE]000/;
/** Serialises compactly, in key insertion order, numbers verbatim. */
export function stringifyJson(value: JsonValue | undefined): string {
  if (value === null || value === undefined || value instanceof JsonNull) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof JsonNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(stringifyJson).join(',')}]`;
  let out = '{';
  let first = true;
  for (const k of Object.keys(value)) {
    const v = value[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${stringifyJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * Parses one JSON value as the row encoder writes it: scalars without the general parser
 * (strings through the native one, numbers kept as their text), anything else losslessly.
 */
export function parseJsonValue(text: string): JsonValue {
  const c = text.charCodeAt(0);
  if (c === 34 /* " */) return text.indexOf('\\') < 0 ? text.slice(1, -1) : (JSON.parse(text) as string);
  if (c === 45 /* - */ || (c >= 48 && c <= 57)) return new JsonNumber(text);
  if (text === 'null') return null;
  if (text === 'true' || text === 'false') return text === 'true';
  return parseJson(text);
}
