// The byte pre-check derived from a plan's filter: terms a record's raw text must contain for the filter to possibly keep it.
import type { Bound } from './bound.js';
import type { AnalyzedPlan } from './plan.js';

/**
 * Terms in conjunctive form: the record may pass only if, for every group, its raw text contains
 * at least one of the group's terms (lower-case, compared ignoring ASCII case). Empty: no pre-check.
 */
export type PrecheckTerms = readonly (readonly string[])[];

/**
 * A term is only sound if from_json cannot produce it from text that does not contain it: a string
 * column given a number becomes Jackson's text (`1e7` → `1.0E7`, `1e400` → `"Infinity"`), so
 * digits, punctuation, a lone `e` and pieces of `infinity`/`nan` are never used as terms.
 */
function usableTerm(term: string): string | null {
  const t = term.toLowerCase();
  if (!/^[a-z _]+$/.test(t) || t.trim() === '' || t === 'e' || 'infinity'.includes(t) || 'nan'.includes(t)) return null;
  return t;
}

/** The longest run of plain characters in a LIKE pattern (between % and _ wildcards); escaped runs are skipped. */
function likeTerm(pattern: string): string | null {
  let best = '';
  for (const run of pattern.split(/[%_]/)) if (!run.includes('\\') && run.length > best.length) best = run;
  return best === '' ? null : best;
}

/** The source column behind `e` when it is that column, lower(that column) or upper(that column). */
function sourceColumn(e: Bound, sources: ReadonlyArray<string | null>): string | null {
  if (e.kind === 'column') return sources[e.ordinal] ?? null;
  if (e.kind === 'call' && (e.name === 'lower' || e.name === 'upper') && e.args.length === 1 && e.args[0]!.kind === 'column') {
    return sources[e.args[0]!.ordinal] ?? null;
  }
  return null;
}

/** The terms one conjunct implies (any of them must appear), or null when it implies none. */
function termsOf(c: Bound, sources: ReadonlyArray<string | null>): string[] | null {
  if (c.kind === 'or') {
    const a = termsOf(c.args[0], sources);
    const b = termsOf(c.args[1], sources);
    return a && b ? [...a, ...b] : null;
  }
  if (c.kind === 'and') {
    // Inside an OR a conjunction still needs its first term.
    return termsOf(c.args[0], sources) ?? termsOf(c.args[1], sources);
  }
  if (c.kind !== 'call' || c.args.length !== 2) return null;
  const [subject, lit] = c.args as [Bound, Bound];
  if (lit.kind !== 'literal' || typeof lit.value !== 'string' || sourceColumn(subject, sources) === null) return null;
  let term: string | null;
  switch (c.name) {
    case 'contains': case 'startswith': case 'endswith': case '==': term = lit.value; break;
    case 'like': term = likeTerm(lit.value); break;
    default: return null;
  }
  const usable = term === null ? null : usableTerm(term);
  return usable ? [usable] : null;
}

function conjuncts(c: Bound): Bound[] {
  return c.kind === 'and' ? [...conjuncts(c.args[0]), ...conjuncts(c.args[1])] : [c];
}

/**
 * Derives the pre-check from the filters that run before the watermark sees a row (written before
 * withWatermark, or pushed below it): a record they drop has no effect, so it need not be parsed.
 * Only conjuncts on string columns read straight from the record count (through projects that
 * pass the column on): `lower(c).contains('lit')`, `c LIKE '%lit%'`, `c = 'lit'`, startswith,
 * endswith, and ORs of them. A plan without such a conjunct parses every record.
 */
export function derivePrecheck(plan: AnalyzedPlan): PrecheckTerms {
  let sources: Array<string | null> = plan.schema.fields.map((f) => (f.type === 'string' ? f.name : null));
  const groups: string[][] = [];
  let watermarkSeen = false;
  for (const step of plan.pre) {
    if (step.kind === 'watermark') watermarkSeen = true;
    else if (step.kind === 'project') sources = step.exprs.map((e) => (e.kind === 'column' ? (sources[e.ordinal] ?? null) : null));
    else if (!watermarkSeen || step.pushedBelowWatermark) {
      for (const c of conjuncts(step.condition)) {
        const terms = termsOf(c, sources);
        if (terms) groups.push([...new Set(terms)]);
      }
    }
  }
  return groups;
}

/** Characters that make the raw text unsafe to judge: an escape, or any non-ASCII character (lower/upper may map it to ASCII). */
const MUST_PARSE = /[\\\u0080-\uffff]/;

/** True when the record must be parsed: no terms, an escape or non-ASCII character, or every group has a term in the text. */
export function precheckAccepts(text: string, terms: PrecheckTerms): boolean {
  if (terms.length === 0 || MUST_PARSE.test(text)) return true;
  const lower = text.toLowerCase();
  for (const group of terms) {
    let found = false;
    for (const term of group) {
      if (lower.includes(term)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}
