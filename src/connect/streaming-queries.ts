// The streaming queries a session started (Spark's StreamingQuery and StreamingQueryManager): status, progress, stop, awaiting termination, the failure.
import { randomUUID } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { ConnectError } from './errors.js';
import { sparkProgressJson, type KindlingProgress } from './progress-json.js';
import type { PreparedQuery } from './server.js';

/** A query running on the engine, as the engine hands it back. */
export interface EngineRun {
  /** Finishes the batch in flight, then ends the run. */
  stop(): void;
  /** Settles when the run ended: by stop(), at the end of a finite input, or with the error that failed it. */
  readonly done: Promise<unknown>;
}

/** Spark keeps this many progress records per query (spark.sql.streaming.numRecentProgressUpdates). */
const RECENT_PROGRESS = 100;

/** Waits for `done`, `timeoutMs` (forever when undefined) or `signal`, whichever comes first; true when `done` came. */
function within(done: Promise<unknown>, timeoutMs: number | undefined, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (value: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', aborted);
      resolve(value);
    };
    const aborted = (): void => finish(false);
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(false), timeoutMs);
    signal.addEventListener('abort', aborted);
    if (signal.aborted) finish(false);
    void done.then(() => finish(true), () => finish(true));
  });
}

/** The exception PySpark raises for an interrupted wait (spark.interruptAll, the session ending). */
export function canceled(): ConnectError {
  return new ConnectError(GrpcStatus.CANCELLED, 'org.apache.spark.SparkException', 'OPERATION_CANCELED', 'Operation has been canceled (spark.interruptAll/interruptTag/interruptOperation, or the session ended).');
}

/** One started query: `id` is the query's (its checkpoint keeps it across restarts), `runId` this start's. */
export class StreamingQuery {
  readonly runId = randomUUID();
  private readonly progress: string[] = [];
  private statusMessage = 'Initializing sources';
  private failure: Error | null = null;
  private active = true;
  /** Resolves (never rejects) when the query has terminated. */
  readonly terminated: Promise<void>;
  private readonly progressWaiters = new Set<(record: KindlingProgress) => void>();
  private engine: EngineRun | null = null;

  constructor(
    readonly id: string,
    readonly name: string | null,
    /** What query.explain() prints: the plan as the client sent it and as Kindling runs it. */
    private readonly explainText: string,
    /** Starts the engine as this run with a progress listener; the query fails if it throws. */
    start: (runId: string, onProgress: (record: KindlingProgress) => void) => Promise<EngineRun>,
  ) {
    this.terminated = (async () => {
      try {
        this.engine = await start(this.runId, (record) => this.record(record));
        if (!this.active) this.engine.stop();
        await this.engine.done;
      } catch (err) {
        this.failure = err instanceof Error ? err : new Error(String(err));
      } finally {
        this.active = false;
        this.statusMessage = 'Stopped';
      }
    })();
  }

  /** The last batch's record (processAllAvailable looks at it). */
  private last: KindlingProgress | null = null;

  private record(record: KindlingProgress): void {
    this.last = record;
    this.progress.push(sparkProgressJson(record, { id: this.id, runId: this.runId, name: this.name }));
    if (this.progress.length > RECENT_PROGRESS) this.progress.shift();
    this.statusMessage = 'Waiting for next trigger';
    for (const w of this.progressWaiters) w(record);
  }

  get isActive(): boolean {
    return this.active;
  }

  status(): { statusMessage: string; isDataAvailable: boolean; isTriggerActive: boolean; isActive: boolean } {
    return { statusMessage: this.statusMessage, isDataAvailable: false, isTriggerActive: false, isActive: this.active };
  }

  recentProgress(): string[] {
    return [...this.progress];
  }

  lastProgress(): string[] {
    return this.progress.slice(-1);
  }

  explain(): string {
    return this.explainText;
  }

  /** Spark's query.exception(): the failure's message and class, or null. */
  exception(): { exceptionMessage: string; errorClass: string } | null {
    if (!this.failure) return null;
    return { exceptionMessage: `org.apache.spark.sql.streaming.StreamingQueryException: ${this.failureText()}`, errorClass: 'STREAM_FAILED' };
  }

  private failureText(): string {
    return `Query ${this.name !== null ? `${this.name} ` : ''}[id = ${this.id}, runId = ${this.runId}] terminated with exception: ${this.failure?.message ?? ''}`;
  }

  /** What awaitTermination raises when the query failed, as Spark's StreamingQueryException. */
  failed(): ConnectError | null {
    if (!this.failure) return null;
    return new ConnectError(GrpcStatus.INTERNAL, 'org.apache.spark.sql.streaming.StreamingQueryException', 'STREAM_FAILED', this.failureText());
  }

  /** Stops the query and waits until it has (Spark's stop() blocks likewise). */
  async stop(): Promise<void> {
    this.active = false;
    this.engine?.stop();
    await this.terminated;
  }

  /** True once terminated within `timeoutMs`; throws the query's failure, or when the wait is interrupted. */
  async awaitTermination(timeoutMs: number | undefined, signal: AbortSignal): Promise<boolean> {
    const ended = await within(this.terminated, timeoutMs, signal);
    if (signal.aborted) throw canceled();
    const failure = ended ? this.failed() : null;
    if (failure) throw failure;
    return ended;
  }

  /**
   * Spark's processAllAvailable(): returns once a batch left nothing behind in its source (see readEverything),
   * at once if the last one did, or when the query ended (a finite input read to its end).
   */
  async processAllAvailable(signal: AbortSignal): Promise<void> {
    const caughtUp = new Promise<void>((resolve) => {
      if (this.last && readEverything(this.last)) return resolve();
      const waiter = (record: KindlingProgress): void => {
        if (!readEverything(record)) return;
        this.progressWaiters.delete(waiter);
        resolve();
      };
      this.progressWaiters.add(waiter);
      void this.terminated.then(() => {
        this.progressWaiters.delete(waiter);
        resolve();
      });
    });
    await within(caughtUp, undefined, signal);
    if (signal.aborted) throw canceled();
    const failure = this.failed();
    if (failure) throw failure;
  }
}

/**
 * True when a batch left nothing behind in its source: it read no rows, or (Kafka) it read up to the end offsets the
 * topic had when the batch was cut. An idle Kafka query runs no batches, so this is asked of the last batch too.
 */
function readEverything(record: KindlingProgress): boolean {
  if (record.numInputRows === 0) return true;
  return record.sources.length > 0 && record.sources.every((s) => s.latestOffset !== undefined && JSON.stringify(s.endOffset) === JSON.stringify(s.latestOffset));
}

/** A session's queries (spark.streams). */
export class StreamingQueries {
  private readonly queries = new Map<string, StreamingQuery>();
  /** Queries that terminated since the last resetTerminated(), in order. */
  private readonly ended: StreamingQuery[] = [];
  private readonly endWaiters = new Set<() => void>();

  /**
   * Starts a query: refused, as Spark does, while an active query has the same name, or (with the same id: the same
   * checkpoint) is active; `prepare` opens its checkpoint and reads the id kept there.
   */
  async start(name: string | null, explain: string, prepare: () => Promise<PreparedQuery>): Promise<StreamingQuery> {
    const nameInUse = (): void => {
      if (name !== null && this.active().some((q) => q.name === name)) {
        throw new ConnectError(GrpcStatus.INVALID_ARGUMENT, 'java.lang.IllegalArgumentException', 'STREAMING_QUERY_NAME_IN_USE', `Cannot start query with name ${name} as a query with that name is already active in this SparkSession`);
      }
    };
    nameInUse();
    const prepared = await prepare();
    nameInUse();
    const running = this.active().find((q) => q.id === prepared.queryId);
    if (running) {
      throw new ConnectError(
        GrpcStatus.FAILED_PRECONDITION, 'org.apache.spark.SparkException', 'CONCURRENT_QUERY',
        `Cannot start query with id ${running.id} as another query with same id is already active. Perhaps you are attempting to restart a query from checkpoint that is already active.`,
      );
    }
    const query = new StreamingQuery(prepared.queryId, name, explain, (runId, onProgress) => prepared.start(runId, onProgress));
    this.queries.set(query.id, query);
    void query.terminated.then(() => {
      this.ended.push(query);
      for (const w of this.endWaiters) w();
    });
    return query;
  }

  active(): StreamingQuery[] {
    return [...this.queries.values()].filter((q) => q.isActive);
  }

  /** The query by id, active or not (the client's query object keeps asking after it ended). */
  byId(id: string): StreamingQuery {
    const q = this.queries.get(id);
    if (!q) throw new ConnectError(GrpcStatus.NOT_FOUND, 'java.lang.IllegalArgumentException', 'STREAMING_QUERY_NOT_FOUND', `Streaming query ${id} is not known to this session.`);
    return q;
  }

  /** spark.streams.get(id): an active query, else none (as Spark). */
  get(id: string): StreamingQuery | undefined {
    const q = this.queries.get(id);
    return q?.isActive ? q : undefined;
  }

  resetTerminated(): void {
    this.ended.length = 0;
  }

  /** True once any query terminated since resetTerminated() (at once if one has); throws that query's failure. */
  async awaitAnyTermination(timeoutMs: number | undefined, signal: AbortSignal): Promise<boolean> {
    const any = new Promise<void>((resolve) => {
      if (this.ended.length > 0) return resolve();
      const w = (): void => {
        this.endWaiters.delete(w);
        resolve();
      };
      this.endWaiters.add(w);
    });
    const ended = await within(any, timeoutMs, signal);
    if (signal.aborted) throw canceled();
    const failure = ended ? (this.ended.map((q) => q.failed()).find((f) => f !== null) ?? null) : null;
    if (failure) throw failure;
    return ended;
  }

  /** Stops every query (the session ends, or the server stops). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.queries.values()].map((q) => q.stop()));
  }
}
