// Lossless JSON: numbers keep their decimal text in both directions (never a JS number).

import { parse } from 'lossless-json';
import { JsonNumber, type JsonValue } from './events.js';

/**
 * Parses JSON keeping every number's text. Fast path: the native JSON.parse, with the number
 * tokens a JS number would change (more than 15 digits, trailing fraction zeros, exponents, -0)
 * first turned into marked strings. A marker is U+E000 at the start of a string; a real string
 * that starts with U+E000 gets a second one, so nothing is ever confused.
 */
export function parseJson(text: string): JsonValue {
  let protectedText: string;
  try {
    protectedText = text.replace(TOKENS, protect);
  } catch {
    return parseSlow(text);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(protectedText);
  } catch {
    return parseSlow(text); // reports the error against the original text
  }
  return restore(doc);
}

function parseSlow(text: string): JsonValue {
  return parse(text, null, (digits: string) => new JsonNumber(digits)) as JsonValue;
}

const MARK = '\ue000';
const TOKENS = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
const ESCAPED_MARK = /^"\\u[eE]000/;

function protect(token: string): string {
  if (token.charCodeAt(0) === 34 /* " */) {
    // A real string starting with the marker (raw or escaped) gets a second one.
    return token.charCodeAt(1) === 0xe000 || ESCAPED_MARK.test(token) ? `"${MARK}${token.slice(1)}` : token;
  }
  const n = Number(token);
  return String(n) === token && !Object.is(n, -0) ? token : `"${MARK}${token}"`;
}

function restore(v: unknown): JsonValue {
  if (typeof v === 'number') return new JsonNumber(String(v));
  if (typeof v === 'string') {
    if (v.charCodeAt(0) !== 0xe000) return v;
    return v.charCodeAt(1) === 0xe000 ? v.slice(1) : new JsonNumber(v.slice(1));
  }
  if (v === null || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(restore);
  const out: Record<string, JsonValue> = {};
  for (const k of Object.keys(v as object)) out[k] = restore((v as Record<string, unknown>)[k]);
  return out;
}

/** Serialises compactly, in key insertion order, numbers verbatim. */
export function stringifyJson(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return 'null';
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
