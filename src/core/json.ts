// Lossless JSON: numbers keep their decimal text in both directions (never a JS number).

import { parse } from 'lossless-json';
import { JsonNumber, type JsonValue } from './events.js';

export function parseJson(text: string): JsonValue {
  return parse(text, null, (digits: string) => new JsonNumber(digits)) as JsonValue;
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
