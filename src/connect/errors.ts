// Errors a Spark Connect client sees: a gRPC status whose rich details (google.rpc.ErrorInfo) make PySpark raise a typed exception.
import { create, toBinary } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { ErrorInfoSchema } from './gen/google/rpc/error_details_pb.js';
import { StatusSchema } from './gen/google/rpc/status_pb.js';

/**
 * The JVM exception classes PySpark maps to its own exception types
 * (pyspark/errors/exceptions/connect.py, EXCEPTION_CLASS_MAPPING): the class decides what `except` catches.
 */
export type SparkExceptionClass =
  | 'java.lang.UnsupportedOperationException'
  | 'org.apache.spark.sql.AnalysisException'
  | 'org.apache.spark.sql.catalyst.parser.ParseException'
  | 'java.lang.IllegalArgumentException'
  | 'org.apache.spark.SparkNoSuchElementException'
  | 'org.apache.spark.SparkException'
  | 'org.apache.spark.sql.streaming.StreamingQueryException';

/** An error answered to a client: its gRPC code, the exception PySpark raises, Spark-style error class and message. */
export class ConnectError extends Error {
  constructor(
    readonly grpcCode: GrpcStatus,
    readonly exceptionClass: SparkExceptionClass,
    readonly errorClass: string,
    message: string,
    readonly messageParameters: Readonly<Record<string, string>> = {},
  ) {
    super(`[${errorClass}] ${message}`);
    this.name = 'ConnectError';
  }
}

/**
 * Something a client asked for that Kindling does not do. `what` names it as the user wrote it
 * (e.g. "spark.range(...)"), `instead` says what to use, where something exists.
 */
export function unsupported(what: string, instead?: string): ConnectError {
  const hint = instead ? ` ${instead.charAt(0).toUpperCase()}${instead.slice(1)}${/[.!?]$/.test(instead) ? '' : '.'}` : '';
  const message = `Not supported by Kindling: ${what}.${hint}`;
  return new ConnectError(GrpcStatus.UNIMPLEMENTED, 'java.lang.UnsupportedOperationException', 'KINDLING_UNSUPPORTED', message, { what });
}

/** A plan that cannot be analysed: an unknown column, a bad schema string, a type mismatch. */
export function analysisError(errorClass: string, message: string): ConnectError {
  return new ConnectError(GrpcStatus.INVALID_ARGUMENT, 'org.apache.spark.sql.AnalysisException', errorClass, message);
}

/** A session or operation handle the server does not know (PySpark's reattach logic looks for these error classes). */
export function invalidHandle(errorClass: `INVALID_HANDLE.${string}`, message: string): ConnectError {
  return new ConnectError(GrpcStatus.NOT_FOUND, 'org.apache.spark.SparkException', errorClass, message);
}

/**
 * The gRPC error for `err`: a ConnectError as is; anything else is a Kindling bug, reported as an
 * internal error that names itself as such (never as the user's fault).
 */
export function toServiceError(err: unknown): Partial<ServiceError> {
  const connect =
    err instanceof ConnectError
      ? err
      : new ConnectError(GrpcStatus.INTERNAL, 'org.apache.spark.SparkException', 'KINDLING_INTERNAL_ERROR', `internal error in Kindling's Spark Connect server: ${(err as Error)?.stack ?? String(err)}`);
  const info = create(ErrorInfoSchema, {
    reason: connect.errorClass,
    domain: 'org.apache.spark',
    metadata: {
      classes: JSON.stringify([connect.exceptionClass]),
      errorClass: connect.errorClass,
      messageParameters: JSON.stringify(connect.messageParameters),
    },
  });
  // PySpark (grpcio-status) only trusts the details when code and message equal the call's own.
  const details = create(StatusSchema, { code: connect.grpcCode, message: connect.message, details: [anyPack(ErrorInfoSchema, info)] });
  const metadata = new Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(toBinary(StatusSchema, details)));
  return { code: connect.grpcCode, details: connect.message, metadata };
}
