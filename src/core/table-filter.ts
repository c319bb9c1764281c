// Which databases and tables are replicated. Maxwell's rule syntax (`filter`):
//   "exclude: db.*, include: db.tbl, include: db./regex/, blacklist: bad.*"
// rules apply in order and the last matching one decides (everything is included when none
// matches); `include`/`exclude` lists are shorthands for such rules. Names match exactly,
// `/regex/` matches anywhere in the name, `*` matches anything. System databases never replicate.

import { My2pgError } from './errors.js';

const SYSTEM_DATABASES = new Set(['mysql', 'information_schema', 'performance_schema', 'sys']);

type Matcher = (s: string) => boolean;

interface Rule {
  include: boolean;
  db: Matcher;
  table: Matcher;
  /** `db.table.column = value`: decides per row, on the column's value. */
  column?: { name: string; value: (v: string | null) => boolean };
}

export class TableFilter {
  private readonly rules: Rule[];

  /**
   * @param include  shorthand: only these (`db`, `db.table`, `db./re/`) …
   * @param exclude  … minus these
   * @param filter   Maxwell's filter string, applied after the shorthands
   */
  constructor(include: string[], exclude: string[] = [], filter = '') {
    const rules: Rule[] = [];
    if (include.length > 0) rules.push(parseRule('exclude', '*.*'));
    for (const i of include) rules.push(parseRule('include', i));
    for (const e of exclude) rules.push(parseRule('exclude', e));
    for (const part of splitRules(filter)) {
      const m = /^\s*(include|exclude|blacklist)\s*:\s*(.+?)\s*$/i.exec(part);
      if (!m) throw new My2pgError('CONFIG', `filter: cannot read rule "${part.trim()}"; expected include:, exclude: or blacklist: and db.table`);
      rules.push(parseRule(m[1].toLowerCase() === 'include' ? 'include' : 'exclude', m[2]));
    }
    this.rules = rules;
  }

  /** True when some table of the database may be replicated (for database-level DDL). */
  includesDatabase(db: string): boolean {
    if (SYSTEM_DATABASES.has(db.toLowerCase())) return false;
    let included = true;
    for (const r of this.rules) {
      // A rule about specific tables or values does not exclude the whole database.
      if (r.db(db) && (r.include || (r.table('*') && !r.column))) included = r.include;
    }
    return included;
  }

  /** True when rows of the table may be replicated (column rules are decided per row). */
  includesTable(db: string, table: string): boolean {
    if (SYSTEM_DATABASES.has(db.toLowerCase())) return false;
    let included = true;
    let couldInclude = false;
    for (const r of this.rules) {
      if (!r.db(db) || !r.table(table)) continue;
      if (r.column) couldInclude ||= r.include;
      else included = r.include;
    }
    return included || couldInclude;
  }

  /** True when the filter has rules on column values, so rows must be checked one by one. */
  get hasColumnRules(): boolean {
    return this.rules.some((r) => r.column);
  }

  /** Decides one row, given its values as JSON text per column (as the row encoder makes them). */
  includesRow(db: string, table: string, values: Record<string, string>): boolean {
    let included = true;
    for (const r of this.rules) {
      if (!r.db(db) || !r.table(table)) continue;
      if (!r.column) {
        included = r.include;
      } else if (r.column.name in values && r.column.value(valueText(values[r.column.name]))) {
        included = r.include;
      }
    }
    return included;
  }
}

function parseRule(kind: 'include' | 'exclude', text: string): Rule {
  const eq = splitOutside(text, '=');
  const parts = splitName(eq[0].trim());
  if (parts.length === 3 && eq.length === 2) {
    const [dbPart, tablePart, columnPart] = parts;
    return {
      include: kind === 'include',
      db: matcher(dbPart, text),
      table: matcher(tablePart, text),
      column: { name: unquote(columnPart.trim()), value: valueMatcher(eq[1].trim(), text) },
    };
  }
  if (parts.length > 2 || eq.length > 1) {
    throw new My2pgError('CONFIG', `filter rule "${text}": expected db.table or db.table.column = value`);
  }
  const [dbPart, tablePart = '*'] = parts;
  return { include: kind === 'include', db: matcher(dbPart, text), table: matcher(tablePart, text) };
}

/** Maxwell's value patterns: `*` anything, `null` a NULL, a word exactly, `/re/` anywhere. */
function valueMatcher(p: string, rule: string): (v: string | null) => boolean {
  if (p === '*') return () => true;
  if (p === 'null' || p === 'NULL') return (v) => v === null || v === 'null' || v === 'NULL';
  const m = matcher(p, rule);
  return (v) => v !== null && m(v);
}

/** A value's text as Maxwell compares it: strings unquoted, numbers as written, NULL as null. */
function valueText(json: string): string | null {
  if (json === 'null') return null;
  return json.startsWith('"') ? (JSON.parse(json) as string) : json;
}

function unquote(p: string): string {
  return /^([`"']).*\1$/.test(p) ? p.slice(1, -1) : p;
}

/** Splits rules at commas outside /regex/ and quotes. */
function splitRules(filter: string): string[] {
  return splitOutside(filter, ',').filter((p) => p.trim() !== '');
}

/** Splits `db.table` at dots outside /regex/ and quotes. */
function splitName(text: string): string[] {
  return splitOutside(text, '.');
}

function splitOutside(text: string, sep: string): string[] {
  const out: string[] = [];
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote && text[i - 1] !== '\\') quote = null;
    } else if (ch === '/' || ch === '`' || ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === sep) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

function matcher(part: string, rule: string): Matcher {
  const p = part.trim();
  if (p === '') throw new My2pgError('CONFIG', `filter rule "${rule}" has an empty name`);
  if (p === '*') return () => true;
  if (p.length > 1 && p.startsWith('/') && p.endsWith('/')) {
    let re: RegExp;
    try {
      re = new RegExp(p.slice(1, -1));
    } catch (err) {
      throw new My2pgError('CONFIG', `filter rule "${rule}": bad regex: ${(err as Error).message}`);
    }
    return (s) => re.test(s);
  }
  const name = unquote(p);
  return (s) => s === name;
}
