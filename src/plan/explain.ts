// explain(): the plan as a tree of operators, root first, like Spark's df.explain().
import { exprName, type Expr } from './expr.js';
import { analyzePlan, checkStreaming, type PlanNode, type QueryPlan, type RowStep } from './plan.js';
import { derivePrecheck } from './precheck.js';
import { schemaToDdl } from './schema.js';

const list = (exprs: readonly Expr[]): string => exprs.map((e) => (e.kind === 'alias' ? `${exprName(e.expr)} AS ${e.name}` : exprName(e))).join(', ');

function describe(node: PlanNode): string {
  switch (node.kind) {
    case 'source': return `FromJson [${schemaToDdl(node.schema)}]\n+- StreamingSource`;
    case 'project': return `Project [${list(node.exprs)}]`;
    case 'filter': return `Filter ${exprName(node.condition)}`;
    case 'watermark': return `EventTimeWatermark ${node.column}, ${node.delay}`;
    case 'dropDuplicates': return `Deduplicate [${node.columns === null ? 'all columns' : node.columns.join(', ')}]`;
    case 'aggregate': return `Aggregate [${list(node.groupBy)}], [${list(node.aggregates)}]`;
    case 'sort': return `Sort [${node.orders.map((o) => `${exprName(o.expr)} ${o.ascending ? 'ASC NULLS FIRST' : 'DESC NULLS LAST'}`).join(', ')}]`;
  }
}

/** The plan as an indented operator tree, root first: `Filter …` then `+- Aggregate …` below it. */
export function explainPlan(root: PlanNode, title = 'Logical Plan'): string {
  const lines = [`== ${title} ==`];
  let depth = 0;
  for (let n: PlanNode = root; ; n = n.input) {
    for (const [i, line] of describe(n).split('\n').entries()) {
      const d = depth + i;
      lines.push(d === 0 ? line : `${'   '.repeat(d - 1)}+- ${line.replace(/^\+- /, '')}`);
    }
    if (n.kind === 'source') break;
    depth++;
  }
  return lines.join('\n');
}

/** How a step of the analyzed plan runs, in one phrase. */
function stepText(step: RowStep, columns: readonly string[]): string {
  switch (step.kind) {
    case 'project': return `Project [${step.columns.map((c) => c.name).join(', ')}]`;
    case 'filter': return `Filter${step.pushedBelowWatermark ? ' (pushed below the watermark)' : ''}`;
    case 'watermark': return `EventTimeWatermark ${columns[step.ordinal] ?? '?'}, ${step.delayMs} ms`;
  }
}

/**
 * The plan, then how Kindling runs it, like `df.explain(True)` adds a physical plan: the pre-check
 * derived from the filter, the row steps of stage 1 (which filters Spark's optimizer pushes below
 * the watermark), and the stateful operator of stage 2 with its watermark rules.
 */
export function explainQuery(query: QueryPlan): string {
  const plan = checkStreaming(analyzePlan(query.root, { ansi: query.ansi }), query.outputMode);
  const terms = derivePrecheck(plan);
  let columns = plan.schema.fields.map((f) => f.name);
  const pre = plan.pre.map((s) => {
    const text = stepText(s, columns);
    if (s.kind === 'project') columns = s.columns.map((c) => c.name);
    return text;
  });
  const lines = [explainPlan(query.root), `== Execution (${query.name}, ${query.outputMode} mode${query.ansi ? '' : ', ANSI off'}) ==`];
  lines.push(`pre-check: ${terms.length === 0 ? 'none (every record is parsed)' : terms.map((g) => g.map((t) => `'${t}'`).join(' or ')).join(' and ')}`);
  const stage1 = [`FromJson`, ...pre];
  if (plan.dedup) stage1.push('route by the dropDuplicates key');
  else if (plan.aggregate) stage1.push('partial aggregate', 'route by the group key');
  lines.push(`stage 1 (one task per split): ${stage1.join(' -> ')}`);
  const stage2: string[] = [];
  if (plan.dedup) {
    stage2.push(plan.dedup.eventTimeOrdinal === null ? 'Deduplicate (keys kept forever, nothing late)' : 'Deduplicate (late: event time <= W(N-1); keys evicted at <= W(N))');
    if (plan.mid.length > 0) stage2.push(...plan.mid.map((s) => stepText(s, [])));
  }
  if (plan.aggregate) {
    const evicting = plan.aggregate.evictionKey !== null && query.outputMode !== 'complete';
    stage2.push(evicting ? 'drop late groups (window end <= W(N-1))' : 'no late drop', 'merge into state');
    stage2.push(
      query.outputMode === 'append' ? 'emit and evict windows ending <= W(N)'
        : query.outputMode === 'update' ? `emit updated groups${evicting ? '; evict windows ending <= W(N)' : ''}`
          : 'emit every group',
    );
    if (plan.post.length > 0) stage2.push(...plan.post.map((s) => (s.kind === 'filter' ? 'Filter (HAVING)' : stepText(s, []))));
    if (plan.sort) stage2.push('Sort (all partitions together)');
  }
  if (stage2.length > 0) lines.push(`stage 2 (one task per partitionId with state): ${stage2.join(' -> ')}`);
  return lines.join('\n');
}
