// One typed flag table per command: it parses argv, rejects bad values naming the rule, types the values it returns, and produces --help.
import { UsageError } from './errors.js';
import { kindlingVersion } from './project.js';

/** A flag's value kind: integers and numbers are range-checked, enums against their choices. */
export type FlagKind = 'int' | 'number' | 'string' | 'bool' | 'enum';

/**
 * One command-line flag. Tables are declared `as const satisfies readonly FlagSpec[]`, so each
 * flag's name, kind, choices and default stay literal types and {@link FlagValues} can type the
 * parsed values from the table itself.
 */
export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  readonly group: string;
  readonly help: string;
  /** A one-letter alias, given as `-x` (only `-h` for --help so far). */
  readonly short?: string;
  /** Given more than once, its values add up to a list; any other flag given twice is a usage error. */
  readonly repeatable?: boolean;
  /** Shown in --help and used when the flag is absent (undefined: no default). */
  readonly default?: string | number | boolean | readonly string[];
  /** Overrides how the default is shown (e.g. "physical cores"). */
  readonly defaultText?: string;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
  readonly valueName?: string;
  /** Environment variable read when the flag is absent. */
  readonly env?: string;
}

/** The value one occurrence of a flag gives. */
type OneValue<S extends FlagSpec> = S extends { readonly kind: 'int' | 'number' }
  ? number
  : S extends { readonly kind: 'bool' }
    ? boolean
    : S extends { readonly kind: 'enum'; readonly choices: readonly (infer C extends string)[] }
      ? C
      : string;

/**
 * A flag's parsed value: a list for a repeatable flag, a boolean for a switch (false when absent),
 * and `| undefined` for any other flag without a default.
 */
export type FlagValue<S extends FlagSpec> = S extends { readonly repeatable: true }
  ? OneValue<S>[]
  : S extends { readonly kind: 'bool' }
    ? boolean
    : S extends { readonly default: string | number | boolean }
      ? OneValue<S>
      : OneValue<S> | undefined;

/** The names of a table's flags (without the leading dashes). */
export type FlagName<Specs extends readonly FlagSpec[]> = Specs[number]['name'];

/** Parsed flag values by name: `values['cores']` has the type its spec gives; a name not in the table does not compile. */
export type FlagValues<Specs extends readonly FlagSpec[]> = { readonly [S in Specs[number] as S['name']]: FlagValue<S> };

/** What {@link parseFlags} returns. */
export interface ParsedFlags<Specs extends readonly FlagSpec[]> {
  readonly values: FlagValues<Specs>;
  readonly positionals: string[];
  /** Flags given on the command line or through their environment variable (defaults are not "given"). */
  readonly given: Set<FlagName<Specs>>;
}

/** --help and --version, which every command takes; put them at the end of a table. */
export const STANDARD_FLAGS = [
  { name: 'help', short: 'h', kind: 'bool', group: 'General', help: 'show this help and exit' },
  { name: 'version', kind: 'bool', group: 'General', help: "print Kindling's version and exit" },
] as const satisfies readonly FlagSpec[];

/** The same flag shown under another group or with other help text; its name, kind and rules (and so its type) stay. */
export function restyle<S extends FlagSpec>(spec: S, display: { readonly group?: string; readonly help?: string }): S {
  return { ...spec, ...display };
}

/** The flag called `name` in a table, with its literal type. */
export function flagNamed<Specs extends readonly FlagSpec[], N extends FlagName<Specs>>(specs: Specs, name: N): Extract<Specs[number], { readonly name: N }> {
  const spec = specs.find((s) => s.name === name);
  if (!spec) throw new Error(`no flag --${name} in the table`);
  return spec as Extract<Specs[number], { readonly name: N }>;
}

/** The rule an int/number flag's value must follow, as the error message states it. */
function rangeRule(spec: FlagSpec, noun: string): string {
  return `${noun}${spec.min !== undefined ? ` >= ${spec.min}` : ''}${spec.max !== undefined ? ` and <= ${spec.max}` : ''}`;
}

function parseValue(spec: FlagSpec, raw: string): string | number {
  const flag = `--${spec.name}`;
  const outOfRange = (n: number): boolean => (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max);
  switch (spec.kind) {
    case 'int': {
      const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
      if (!Number.isSafeInteger(n) || outOfRange(n)) throw new UsageError(`${flag} must be ${rangeRule(spec, 'an integer')}; got '${raw}'`);
      return n;
    }
    case 'number': {
      const n = raw.trim() === '' ? Number.NaN : Number(raw);
      if (!Number.isFinite(n) || outOfRange(n)) throw new UsageError(`${flag} must be ${rangeRule(spec, 'a number')}; got '${raw}'`);
      return n;
    }
    case 'enum':
      if (!spec.choices!.includes(raw)) throw new UsageError(`${flag} must be one of ${spec.choices!.join(', ')}; got '${raw}'`);
      return raw;
    default:
      if (raw === '') throw new UsageError(`${flag} needs a value; got ''`);
      return raw;
  }
}

/** Edit distance (insertions, deletions, substitutions) between two short strings. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** The flag a mistyped name most likely meant: two edits away at most, or one it starts (a cut-off name). */
function nearestName(name: string, specs: readonly FlagSpec[]): string | undefined {
  if (name.length < 3) return undefined;
  let best: { name: string; distance: number } | undefined;
  for (const s of specs) {
    const distance = s.name.startsWith(name) ? 1 : editDistance(name, s.name);
    if (distance <= 2 && (!best || distance < best.distance)) best = { name: s.name, distance };
  }
  return best?.name;
}

/** The value a flag has when it is not given: its default, false for a switch, [] for a repeatable flag. */
function absentValue(spec: FlagSpec): FlagSpec['default'] | undefined {
  if (spec.default !== undefined) return Array.isArray(spec.default) ? [...(spec.default as readonly string[])] : spec.default;
  if (spec.kind === 'bool') return false;
  return spec.repeatable ? [] : undefined;
}

/**
 * Parses `--name value`, `--name=value`, boolean `--name` and short `-x` flags. Unknown flags,
 * missing values, bad values and a non-repeatable flag given twice throw a UsageError that names
 * the flag, the rule and what was given. Positional arguments are returned apart.
 */
export function parseFlags<const Specs extends readonly FlagSpec[]>(argv: readonly string[], specs: Specs, env: NodeJS.ProcessEnv = {}): ParsedFlags<Specs> {
  const byName = new Map<string, FlagSpec>(specs.map((s) => [s.name, s]));
  const byShort = new Map<string, FlagSpec>(specs.filter((s) => s.short !== undefined).map((s) => [s.short!, s]));
  const values: Record<string, unknown> = {};
  const rawGiven = new Map<string, string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    if (/^-[A-Za-z]$/.test(arg)) {
      spec = byShort.get(arg.slice(1));
      if (!spec) throw new UsageError(`unknown flag ${arg}; see --help`);
    } else if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq === -1 ? undefined : eq);
      if (eq !== -1) inline = arg.slice(eq + 1);
      spec = byName.get(name);
      if (!spec) {
        const near = nearestName(name, specs);
        throw new UsageError(`unknown flag --${name}${near ? ` (did you mean --${near}?)` : ''}; see --help`);
      }
    } else {
      positionals.push(arg);
      continue;
    }
    const flag = `--${spec.name}`;
    let raw: string;
    if (spec.kind === 'bool') {
      if (inline !== undefined && inline !== 'true' && inline !== 'false') throw new UsageError(`${flag} takes no value (or =true/=false); got '${inline}'`);
      raw = inline ?? 'true';
    } else if (inline !== undefined) raw = inline;
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw new UsageError(`${flag} needs a value (${spec.valueName ?? spec.kind})`);
      raw = next;
      i++;
    }
    const before = rawGiven.get(spec.name);
    if (before !== undefined && !spec.repeatable) {
      throw new UsageError(spec.kind === 'bool' && before === raw ? `${flag} given twice` : `${flag} given twice: '${before}' and '${raw}'; give it once`);
    }
    rawGiven.set(spec.name, raw);
    const parsed = spec.kind === 'bool' ? raw === 'true' : parseValue(spec, raw);
    values[spec.name] = spec.repeatable ? [...((before !== undefined ? values[spec.name] : []) as unknown[]), parsed] : parsed;
  }
  const given = new Set<string>(rawGiven.keys());
  for (const spec of specs) {
    if (given.has(spec.name)) continue;
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') {
      const parsed = spec.kind === 'bool' ? fromEnv === '1' || fromEnv === 'true' : parseValue(spec, fromEnv);
      values[spec.name] = spec.repeatable ? [parsed] : parsed;
      given.add(spec.name);
    } else values[spec.name] = absentValue(spec);
  }
  return { values: values as FlagValues<Specs>, positionals, given: given as Set<FlagName<Specs>> };
}

/** What a command answers instead of doing its work: --help (it wins when both are given) or --version. */
export type StandardAnswer = 'help' | 'version';

/** The answer asked for by --help or --version, if any. */
export function standardAnswer(values: { readonly help: boolean; readonly version: boolean }): StandardAnswer | null {
  return values.help ? 'help' : values.version ? 'version' : null;
}

/** The text printed (on stdout, exit code 0) for --help or --version. */
export function answerText(answer: StandardAnswer, help: () => string): string {
  return (answer === 'help' ? help() : `kindling ${kindlingVersion()}`) + '\n';
}

/** Renders --help from the flag table, grouped, with defaults, rules and which flags repeat. */
export function renderHelp(usage: string, intro: string, specs: readonly FlagSpec[]): string {
  const lines = [usage, '', intro];
  const groups = [...new Set(specs.map((s) => s.group))];
  for (const group of groups) {
    lines.push('', `${group}:`);
    for (const s of specs.filter((x) => x.group === group)) {
      const value = s.kind === 'bool' ? '' : ` ${s.valueName ?? (s.kind === 'enum' ? s.choices!.join('|') : s.kind === 'int' || s.kind === 'number' ? 'N' : 'VALUE')}`;
      const def = s.defaultText ?? (s.default === undefined || s.default === false ? undefined : Array.isArray(s.default) ? s.default.join(', ') : String(s.default));
      const extra = [s.repeatable ? 'repeatable' : null, def !== undefined ? `default: ${def}` : null, s.env ? `env ${s.env}` : null].filter(Boolean).join('; ');
      lines.push(`  ${s.short ? `-${s.short}, ` : ''}--${s.name}${value}`);
      lines.push(`      ${s.help}${extra ? ` (${extra})` : ''}`);
    }
  }
  return lines.join('\n');
}
