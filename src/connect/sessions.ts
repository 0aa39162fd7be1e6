// The server's sessions and their operations: ids the client checks on every response, config, and the responses kept for reattach.
import { randomUUID } from 'node:crypto';
import type { ExecutePlanResponse } from './gen/spark/connect/base_pb.js';
import { invalidHandle } from './errors.js';
import { SessionConfig } from './session-config.js';
import { StreamingQueries } from './streaming-queries.js';

/**
 * One ExecutePlan operation: its responses, kept until the client releases them so a dropped stream can
 * be reattached (PySpark reattaches whenever a stream ends without result_complete).
 */
export interface Operation {
  readonly operationId: string;
  /** Responses not yet released, in order; the last one is result_complete unless `error` is set. */
  responses: ExecutePlanResponse[];
  /** Set when the operation failed: a reattach answers with the same error. */
  error: unknown;
}

/** A client's session: PySpark makes `sessionId`; the server makes `serverSideSessionId`, new on every server start. */
export class Session {
  readonly serverSideSessionId = randomUUID();
  readonly config = new SessionConfig();
  readonly operations = new Map<string, Operation>();
  /** spark.streams: the queries this session started. */
  readonly queries = new StreamingQueries();
  constructor(readonly sessionId: string) {}

  /** The operation a ReattachExecute or ReleaseExecute names; an unknown id is the error PySpark's reattach logic expects. */
  operation(operationId: string): Operation {
    const op = this.operations.get(operationId);
    if (!op) throw invalidHandle('INVALID_HANDLE.OPERATION_NOT_FOUND', `Operation not found: ${operationId} (it finished and was released, or never reached this server).`);
    return op;
  }
}

/** What identifies the caller in every request. */
export interface SessionRef {
  readonly sessionId: string;
  readonly clientObservedServerSideSessionId?: string | undefined;
}

/** Every live session of this server by the client's session id. */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  private readonly released = new Set<string>();

  /**
   * The session for a request, created on first use. A client that saw another server-side id
   * (this server restarted) is told its session changed, as Spark does, so it does not mix two runs.
   */
  get(ref: SessionRef): Session {
    if (this.released.has(ref.sessionId)) throw invalidHandle('INVALID_HANDLE.SESSION_CLOSED', `Session ${ref.sessionId} was closed (spark.stop()); create a new SparkSession.`);
    let session = this.sessions.get(ref.sessionId);
    if (!session) {
      session = new Session(ref.sessionId);
      this.sessions.set(ref.sessionId, session);
    }
    const observed = ref.clientObservedServerSideSessionId;
    if (observed && observed !== session.serverSideSessionId) {
      throw invalidHandle('INVALID_HANDLE.SESSION_CHANGED', `The existing Spark server driver instance has restarted (session ${ref.sessionId}); create a new SparkSession.`);
    }
    return session;
  }

  /** Ends a session (spark.stop()); its id cannot be used again unless the client allows a reconnect. */
  release(sessionId: string, allowReconnect: boolean): Session | undefined {
    const session = this.sessions.get(sessionId);
    this.sessions.delete(sessionId);
    if (!allowReconnect) this.released.add(sessionId);
    return session;
  }

  /** Every live session. */
  all(): Session[] {
    return [...this.sessions.values()];
  }

  get size(): number {
    return this.sessions.size;
  }
}
