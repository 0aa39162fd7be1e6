// Kindling's Spark Connect gRPC server: sessions, the ten SparkConnectService methods, reattachable operations, interrupts; the work is in config-rpc, analyze and execute.
import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  AnalyzePlanResponseSchema, ConfigResponseSchema, ExecutePlanResponseSchema, InterruptRequest_InterruptType, InterruptResponseSchema,
  ReleaseExecuteResponseSchema, ReleaseSessionResponseSchema,
  type AnalyzePlanRequest, type ConfigRequest, type ExecutePlanRequest, type ExecutePlanResponse, type InterruptRequest,
  type ReattachExecuteRequest, type ReleaseExecuteRequest, type ReleaseSessionRequest,
} from './gen/spark/connect/base_pb.js';
import { analyze } from './analyze.js';
import { runConfigOperation } from './config-rpc.js';
import { ConnectError, invalidHandle, toServiceError, unsupported } from './errors.js';
import { execute, type QueryToStart } from './execute.js';
import type { KindlingProgress } from './progress-json.js';
import type { EngineRun } from './streaming-queries.js';
import { sparkConnectServiceDefinition } from './grpc-service.js';
import { SessionRegistry, type Operation, type Session } from './sessions.js';

/** How to start the server. */
export interface ConnectServerOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  readonly log: (line: string) => void;
  /** False: leave out what the client shows its user anyway (sessions, config notes, refusals); `kindling run` shares a terminal with the script. */
  readonly verbose?: boolean;
  /** Runs a started query on the engine; without it writeStream.start() is refused. */
  readonly runQuery?: QueryRunner;
}

/** A query writeStream.start() asked for, its checkpoint opened: the id it has (its checkpoint's, or new) and how to run it. */
export interface PreparedQuery {
  readonly queryId: string;
  /** Runs it on the engine as `runId`, reporting each batch's progress. */
  start(runId: string, onProgress: (record: KindlingProgress) => void): Promise<EngineRun>;
}

/** Prepares a query writeStream.start() asked for; throws a ConnectError for one that cannot start. */
export type QueryRunner = (q: QueryToStart) => Promise<PreparedQuery>;

const notWired: QueryRunner = () => {
  throw new ConnectError(
    GrpcStatus.UNIMPLEMENTED,
    'java.lang.UnsupportedOperationException',
    'KINDLING_NOT_WIRED',
    'Kindling checked this streaming query and printed its plan in the server log, but streaming execution is not wired yet in this build of kindling connect.',
  );
};

/** A running server. */
export interface ConnectServer {
  readonly port: number;
  /** Stops accepting calls and ends the ones in flight. */
  close(): Promise<void>;
}

interface RunningOperation {
  readonly sessionId: string;
  readonly tags: readonly string[];
  readonly abort: AbortController;
}

/** Sends `responses` after `lastResponseId` (all when undefined) and ends the stream. */
function replay(call: grpc.ServerWritableStream<unknown, ExecutePlanResponse>, op: Operation, lastResponseId: string | undefined): void {
  const from = lastResponseId === undefined ? 0 : op.responses.findIndex((r) => r.responseId === lastResponseId) + 1;
  for (const r of op.responses.slice(from)) call.write(r);
  call.end();
}

/** Starts the SparkConnectService on 127.0.0.1:`port`. */
export async function startConnectServer(options: ConnectServerOptions): Promise<ConnectServer> {
  const { log } = options;
  const runQuery = options.runQuery ?? notWired;
  const trace = options.verbose === false ? (): void => {} : log;
  const sessions = new SessionRegistry();
  const running = new Map<string, RunningOperation>();

  const sessionFor = (req: { sessionId: string; clientObservedServerSideSessionId?: string | undefined; clientType?: string | undefined }): Session => {
    const known = sessions.size;
    const session = sessions.get(req);
    if (sessions.size > known) trace(`session ${req.sessionId} opened by ${req.clientType ?? 'a client'}`);
    return session;
  };
  const ids = (s: Session): { sessionId: string; serverSideSessionId: string } => ({ sessionId: s.sessionId, serverSideSessionId: s.serverSideSessionId });
  const refuse = (rpc: string, err: unknown): Partial<grpc.ServiceError> => {
    const e = toServiceError(err);
    (err instanceof ConnectError ? trace : log)(`${rpc}: ${err instanceof ConnectError ? 'answered with' : 'INTERNAL ERROR'} ${e.details ?? ''}`);
    return e;
  };
  /** Runs a unary handler, turning any throw into the client's exception. */
  const unary =
    <Req, Res>(rpc: string, fn: (req: Req) => Res) =>
    (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>): void => {
      try {
        callback(null, fn(call.request));
      } catch (err) {
        callback(refuse(rpc, err));
      }
    };

  const handlers: grpc.UntypedServiceImplementation = {
    Config: unary('Config', (req: ConfigRequest) => {
      const session = sessionFor(req);
      const result = runConfigOperation(session.config, req.operation, trace);
      return create(ConfigResponseSchema, { ...ids(session), ...result });
    }),

    AnalyzePlan: unary('AnalyzePlan', (req: AnalyzePlanRequest) => {
      const session = sessionFor(req);
      return create(AnalyzePlanResponseSchema, { ...ids(session), result: analyze(req) });
    }),

    ExecutePlan: (call: grpc.ServerWritableStream<ExecutePlanRequest, ExecutePlanResponse>): void => {
      void (async () => {
        const req = call.request;
        let op: Operation | undefined;
        try {
          const session = sessionFor(req);
          const operationId = req.operationId ?? randomUUID();
          if (session.operations.has(operationId) || running.has(operationId)) {
            throw invalidHandle('INVALID_HANDLE.OPERATION_ALREADY_EXISTS', `Operation ${operationId} already exists.`);
          }
          // Reattachable operations keep their responses until released (PySpark always asks for this).
          const reattachable = req.requestOptions.some((o) => o.requestOption.case === 'reattachOptions' && o.requestOption.value.reattachable);
          op = { operationId, responses: [], error: undefined };
          if (reattachable) session.operations.set(operationId, op);
          const abort = new AbortController();
          running.set(operationId, { sessionId: session.sessionId, tags: req.tags, abort });
          call.on('cancelled', () => abort.abort());
          try {
            const bodies = await execute(req, {
              log,
              conf: (key) => session.config.getOption(key),
              signal: abort.signal,
              queries: session.queries,
              // Refused at start() when nothing can run it, as Spark refuses before any batch.
              startQuery: (q) => session.queries.start(q.write.queryName || null, q.explain, () => runQuery(q)),
            });
            op.responses = [...bodies, { case: 'resultComplete' as const, value: {} }].map((responseType) =>
              create(ExecutePlanResponseSchema, { ...ids(session), operationId, responseId: randomUUID(), responseType }),
            );
          } finally {
            running.delete(operationId);
          }
          replay(call, op, undefined);
        } catch (err) {
          if (op) op.error = err;
          call.emit('error', refuse('ExecutePlan', err));
        }
      })();
    },

    ReattachExecute: (call: grpc.ServerWritableStream<ReattachExecuteRequest, ExecutePlanResponse>): void => {
      try {
        const op = sessionFor(call.request).operation(call.request.operationId);
        if (op.error !== undefined) throw op.error;
        replay(call, op, call.request.lastResponseId);
      } catch (err) {
        call.emit('error', refuse('ReattachExecute', err));
      }
    },

    ReleaseExecute: unary('ReleaseExecute', (req: ReleaseExecuteRequest) => {
      const session = sessionFor(req);
      const op = session.operations.get(req.operationId);
      if (op && req.release.case === 'releaseUntil') {
        const until = req.release.value.responseId;
        op.responses = op.responses.slice(op.responses.findIndex((r) => r.responseId === until) + 1);
      } else if (op) session.operations.delete(req.operationId);
      return create(ReleaseExecuteResponseSchema, { ...ids(session), operationId: req.operationId });
    }),

    Interrupt: unary('Interrupt', (req: InterruptRequest) => {
      const session = sessionFor(req);
      const interrupted: string[] = [];
      for (const [operationId, r] of running) {
        if (r.sessionId !== session.sessionId) continue;
        const i = req.interrupt;
        const hit =
          req.interruptType === InterruptRequest_InterruptType.ALL ||
          (req.interruptType === InterruptRequest_InterruptType.TAG && i.case === 'operationTag' && r.tags.includes(i.value)) ||
          (req.interruptType === InterruptRequest_InterruptType.OPERATION_ID && i.case === 'operationId' && i.value === operationId);
        if (hit) {
          r.abort.abort();
          interrupted.push(operationId);
        }
      }
      return create(InterruptResponseSchema, { ...ids(session), interruptedIds: interrupted });
    }),

    ReleaseSession: unary('ReleaseSession', (req: ReleaseSessionRequest) => {
      const session = sessions.release(req.sessionId, req.allowReconnect);
      for (const r of running.values()) if (r.sessionId === req.sessionId) r.abort.abort();
      // A session's queries end with it (Spark stops them when the session is closed).
      void session?.queries.stopAll();
      if (session) trace(`session ${req.sessionId} released`);
      return create(ReleaseSessionResponseSchema, { sessionId: req.sessionId, serverSideSessionId: session?.serverSideSessionId ?? '' });
    }),

    AddArtifacts: (_call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>): void => {
      callback(refuse('AddArtifacts', unsupported('Adding artifacts (spark.addArtifacts, addPyFile, UDF dependencies)', 'Kindling runs no Python on the server.')));
    },
    ArtifactStatus: unary('ArtifactStatus', () => {
      throw unsupported('Artifact status (spark.addArtifacts)', 'Kindling runs no Python on the server.');
    }),
    // Kindling never sends an errorId, so PySpark never asks; a client that does gets a plain answer.
    FetchErrorDetails: unary('FetchErrorDetails', () => {
      throw unsupported('FetchErrorDetails', 'the error message carries everything Kindling knows.');
    }),
  };

  // grpc-js would also print its own copy of a bind failure; every failure reaches Kindling as an error to report once.
  grpc.setLogVerbosity(grpc.logVerbosity.NONE);
  const server = new grpc.Server();
  server.addService(sparkConnectServiceDefinition, handlers);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${options.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of running.values()) r.abort.abort();
        // Every query stops (its batch in flight finishes) before the server is gone.
        void Promise.all(sessions.all().map((s) => s.queries.stopAll())).then(() => server.tryShutdown(() => resolve()));
        // In-flight streams end at once rather than holding the shutdown.
        setTimeout(() => server.forceShutdown(), 1_000).unref();
      }),
  };
}
