// A session's runtime config (spark.conf): Spark's defaults for the keys PySpark reads, the user's settings, and which keys mean something to Kindling.
import { ConnectError } from './errors.js';
import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * Defaults for the keys pyspark-client reads on its own (session setup, DataFrame repr, error display,
 * createDataFrame), with Spark 4.0's values unless Kindling differs for a reason given.
 */
const DEFAULTS: ReadonlyMap<string, string> = new Map([
  ['spark.sql.session.timeZone', Intl.DateTimeFormat().resolvedOptions().timeZone],
  ['spark.sql.timestampType', 'TIMESTAMP_LTZ'],
  ['spark.sql.shuffle.partitions', '200'],
  // Spark 4's default: a failed cast, an overflow or a division by zero fails the query.
  ['spark.sql.ansi.enabled', 'true'],
  ['spark.sql.repl.eagerEval.enabled', 'false'],
  ['spark.sql.repl.eagerEval.maxNumRows', '20'],
  ['spark.sql.repl.eagerEval.truncate', '20'],
  // Origins make error messages name the line of the user's script.
  ['spark.python.sql.dataFrameDebugging.enabled', 'true'],
  // There is no JVM: no server stack trace to show.
  ['spark.sql.connect.serverStacktrace.enabled', 'false'],
  ['spark.sql.pyspark.jvmStacktrace.enabled', 'false'],
  ['spark.sql.session.localRelationCacheThreshold', '67108864'],
  ['spark.sql.execution.pandas.convertToArrowArraySafely', 'false'],
  ['spark.sql.execution.pandas.inferPandasDictAsMap', 'false'],
  ['spark.sql.pyspark.inferNestedDictAsStruct.enabled', 'false'],
  ['spark.sql.pyspark.legacy.inferArrayTypeFromFirstElement.enabled', 'false'],
  ['spark.sql.pyspark.legacy.inferMapTypeFromFirstPair.enabled', 'false'],
  ['spark.sql.execution.arrow.useLargeVarTypes', 'false'],
  ['spark.sql.execution.arrow.pyspark.selfDestruct.enabled', 'false'],
  ['spark.sql.execution.pandas.structHandlingMode', 'legacy'],
  // Read by udf()/udtf() before the function is sent (and refused): answering keeps the refusal about the UDF.
  ['spark.sql.execution.pythonUDF.arrow.enabled', 'false'],
  ['spark.sql.execution.pythonUDTF.arrow.enabled', 'false'],
  ['spark.sql.streaming.numRecentProgressUpdates', '100'],
]);

/** Keys whose value Kindling uses when it runs a query; any other key is accepted and has no effect. */
const MEANINGFUL = new Set(['spark.sql.ansi.enabled', 'spark.sql.streaming.checkpointLocation', 'spark.sql.session.timeZone', 'spark.sql.shuffle.partitions', 'spark.sql.streaming.numRecentProgressUpdates']);

/** Why a key set by the client does nothing in Kindling; said once per key and session. */
export function noEffectNote(key: string): string | null {
  if (MEANINGFUL.has(key) || DEFAULTS.has(key)) return null;
  return `Kindling: config ${key} is accepted but has no effect in Kindling (it has no JVM, executors or catalog)`;
}

/** One session's config: the user's values over Spark's defaults. */
export class SessionConfig {
  private readonly values = new Map<string, string>();
  private readonly noted = new Set<string>();

  /** Sets `key`; returns the note to show the user the first time a key without effect is set. */
  set(key: string, value: string): string | null {
    this.values.set(key, value);
    const note = noEffectNote(key);
    if (!note || this.noted.has(key)) return null;
    this.noted.add(key);
    return note;
  }

  unset(key: string): void {
    this.values.delete(key);
  }

  /** The value or default of `key`, undefined when neither exists. */
  getOption(key: string): string | undefined {
    return this.values.get(key) ?? DEFAULTS.get(key);
  }

  /** As Spark's RuntimeConfig.get: an unknown key without a default is an error. */
  get(key: string): string {
    const value = this.getOption(key);
    if (value === undefined) {
      throw new ConnectError(GrpcStatus.NOT_FOUND, 'org.apache.spark.SparkNoSuchElementException', 'SQL_CONF_NOT_FOUND', `The SQL config "${key}" cannot be found. Please verify that the config exists.`, { sqlConf: key });
    }
    return value;
  }

  /** Every set or defaulted key starting with `prefix`, sorted by key. */
  getAll(prefix = ''): [string, string][] {
    const all = new Map([...DEFAULTS, ...this.values]);
    return [...all].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Spark's SQL configs can change at runtime; core (static) ones cannot. */
  isModifiable(key: string): boolean {
    return key.startsWith('spark.sql.');
  }
}
