// One error type for the engine: a code, who is at fault (user, external system, Kindling itself) and whether retrying can help.
import type { KafkaErrorName } from './source/kafka-protocol.js';

/** Who caused an error: bad flags or input (user), a broker or disk (external), or a bug (internal). */
export type ErrorDomain = 'user' | 'external' | 'internal';

/**
 * Every error code Kindling throws, in one place: code that matches on a code (recovery's
 * worker-loss set, the Kafka source's retry) is checked against this list by the compiler, so a
 * misspelled or renamed code does not compile.
 */
export type ErrorCode =
  // Flags, input and the user's own files (domain user: exit code 2).
  | 'USAGE'
  | 'BAD_BROKERS'
  | 'BAD_MODE'
  | 'BAD_OFFSETS'
  | 'BAD_PATH'
  | 'BAD_PROGRESS_JSON'
  | 'BAD_QUERY'
  | 'QUERY_FAILED'
  | 'BAD_SINK'
  | 'NOT_BUILT'
  | 'UI_LISTEN'
  | 'CONNECT_BIND'
  | 'NO_PYSPARK_CLIENT'
  // Checkpoint directory and its logs.
  | 'CHECKPOINT_CORRUPT'
  | 'CHECKPOINT_DIR'
  | 'CHECKPOINT_IN_USE'
  | 'CHECKPOINT_INPUT'
  | 'CHECKPOINT_QUERY_CHANGED'
  | 'CHECKPOINT_SOURCE'
  | 'CHECKPOINT_FORMAT'
  | 'CHECKPOINT_UNBOUND'
  | 'CHECKPOINT_WRITE'
  | 'REPLAY_DIVERGED'
  // Worker threads and the batch loop; WORKER_DIED, WORKER_REPLACED and TASK_FAILED are worker loss.
  | 'BAD_POOL'
  | 'BATCH_FAILED'
  | 'MISROUTE'
  | 'NO_ROOT'
  | 'NO_WORKER'
  | 'TASK_FAILED'
  | 'WORKER_DIED'
  | 'WORKER_LOST'
  | 'WORKER_REPLACED'
  // Sinks and progress output.
  | 'PROGRESS_JSON_FAILED'
  | 'SINK_WRITE'
  // Kafka: Kindling's own view of the broker and its data.
  | 'KAFKA_AUTH'
  | 'KAFKA_BAD_FRAME'
  | 'KAFKA_CLOSED'
  | 'KAFKA_COMMIT'
  | 'KAFKA_COMPRESSION'
  | 'KAFKA_CONNECT_TIMEOUT'
  | 'KAFKA_CORRUPT_BATCH'
  | 'KAFKA_DATA_LOSS'
  | 'KAFKA_DISCONNECTED'
  | 'KAFKA_ERROR'
  | 'KAFKA_FETCH'
  | 'KAFKA_INTERNAL'
  | 'KAFKA_NOT_AUTHORIZED'
  | 'KAFKA_NO_LEADER'
  | 'KAFKA_NO_TOPIC'
  | 'KAFKA_OLD_FORMAT'
  | 'KAFKA_PRODUCE'
  | 'KAFKA_PROTOCOL'
  | 'KAFKA_TIMEOUT'
  | 'KAFKA_TLS'
  | 'KAFKA_UNREACHABLE'
  | 'KAFKA_UNSUPPORTED'
  | KafkaAnswerCode
  // Benchmarks and profiling (bench/).
  | 'CLINIC_FAILED'
  | 'NO_CLINIC'
  | 'PROFILE_MISSING'
  | 'PROFILE_RUN_FAILED';

/**
 * An error code a broker answered, by Kafka's name for it (`KAFKA_NOT_LEADER_OR_FOLLOWER`), or
 * `KAFKA_<number>` for one Kindling does not know by name.
 */
export type KafkaAnswerCode = `KAFKA_${KafkaErrorName}` | `KAFKA_${number}`;

/** An error with a stable code; main maps `user` errors to exit code 2. */
export class KindlingError extends Error {
  readonly code: ErrorCode;
  readonly domain: ErrorDomain;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: { domain?: ErrorDomain; retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KindlingError';
    this.code = code;
    this.domain = options.domain ?? 'internal';
    this.retriable = options.retriable ?? false;
  }
}

/** A usage error: a bad flag or value. Exit code 2. */
export class UsageError extends KindlingError {
  constructor(message: string) {
    super('USAGE', message, { domain: 'user' });
    this.name = 'UsageError';
  }
}
