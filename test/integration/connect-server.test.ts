// The Spark Connect server over real gRPC (grpc-js's client on 127.0.0.1): response ids, reattach and release, interrupts, session handles, rich error details.
import { create, fromBinary, toBinary, type DescMessage, type MessageShape, type MessageInitShape } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorInfoSchema } from '../../src/connect/gen/google/rpc/error_details_pb.js';
import { StatusSchema } from '../../src/connect/gen/google/rpc/status_pb.js';
import {
  ConfigRequestSchema, ExecutePlanRequestSchema, ExecutePlanResponseSchema, InterruptRequestSchema, InterruptRequest_InterruptType,
  InterruptResponseSchema, ReattachExecuteRequestSchema, ReleaseExecuteRequestSchema, ReleaseExecuteResponseSchema,
  ReleaseSessionRequestSchema, ReleaseSessionResponseSchema, ConfigResponseSchema, type ExecutePlanResponse,
} from '../../src/connect/gen/spark/connect/base_pb.js';
import { sparkConnectServiceDefinition } from '../../src/connect/grpc-service.js';
import { startConnectServer, type ConnectServer } from '../../src/connect/server.js';

let server: ConnectServer;
let client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
const serverLog: string[] = [];

beforeAll(async () => {
  server = await startConnectServer({ port: 0, log: (line) => serverLog.push(line) });
  const Client = grpc.makeGenericClientConstructor(sparkConnectServiceDefinition, 'SparkConnectService');
  client = new Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure()) as typeof client;
});

afterAll(async () => {
  client?.close();
  await server?.close();
});

/** Calls a unary method. */
function unary<O extends DescMessage>(method: string, request: unknown, _output: O): Promise<MessageShape<O>> {
  return new Promise((resolve, reject) => {
    client[method]!(request, (err: grpc.ServiceError | null, response: MessageShape<O>) => (err ? reject(err) : resolve(response)));
  });
}

/** Calls a server-streaming method; resolves with every response, or rejects with the stream's error. */
function stream(method: string, request: unknown): Promise<ExecutePlanResponse[]> {
  return new Promise((resolve, reject) => {
    const responses: ExecutePlanResponse[] = [];
    const call = client[method]!(request) as grpc.ClientReadableStream<ExecutePlanResponse>;
    call.on('data', (r: ExecutePlanResponse) => responses.push(r));
    call.on('error', reject);
    call.on('end', () => resolve(responses));
  });
}

/** The ErrorInfo PySpark reads from a failed call's grpc-status-details-bin trailer. */
function errorInfo(err: unknown): { code: number; errorClass: string; message: string } {
  const e = err as grpc.ServiceError;
  const status = fromBinary(StatusSchema, e.metadata.get('grpc-status-details-bin')[0] as Buffer);
  expect(status.code).toBe(e.code);
  expect(status.message).toBe(e.details);
  return { code: e.code, errorClass: anyUnpack(status.details[0]!, ErrorInfoSchema)!.metadata['errorClass']!, message: status.message };
}

const build = <D extends DescMessage>(schema: D, init: MessageInitShape<D>): MessageShape<D> => create(schema, init);
let sessionCount = 0;
const newSession = (): string => `00000000-0000-4000-8000-${String(++sessionCount).padStart(12, '0')}`;

function managerCommand(sessionId: string, operationId: string, command: NonNullable<MessageInitShape<typeof ExecutePlanRequestSchema>['plan']>, tags: string[] = []) {
  return build(ExecutePlanRequestSchema, {
    sessionId,
    operationId,
    plan: command,
    tags,
    requestOptions: [{ requestOption: { case: 'reattachOptions', value: { reattachable: true } } }],
  });
}

const active = { opType: { case: 'command' as const, value: { commandType: { case: 'streamingQueryManagerCommand' as const, value: { command: { case: 'active' as const, value: true } } } } } };
const awaitAny = (timeoutMs?: bigint) => ({
  opType: { case: 'command' as const, value: { commandType: { case: 'streamingQueryManagerCommand' as const, value: { command: { case: 'awaitAnyTermination' as const, value: timeoutMs === undefined ? {} : { timeoutMs } } } } } },
});

describe('kindling connect over gRPC', () => {
  it('serialises with the generated codecs both ways', () => {
    const r = build(ExecutePlanResponseSchema, { sessionId: 's', responseId: 'r', responseType: { case: 'resultComplete', value: {} } });
    expect(fromBinary(ExecutePlanResponseSchema, toBinary(ExecutePlanResponseSchema, r))).toEqual(r);
  });

  it('answers an operation with distinct response ids ending in result_complete, replays after a response id, and forgets it once released', async () => {
    const sessionId = newSession();
    const operationId = '11111111-1111-4111-8111-111111111111';
    const responses = await stream('ExecutePlan', managerCommand(sessionId, operationId, active));
    expect(responses.map((r) => r.responseType.case)).toEqual(['streamingQueryManagerCommandResult', 'resultComplete']);
    expect(new Set(responses.map((r) => r.responseId)).size).toBe(2);
    for (const r of responses) expect([r.sessionId, r.operationId, r.serverSideSessionId !== '']).toEqual([sessionId, operationId, true]);

    const reattach = (lastResponseId?: string) => build(ReattachExecuteRequestSchema, { sessionId, operationId, ...(lastResponseId ? { lastResponseId } : {}) });
    expect((await stream('ReattachExecute', reattach(responses[0]!.responseId))).map((r) => r.responseId)).toEqual([responses[1]!.responseId]);

    const release = (value: MessageInitShape<typeof ReleaseExecuteRequestSchema>['release']) => unary('ReleaseExecute', build(ReleaseExecuteRequestSchema, { sessionId, operationId, release: value }), ReleaseExecuteResponseSchema);
    await release({ case: 'releaseUntil', value: { responseId: responses[0]!.responseId } });
    expect((await stream('ReattachExecute', reattach())).map((r) => r.responseId)).toEqual([responses[1]!.responseId]);
    await release({ case: 'releaseAll', value: {} });
    const gone = await stream('ReattachExecute', reattach()).then(() => null, errorInfo);
    expect(gone?.errorClass).toBe('INVALID_HANDLE.OPERATION_NOT_FOUND');
  });

  it('refuses a second operation with the same id', async () => {
    const sessionId = newSession();
    const operationId = '22222222-2222-4222-8222-222222222222';
    await stream('ExecutePlan', managerCommand(sessionId, operationId, active));
    const again = await stream('ExecutePlan', managerCommand(sessionId, operationId, active)).then(() => null, errorInfo);
    expect(again?.errorClass).toBe('INVALID_HANDLE.OPERATION_ALREADY_EXISTS');
  });

  it('answers awaitAnyTermination(timeout) with no query as not terminated', async () => {
    const responses = await stream('ExecutePlan', managerCommand(newSession(), '33333333-3333-4333-8333-333333333333', awaitAny(20n)));
    const result = responses[0]!.responseType;
    expect(result.case === 'streamingQueryManagerCommandResult' && result.value.resultType).toEqual({ case: 'awaitAnyTermination', value: expect.objectContaining({ terminated: false }) });
  });

  it('interrupts a waiting operation by tag, which then ends with OPERATION_CANCELED', async () => {
    const sessionId = newSession();
    const operationId = '44444444-4444-4444-8444-444444444444';
    const waiting = stream('ExecutePlan', managerCommand(sessionId, operationId, awaitAny(), ['lab'])).then(() => null, errorInfo);
    let interrupted: string[] = [];
    // The call may not have reached the server yet: ask until it is there to interrupt.
    while (interrupted.length === 0) {
      const r = await unary('Interrupt', build(InterruptRequestSchema, { sessionId, interruptType: InterruptRequest_InterruptType.TAG, interrupt: { case: 'operationTag', value: 'lab' } }), InterruptResponseSchema);
      interrupted = r.interruptedIds;
    }
    expect(interrupted).toEqual([operationId]);
    expect(await waiting).toMatchObject({ code: grpc.status.CANCELLED, errorClass: 'OPERATION_CANCELED' });
  });

  it('tells a client its session changed when it saw another server-side id, and that a released session is closed', async () => {
    const sessionId = newSession();
    const get = (extra: object = {}) => unary('Config', build(ConfigRequestSchema, { sessionId, operation: { opType: { case: 'getOption', value: { keys: ['spark.sql.session.timeZone'] } } }, ...extra }), ConfigResponseSchema);
    const first = await get();
    expect(first.pairs[0]?.value).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
    expect((await get({ clientObservedServerSideSessionId: first.serverSideSessionId })).serverSideSessionId).toBe(first.serverSideSessionId);
    expect(await get({ clientObservedServerSideSessionId: 'another-server' }).then(() => null, errorInfo)).toMatchObject({ errorClass: 'INVALID_HANDLE.SESSION_CHANGED' });
    const released = await unary('ReleaseSession', build(ReleaseSessionRequestSchema, { sessionId }), ReleaseSessionResponseSchema);
    expect(released.serverSideSessionId).toBe(first.serverSideSessionId);
    expect(await get().then(() => null, errorInfo)).toMatchObject({ errorClass: 'INVALID_HANDLE.SESSION_CLOSED' });
    expect(serverLog).toContain(`session ${sessionId} released`);
  });
});
