// Kindling's query API in one import: the PySpark-like builder, functions, schemas, plans and explain().
export {
  Column, SortColumn, abs, approx_count_distinct, asc, avg, coalesce, col, column, concat, count, count_distinct, countDistinct, desc, expr, first, from_unixtime,
  isnotnull, isnull, length, lit, lower, max, mean, min, not, substring, sum, to_timestamp, trim, upper, when, window,
} from './column.js';
export type { ColumnLike } from './column.js';
export { DataFrame, GroupedData, readStream } from './dataframe.js';
export type { DataFrameOptions } from './dataframe.js';
export { explainPlan, explainQuery } from './explain.js';
export type { Expr } from './expr.js';
export { asQueryPlan, planFingerprint } from './plan.js';
export type { OutputMode, PlanNode, QueryPlan, SortOrder } from './plan.js';
export { crashAlertsPlan, LAB_SCHEMA, vulnerabilityByIpPlan } from './queries.js';
export { parseDdlSchema, schemaOf, schemaToDdl } from './schema.js';
export type { Field, Schema } from './schema.js';
export { PlanError, QueryRuntimeError } from './types.js';
export type { DataType, FieldType, Row, Value, WindowValue } from './types.js';
