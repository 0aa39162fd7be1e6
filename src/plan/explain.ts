// explain(): the plan as a tree of operators, root first, like Spark's df.explain().
import { exprName, type Expr } from './expr.js';
import type { PlanNode } from './plan.js';
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
