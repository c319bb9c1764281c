// Which databases and tables are replicated: `include`/`exclude` entries of the form `db`,
// `db.table`, `db.*`, with `/regex/` allowed for either part. System databases never are.

import { My2pgError } from '../core/errors.js';

const SYSTEM_DATABASES = new Set(['mysql', 'information_schema', 'performance_schema', 'sys']);

type Matcher = (s: string) => boolean;

interface Rule {
  db: Matcher;
  table: Matcher | null;
}

export class TableFilter {
  private readonly includes: Rule[];
  private readonly excludes: Rule[];

  constructor(include: string[], exclude: string[] = []) {
    this.includes = include.map(parseRule);
    this.excludes = exclude.map(parseRule);
  }

  includesDatabase(db: string): boolean {
    if (SYSTEM_DATABASES.has(db.toLowerCase())) return false;
    if (this.excludes.some((r) => r.table === null && r.db(db))) return false;
    return this.includes.length === 0 || this.includes.some((r) => r.db(db));
  }

  includesTable(db: string, table: string): boolean {
    if (!this.includesDatabase(db)) return false;
    if (this.excludes.some((r) => r.db(db) && (r.table === null || r.table(table)))) return false;
    return this.includes.length === 0 || this.includes.some((r) => r.db(db) && (r.table === null || r.table(table)));
  }
}

function parseRule(text: string): Rule {
  const [dbPart, tablePart] = splitRule(text);
  return { db: matcher(dbPart, text), table: tablePart === null || tablePart === '*' ? null : matcher(tablePart, text) };
}

/** Splits at the first dot outside a /regex/. */
function splitRule(text: string): [string, string | null] {
  let inRegex = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '/' && (i === 0 || text[i - 1] !== '\\')) inRegex = !inRegex;
    if (ch === '.' && !inRegex) return [text.slice(0, i), text.slice(i + 1)];
  }
  return [text, null];
}

function matcher(part: string, rule: string): Matcher {
  if (part.length > 1 && part.startsWith('/') && part.endsWith('/')) {
    let re: RegExp;
    try {
      re = new RegExp(part.slice(1, -1));
    } catch (err) {
      throw new My2pgError('CONFIG', `include/exclude rule "${rule}": bad regex: ${(err as Error).message}`);
    }
    return (s) => re.test(s);
  }
  if (part === '' ) throw new My2pgError('CONFIG', `include/exclude rule "${rule}" is empty`);
  if (part === '*') return () => true;
  return (s) => s === part;
}
