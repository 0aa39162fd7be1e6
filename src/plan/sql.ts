// A recursive-descent parser for Spark SQL expression strings (expr, filter, selectExpr) into the same Expr data as the builder.
import { call, literal, type Expr } from './expr.js';
import { fieldTypeOf } from './schema.js';
import { stringToTimestampUs } from './timestamp.js';
import { PlanError } from './types.js';

type TokenKind = 'ident' | 'quoted' | 'number' | 'string' | 'op' | 'eof';
interface Token {
  readonly kind: TokenKind;
  /** Identifier (as written), operator, number text, or decoded string. */
  readonly text: string;
  readonly pos: number;
}

const OPERATORS = ['<=>', '==', '!=', '<>', '<=', '>=', '||', '::', '<', '>', '=', '+', '-', '*', '/', '%', '(', ')', ',', '.', '!'];

/** Spark's unescapeSQLString: backslash escapes, except `\%` and `\_` stay (for LIKE). */
function unescape(body: string): string {
  return body.replace(/\\(u[0-9a-fA-F]{4}|[\s\S])/g, (_m, e: string) => {
    if (e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    switch (e) {
      case 'n': return '\n';
      case 't': return '\t';
      case 'r': return '\r';
      case 'b': return '\b';
      case '0': return '\0';
      case 'Z': return '\x1a';
      case '%': return '\\%';
      case '_': return '\\_';
      default: return e;
    }
  });
}

function tokenize(text: string, fail: (pos: number, expected: string) => never): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < text.length) {
    const c = text[pos]!;
    if (/\s/.test(c)) {
      pos++;
      continue;
    }
    const start = pos;
    if (/[A-Za-z_]/.test(c)) {
      while (pos < text.length && /[A-Za-z0-9_]/.test(text[pos]!)) pos++;
      tokens.push({ kind: 'ident', text: text.slice(start, pos), pos: start });
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[pos + 1] ?? ''))) {
      const m = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?:BD|[LSYDF])?/i.exec(text.slice(pos))!;
      pos += m[0].length;
      if (/[A-Za-z_]/.test(text[pos] ?? '')) fail(pos, 'an operator or the end after a number');
      tokens.push({ kind: 'number', text: m[0], pos: start });
    } else if (c === "'" || c === '"') {
      let body = '';
      pos++;
      for (;;) {
        if (pos >= text.length) fail(start, `a closing ${c}`);
        const d = text[pos]!;
        if (d === '\\') {
          body += text.slice(pos, pos + 2);
          pos += 2;
        } else if (d === c) {
          pos++;
          break;
        } else {
          body += d;
          pos++;
        }
      }
      tokens.push({ kind: 'string', text: unescape(body), pos: start });
    } else if (c === '`') {
      let name = '';
      pos++;
      for (;;) {
        if (pos >= text.length) fail(start, 'a closing backtick');
        if (text[pos] === '`') {
          if (text[pos + 1] === '`') {
            name += '`';
            pos += 2;
            continue;
          }
          pos++;
          break;
        }
        name += text[pos++];
      }
      tokens.push({ kind: 'quoted', text: name, pos: start });
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, pos));
      if (!op) fail(pos, 'an expression');
      pos += op!.length;
      tokens.push({ kind: 'op', text: op!, pos: start });
    }
  }
  tokens.push({ kind: 'eof', text: '', pos: text.length });
  return tokens;
}

const RESERVED = new Set(['and', 'or', 'not', 'in', 'is', 'like', 'between', 'case', 'when', 'then', 'else', 'end', 'as', 'cast', 'null', 'true', 'false', 'div', 'distinct']);

class SqlParser {
  private readonly tokens: Token[];
  private i = 0;

  constructor(private readonly text: string) {
    this.tokens = tokenize(text, (pos, expected) => this.failAt(pos, expected));
  }

  private failAt(pos: number, expected: string): never {
    const rest = this.text.slice(pos);
    const got = rest === '' ? 'the end of the text' : `'${rest.slice(0, 15)}'`;
    throw new PlanError(`SQL expression "${this.text}" at position ${pos}: expected ${expected}, got ${got}`);
  }

  private fail(expected: string): never {
    return this.failAt(this.peek().pos, expected);
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  /** True (and consumed) when the next token is keyword `kw` (case-insensitive). */
  private keyword(kw: string): boolean {
    const t = this.peek();
    if (t.kind === 'ident' && t.text.toLowerCase() === kw) {
      this.i++;
      return true;
    }
    return false;
  }

  private op(o: string): boolean {
    const t = this.peek();
    if (t.kind === 'op' && t.text === o) {
      this.i++;
      return true;
    }
    return false;
  }

  private expectOp(o: string): void {
    if (!this.op(o)) this.fail(`'${o}'`);
  }

  private expectKeyword(kw: string): void {
    if (!this.keyword(kw)) this.fail(kw.toUpperCase());
  }

  atEnd(): boolean {
    return this.peek().kind === 'eof';
  }

  end(): void {
    if (!this.atEnd()) this.fail('an operator or the end of the expression');
  }

  /** A select item: `*`, or an expression with an optional `AS name` / bare name. */
  selectItem(): Expr | '*' {
    if (this.peek().kind === 'op' && this.peek().text === '*' && this.peek(1).kind === 'eof') {
      this.i++;
      return '*';
    }
    return this.namedExpression();
  }

  /** An expression with an optional alias (`AS name`, or just `name`): Spark's namedExpression. */
  namedExpression(): Expr {
    const e = this.expression();
    if (this.keyword('as')) return { kind: 'alias', expr: e, name: this.identifier('a column alias') };
    const t = this.peek();
    if ((t.kind === 'ident' && !RESERVED.has(t.text.toLowerCase())) || t.kind === 'quoted') return { kind: 'alias', expr: e, name: this.identifier('a column alias') };
    return e;
  }

  private identifier(what: string): string {
    const t = this.peek();
    if (t.kind === 'quoted' || (t.kind === 'ident' && !RESERVED.has(t.text.toLowerCase()))) {
      this.i++;
      return t.text;
    }
    return this.fail(what);
  }

  expression(): Expr {
    return this.or();
  }

  private or(): Expr {
    let e = this.and();
    while (this.keyword('or')) e = call('or', e, this.and());
    return e;
  }

  private and(): Expr {
    let e = this.not();
    while (this.keyword('and')) e = call('and', e, this.not());
    return e;
  }

  private not(): Expr {
    if (this.keyword('not') || this.op('!')) return call('not', this.not());
    return this.predicate();
  }

  private predicate(): Expr {
    const left = this.comparison();
    const negated = this.keyword('not');
    let e: Expr;
    if (this.keyword('in')) {
      this.expectOp('(');
      const list = [this.expression()];
      while (this.op(',')) list.push(this.expression());
      this.expectOp(')');
      e = call('in', left, ...list);
    } else if (this.keyword('like')) {
      e = call('like', left, this.additive());
    } else if (this.keyword('between')) {
      const low = this.additive();
      this.expectKeyword('and');
      const high = this.additive();
      e = call('and', call('>=', left, low), call('<=', left, high));
    } else if (!negated && this.keyword('is')) {
      const not = this.keyword('not');
      this.expectKeyword('null');
      return call(not ? 'isnotnull' : 'isnull', left);
    } else {
      if (negated) this.fail('IN, LIKE or BETWEEN after NOT');
      return left;
    }
    return negated ? call('not', e) : e;
  }

  private comparison(): Expr {
    let e = this.additive();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || !['=', '==', '!=', '<>', '<', '<=', '>', '>=', '<=>'].includes(t.text)) return e;
      this.i++;
      const name = t.text === '=' ? '==' : t.text === '<>' ? '!=' : t.text;
      e = call(name, e, this.additive());
    }
  }

  private additive(): Expr {
    let e = this.multiplicative();
    for (;;) {
      if (this.op('+')) e = call('+', e, this.multiplicative());
      else if (this.op('-')) e = call('-', e, this.multiplicative());
      else if (this.op('||')) e = call('concat', e, this.multiplicative());
      else return e;
    }
  }

  private multiplicative(): Expr {
    let e = this.unary();
    for (;;) {
      if (this.op('*')) e = call('*', e, this.unary());
      else if (this.op('/')) e = call('/', e, this.unary());
      else if (this.op('%')) e = call('%', e, this.unary());
      else if (this.keyword('div')) e = call('div', e, this.unary());
      else return e;
    }
  }

  private unary(): Expr {
    if (this.op('-')) {
      const inner = this.unary();
      // -2147483648 is an INT literal, as in Spark.
      if (inner.kind === 'literal' && typeof inner.value === 'number') return literal(-inner.value, inner.type === 'long' && -inner.value >= -2147483648 && -inner.value <= 2147483647 ? 'int' : inner.type);
      return call('negative', inner);
    }
    if (this.op('+')) return this.unary();
    return this.postfix();
  }

  private postfix(): Expr {
    let e = this.primary();
    while (this.op('::')) e = { kind: 'cast', expr: e, to: this.typeName() };
    return e;
  }

  private typeName(): NonNullable<ReturnType<typeof fieldTypeOf>> {
    const t = this.peek();
    const type = t.kind === 'ident' ? fieldTypeOf(t.text) : undefined;
    if (!type) return this.fail('a type (STRING, BIGINT, INT, DOUBLE, BOOLEAN or TIMESTAMP)');
    this.i++;
    return type;
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
        this.i++;
        return numberLiteral(t.text, () => this.failAt(t.pos, 'a number that fits a BIGINT (or a DOUBLE with a D suffix)'));
      case 'string': {
        this.i++;
        let s = t.text;
        // Adjacent string literals concatenate ('a' 'b' is 'ab').
        while (this.peek().kind === 'string') s += this.next().text;
        return literal(s);
      }
      case 'quoted':
        this.i++;
        return this.dotted(t.text);
      case 'op':
        if (this.op('(')) {
          const e = this.expression();
          this.expectOp(')');
          return e;
        }
        return this.fail('an expression');
      case 'eof':
        return this.fail('an expression');
      case 'ident':
        break;
    }
    const word = t.text.toLowerCase();
    if (word === 'null') return this.i++, literal(null);
    if (word === 'true') return this.i++, literal(true);
    if (word === 'false') return this.i++, literal(false);
    if (word === 'case') {
      this.i++;
      return this.caseWhen();
    }
    if ((word === 'cast' || word === 'try_cast') && this.peek(1).text === '(') {
      if (word === 'try_cast') return this.fail('CAST (TRY_CAST is not supported)');
      this.i += 2;
      const e = this.expression();
      this.expectKeyword('as');
      const to = this.typeName();
      this.expectOp(')');
      return { kind: 'cast', expr: e, to };
    }
    if (word === 'timestamp' && this.peek(1).kind === 'string') {
      const text = this.tokens[this.i + 1]!;
      this.i += 2;
      const us = stringToTimestampUs(text.text);
      if (us === null) this.failAt(text.pos, 'a valid timestamp literal such as \'2024-11-25 10:40:00\'');
      return literal(us, 'timestamp');
    }
    if (RESERVED.has(word)) return this.fail('an expression');
    this.i++;
    if (this.op('(')) return this.functionCall(word, t);
    return this.dotted(t.text);
  }

  /** `a.b` names a struct field (only window.start / window.end exist); kept as one dotted column name. */
  private dotted(name: string): Expr {
    let full = name;
    while (this.peek().kind === 'op' && this.peek().text === '.') {
      this.i++;
      full += '.' + this.identifier('a field name after "."');
    }
    return { kind: 'column', name: full };
  }

  private functionCall(name: string, at: Token): Expr {
    if (this.op(')')) return call(name);
    if (this.peek().kind === 'op' && this.peek().text === '*' && this.peek(1).text === ')') {
      this.i += 2;
      if (name !== 'count') this.failAt(at.pos, `count(*) (${name}(*) is not a function call Spark accepts)`);
      return call('count', { kind: 'star' });
    }
    const distinct = this.keyword('distinct');
    const args = [this.expression()];
    while (this.op(',')) args.push(this.expression());
    this.expectOp(')');
    if (distinct) {
      if (name !== 'count') this.failAt(at.pos, `count(DISTINCT …) (DISTINCT is not supported in ${name})`);
      return call('count_distinct', ...args);
    }
    return call(name, ...args);
  }

  private caseWhen(): Expr {
    // CASE x WHEN v THEN r … is CASE WHEN x = v THEN r ….
    const subject = this.peek().kind === 'ident' && this.peek().text.toLowerCase() === 'when' ? null : this.expression();
    const args: Expr[] = [];
    if (!this.keyword('when')) this.fail('WHEN');
    do {
      const cond = this.expression();
      this.expectKeyword('then');
      args.push(subject ? call('==', subject, cond) : cond, this.expression());
    } while (this.keyword('when'));
    if (this.keyword('else')) args.push(this.expression());
    this.expectKeyword('end');
    return call('when', ...args);
  }
}

/** A numeric literal as Spark types it: `1` INT (BIGINT if larger), `1L` BIGINT, `1.5`/`1e3`/`1.5D` DOUBLE (Kindling has no DECIMAL). */
function numberLiteral(text: string, tooBig: () => never): Expr {
  const suffix = /(BD|[LSYDF])$/i.exec(text)?.[1]?.toUpperCase();
  const body = suffix ? text.slice(0, -suffix.length) : text;
  const integral = /^\d+$/.test(body);
  if (integral && (suffix === undefined || suffix === 'L' || suffix === 'S' || suffix === 'Y')) {
    const b = BigInt(body);
    if (b > 9223372036854775807n) return tooBig();
    return literal(Number(b), suffix === 'L' || b > 2147483647n ? 'long' : 'int');
  }
  return literal(Number(body), 'double');
}

/** Parses one Spark SQL expression (`expr("…")`, `filter("…")`). Throws PlanError with the position and what was expected. */
export function parseSqlExpression(text: string): Expr {
  const p = new SqlParser(text);
  const e = p.expression();
  p.end();
  return e;
}

/** Parses what expr("...") takes, as Spark's parseExpression does: an expression with an optional alias (`count(*) AS n`). */
export function parseNamedExpression(text: string): Expr {
  const p = new SqlParser(text);
  const e = p.namedExpression();
  p.end();
  return e;
}

/** Parses one selectExpr item: an expression with an optional alias, or `*` (every input column). */
export function parseSelectItem(text: string): Expr | '*' {
  const p = new SqlParser(text);
  const e = p.selectItem();
  p.end();
  return e;
}
