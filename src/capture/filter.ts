// Which databases and tables are replicated. Maxwell's rule syntax (`filter`):
//   "exclude: db.*, include: db.tbl, include: db./regex/, blacklist: bad.*"
// rules apply in order and the last matching one decides (everything is included when none
// matches); `include`/`exclude` lists are shorthands for such rules. Names match exactly,
// `/regex/` matches anywhere in the name, `*` matches anything. System databases never replicate.

import { My2pgError } from '../core/errors.js';

const SYSTEM_DATABASES = new Set(['mysql', 'information_schema', 'performance_schema', 'sys']);

type Matcher = (s: string) => boolean;

interface Rule {
  include: boolean;
  db: Matcher;
  table: Matcher;
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
      // A rule about specific tables does not exclude the whole database.
      if (r.db(db) && (r.include || r.table('*'))) included = r.include;
    }
    return included;
  }

  includesTable(db: string, table: string): boolean {
    if (SYSTEM_DATABASES.has(db.toLowerCase())) return false;
    let included = true;
    for (const r of this.rules) if (r.db(db) && r.table(table)) included = r.include;
    return included;
  }
}

function parseRule(kind: 'include' | 'exclude', text: string): Rule {
  const parts = splitName(text.trim());
  if (parts.length > 2) {
    throw new My2pgError('CONFIG', `filter rule "${text}": column value rules (db.table.column=value) are not supported`);
  }
  const [dbPart, tablePart = '*'] = parts;
  return { include: kind === 'include', db: matcher(dbPart, text), table: matcher(tablePart, text) };
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
  const name = /^([`"']).*\1$/.test(p) ? p.slice(1, -1) : p;
  return (s) => s === name;
}
