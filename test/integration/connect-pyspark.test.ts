// The real pyspark-client against `kindling connect`: protocol fields, session and config calls, plans' schemas against real Spark's, refusals' exact text.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_VERSION, SPARK_CONNECT_VERSION } from '../../src/connect/protocol-version.js';
import { supportedFunctionsText } from '../../src/connect/resolve.js';
import { kindlingProtocolMessages } from '../helpers/connect-protocol.js';
import { runProcess, type ProcessResult } from '../helpers/process.js';

const MAIN = resolve('dist/src/main.js');
const FIXTURES = resolve('test/fixtures/pyspark');
/** Pythons with pyspark-client installed (each in its own venv: pyspark-client and pyspark conflict): 4.0.x, and the newest 4.x. */
const CLIENTS = [
  { variable: 'KINDLING_PYSPARK_CLIENT', python: process.env['KINDLING_PYSPARK_CLIENT'], install: "'pyspark-client==4.0.*'" },
  { variable: 'KINDLING_PYSPARK_CLIENT_NEWEST', python: process.env['KINDLING_PYSPARK_CLIENT_NEWEST'], install: "'pyspark-client==4.2.0' (the newest 4.x)" },
] as const;
const skipReason = (c: (typeof CLIENTS)[number]): string =>
  `${c.variable} is not set: the pyspark-client tests with that client are skipped (python3 -m venv DIR && DIR/bin/pip install ${c.install}, then ${c.variable}=DIR/bin/python)`;
for (const c of CLIENTS) if (!c.python) console.warn(`\n!!! [kindling] ${skipReason(c)}\n`);

function jsonLines(text: string): Record<string, unknown>[] {
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

// The reason in the suite's name reaches the run's final summary (test/helpers/skipped-summary.ts).
for (const client of CLIENTS) {
  const PYTHON = client.python;
  /** Runs a fixture script with this client's Python, bounded by a timeout, feeding `input` on stdin. */
  const python = (args: readonly string[], env: NodeJS.ProcessEnv, input = ''): Promise<ProcessResult> => runProcess(PYTHON!, args, { timeoutMs: 90_000, env, input });
  describe.skipIf(!PYTHON)(`pyspark-client (${client.variable}) against kindling connect${PYTHON ? '' : ` [skipped: ${skipReason(client)}]`}`, () => {
    let server: ChildProcess;
    let serverLog = '';
    let remote = '';
    let inputDir = '';

    beforeAll(async () => {
      const check = await python([join(FIXTURES, 'client_version.py')], {});
      if (check.code !== 0) throw new Error(`${client.variable}=${PYTHON} cannot import pyspark-client:\n${check.stderr}`);
      inputDir = await mkdtemp(join(tmpdir(), 'kindling-connect-'));
      server = spawn(process.execPath, [MAIN, 'connect', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      server.stderr!.on('data', (d: Buffer) => (serverLog += d.toString()));
      const port = await new Promise<string>((resolvePort, reject) => {
        const onData = (): void => {
          const m = /serving Spark Connect on sc:\/\/127\.0\.0\.1:(\d+)/.exec(serverLog);
          if (m) resolvePort(m[1]!);
        };
        server.stderr!.on('data', onData);
        server.on('exit', (code) => reject(new Error(`kindling connect exited with ${code}:\n${serverLog}`)));
      });
      remote = `sc://127.0.0.1:${port}`;
    });

    afterAll(async () => {
      if (server && server.exitCode === null) {
        const exited = new Promise<number | null>((r) => server.on('exit', (code) => r(code)));
        server.kill('SIGTERM');
        expect(await exited).toBe(0);
      }
      if (inputDir) await rm(inputDir, { recursive: true, force: true });
    });

    it("declares pyspark-client's field numbers, names and types for every message it defines, and every relation, expression and command kind", async () => {
      const r = await python([join(FIXTURES, 'check_protocol.py')], {}, JSON.stringify(kindlingProtocolMessages()));
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout) as { client: string; checkedFields: number; mismatches: string[]; undeclaredKinds: string[] };
      expect(result.mismatches).toEqual([]);
      expect(result.checkedFields).toBeGreaterThan(300);
      // Kinds added after 4.0 reach Kindling as "a kind this protocol version does not define".
      if (result.client.startsWith(`${SPARK_CONNECT_VERSION.split('.').slice(0, 2).join('.')}.`)) expect(result.undeclaredKinds).toEqual([]);
      else console.info(`pyspark-client ${result.client} has kinds newer than Spark Connect ${SPARK_CONNECT_VERSION}:\n${result.undeclaredKinds.join('\n')}`);
    });

    it('answers session creation, spark.version, spark.conf, spark.streams and interruptAll as a lab script uses them, and notes settings without effect', async () => {
      const r = await python([join(FIXTURES, 'session.py')], { SPARK_REMOTE: remote });
      expect(r.code, r.stderr).toBe(0);
      const out = jsonLines(r.stdout)[0]!;
      expect(out).toEqual({
        version: SERVER_VERSION,
        builderWarnings: [
          'Kindling: config spark.app.name is accepted but has no effect in Kindling (it has no JVM, executors or catalog)',
          'Kindling: config spark.driver.memory is accepted but has no effect in Kindling (it has no JVM, executors or catalog)',
        ],
        checkpointLocation: '/tmp/kindling-checkpoint',
        shufflePartitions: '2',
        withDefault: 'the default',
        isModifiable: [true, false],
        afterUnset: 'SparkNoSuchElementException: [SQL_CONF_NOT_FOUND] The SQL config "spark.sql.streaming.checkpointLocation" cannot be found. Please verify that the config exists.',
        getAllHasShuffle: '2',
        awaitAnyTerminationWithTimeout: false,
        interruptedWait: 'SparkException: [OPERATION_CANCELED] Operation has been canceled (spark.interruptAll/interruptTag/interruptOperation, or the session ended).',
        activeQueries: 0,
        stopped: true,
      });
      expect(serverLog).toMatch(/session [0-9a-f-]+ released/);
    });

    it("reports the same isStreaming, columns and schemas as real Spark 4.0.5 for the lab's two queries and five others", async () => {
      const r = await python([join(FIXTURES, 'plans.py'), inputDir], { SPARK_REMOTE: remote });
      expect(r.code, r.stderr).toBe(0);
      const golden = jsonLines(await readFile(join(FIXTURES, 'golden', 'plans.jsonl'), 'utf8'));
      expect(golden.length).toBe(7);
      expect(jsonLines(r.stdout)).toEqual(golden);
    });

    it('parses DDL strings and prints schemas as DDL as real Spark 4.0.5 does', async () => {
      const r = await python([join(FIXTURES, 'ddl.py')], { SPARK_REMOTE: remote });
      expect(r.code, r.stderr).toBe(0);
      expect(jsonLines(r.stdout)[0]).toEqual(JSON.parse(await readFile(join(FIXTURES, 'golden', 'ddl.json'), 'utf8')));
    });

    it("builds the lab's Kafka crash-alerts query, explains it, starts it and stops it", async () => {
      const r = await python([join(FIXTURES, 'lab_query.py'), '127.0.0.1:19092', 'kindling-connect-lab'], { SPARK_REMOTE: remote });
      expect(r.code, r.stderr).toBe(0);
      const out = jsonLines(r.stdout)[0]!;
      // Spark's Kafka source schema, as the Structured Streaming + Kafka Integration Guide lists it.
      expect(out['rawSchema']).toBe('struct<key:binary,value:binary,topic:string,partition:int,offset:bigint,timestamp:timestamp,timestampType:int>');
      expect(out['rawIsStreaming']).toBe(true);
      expect(out['isStreaming']).toBe(true);
      // Downstream of the source the plan is the golden crash_alerts case, which real Spark analysed.
      const golden = jsonLines(await readFile(join(FIXTURES, 'golden', 'plans.jsonl'), 'utf8')).find((g) => g['case'] === 'crash_alerts')!;
      expect(out['columns']).toEqual(golden['columns']);
      expect(out['schema']).toEqual(golden['schema']);
      expect(out['printSchema']).toBe(
        'root\n |-- window: struct (nullable = false)\n |    |-- start: timestamp (nullable = true)\n |    |-- end: timestamp (nullable = true)\n' +
          ' |-- user_id: string (nullable = true)\n |-- crash_count: long (nullable = false)\n\n',
      );
      const explain = String(out['explain']);
      // The plan as the client sent it, then as Kindling's plan runs it (the parse step became the source's from_json).
      for (const node of ['Filter (crash_count > 2)', "Aggregate [window(event_time, '10 seconds'), user_id], [count(*) AS crash_count]", 'WithWatermark event_time, 30 seconds', 'Read kafka (streaming)', '== Kindling plan ==', 'EventTimeWatermark event_time, 30 seconds', 'FromJson [timestamp BIGINT, status STRING, severity STRING, source_ip STRING, user_id STRING, content STRING]']) {
        expect(explain).toContain(node);
      }
      expect(out['start']).toBe('started');
      expect(out['stopped']).toBe(true);
      // query.explain(): the write as the client sent it, then Kindling's plan.
      expect(out['explainQuery']).toContain('WriteStream console outputMode=append trigger=default [truncate=false]\n+- Filter (crash_count > 2)');
      expect(out['explainQuery']).toContain('== Kindling plan ==\nFilter (crash_count > 2)');
      expect(serverLog).toContain('writeStream.start() asked to run:\nWriteStream console outputMode=append trigger=default [truncate=false]\n+- Filter (crash_count > 2)');
      expect(serverLog).toContain('checkpoint: /tmp/kindling-lab-checkpoint');
      expect(serverLog).toContain("as Kindling's plan (append mode) over the kafka source:\n== Kindling plan ==\nFilter (crash_count > 2)");
    });

    it("maps queries written the students' ways onto Kindling's plan, and refuses at start() what Spark's checker refuses", async () => {
      const r = await python([join(FIXTURES, 'start_queries.py'), inputDir], { SPARK_REMOTE: remote });
      expect(r.code, r.stderr).toBe(0);
      const got = Object.fromEntries(jsonLines(r.stdout).map((l) => [l['case'], l['start']]));
      const accepted = 'started';
      expect(got).toEqual({
        'crash alerts, append': accepted,
        'vulnerability by ip, complete, sorted': accepted,
        'selectExpr and SQL filter, update': accepted,
        'json files, sliding window, avg': accepted,
        'dropDuplicates, append': accepted,
        'append aggregation without a watermark':
          'AnalysisException: [KINDLING_PLAN] append output mode needs a watermark on a windowed aggregation: add withWatermark("event_time", "30 seconds") before groupBy(window(col("event_time"), …)), or use update or complete mode',
        'orderBy in update mode':
          'AnalysisException: [KINDLING_PLAN] orderBy is not supported on a streaming DataFrame unless it sorts an aggregation in complete output mode; this query is in update mode (drop the orderBy, or use complete mode)',
        'kafka value not parsed':
          'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: A kafka stream that is not parsed with from_json. Parse the record first: select(from_json(col("value").cast("string"), schema).alias("data")).select("data.*").',
      });
    });

    it('answers each unsupported construct with an exception that names it and what to use instead', async () => {
      const r = await python([join(FIXTURES, 'unsupported.py')], { SPARK_REMOTE: remote });
      expect(r.code, r.stderr).toBe(0);
      const got = Object.fromEntries(jsonLines(r.stdout).map((l) => [l['case'], l['exception']]));
      const functions = `${supportedFunctionsText()}.`;
      expect(got).toEqual({
        'batch range collect': 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: spark.range(...). For a generated stream use spark.readStream.format("rate").',
        'python udf': 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: User-defined functions (udf, pandas_udf) (<lambda>). Write the logic with built-in functions from pyspark.sql.functions.',
        'batch read': 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: Batch reads (spark.read...). Kindling runs streaming queries: read with spark.readStream.format("kafka" | "json" | "text" | "rate") and write with writeStream.start().',
        'collect a stream': 'AnalysisException: [QUERY_WITH_STREAMING_SOURCES_MUST_BE_EXECUTED_WITH_WRITESTREAM] Queries with streaming sources must be executed with writeStream.start(); use writeStream.format("console") to see the rows.',
        'parquet source': 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: spark.readStream.format("parquet"). Kindling reads these formats: kafka, json, text, rate.',
        'kafka option': 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: The kafka source option "includeHeaders". Kindling\'s kafka source takes: kafka.bootstrap.servers, subscribe, startingoffsets, maxoffsetspertrigger, failondataloss, kafka.isolation.level.',
        join: 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: Joins (df.join). Kindling runs one stream through filters and aggregations.',
        'spark.sql': 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: spark.sql(...). Use SQL expressions with expr(...), selectExpr(...) or filter("...").',
        'unknown function': `UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: the function explode(...). ${functions}`,
        'unknown column': 'AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `nope` cannot be resolved. Did you mean one of the following? [`value`].',
        foreachBatch: 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: writeStream.foreachBatch(...). Use a sink: writeStream.format("console") or format("json").option("path", DIR).',
        'memory sink': 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: writeStream.format("memory"). Kindling writes these formats: console, json.',
        union: 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: union/intersect/exceptAll. Kindling runs one stream through filters and aggregations.',
        limit: 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: df.limit(...). The console sink shows numRows rows: writeStream.format("console").option("numRows", N).',
        withColumnRenamed: 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: df.withColumnRenamed(...). Use select(col("old").alias("new"), ...).',
        drop: 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: df.drop(...). Use select(...) with the columns to keep.',
        'na.fill': 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: df.fillna/na.fill(...). Use coalesce-like logic with when(col.isNull(), value).otherwise(col).',
        'window function': 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: Window functions (over(Window...)). For event-time windows use groupBy(window(col, "10 seconds"), ...).',
        repartition: 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: df.repartition(...)/coalesce(...). Kindling places data by itself (kindling --partitions).',
        'temp view': 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: Temporary views (df.createOrReplaceTempView). Kindling has no catalog.',
        cache: 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: Caching a DataFrame (persist/cache/unpersist/storageLevel). Streaming queries are not cached.',
        try_cast: 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: try_cast. Use cast(...): without ANSI mode (spark.sql.ansi.enabled=false) a failed cast is null.',
        'from_json options': 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: from_json options. Kindling parses as Spark does by default (PERMISSIVE).',
        mapInPandas: 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: mapInPandas/mapInArrow. Write the logic with built-in functions from pyspark.sql.functions.',
        count_distinct: 'AnalysisException: [KINDLING_PLAN] aggregate: count_distinct (an exact distinct count) is not supported on streaming DataFrames, as in Spark; use approx_count_distinct',
        'complete without aggregation': 'AnalysisException: [KINDLING_PLAN] complete output mode needs a streaming aggregation (groupBy(...).agg(...)); use append or update mode',
        'aggregation of an aggregation': 'AnalysisException: [KINDLING_PLAN] aggregate: multiple streaming aggregations are not supported (Spark refuses chained aggregations); aggregate once',
        'console option': 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: The console sink option "nope". Kindling\'s console sink takes: numrows, truncate, checkpointlocation.',
        'continuous trigger': 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: trigger(continuous=...). Use trigger(processingTime=...) or trigger(availableNow=True).',
        toTable: 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: writeStream.toTable(...). Kindling has no catalog: use format("json").option("path", DIR).',
        foreach: 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: writeStream.foreach(...). Use a sink: writeStream.format("console") or format("json").option("path", DIR).',
        'json sink without a path': 'UnsupportedOperationException: [KINDLING_UNSUPPORTED] Not supported by Kindling: writeStream.format("json") without a path. Give one: .option("path", DIR) or .start(DIR).',
      });
      // docs/pyspark.md's table holds each text as the client raised it (a pipe escaped for the table; the function
      // list of an unknown function shortened).
      const docs = await readFile(resolve('docs/pyspark.md'), 'utf8');
      const missing = Object.entries(got).filter(([name, text]) => name !== 'unknown function' && !docs.includes(`\`${String(text).replaceAll('|', '\\|')}\``));
      expect(missing.map(([name]) => name), 'cases whose exact text docs/pyspark.md does not show').toEqual([]);
    });
  });
}
