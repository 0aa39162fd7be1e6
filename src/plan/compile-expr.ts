// Compiles a Bound expression once into nested closures specialised by node kind and arity: no tree walk per row.
import type { Bound } from './bound.js';
import type { Row, Value } from './types.js';

/** A compiled expression. */
export type RowFn = (row: Row) => Value;

/** Compiles `e`; the closure computes exactly what evaluate(e, row) does. */
export function compileExpr(e: Bound): RowFn {
  switch (e.kind) {
    case 'column': {
      const i = e.ordinal;
      return (row) => row[i] ?? null;
    }
    case 'literal': {
      const v = e.value;
      return () => v;
    }
    case 'and': {
      const a = compileExpr(e.args[0]);
      const b = compileExpr(e.args[1]);
      return (row) => {
        const x = a(row);
        if (x === false) return false;
        const y = b(row);
        if (y === false) return false;
        return x === null || y === null ? null : true;
      };
    }
    case 'or': {
      const a = compileExpr(e.args[0]);
      const b = compileExpr(e.args[1]);
      return (row) => {
        const x = a(row);
        if (x === true) return true;
        const y = b(row);
        if (y === true) return true;
        return x === null || y === null ? null : false;
      };
    }
    case 'case': {
      const parts = e.args.map(compileExpr);
      const n = parts.length;
      return (row) => {
        for (let i = 0; i + 1 < n; i += 2) if (parts[i]!(row) === true) return parts[i + 1]!(row);
        return n % 2 === 1 ? parts[n - 1]!(row) : null;
      };
    }
    case 'call':
      return compileCall(e);
  }
}

function compileCall(e: Extract<Bound, { kind: 'call' }>): RowFn {
  const fn = e.fn;
  const args = e.args.map(compileExpr);
  // A literal argument is folded into the closure: lower(content).contains('crash') reads one column per row.
  if (args.length === 1) {
    const a = args[0]!;
    if (e.nullSafe) return (row) => fn(a(row));
    return (row) => {
      const x = a(row);
      return x === null ? null : fn(x);
    };
  }
  if (args.length === 2) {
    const a = args[0]!;
    const second = e.args[1]!;
    if (second.kind === 'literal' && second.value !== null && !e.nullSafe) {
      const y = second.value;
      return (row) => {
        const x = a(row);
        return x === null ? null : fn(x, y);
      };
    }
    const b = args[1]!;
    if (e.nullSafe) return (row) => fn(a(row), b(row));
    return (row) => {
      const x = a(row);
      if (x === null) return null;
      const y = b(row);
      return y === null ? null : fn(x, y);
    };
  }
  const n = args.length;
  if (e.nullSafe) return (row) => fn(...args.map((f) => f(row)));
  return (row) => {
    const values = new Array<Value>(n);
    for (let i = 0; i < n; i++) {
      const v = args[i]!(row);
      if (v === null) return null;
      values[i] = v;
    }
    return fn(...values);
  };
}
