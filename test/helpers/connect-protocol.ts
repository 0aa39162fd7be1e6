// Test helper: Kindling's Spark Connect .proto subset as plain JSON (messages, fields, oneofs), for comparison with pyspark-client's descriptors.
import type { GenFile } from '@bufbuild/protobuf/codegenv2';
import { isFieldSet } from '@bufbuild/protobuf';
import { FieldDescriptorProtoSchema, type DescriptorProto } from '@bufbuild/protobuf/wkt';
import { file_google_rpc_error_details } from '../../src/connect/gen/google/rpc/error_details_pb.js';
import { file_google_rpc_status } from '../../src/connect/gen/google/rpc/status_pb.js';
import { file_spark_connect_base } from '../../src/connect/gen/spark/connect/base_pb.js';
import { file_spark_connect_commands } from '../../src/connect/gen/spark/connect/commands_pb.js';
import { file_spark_connect_common } from '../../src/connect/gen/spark/connect/common_pb.js';
import { file_spark_connect_expressions } from '../../src/connect/gen/spark/connect/expressions_pb.js';
import { file_spark_connect_relations } from '../../src/connect/gen/spark/connect/relations_pb.js';
import { file_spark_connect_types } from '../../src/connect/gen/spark/connect/types_pb.js';

/** One message as check_protocol.py reads it. */
export interface MessageFields {
  message: string;
  oneofs: string[];
  fields: { name: string; number: number; label: number; type: number; typeName?: string; oneof?: string }[];
}

function walk(prefix: string, m: DescriptorProto, out: MessageFields[]): void {
  const fullName = `${prefix}.${m.name}`;
  // Map entries are generated types on both sides; their shape is fixed by the map field itself.
  if (m.options?.mapEntry) return;
  const oneofs = m.oneofDecl.map((o) => o.name);
  out.push({
    message: fullName,
    oneofs,
    fields: m.field.map((f) => ({
      name: f.name,
      number: f.number,
      label: f.label,
      type: f.type,
      ...(f.typeName ? { typeName: f.typeName } : {}),
      // descriptor.proto is proto2: an unset oneof_index reads as 0, so presence is asked for.
      ...(f.proto3Optional ? { oneof: `_${f.name}` } : isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex) ? { oneof: oneofs[f.oneofIndex]! } : {}),
    })),
  });
  for (const nested of m.nestedType) walk(fullName, nested, out);
}

/** Every message of Kindling's protocol files. */
export function kindlingProtocolMessages(): MessageFields[] {
  const files: GenFile[] = [file_spark_connect_base, file_spark_connect_commands, file_spark_connect_common, file_spark_connect_expressions, file_spark_connect_relations, file_spark_connect_types, file_google_rpc_status, file_google_rpc_error_details];
  const out: MessageFields[] = [];
  for (const file of files) for (const m of file.proto.messageType) walk(file.proto.package, m, out);
  return out;
}
