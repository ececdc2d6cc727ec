import { resolveField } from './field-lookup.js';
import type { AttributeValue, FeatureRow, LayerDef } from './layer-types.js';
import { parseWhere } from './where-parser.js';
import type { Operand, WhereExpr } from './where-parser.js';

/** SQL three-valued logic: null is "unknown" (a comparison with NULL is neither true nor false). */
type Truth = boolean | null;
type Value = AttributeValue;
export type RowPredicate = (row: FeatureRow) => boolean;

/**
 * Compiles a where clause into a predicate over a layer's rows. Unknown fields throw the §2
 * "Invalid field" error; syntax errors the "'where' parameter is invalid" one.
 * String comparisons and LIKE are case-sensitive: whether hosted layers compare case-insensitively
 * depends on the backing database [U]; use UPPER() for portable queries.
 */
export function compileWhere(layer: LayerDef, where: string | undefined): RowPredicate {
  const text = (where ?? '').trim();
  if (text === '' || text === '1=1') return () => true;
  const test = compileExpr(parseWhere(text), layer);
  return (row) => test(row) === true;
}

function compileExpr(expr: WhereExpr, layer: LayerDef): (row: FeatureRow) => Truth {
  switch (expr.t) {
    case 'and': {
      const a = compileExpr(expr.a, layer);
      const b = compileExpr(expr.b, layer);
      return (row) => {
        const x = a(row);
        if (x === false) return false;
        const y = b(row);
        if (y === false) return false;
        return x === null || y === null ? null : true;
      };
    }
    case 'or': {
      const a = compileExpr(expr.a, layer);
      const b = compileExpr(expr.b, layer);
      return (row) => {
        const x = a(row);
        if (x === true) return true;
        const y = b(row);
        if (y === true) return true;
        return x === null || y === null ? null : false;
      };
    }
    case 'not': {
      const e = compileExpr(expr.e, layer);
      return (row) => {
        const x = e(row);
        return x === null ? null : !x;
      };
    }
    case 'cmp': {
      const l = compileOperand(expr.l, layer);
      const r = compileOperand(expr.r, layer);
      const op = expr.op;
      return (row) => {
        const c = compare(l(row), r(row));
        if (c === null) return null;
        switch (op) {
          case '=':
            return c === 0;
          case '<>':
            return c !== 0;
          case '<':
            return c < 0;
          case '<=':
            return c <= 0;
          case '>':
            return c > 0;
          case '>=':
            return c >= 0;
        }
      };
    }
    case 'like': {
      const l = compileOperand(expr.l, layer);
      const pattern = compileOperand(expr.pattern, layer);
      const negated = expr.negated;
      const escape = expr.escape;
      const cache = new Map<string, RegExp>();
      return (row) => {
        const value = l(row);
        const p = pattern(row);
        if (value === null || p === null) return null;
        const source = String(p);
        let regex = cache.get(source);
        if (regex === undefined) {
          regex = likeToRegExp(source, escape);
          cache.set(source, regex);
        }
        const hit = regex.test(String(value));
        return negated ? !hit : hit;
      };
    }
    case 'in': {
      const l = compileOperand(expr.l, layer);
      const list = expr.list.map((o) => compileOperand(o, layer));
      const negated = expr.negated;
      return (row) => {
        const value = l(row);
        if (value === null) return null;
        let sawNull = false;
        for (const item of list) {
          const c = compare(value, item(row));
          if (c === null) sawNull = true;
          else if (c === 0) return !negated;
        }
        return sawNull ? null : negated;
      };
    }
    case 'null': {
      const l = compileOperand(expr.l, layer);
      const negated = expr.negated;
      return (row) => (l(row) === null) !== negated;
    }
    case 'between': {
      const l = compileOperand(expr.l, layer);
      const lo = compileOperand(expr.lo, layer);
      const hi = compileOperand(expr.hi, layer);
      const negated = expr.negated;
      return (row) => {
        const value = l(row);
        const a = compare(value, lo(row));
        const b = compare(value, hi(row));
        if (a === null || b === null) return null;
        const inside = a >= 0 && b <= 0;
        return negated ? !inside : inside;
      };
    }
  }
}

function compileOperand(operand: Operand, layer: LayerDef): (row: FeatureRow) => Value {
  switch (operand.t) {
    case 'lit': {
      const value = operand.v;
      return () => value;
    }
    case 'field': {
      const name = resolveField(layer, operand.name).name;
      return (row) => row.attributes[name] ?? null;
    }
    case 'fn': {
      const arg = compileOperand(operand.arg, layer);
      const upper = operand.name === 'UPPER';
      return (row) => {
        const value = arg(row);
        if (value === null) return null;
        return upper ? String(value).toUpperCase() : String(value).toLowerCase();
      };
    }
  }
}

/**
 * Compares two values; null when either is NULL. Mixed number/string compares numerically when
 * the string is a number or a date (ArcGIS converts implicitly), else as text.
 */
export function compare(a: Value, b: Value): number | null {
  if (a === null || b === null) return null;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  const [n, s, flip] = typeof a === 'number' ? [a, b as string, 1] : [b as number, a as string, -1];
  const asNumber = s.trim() === '' ? NaN : Number(s);
  const other = Number.isNaN(asNumber) ? Date.parse(s) : asNumber;
  if (Number.isNaN(other)) {
    const t = String(n);
    return flip * (t < s ? -1 : t > s ? 1 : 0);
  }
  return flip * (n - other);
}

function likeToRegExp(pattern: string, escape: string | null): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern.charAt(i);
    if (escape !== null && c === escape && i + 1 < pattern.length) {
      i += 1;
      source += escapeRegExp(pattern.charAt(i));
    } else if (c === '%') {
      source += '[\\s\\S]*';
    } else if (c === '_') {
      source += '[\\s\\S]';
    } else {
      source += escapeRegExp(c);
    }
  }
  return new RegExp(`^${source}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
