// Prints a translated plan as a tree (like Spark's parsed logical plan in df.explain(True)), for --explain, AnalyzePlan explain and the server log.
import type { ConnectExpr, ConnectRelation, LiteralValue, StreamingWrite } from './logical.js';
import { simpleString } from './sql-types.js';

const INFIX: Readonly<Record<string, string>> = {
  '==': '=', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=', '<=>': '<=>',
  and: 'AND', or: 'OR', '+': '+', '-': '-', '*': '*', '/': '/', '%': '%', like: 'LIKE',
};

function literalSql(l: LiteralValue): string {
  switch (l.type) {
    case 'null': return 'NULL';
    case 'string': return `'${l.value.replace(/'/g, "\\'")}'`;
    case 'boolean': return l.value ? 'true' : 'false';
    case 'timestamp': return `TIMESTAMP_MICROS ${l.valueMicros}`;
    case 'date': return `DATE_DAYS ${l.valueDays}`;
    case 'bigint': return `${l.value}L`;
    default: return String(l.value);
  }
}

/** An expression in Spark's SQL-like notation: `(crash_count > 2)`, `count(1) AS crash_count`. */
export function exprSql(e: ConnectExpr): string {
  switch (e.kind) {
    case 'column': return e.name;
    case 'literal': return literalSql(e.literal);
    case 'star': return e.target ?? '*';
    case 'sql': return `expr(${JSON.stringify(e.text)})`;
    case 'alias': return `${exprSql(e.expr)} AS ${e.name}`;
    case 'field': return `${exprSql(e.expr)}.${e.field}`;
    case 'cast': return `${e.mode === 'try' ? 'TRY_CAST' : 'CAST'}(${exprSql(e.expr)} AS ${simpleString(e.to).toUpperCase()})`;
    case 'function': {
      const name = e.name.toLowerCase();
      const [a, b] = e.args;
      if (INFIX[name] && e.args.length === 2) return `(${exprSql(a!)} ${INFIX[name]} ${exprSql(b!)})`;
      if (name === 'not' && a) return `(NOT ${exprSql(a)})`;
      if (name === 'in' && a) return `(${exprSql(a)} IN (${e.args.slice(1).map(exprSql).join(', ')}))`;
      return `${e.name}(${e.distinct ? 'DISTINCT ' : ''}${e.args.map(exprSql).join(', ')})`;
    }
  }
}

function nodeLine(r: ConnectRelation): string {
  switch (r.kind) {
    case 'read': {
      const options = Object.entries(r.options).map(([k, v]) => `${k}=${v}`);
      const paths = r.paths.length > 0 ? ` ${r.paths.join(', ')}` : '';
      const schema = r.schema ? ` schema ${simpleString(r.schema)}` : '';
      return `Read ${r.format}${r.streaming ? ' (streaming)' : ''}${paths}${options.length > 0 ? ` [${options.join(', ')}]` : ''}${schema}`;
    }
    case 'project': return `Project [${r.expressions.map(exprSql).join(', ')}]`;
    case 'filter': return `Filter ${exprSql(r.condition)}`;
    case 'withColumns': return `WithColumns [${r.columns.map((c) => `${exprSql(c.expr)} AS ${c.name}`).join(', ')}]`;
    case 'withWatermark': return `WithWatermark ${r.eventTime}, ${r.delay}`;
    case 'aggregate': return `Aggregate [${r.groupBy.map(exprSql).join(', ')}], [${r.aggregates.map(exprSql).join(', ')}]`;
    case 'deduplicate': return `Deduplicate ${r.columns === 'all' ? '(all columns)' : `[${r.columns.join(', ')}]`}`;
    case 'sort': return `Sort [${r.order.map((k) => `${exprSql(k.expr)} ${k.descending ? 'DESC' : 'ASC'} NULLS ${k.nullsFirst ? 'FIRST' : 'LAST'}`).join(', ')}]`;
    case 'toDF': return `ToDF [${r.names.join(', ')}]`;
    case 'alias': return `SubqueryAlias ${r.alias}`;
  }
}

/** The relation tree, root first, children indented under `+- `. */
export function explainRelation(root: ConnectRelation): string {
  const lines: string[] = [];
  let node: ConnectRelation | undefined = root;
  for (let depth = 0; node; depth++) {
    lines.push(depth === 0 ? nodeLine(node) : `${'   '.repeat(depth - 1)}+- ${nodeLine(node)}`);
    node = node.kind === 'read' ? undefined : node.input;
  }
  return lines.join('\n');
}

/** What writeStream...start() would run: the sink line over the relation tree. */
export function explainWrite(w: StreamingWrite): string {
  const trigger = w.trigger.kind === 'processingTime' ? `processingTime ${w.trigger.interval}` : w.trigger.kind;
  const options = Object.entries(w.options).map(([k, v]) => `${k}=${v}`);
  const head = `WriteStream ${w.format || '(default format)'} outputMode=${w.outputMode || 'append'} trigger=${trigger}${w.queryName ? ` name=${w.queryName}` : ''}${w.path ? ` path=${w.path}` : ''}${options.length > 0 ? ` [${options.join(', ')}]` : ''}`;
  return `${head}\n${explainRelation(w.input).split('\n').map((line, i) => (i === 0 ? `+- ${line}` : `   ${line}`)).join('\n')}`;
}
