// Every SQL expression PySpark 4.0.5 evaluated (test/fixtures/spark/expressions.txt), in ANSI and legacy mode: same type, value or error.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { castFunction } from '../../src/plan/cast.js';
import { compileExpr } from '../../src/plan/compile-expr.js';
import { evaluate } from '../../src/plan/evaluate.js';
import { resolve } from '../../src/plan/resolve.js';
import { parseSqlExpression } from '../../src/plan/sql.js';
import { PlanError, QueryRuntimeError, type FieldType, type Value } from '../../src/plan/types.js';

interface SparkResult {
  e: string;
  type?: string;
  v?: string | null;
  error?: string;
}

const load = (name: string): SparkResult[] =>
  readFileSync(new URL(`../fixtures/spark/${name}`, import.meta.url), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as SparkResult);

/** What Kindling does not do as Spark does, each written in docs/queries.md's table of what is not supported. */
const NOT_SUPPORTED: Readonly<Record<string, string>> = {
  "cast(true as timestamp)": 'boolean to timestamp casts are refused in both modes (Spark allows it in legacy mode)',
  "cast('2024-11-25T10:40:00Europe/Paris' as timestamp)": 'region time zone names are not resolved',
  "case when null then 1 else 2 end": 'a bare NULL condition is accepted as a null BOOLEAN',
  "'1' = 1": 'comparing a string with a number needs an explicit cast',
  "timestamp'2024-11-25 10:40:00' + interval 1 second": 'intervals are not supported',
  "window(timestamp'2024-11-25 10:40:03', '10 seconds')": 'window() only in groupBy',
  "window(timestamp'2024-11-25 10:40:03', '10 seconds', '5 seconds')": 'window() only in groupBy',
  "to_json(named_struct('w', window(timestamp'2024-11-25 10:40:03.5', '10 seconds'), 'd', 1.0D, 'e', 1e20D, 'n', cast(null as int), 's', 'a\"b', 'ts', timestamp'2024-11-25 10:40:03.123456'))": 'to_json and named_struct are output formatting only (see plan-output tests)',
};

const SPARK_TYPE: Readonly<Record<string, string>> = { string: 'string', long: 'bigint', int: 'int', double: 'double', boolean: 'boolean', timestamp: 'timestamp' };

/** The value as the Spark script printed it: cast(v as string). */
function asSparkString(v: Value, type: string): string | null {
  if (v === null) return null;
  return castFunction(type as FieldType, 'string', true)(v as never) as string;
}

for (const [file, ansi] of [['expressions-ansi.spark.jsonl', true], ['expressions-legacy.spark.jsonl', false]] as const) {
  describe(`SQL expressions as PySpark 4.0.5 evaluated them with spark.sql.ansi.enabled=${ansi}`, () => {
    const cases = load(file).filter((c) => !(c.e in NOT_SUPPORTED));
    it.each(cases.map((c) => [c.e, c] as const))('%s', (_e, c) => {
      const run = (mode: 'interpreted' | 'compiled'): { type: string; v: string | null } => {
        const bound = resolve(parseSqlExpression(c.e), [], { ansi });
        const v = mode === 'interpreted' ? evaluate(bound, []) : compileExpr(bound)([]);
        return { type: SPARK_TYPE[bound.type] ?? bound.type, v: asSparkString(v, bound.type) };
      };
      for (const mode of ['interpreted', 'compiled'] as const) {
        if (c.error !== undefined) {
          const errorClass = /^\[([A-Z_]+)/.exec(c.error)?.[1] ?? '';
          let thrown: unknown;
          try {
            run(mode);
          } catch (err) {
            thrown = err;
          }
          if (errorClass.startsWith('DATATYPE_MISMATCH')) expect(thrown).toBeInstanceOf(PlanError);
          else {
            expect(thrown).toBeInstanceOf(QueryRuntimeError);
            expect((thrown as Error).message).toContain(`[${errorClass}]`);
          }
        } else {
          const got = run(mode);
          expect(got.type).toBe(c.type === 'void' ? got.type : c.type);
          expect(got.v).toBe(c.v);
        }
      }
    });
  });
}
