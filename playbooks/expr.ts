/**
 * The playbook expression language: a small, safe, deterministic evaluator (no eval, no property
 * access beyond plain data) shared by the workflow interpreter and the linter. Expressions read
 * paths (`incident.severity`, `steps.revoke.output.key_id`), compare (`== != < <= > >=`), combine
 * (`&& || !`), test membership (`x in ['a','b']`) and use literals. Templates embed them in strings
 * as `${{ expr }}`; a string that is exactly one template yields the raw value.
 */

export type Ast =
  | { t: 'lit'; v: unknown }
  | { t: 'path'; root: string; segs: (string | number)[]; pos: number }
  | { t: 'not'; e: Ast }
  | { t: 'bin'; op: string; l: Ast; r: Ast }
  | { t: 'list'; items: Ast[] };

export class ExprError extends Error {
  constructor(
    message: string,
    /** Offset in the expression source. */
    readonly pos: number,
  ) {
    super(message);
  }
}

interface Tok {
  k: 'num' | 'str' | 'id' | 'op' | 'end';
  v: string;
  pos: number;
}

const OPS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '(', ')', '[', ']', '.', ','];

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^-?\d+(\.\d+)?/.exec(src.slice(i))!;
      out.push({ k: 'num', v: m[0], pos: i });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i))!;
      out.push({ k: 'id', v: m[0], pos: i });
      i += m[0].length;
    } else if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new ExprError('unterminated string', i);
      out.push({ k: 'str', v: src.slice(i + 1, end), pos: i });
      i = end + 1;
    } else {
      const op = OPS.find((o) => src.startsWith(o, i));
      if (!op) throw new ExprError(`unexpected character '${c}'`, i);
      out.push({ k: 'op', v: op, pos: i });
      i += op.length;
    }
  }
  out.push({ k: 'end', v: '', pos: src.length });
  return out;
}

const BINARY: string[][] = [['||'], ['&&'], ['==', '!=', 'in'], ['<', '<=', '>', '>=']];

export function parseExpr(src: string): Ast {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p]!;
  const next = () => toks[p++]!;
  const expect = (v: string) => {
    const t = next();
    if (t.v !== v || t.k === 'str') throw new ExprError(`expected '${v}'`, t.pos);
  };
  const isOp = (t: Tok, ops: string[]) =>
    (t.k === 'op' || (t.k === 'id' && t.v === 'in')) && ops.includes(t.v);

  function level(n: number): Ast {
    if (n >= BINARY.length) return unary();
    let l = level(n + 1);
    while (isOp(peek(), BINARY[n]!)) {
      const op = next().v;
      l = { t: 'bin', op, l, r: level(n + 1) };
    }
    return l;
  }
  function unary(): Ast {
    if (peek().k === 'op' && peek().v === '!') {
      next();
      return { t: 'not', e: unary() };
    }
    return primary();
  }
  function primary(): Ast {
    const t = next();
    if (t.k === 'num') return { t: 'lit', v: Number(t.v) };
    if (t.k === 'str') return { t: 'lit', v: t.v };
    if (t.k === 'op' && t.v === '(') {
      const e = level(0);
      expect(')');
      return e;
    }
    if (t.k === 'op' && t.v === '[') {
      const items: Ast[] = [];
      while (!(peek().k === 'op' && peek().v === ']')) {
        items.push(level(0));
        if (peek().v === ',') next();
        else break;
      }
      expect(']');
      return { t: 'list', items };
    }
    if (t.k === 'id') {
      if (t.v === 'true' || t.v === 'false') return { t: 'lit', v: t.v === 'true' };
      if (t.v === 'null') return { t: 'lit', v: null };
      const segs: (string | number)[] = [];
      for (;;) {
        const n = peek();
        if (n.k === 'op' && n.v === '.') {
          next();
          const id = next();
          if (id.k !== 'id') throw new ExprError('expected a field name after .', id.pos);
          segs.push(id.v);
        } else if (n.k === 'op' && n.v === '[') {
          next();
          const key = next();
          if (key.k !== 'num' && key.k !== 'str')
            throw new ExprError('expected an index or quoted key', key.pos);
          segs.push(key.k === 'num' ? Number(key.v) : key.v);
          expect(']');
        } else break;
      }
      return { t: 'path', root: t.v, segs, pos: t.pos };
    }
    throw new ExprError(t.k === 'end' ? 'unexpected end of expression' : `unexpected '${t.v}'`, t.pos);
  }

  const ast = level(0);
  if (peek().k !== 'end') throw new ExprError(`unexpected '${peek().v}'`, peek().pos);
  return ast;
}

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

function get(obj: unknown, key: string | number): unknown {
  if (obj === null || typeof obj !== 'object' || FORBIDDEN.has(String(key))) return undefined;
  if (Array.isArray(obj)) return typeof key === 'number' ? obj[key] : undefined;
  return Object.hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

export type Scope = Record<string, unknown>;

export function evaluate(ast: Ast, scope: Scope): unknown {
  switch (ast.t) {
    case 'lit':
      return ast.v;
    case 'list':
      return ast.items.map((i) => evaluate(i, scope));
    case 'path':
      return ast.segs.reduce<unknown>((v, s) => get(v, s), get(scope, ast.root));
    case 'not':
      return !evaluate(ast.e, scope);
    case 'bin': {
      if (ast.op === '&&') return Boolean(evaluate(ast.l, scope)) && Boolean(evaluate(ast.r, scope));
      if (ast.op === '||') return Boolean(evaluate(ast.l, scope)) || Boolean(evaluate(ast.r, scope));
      const l = evaluate(ast.l, scope);
      const r = evaluate(ast.r, scope);
      switch (ast.op) {
        case '==':
          return (l ?? null) === (r ?? null);
        case '!=':
          return (l ?? null) !== (r ?? null);
        case 'in':
          return Array.isArray(r)
            ? r.includes(l)
            : typeof r === 'string' && typeof l === 'string' && r.includes(l);
        default: {
          const comparable =
            (typeof l === 'number' && typeof r === 'number') ||
            (typeof l === 'string' && typeof r === 'string');
          if (!comparable) return false;
          const a = l as number | string;
          const b = r as number | string;
          return ast.op === '<' ? a < b : ast.op === '<=' ? a <= b : ast.op === '>' ? a > b : a >= b;
        }
      }
    }
  }
}

export function evalExpr(src: string, scope: Scope): unknown {
  return evaluate(parseExpr(src), scope);
}

export function evalCondition(src: string, scope: Scope): boolean {
  return Boolean(evalExpr(src, scope));
}

/** Every path an expression reads, for the linter. */
export function pathsOf(ast: Ast): Extract<Ast, { t: 'path' }>[] {
  switch (ast.t) {
    case 'path':
      return [ast];
    case 'not':
      return pathsOf(ast.e);
    case 'bin':
      return [...pathsOf(ast.l), ...pathsOf(ast.r)];
    case 'list':
      return ast.items.flatMap(pathsOf);
    default:
      return [];
  }
}

const TEMPLATE = /\$\{\{(.*?)\}\}/g;

/** The expressions embedded in a template string, with their offsets in it. */
export function templateExprs(s: string): { src: string; offset: number }[] {
  return [...s.matchAll(TEMPLATE)].map((m) => ({ src: m[1]!, offset: m.index + 3 }));
}

/** Renders templates in strings, arrays and objects; other values pass through. */
export function render(value: unknown, scope: Scope): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{\{(.*?)\}\}$/.exec(value);
    if (whole && !whole[1]!.includes('}}')) return evalExpr(whole[1]!, scope);
    return value.replace(TEMPLATE, (_, src: string) => {
      const v = evalExpr(src, scope);
      return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => render(v, scope));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, render(v, scope)]));
  }
  return value;
}

export function isTemplated(value: unknown): boolean {
  return typeof value === 'string' && templateExprs(value).length > 0;
}
