// Recognises which DDL statements change the replicated schema, and which objects they name.
// Full parsing comes with the schema tracker; this reads just the statement head.

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

interface Token {
  text: string;
  /** An unquoted word (keyword or bare identifier). */
  word: boolean;
  quoted: boolean;
}

/** Splits SQL into words, quoted identifiers and punctuation; unwraps version comments. */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
    } else if (sql.startsWith('/*!', i) || sql.startsWith('/*M!', i)) {
      // Executable comment: its body is part of the statement, after the version digits.
      i += sql[i + 2] === 'M' ? 4 : 3;
      while (/\d/.test(sql[i] ?? '')) i++;
    } else if (sql.startsWith('*/', i)) {
      i += 2;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (sql.startsWith('--', i) || c === '#') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end + 1;
    } else if (c === '`' || c === '"') {
      let text = '';
      let j = i + 1;
      for (; j < sql.length; j++) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            text += c;
            j++;
            continue;
          }
          break;
        }
        text += sql[j];
      }
      out.push({ text, word: false, quoted: true });
      i = j + 1;
    } else if (c === "'") {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === "'" && sql[j + 1] !== "'")) j += sql[j] === "'" || sql[j] === '\\' ? 2 : 1;
      out.push({ text: sql.slice(i, j + 1), word: false, quoted: false });
      i = j + 1;
    } else if (/[\w$\u0080-\uffff]/.test(c)) {
      let j = i;
      while (j < sql.length && /[\w$\u0080-\uffff]/.test(sql[j])) j++;
      out.push({ text: sql.slice(i, j), word: true, quoted: false });
      i = j;
    } else {
      out.push({ text: c, word: false, quoted: false });
      i++;
    }
  }
  return out;
}
