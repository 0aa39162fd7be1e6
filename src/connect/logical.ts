// The plan a Spark Connect client sent, as plain data mirroring Spark's relation tree; the next step maps it one to one onto src/plan.
import type { SqlType } from './sql-types.js';

/** Where in the user's script a relation or expression was made ("filter at lab.py:12"), when the client says. */
export type Origin = string | undefined;

/** A relation (a DataFrame): a closed set of kinds, each with its input. */
export type ConnectRelation =
  | { readonly kind: 'read'; readonly format: string; readonly options: Readonly<Record<string, string>>; readonly schema: SqlType | null; readonly paths: readonly string[]; readonly streaming: boolean; readonly planId: number | undefined }
  | { readonly kind: 'project'; readonly input: ConnectRelation; readonly expressions: readonly ConnectExpr[]; readonly planId: number | undefined }
  | { readonly kind: 'filter'; readonly input: ConnectRelation; readonly condition: ConnectExpr; readonly planId: number | undefined }
  | { readonly kind: 'withColumns'; readonly input: ConnectRelation; readonly columns: readonly { readonly name: string; readonly expr: ConnectExpr }[]; readonly planId: number | undefined }
  | { readonly kind: 'withWatermark'; readonly input: ConnectRelation; readonly eventTime: string; readonly delay: string; readonly planId: number | undefined }
  | { readonly kind: 'aggregate'; readonly input: ConnectRelation; readonly groupBy: readonly ConnectExpr[]; readonly aggregates: readonly ConnectExpr[]; readonly planId: number | undefined }
  | { readonly kind: 'deduplicate'; readonly input: ConnectRelation; readonly columns: readonly string[] | 'all'; readonly withinWatermark: boolean; readonly planId: number | undefined }
  | { readonly kind: 'sort'; readonly input: ConnectRelation; readonly order: readonly SortKey[]; readonly planId: number | undefined }
  | { readonly kind: 'toDF'; readonly input: ConnectRelation; readonly names: readonly string[]; readonly planId: number | undefined }
  | { readonly kind: 'alias'; readonly input: ConnectRelation; readonly alias: string; readonly planId: number | undefined };

/** One sort key of a Sort (complete mode only in streaming). */
export interface SortKey {
  readonly expr: ConnectExpr;
  readonly descending: boolean;
  /** Spark's default: nulls first when ascending, last when descending. */
  readonly nullsFirst: boolean;
}

/** A literal's value with its Spark type; timestamps in microseconds since the epoch, as the protocol sends them. */
export type LiteralValue =
  | { readonly type: 'null' }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'int' | 'bigint' | 'tinyint' | 'smallint'; readonly value: bigint }
  | { readonly type: 'double' | 'float'; readonly value: number }
  | { readonly type: 'timestamp'; readonly valueMicros: bigint }
  | { readonly type: 'date'; readonly valueDays: number };

/** An unresolved expression, as Spark Connect sends it: names are resolved against the input's schema later. */
export type ConnectExpr =
  | { readonly kind: 'column'; readonly name: string; readonly planId: number | undefined; readonly origin: Origin }
  | { readonly kind: 'literal'; readonly literal: LiteralValue; readonly origin: Origin }
  | { readonly kind: 'function'; readonly name: string; readonly args: readonly ConnectExpr[]; readonly distinct: boolean; readonly origin: Origin }
  | { readonly kind: 'cast'; readonly expr: ConnectExpr; readonly to: SqlType; readonly mode: 'default' | 'try'; readonly origin: Origin }
  | { readonly kind: 'alias'; readonly expr: ConnectExpr; readonly name: string; readonly origin: Origin }
  | { readonly kind: 'sql'; readonly text: string; readonly origin: Origin }
  | { readonly kind: 'star'; readonly target: string | null; readonly origin: Origin }
  | { readonly kind: 'field'; readonly expr: ConnectExpr; readonly field: string; readonly origin: Origin };

/** What writeStream...start() asked for. */
export interface StreamingWrite {
  readonly input: ConnectRelation;
  readonly format: string;
  readonly outputMode: string;
  readonly options: Readonly<Record<string, string>>;
  readonly queryName: string;
  readonly trigger: { readonly kind: 'default' } | { readonly kind: 'processingTime'; readonly interval: string } | { readonly kind: 'availableNow' } | { readonly kind: 'once' };
  readonly path: string | undefined;
}

/** True when the relation reads a stream anywhere below it (df.isStreaming). */
export function isStreaming(relation: ConnectRelation): boolean {
  return relation.kind === 'read' ? relation.streaming : isStreaming(relation.input);
}
