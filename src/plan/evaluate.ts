// The plain evaluator: walks a Bound tree for one row. The reference implementation (the oracle) uses it.
import type { Bound } from './bound.js';
import type { Row, Value } from './types.js';

/** The value of `e` for `row`, by walking the tree (no compilation). */
export function evaluate(e: Bound, row: Row): Value {
  switch (e.kind) {
    case 'column':
      return row[e.ordinal] ?? null;
    case 'literal':
      return e.value;
    case 'and': {
      const a = evaluate(e.args[0], row);
      if (a === false) return false;
      const b = evaluate(e.args[1], row);
      if (b === false) return false;
      return a === null || b === null ? null : true;
    }
    case 'or': {
      const a = evaluate(e.args[0], row);
      if (a === true) return true;
      const b = evaluate(e.args[1], row);
      if (b === true) return true;
      return a === null || b === null ? null : false;
    }
    case 'case': {
      const n = e.args.length;
      for (let i = 0; i + 1 < n; i += 2) if (evaluate(e.args[i]!, row) === true) return evaluate(e.args[i + 1]!, row);
      return n % 2 === 1 ? evaluate(e.args[n - 1]!, row) : null;
    }
    case 'call': {
      const values: Value[] = [];
      for (const a of e.args) {
        const v = evaluate(a, row);
        if (v === null && !e.nullSafe) return null;
        values.push(v);
      }
      return e.fn(...values);
    }
  }
}
