// One typed flag table per command: it parses argv, rejects bad values naming the rule, and produces --help.
import { UsageError } from './errors.js';

/** A flag's value kind: integers and numbers are range-checked, enums against their choices. */
export type FlagKind = 'int' | 'number' | 'string' | 'bool' | 'enum' | 'list';

/** One command-line flag. */
export interface FlagSpec {
  readonly name: string;
  readonly kind: FlagKind;
  readonly group: string;
  readonly help: string;
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

/** Parsed flag values by name (without the leading dashes). */
export type FlagValues = Record<string, string | number | boolean | string[] | undefined>;

function parseValue(spec: FlagSpec, raw: string): string | number {
  const flag = `--${spec.name}`;
  switch (spec.kind) {
    case 'int': {
      const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
      const rule = `an integer${spec.min !== undefined ? ` >= ${spec.min}` : ''}${spec.max !== undefined ? ` and <= ${spec.max}` : ''}`;
      if (!Number.isSafeInteger(n) || (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw new UsageError(`${flag} must be ${rule}; got '${raw}'`);
      }
      return n;
    }
    case 'number': {
      const n = raw.trim() === '' ? Number.NaN : Number(raw);
      const rule = `a number${spec.min !== undefined ? ` >= ${spec.min}` : ''}${spec.max !== undefined ? ` and <= ${spec.max}` : ''}`;
      if (!Number.isFinite(n) || (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        throw new UsageError(`${flag} must be ${rule}; got '${raw}'`);
      }
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

/**
 * Parses `--name value`, `--name=value` and boolean `--name` flags. Unknown flags, missing values
 * and bad values throw a UsageError that names the flag, the rule and what was given.
 * Positional arguments are returned apart.
 */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[], env: NodeJS.ProcessEnv = {}): { values: FlagValues; positionals: string[]; given: Set<string> } {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values: FlagValues = {};
  const given = new Set<string>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) {
      const near = specs.find((s) => s.name.startsWith(name.slice(0, 4)) && name.length > 2);
      throw new UsageError(`unknown flag --${name}${near ? ` (did you mean --${near.name}?)` : ''}; see --help`);
    }
    if (spec.kind === 'bool') {
      if (eq !== -1) {
        const v = arg.slice(eq + 1);
        if (v !== 'true' && v !== 'false') throw new UsageError(`--${name} takes no value (or =true/=false); got '${v}'`);
        values[name] = v === 'true';
      } else values[name] = true;
      given.add(name);
      continue;
    }
    let raw: string | undefined;
    if (eq !== -1) raw = arg.slice(eq + 1);
    else {
      raw = argv[i + 1];
      if (raw === undefined || (raw.startsWith('--') && raw.length > 2)) throw new UsageError(`--${name} needs a value (${spec.valueName ?? spec.kind})`);
      i++;
    }
    const parsed = parseValue(spec, raw);
    if (spec.kind === 'list') {
      const prev = given.has(name) ? (values[name] as string[]) : [];
      values[name] = [...prev, String(parsed)];
    } else values[name] = parsed;
    given.add(name);
  }
  for (const spec of specs) {
    if (given.has(spec.name)) continue;
    const fromEnv = spec.env ? env[spec.env] : undefined;
    if (fromEnv !== undefined && fromEnv !== '') {
      values[spec.name] = spec.kind === 'list' ? [fromEnv] : spec.kind === 'bool' ? fromEnv === '1' || fromEnv === 'true' : parseValue(spec, fromEnv);
      given.add(spec.name);
    } else if (spec.default !== undefined) {
      values[spec.name] = Array.isArray(spec.default) ? [...(spec.default as string[])] : (spec.default as string | number | boolean);
    }
  }
  return { values, positionals, given };
}

/** Renders --help from the flag table, grouped, with defaults and rules. */
export function renderHelp(usage: string, intro: string, specs: readonly FlagSpec[]): string {
  const lines = [usage, '', intro];
  const groups = [...new Set(specs.map((s) => s.group))];
  for (const group of groups) {
    lines.push('', `${group}:`);
    for (const s of specs.filter((x) => x.group === group)) {
      const value = s.kind === 'bool' ? '' : ` ${s.valueName ?? (s.kind === 'enum' ? s.choices!.join('|') : s.kind === 'int' || s.kind === 'number' ? 'N' : 'VALUE')}`;
      const def = s.defaultText ?? (s.default === undefined || s.default === false ? undefined : Array.isArray(s.default) ? s.default.join(', ') : String(s.default));
      const extra = [def !== undefined ? `default: ${def}` : null, s.env ? `env ${s.env}` : null].filter(Boolean).join('; ');
      lines.push(`  --${s.name}${value}`);
      lines.push(`      ${s.help}${extra ? ` (${extra})` : ''}`);
    }
  }
  return lines.join('\n');
}
