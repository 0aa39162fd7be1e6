// Resolved expressions: every node knows its result type and, for calls, the implementation chosen for its argument types.
import type { DataType, Value } from './types.js';

/** A function implementation; called with as many arguments as the call has. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Impl = (...args: any[]) => Value;

/**
 * A resolved expression. `call` nodes are strict (null if any argument is null, the function never
 * sees a null) unless `nullSafe`; `and`, `or` and `case` evaluate their arguments lazily, as Spark
 * does, so `x <> 0 AND 10 / x > 1` never divides by zero.
 */
export type Bound =
  | { readonly kind: 'column'; readonly ordinal: number; readonly name: string; readonly type: DataType }
  | { readonly kind: 'literal'; readonly value: Value; readonly type: DataType }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Bound[]; readonly type: DataType; readonly nullSafe: boolean; readonly fn: Impl }
  | { readonly kind: 'and' | 'or'; readonly args: readonly [Bound, Bound]; readonly type: 'boolean' }
  /** CASE WHEN: args are (condition, value) pairs then an optional else value. */
  | { readonly kind: 'case'; readonly args: readonly Bound[]; readonly type: DataType };

/** The input a resolver sees: the columns of the row at that step, by ordinal. */
export interface InputColumn {
  readonly name: string;
  readonly type: DataType;
}

/** Options every expression is resolved with. */
export interface ResolveOptions {
  /** Spark 4's default (true): a cast that cannot convert, an overflow or a division by zero fails the query. */
  readonly ansi: boolean;
}
