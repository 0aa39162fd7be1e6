// The AnalyzePlan RPC: spark.version, df.schema, df.printSchema(), df.isStreaming, df.explain(), DDL parsing — answered from the translated plan.
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { AnalyzePlanRequest, AnalyzePlanResponseSchema, Plan } from './gen/spark/connect/base_pb.js';
import { analysisError, ConnectError, unsupported } from './errors.js';
import { explainRelation } from './explain.js';
import { isStreaming, type ConnectRelation } from './logical.js';
import { SERVER_VERSION } from './protocol-version.js';
import { resolveSchema } from './resolve.js';
import { parseSchema, struct, toDdl, toProtoType, treeString } from './sql-types.js';
import { translateRelation } from './translate-relation.js';
import { explainPlan } from '../plan/explain.js';
import { toPlan } from './to-plan.js';

type AnalyzeResult = MessageInitShape<typeof AnalyzePlanResponseSchema>['result'];

/** The relation of a plan that AnalyzePlan asks about (a command has no schema). */
export function planRelation(plan: Plan | undefined): ConnectRelation {
  if (plan?.opType.case !== 'root') throw analysisError('INVALID_PLAN', 'AnalyzePlan needs a DataFrame (a relation), not a command.');
  return translateRelation(plan.opType.value);
}

/** Checks and describes a plan the way `df.explain()` shows it: the plan as sent, Kindling's plan for it, and the output schema. */
export function explainString(relation: ConnectRelation): string {
  const schema = struct(resolveSchema(relation));
  let kindling: string;
  try {
    kindling = explainPlan(toPlan(relation).root, 'Kindling plan');
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    kindling = `== Kindling plan ==\n(this DataFrame does not run as a query yet: ${err.message})`;
  }
  return `== Spark Connect plan ==\n${explainRelation(relation)}\n\n${kindling}\n\n== Output schema ==\n${treeString(schema)}`;
}

/** Answers one AnalyzePlan request. */
export function analyze(req: AnalyzePlanRequest): AnalyzeResult {
  const a = req.analyze;
  switch (a.case) {
    case 'sparkVersion':
      return { case: 'sparkVersion', value: { version: SERVER_VERSION } };
    case 'schema':
      return { case: 'schema', value: { schema: toProtoType(struct(resolveSchema(planRelation(a.value.plan)))) } };
    case 'treeString': {
      const relation = planRelation(a.value.plan);
      return { case: 'treeString', value: { treeString: treeString(struct(resolveSchema(relation)), a.value.level) } };
    }
    case 'isStreaming':
      return { case: 'isStreaming', value: { isStreaming: isStreaming(planRelation(a.value.plan)) } };
    case 'isLocal':
      planRelation(a.value.plan);
      return { case: 'isLocal', value: { isLocal: false } };
    case 'explain':
      return { case: 'explain', value: { explainString: explainString(planRelation(a.value.plan)) } };
    case 'ddlParse':
      return { case: 'ddlParse', value: { parsed: toProtoType(parseSchema(a.value.ddlString, 'a DDL string')) } };
    case 'jsonToDdl':
      return { case: 'jsonToDdl', value: { ddlString: toDdl(parseSchema(a.value.jsonString, 'a schema as JSON')) } };
    case 'sameSemantics': {
      const same = JSON.stringify(stripPlanIds(planRelation(a.value.targetPlan))) === JSON.stringify(stripPlanIds(planRelation(a.value.otherPlan)));
      return { case: 'sameSemantics', value: { result: same } };
    }
    case 'semanticHash':
      return { case: 'semanticHash', value: { result: hash(JSON.stringify(stripPlanIds(planRelation(a.value.plan)))) } };
    case 'inputFiles':
      throw unsupported('df.inputFiles()', 'Kindling lists the files a file source read in its progress records.');
    case 'persist': case 'unpersist': case 'getStorageLevel':
      throw unsupported('Caching a DataFrame (persist/cache/unpersist/storageLevel)', 'streaming queries are not cached.');
    default:
      throw analysisError('INVALID_PLAN', 'An AnalyzePlan request of a kind this protocol version does not define.');
  }
}

function stripPlanIds(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, v: unknown) => (key === 'planId' || key === 'origin' ? undefined : typeof v === 'bigint' ? String(v) : v)));
}

/** A 32-bit string hash (Java's String.hashCode) for df.semanticHash(). */
function hash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return h;
}
