// Test helper: Spark Connect protobuf relations and expressions written the way PySpark's client builds them.
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { RelationSchema } from '../../src/connect/gen/spark/connect/relations_pb.js';
import { translateRelation } from '../../src/connect/translate-relation.js';

export type RelationInit = MessageInitShape<typeof RelationSchema>;
export type ExpressionInit = NonNullable<Extract<RelationInit['relType'], { case: 'filter' }>['value']['condition']>;

export const column = (name: string): ExpressionInit => ({ exprType: { case: 'unresolvedAttribute', value: { unparsedIdentifier: name } } });
export const str = (value: string): ExpressionInit => ({ exprType: { case: 'literal', value: { literalType: { case: 'string', value } } } });
export const int = (value: number): ExpressionInit => ({ exprType: { case: 'literal', value: { literalType: { case: 'integer', value } } } });
export const star = (target?: string): ExpressionInit => ({ exprType: { case: 'unresolvedStar', value: target === undefined ? {} : { unparsedTarget: target } } });
export const fn = (name: string, ...args: ExpressionInit[]): ExpressionInit => ({ exprType: { case: 'unresolvedFunction', value: { functionName: name, arguments: args } } });
export const alias = (expr: ExpressionInit, name: string): ExpressionInit => ({ exprType: { case: 'alias', value: { expr, name: [name] } } });
export const cast = (expr: ExpressionInit, typeStr: string): ExpressionInit => ({ exprType: { case: 'cast', value: { expr, castToType: { case: 'typeStr', value: typeStr } } } });

/** A streaming read of `format` with options. */
export const readStream = (format: string, options: Record<string, string> = {}, extra: { schema?: string; paths?: string[] } = {}): RelationInit => ({
  relType: { case: 'read', value: { isStreaming: true, readType: { case: 'dataSource', value: { format, options, ...extra } } } },
});
export const project = (input: RelationInit, ...expressions: ExpressionInit[]): RelationInit => ({ relType: { case: 'project', value: { input, expressions } } });
export const filter = (input: RelationInit, condition: ExpressionInit): RelationInit => ({ relType: { case: 'filter', value: { input, condition } } });

/** Translates a relation written with these helpers, as the server does with what arrives. */
export const translated = (init: RelationInit) => translateRelation(create(RelationSchema, init));
