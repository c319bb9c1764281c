// Turns MySQL/MariaDB statement text into tokens for the DDL parser: the pre-processing step
// (executable comments kept, plain comments dropped, charset introducers, escapes) in one pass.

export type TokenKind = 'word' | 'ident' | 'string' | 'number' | 'hex' | 'bit' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  /**
   * word: as written; ident: the unescaped name (backticks removed, `` → `); string: the
   * unescaped value; number: as written; hex/bit: the digits only; op: the punctuation.
   */
  text: string;
  /** Offsets into the statement text, for error messages and for copying expressions verbatim. */
  start: number;
  end: number;
  /** A double-quoted string: an identifier under ANSI_QUOTES, a string literal otherwise. */
  doubleQuoted?: boolean;
  /** The charset introducer of a literal (`_utf8mb4'x'` → utf8mb4), lower case. */
  charset?: string;
}

const WORD = /[\w$\u0080-\uffff]/;

/**
 * Splits a statement into tokens. Version comments (`/*!40101 … *\/`, `/*M!100100 … *\/`) keep
 * their body: MySQL executes it, and mysqldump and the binlog are full of them. Plain comments
 * are dropped. Throws nothing: an unterminated quote simply runs to the end of the text.
 */
export function lex(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
    } else if (sql.startsWith('/*!', i) || sql.startsWith('/*M!', i)) {
      i += sql[i + 2] === 'M' ? 4 : 3;
      let digits = 0;
      while (digits < 6 && /\d/.test(sql[i] ?? '')) {
        i++;
        digits++;
      }
    } else if (sql.startsWith('*/', i)) {
      i += 2; // end of an executable comment
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '#' || (sql.startsWith('--', i) && (i + 2 >= n || /\s/.test(sql[i + 2])))) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === '`') {
      const [text, end] = readQuoted(sql, i, '`', false);
      out.push({ kind: 'ident', text, start: i, end });
      i = end;
    } else if (c === "'" || c === '"') {
      const [text, end] = readQuoted(sql, i, c, true);
      out.push({ kind: 'string', text, start: i, end, ...(c === '"' ? { doubleQuoted: true } : {}) });
      i = end;
    } else if ((c === 'x' || c === 'X' || c === 'b' || c === 'B') && sql[i + 1] === "'") {
      const end = sql.indexOf("'", i + 2);
      const stop = end < 0 ? n : end + 1;
      out.push({ kind: c === 'x' || c === 'X' ? 'hex' : 'bit', text: sql.slice(i + 2, end < 0 ? n : end), start: i, end: stop });
      i = stop;
    } else if ((c === 'n' || c === 'N') && sql[i + 1] === "'") {
      const [text, end] = readQuoted(sql, i + 1, "'", true);
      out.push({ kind: 'string', text, start: i, end });
      i = end;
    } else if (c === '0' && (sql[i + 1] === 'x' || sql[i + 1] === 'b') && /^0(x[0-9a-fA-F]+|b[01]+)(?![\w$\u0080-\uffff])/.test(sql.slice(i, i + 200))) {
      let j = i + 2;
      while (j < n && WORD.test(sql[j])) j++;
      out.push({ kind: sql[i + 1] === 'x' ? 'hex' : 'bit', text: sql.slice(i + 2, j), start: i, end: j });
      i = j;
    } else if (/\d/.test(c) || (c === '.' && /\d/.test(sql[i + 1] ?? '') && !isNameEnd(out))) {
      const m = /^(\d*\.?\d+|\d+\.)([eE][-+]?\d+)?/.exec(sql.slice(i, i + 400));
      const len = m ? m[0].length : 1;
      if (m && !WORD.test(sql[i + len] ?? '')) {
        out.push({ kind: 'number', text: m[0], start: i, end: i + len });
        i += len;
      } else {
        i = pushWord(out, sql, i); // identifiers may start with digits: `1st_column`
      }
    } else if (WORD.test(c)) {
      i = pushWord(out, sql, i);
    } else {
      const two = sql.slice(i, i + 2);
      const op = ['<=', '>=', '<>', '!=', ':=', '||', '&&', '<<', '>>'].includes(two) ? two : c;
      out.push({ kind: 'op', text: op, start: i, end: i + op.length });
      i += op.length;
    }
  }
  out.push({ kind: 'eof', text: '', start: n, end: n });
  return out;
}

/** True when the last token ends a name, so `.5` is the dot of `t.5col`, not a number. */
function isNameEnd(out: Token[]): boolean {
  const last = out[out.length - 1];
  return last !== undefined && (last.kind === 'word' || last.kind === 'ident');
}

function pushWord(out: Token[], sql: string, i: number): number {
  let j = i;
  while (j < sql.length && WORD.test(sql[j])) j++;
  const text = sql.slice(i, j);
  // A charset introducer: _utf8mb4'x', _binary 'x', _latin1 X'41'.
  if (text.startsWith('_') && text.length > 1) {
    let k = j;
    while (k < sql.length && /\s/.test(sql[k])) k++;
    const q = sql[k];
    if (q === "'" || q === '"') {
      const [value, end] = readQuoted(sql, k, q, true);
      out.push({ kind: 'string', text: value, start: i, end, charset: text.slice(1).toLowerCase() });
      return end;
    }
    if (/[xXbB]/.test(q ?? '') && sql[k + 1] === "'") {
      const close = sql.indexOf("'", k + 2);
      const end = close < 0 ? sql.length : close + 1;
      out.push({ kind: /[xX]/.test(q) ? 'hex' : 'bit', text: sql.slice(k + 2, close < 0 ? sql.length : close), start: i, end, charset: text.slice(1).toLowerCase() });
      return end;
    }
  }
  out.push({ kind: 'word', text, start: i, end: j });
  return j;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', '0': '\0', Z: '\x1a', '%': '\\%', _: '\\_' };

/** Reads a quoted token starting at `i`; doubled quotes (and, in strings, backslash escapes) unescape. */
function readQuoted(sql: string, i: number, q: string, backslash: boolean): [string, number] {
  let text = '';
  let j = i + 1;
  while (j < sql.length) {
    const ch = sql[j];
    if (ch === q) {
      if (sql[j + 1] === q) {
        text += q;
        j += 2;
        continue;
      }
      return [text, j + 1];
    }
    if (backslash && ch === '\\' && j + 1 < sql.length) {
      const e = sql[j + 1];
      text += ESCAPES[e] ?? e;
      j += 2;
      continue;
    }
    text += ch;
    j++;
  }
  return [text, sql.length];
}
