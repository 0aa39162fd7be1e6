// The SparkConnectService as a grpc-js service definition: the generated protobuf-es descriptors with binary (de)serialisers.
import { fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { SparkConnectService } from './gen/spark/connect/base_pb.js';

function method<I extends DescMessage, O extends DescMessage>(
  name: string,
  input: I,
  output: O,
  requestStream: boolean,
  responseStream: boolean,
): MethodDefinition<MessageShape<I>, MessageShape<O>> {
  return {
    path: `/${SparkConnectService.typeName}/${name}`,
    requestStream,
    responseStream,
    requestSerialize: (m) => Buffer.from(toBinary(input, m)),
    // Fields outside Kindling's subset are kept as unknown fields, never an error.
    requestDeserialize: (bytes) => fromBinary(input, bytes),
    responseSerialize: (m) => Buffer.from(toBinary(output, m)),
    responseDeserialize: (bytes) => fromBinary(output, bytes),
  };
}

/** Every method of spark.connect.SparkConnectService, keyed by its name (ExecutePlan, Config, ...). */
export const sparkConnectServiceDefinition: ServiceDefinition = Object.fromEntries(
  SparkConnectService.methods.map((m) => [m.name, method(m.name, m.input, m.output, m.methodKind === 'client_streaming' || m.methodKind === 'bidi_streaming', m.methodKind === 'server_streaming' || m.methodKind === 'bidi_streaming')]),
);
