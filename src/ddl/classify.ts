// Recognises which DDL statements change the replicated schema, and which objects they name.
// Full parsing comes with the schema tracker; this reads just the statement head.

import { lex } from './lexer.js';

export interface TableRef {
  database: string;
  table: string;
}

export type DdlStatement =
  | { kind: 'database-create' | 'database-drop' | 'database-alter'; database: string }
  | { kind: 'table-create' | 'table-alter' | 'table-truncate'; ref: TableRef }
  | { kind: 'table-drop'; refs: TableRef[] }
  | { kind: 'table-rename'; pairs: Array<[TableRef, TableRef]> }
  | { kind: 'ignored' };

/** Classifies a statement from a binlog QUERY event; `currentDb` is the event's default schema. */
export function classifyDdl(sql: string, currentDb: string): DdlStatement {
  const t = tokenize(sql);
  let i = 0;
  const word = (k = i) => (t[k]?.word ? t[k].text.toUpperCase() : '');
  const skipWords = (...words: string[]) => {
    while (words.includes(word())) i++;
  };
  const ref = (): TableRef => {
    const first = t[i++]?.text ?? '';
    if (t[i]?.text === '.' && !t[i].word) {
      i++;
      return { database: first, table: t[i++]?.text ?? '' };
    }
    return { database: currentDb, table: first };
  };
  const ifExists = () => {
    if (word() === 'IF') i += word(i + 1) === 'NOT' ? 3 : 2;
  };

  const verb = word();
  i++;
  if (verb === 'CREATE') {
    if (word() === 'OR' && word(i + 1) === 'REPLACE') i += 2;
    if (word() === 'DATABASE' || word() === 'SCHEMA') {
      i++;
      ifExists();
      return { kind: 'database-create', database: t[i]?.text ?? '' };
    }
    if (word() === 'TEMPORARY') return { kind: 'ignored' };
    if (word() === 'TABLE') {
      i++;
      ifExists();
      return { kind: 'table-create', ref: ref() };
    }
    return { kind: 'ignored' };
  }
  if (verb === 'DROP') {
    if (word() === 'DATABASE' || word() === 'SCHEMA') {
      i++;
      ifExists();
      return { kind: 'database-drop', database: t[i]?.text ?? '' };
    }
    if (word() === 'TEMPORARY') return { kind: 'ignored' };
    if (word() === 'TABLE' || word() === 'TABLES') {
      i++;
      ifExists();
      const refs = [ref()];
      while (t[i]?.text === ',' && !t[i].word) {
        i++;
        refs.push(ref());
      }
      return { kind: 'table-drop', refs };
    }
    return { kind: 'ignored' };
  }
  if (verb === 'ALTER') {
    skipWords('ONLINE', 'IGNORE');
    if (word() === 'DATABASE' || word() === 'SCHEMA') {
      i++;
      const named = t[i] && (t[i].quoted || !['CHARACTER', 'CHARSET', 'COLLATE', 'DEFAULT', 'UPGRADE', 'READ', 'COMMENT'].includes(word()));
      return { kind: 'database-alter', database: named ? t[i].text : currentDb };
    }
    if (word() === 'TABLE') {
      i++;
      ifExists();
      return { kind: 'table-alter', ref: ref() };
    }
    return { kind: 'ignored' };
  }
  if (verb === 'RENAME' && (word() === 'TABLE' || word() === 'TABLES')) {
    i++;
    const pairs: Array<[TableRef, TableRef]> = [];
    for (;;) {
      const from = ref();
      if (word() === 'TO') i++;
      pairs.push([from, ref()]);
      if (t[i]?.text !== ',') break;
      i++;
    }
    return { kind: 'table-rename', pairs };
  }
  if (verb === 'TRUNCATE') {
    if (word() === 'TABLE') i++;
    return { kind: 'table-truncate', ref: ref() };
  }
  return { kind: 'ignored' };
}

/**
 * The statement as words and names: the DDL parser's tokens (lexer.ts), an unquoted word marked
 * as one, a backticked name or double-quoted text by its unescaped text.
 */
function tokenize(sql: string): Array<{ text: string; word: boolean; quoted: boolean }> {
  return lex(sql)
    .filter((t) => t.kind !== 'eof')
    .map((t) => ({ text: t.text, word: t.kind === 'word', quoted: t.kind === 'ident' || t.doubleQuoted === true }));
}
