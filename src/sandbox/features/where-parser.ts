import { QueryError, invalidParameter } from './query-error.js';

/**
 * A parser for the SQL-92 subset ArcGIS's standardized queries accept in `where` (§8, §10.6):
 * comparisons, AND/OR/NOT with parentheses, [NOT] LIKE with % and _ (ESCAPE too), [NOT] IN (...),
 * IS [NOT] NULL, [NOT] BETWEEN, UPPER()/LOWER(), string literals with '' escaping, numbers,
 * DATE 'yyyy-mm-dd' and TIMESTAMP 'yyyy-mm-dd hh:mm:ss'. Recursive descent, one token of lookahead.
 */
export type Operand =
  | { t: 'lit'; v: string | number | null }
  | { t: 'field'; name: string }
  | { t: 'fn'; name: 'UPPER' | 'LOWER'; arg: Operand };

export type CompareOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

export type WhereExpr =
  | { t: 'and' | 'or'; a: WhereExpr; b: WhereExpr }
  | { t: 'not'; e: WhereExpr }
  | { t: 'cmp'; op: CompareOp; l: Operand; r: Operand }
  | { t: 'like'; negated: boolean; l: Operand; pattern: Operand; escape: string | null }
  | { t: 'in'; negated: boolean; l: Operand; list: Operand[] }
  | { t: 'null'; negated: boolean; l: Operand }
  | { t: 'between'; negated: boolean; l: Operand; lo: Operand; hi: Operand };

type Token =
  | { k: 'num'; v: number }
  | { k: 'str'; v: string }
  | { k: 'id'; v: string; quoted: boolean }
  | { k: 'op'; v: string }
  | { k: 'eof' };

const OPS = ['<>', '!=', '<=', '>=', '=', '<', '>', '(', ')', ','];

function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input.charAt(i);
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === "'") {
      let value = '';
      i += 1;
      for (;;) {
        if (i >= input.length) throw syntax();
        const ch = input.charAt(i);
        if (ch === "'") {
          if (input.charAt(i + 1) === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        value += ch;
        i += 1;
      }
      tokens.push({ k: 'str', v: value });
    } else if (c === '"') {
      const end = input.indexOf('"', i + 1);
      if (end === -1) throw syntax();
      tokens.push({ k: 'id', v: input.slice(i + 1, end), quoted: true });
      i = end + 1;
    } else if (
      /[0-9.]/.test(c) ||
      (c === '-' && /[0-9.]/.test(input.charAt(i + 1)) && unaryPosition(tokens))
    ) {
      const match = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(input.slice(i));
      if (match === null) throw syntax();
      tokens.push({ k: 'num', v: Number(match[0]) });
      i += match[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const match = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(input.slice(i));
      if (match === null) throw syntax();
      tokens.push({ k: 'id', v: match[0], quoted: false });
      i += match[0].length;
    } else {
      const op = OPS.find((o) => input.startsWith(o, i));
      if (op === undefined) throw syntax();
      tokens.push({ k: 'op', v: op });
      i += op.length;
    }
  }
  tokens.push({ k: 'eof' });
  return tokens;
}

/** A minus sign starts a number only where an operand is expected. */
function unaryPosition(tokens: Token[]): boolean {
  const last = tokens[tokens.length - 1];
  return last === undefined || last.k === 'op' || (last.k === 'id' && !last.quoted && isKeyword(last.v));
}

const KEYWORDS = new Set([
  'AND',
  'OR',
  'NOT',
  'LIKE',
  'IN',
  'IS',
  'NULL',
  'BETWEEN',
  'ESCAPE',
  'DATE',
  'TIMESTAMP',
]);

function isKeyword(word: string): boolean {
  return KEYWORDS.has(word.toUpperCase());
}

function syntax(): QueryError {
  return invalidParameter('where');
}

export function parseWhere(input: string): WhereExpr {
  const tokens = lex(input);
  let pos = 0;
  const peek = (): Token => tokens[pos] ?? { k: 'eof' };
  const next = (): Token => {
    const token = peek();
    pos += 1;
    return token;
  };
  const isWord = (word: string): boolean => {
    const token = peek();
    return token.k === 'id' && !token.quoted && token.v.toUpperCase() === word;
  };
  const acceptWord = (word: string): boolean => {
    if (!isWord(word)) return false;
    pos += 1;
    return true;
  };
  const isOp = (op: string): boolean => {
    const token = peek();
    return token.k === 'op' && token.v === op;
  };
  const expectOp = (op: string): void => {
    if (!isOp(op)) throw syntax();
    pos += 1;
  };

  const orExpr = (): WhereExpr => {
    let left = andExpr();
    while (acceptWord('OR')) left = { t: 'or', a: left, b: andExpr() };
    return left;
  };
  const andExpr = (): WhereExpr => {
    let left = notExpr();
    while (acceptWord('AND')) left = { t: 'and', a: left, b: notExpr() };
    return left;
  };
  const notExpr = (): WhereExpr => (acceptWord('NOT') ? { t: 'not', e: notExpr() } : predicate());

  const predicate = (): WhereExpr => {
    // A parenthesis opens either a sub-expression or (rarely) a parenthesised operand: try the former.
    if (isOp('(')) {
      const save = pos;
      pos += 1;
      try {
        const inner = orExpr();
        expectOp(')');
        if (!startsComparison()) return inner;
      } catch (error) {
        if (!(error instanceof QueryError)) throw error;
      }
      pos = save;
    }
    const left = operand();
    const negated = acceptWord('NOT');
    if (acceptWord('LIKE')) {
      const pattern = operand();
      let escape: string | null = null;
      if (acceptWord('ESCAPE')) {
        const token = next();
        if (token.k !== 'str' || token.v.length !== 1) throw syntax();
        escape = token.v;
      }
      return { t: 'like', negated, l: left, pattern, escape };
    }
    if (acceptWord('IN')) {
      expectOp('(');
      const list = [operand()];
      while (isOp(',')) {
        pos += 1;
        list.push(operand());
      }
      expectOp(')');
      return { t: 'in', negated, l: left, list };
    }
    if (acceptWord('BETWEEN')) {
      const lo = operand();
      if (!acceptWord('AND')) throw syntax();
      return { t: 'between', negated, l: left, lo, hi: operand() };
    }
    if (negated) throw syntax();
    if (acceptWord('IS')) {
      const isNot = acceptWord('NOT');
      if (!acceptWord('NULL')) throw syntax();
      return { t: 'null', negated: isNot, l: left };
    }
    const token = next();
    if (token.k !== 'op' || !['=', '<>', '!=', '<', '<=', '>', '>='].includes(token.v)) throw syntax();
    const op = (token.v === '!=' ? '<>' : token.v) as CompareOp;
    return { t: 'cmp', op, l: left, r: operand() };
  };

  const startsComparison = (): boolean => {
    const token = peek();
    if (token.k === 'op') return ['=', '<>', '!=', '<', '<=', '>', '>='].includes(token.v);
    return isWord('LIKE') || isWord('IN') || isWord('IS') || isWord('BETWEEN') || isWord('NOT');
  };

  const operand = (): Operand => {
    const token = next();
    switch (token.k) {
      case 'num':
        return { t: 'lit', v: token.v };
      case 'str':
        return { t: 'lit', v: token.v };
      case 'op':
        if (token.v === '(') {
          const inner = operand();
          expectOp(')');
          return inner;
        }
        throw syntax();
      case 'id': {
        const upper = token.v.toUpperCase();
        if (!token.quoted && (upper === 'DATE' || upper === 'TIMESTAMP') && peek().k === 'str') {
          const literal = next() as { k: 'str'; v: string };
          return { t: 'lit', v: parseDateLiteral(literal.v) };
        }
        if (!token.quoted && (upper === 'UPPER' || upper === 'LOWER') && isOp('(')) {
          pos += 1;
          const arg = operand();
          expectOp(')');
          return { t: 'fn', name: upper, arg };
        }
        if (!token.quoted && upper === 'NULL') return { t: 'lit', v: null };
        if (!token.quoted && isKeyword(upper)) throw syntax();
        return { t: 'field', name: token.v };
      }
      case 'eof':
        throw syntax();
    }
  };

  const expr = orExpr();
  if (peek().k !== 'eof') throw syntax();
  return expr;
}

/** DATE 'yyyy-mm-dd' / TIMESTAMP 'yyyy-mm-dd hh:mm:ss' → epoch ms (UTC), as dates are stored (§1). */
function parseDateLiteral(text: string): number {
  const iso = text.trim().replace(' ', 'T');
  const ms = Date.parse(
    /[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}${iso.includes('T') ? 'Z' : 'T00:00:00Z'}`,
  );
  if (Number.isNaN(ms)) throw syntax();
  return ms;
}
