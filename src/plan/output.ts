// Result rows for people and files, as Spark writes them: to_json of a row (the JSON sink) and the console sink's table.
import type { InputColumn } from './bound.js';
import { longText } from './cast.js';
import { jacksonString, javaDoubleToString } from './json-text.js';
import { timestampToJson, timestampToString } from './timestamp.js';
import type { DataType, Row, Value, WindowValue } from './types.js';

function jsonValue(v: Value, type: DataType): string {
  switch (type) {
    case 'string': return jacksonString(v as string);
    case 'long': case 'int': return longText(v as number);
    // Jackson quotes the non-finite doubles it writes.
    case 'double': return Number.isFinite(v as number) ? javaDoubleToString(v as number) : `"${javaDoubleToString(v as number)}"`;
    case 'boolean': return v ? 'true' : 'false';
    case 'timestamp': return `"${timestampToJson(v as number)}"`;
    case 'window': {
      const w = v as WindowValue;
      return `{"start":"${timestampToJson(w.startUs)}","end":"${timestampToJson(w.endUs)}"}`;
    }
    case 'null': return 'null';
  }
}

/**
 * Spark's `to_json(struct(*))` of a result row, as its JSON sink writes each line: keys are the
 * column names in order, a window is `{"start","end"}`, timestamps are ISO-8601 UTC with
 * milliseconds, doubles as Java prints them, and a null column is left out (Spark's default
 * spark.sql.jsonGenerator.ignoreNullFields=true).
 */
export function rowToJson(row: Row, columns: readonly InputColumn[]): string {
  let out = '{';
  for (let i = 0; i < columns.length; i++) {
    const v = row[i] ?? null;
    if (v === null) continue;
    if (out.length > 1) out += ',';
    out += jacksonString(columns[i]!.name) + ':' + jsonValue(v, columns[i]!.type);
  }
  return out + '}';
}

/** A cell as Spark's show() prints it: NULL, `{start, end}` for a window, timestamps and doubles as their string casts. */
export function cellText(v: Value, type: DataType): string {
  if (v === null) return 'NULL';
  switch (type) {
    case 'string': return v as string;
    case 'long': case 'int': return longText(v as number);
    case 'double': return javaDoubleToString(v as number);
    case 'boolean': return v ? 'true' : 'false';
    case 'timestamp': return timestampToString(v as number);
    case 'window': {
      const w = v as WindowValue;
      return `{${timestampToString(w.startUs)}, ${timestampToString(w.endUs)}}`;
    }
    case 'null': return 'NULL';
  }
}

const FULL_WIDTH = /[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE10-\uFE19\uFE30-\uFE6F\uFF00-\uFF60\uFFE0-\uFFE6]/g;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Spark's Utils.stringHalfWidth: UTF-16 length, East Asian full-width characters counted twice. */
export function halfWidth(s: string): number {
  return s.length + (s.match(FULL_WIDTH)?.length ?? 0);
}

/** show() options: how many rows, and the cell width beyond which a cell is cut (0: never; Spark's default 20). */
export interface ShowOptions {
  readonly numRows?: number;
  readonly truncate?: number;
}

/**
 * Spark's Dataset.showString: a `+---+` framed table; cells longer than `truncate` are cut to
 * `truncate - 3` characters and `...` (column names never); with truncation on, cells are
 * right-aligned, else left-aligned; a note when rows were left out.
 */
export function showString(rows: readonly Row[], columns: readonly InputColumn[], options: ShowOptions = {}): string {
  const numRows = options.numRows ?? 20;
  const truncate = options.truncate ?? 20;
  const shown = rows.slice(0, Math.max(0, numRows));
  // Spark cuts UTF-16 units, so a cut can split a surrogate pair; the JVM prints the half as '?'.
  const cut = (s: string): string =>
    truncate > 0 && s.length > truncate ? (truncate < 4 ? s.slice(0, truncate) : s.slice(0, truncate - 3) + '...').replace(LONE_SURROGATE, '?') : s;
  const cells = [columns.map((c) => c.name), ...shown.map((r) => columns.map((c, i) => cut(cellText(r[i] ?? null, c.type))))];
  const widths = columns.map((_, i) => Math.max(3, ...cells.map((line) => halfWidth(line[i]!))));
  const pad = (s: string, width: number): string => {
    const fill = ' '.repeat(Math.max(0, width - halfWidth(s)));
    return truncate > 0 ? fill + s : s + fill;
  };
  const rule = '+' + widths.map((w) => '-'.repeat(w)).join('+') + '+\n';
  let out = rule;
  cells.forEach((line, n) => {
    out += '|' + line.map((s, i) => pad(s, widths[i]!)).join('|') + '|\n';
    if (n === 0) out += rule;
  });
  out += rule;
  if (rows.length > numRows) out += `only showing top ${numRows} ${numRows === 1 ? 'row' : 'rows'}`;
  return out;
}

/** One batch as Spark's console sink prints it: the batch banner, then show(numRows, truncate). */
export function consoleBatch(batchId: number, rows: readonly Row[], columns: readonly InputColumn[], options: ShowOptions = {}): string {
  const banner = '-------------------------------------------\n';
  return `${banner}Batch: ${batchId}\n${banner}${showString(rows, columns, options)}\n`;
}
