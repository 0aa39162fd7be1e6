// The flag table: values typed from the table itself, repeated flags refused unless repeatable, -h/--help/--version, and --help rendered from the same table.
import { describe, expect, it } from 'vitest';
import { parseFlags, renderHelp, STANDARD_FLAGS, standardAnswer, type FlagSpec } from '../../src/cli.js';
import { RUN_FLAGS } from '../../src/config.js';
import { parseBrokerArgs } from '../../src/kafka/broker-cli.js';
import { UsageError } from '../../src/errors.js';
import type { OutputMode } from '../../src/plan/plan.js';

const TABLE = [
  { name: 'cores', kind: 'int', group: 'G', min: 1, help: 'threads' },
  { name: 'rate', kind: 'number', group: 'G', default: 5, help: 'events/s' },
  { name: 'mode', kind: 'enum', group: 'G', choices: ['a', 'b'], default: 'a', help: 'mode' },
  { name: 'path', kind: 'string', group: 'G', env: 'T_PATH', help: 'where' },
  { name: 'sink', kind: 'string', group: 'G', repeatable: true, default: ['console'], help: 'where rows go' },
  { name: 'tag', kind: 'string', group: 'G', repeatable: true, help: 'labels' },
  { name: 'drain', kind: 'bool', group: 'G', help: 'flush' },
  ...STANDARD_FLAGS,
] as const satisfies readonly FlagSpec[];

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseFlags(argv, TABLE, env);

describe('parsed flag values are typed from the table', () => {
  it('gives each flag the type its spec says, and a misspelled name does not compile', () => {
    const { values, given } = parse(['--cores', '2', '--mode', 'b']);
    const cores: number | undefined = values['cores'];
    const rate: number = values['rate'];
    const mode: 'a' | 'b' = values['mode'];
    const sinks: string[] = values['sink'];
    const drain: boolean = values['drain'];
    // @ts-expect-error: --cores has no default, so it may be undefined (tsc -p tsconfig.test.json checks this line)
    const coresNotOptional: number = values['cores'];
    // @ts-expect-error: no flag is called --corse
    const misspelled: unknown = values['corse'];
    // @ts-expect-error: given holds only the table's names
    const givenMisspelled = given.has('corse');
    expect({ cores, rate, mode, sinks, drain, coresNotOptional, misspelled, givenMisspelled }).toEqual({
      cores: 2, rate: 5, mode: 'b', sinks: ['console'], drain: false, coresNotOptional: 2, misspelled: undefined, givenMisspelled: false,
    });
  });

  it('types the run table too: --output-mode is an OutputMode, --source one of its choices', () => {
    const { values } = parseFlags(['--output-mode', 'update', '--source', 'file'], RUN_FLAGS);
    const mode: OutputMode | undefined = values['output-mode'];
    const source: 'generator' | 'file' | 'kafka' = values['source'];
    // @ts-expect-error: --sources is not a run flag
    const wrong: unknown = values['sources'];
    expect([mode, source, wrong]).toEqual(['update', 'file', undefined]);
  });
});

describe('parseFlags', () => {
  it.each([
    { argv: [], expected: { cores: undefined, rate: 5, mode: 'a', path: undefined, sink: ['console'], tag: [], drain: false } },
    { argv: ['--cores=3', '--rate', '2.5', '--drain'], expected: { cores: 3, rate: 2.5, drain: true } },
    { argv: ['--sink', 'none', '--sink', 'jsonl:out'], expected: { sink: ['none', 'jsonl:out'] } },
    { argv: ['--tag', 'x'], expected: { tag: ['x'] } },
    { argv: ['--drain=false'], expected: { drain: false } },
  ])('parses $argv', ({ argv, expected }) => {
    expect(parse(argv).values).toMatchObject(expected);
  });

  it('fills a flag from its environment variable and counts it as given', () => {
    const { values, given } = parse([], { T_PATH: '/data' });
    expect(values['path']).toBe('/data');
    expect(given.has('path')).toBe(true);
    expect(given.has('rate')).toBe(false);
  });

  it.each([
    { argv: ['--cores', '2', '--cores', '3'], message: "--cores given twice: '2' and '3'; give it once" },
    { argv: ['--cores=2', '--cores', '2'], message: "--cores given twice: '2' and '2'; give it once" },
    { argv: ['--path', 'a', '--path=b'], message: "--path given twice: 'a' and 'b'; give it once" },
    { argv: ['--drain', '--drain'], message: '--drain given twice' },
    { argv: ['--drain', '--drain=false'], message: "--drain given twice: 'true' and 'false'; give it once" },
    { argv: ['-x'], message: 'unknown flag -x; see --help' },
    { argv: ['--rat', '2'], message: 'unknown flag --rat (did you mean --rate?); see --help' },
    { argv: ['--bogus'], message: 'unknown flag --bogus; see --help' },
    { argv: ['--corse', '2'], message: 'unknown flag --corse (did you mean --cores?); see --help' },
    { argv: ['--cores', '0'], message: "--cores must be an integer >= 1; got '0'" },
    { argv: ['--mode', 'c'], message: "--mode must be one of a, b; got 'c'" },
    { argv: ['--cores'], message: '--cores needs a value (int)' },
  ])('refuses $argv: "$message"', ({ argv, message }) => {
    expect(() => parse(argv)).toThrow(UsageError);
    expect(() => parse(argv)).toThrow(message);
  });

  it('keeps arguments that are not flags as positionals, and a flag value that looks like one', () => {
    const { values, positionals } = parse(['dir', '--path', '-', 'more']);
    expect(positionals).toEqual(['dir', 'more']);
    expect(values['path']).toBe('-');
  });
});

describe('--help, -h and --version', () => {
  it.each([
    { argv: ['-h'], answer: 'help' },
    { argv: ['--help'], answer: 'help' },
    { argv: ['--version'], answer: 'version' },
    { argv: ['--version', '-h'], answer: 'help' },
    { argv: ['--cores', '2'], answer: null },
  ])('$argv asks for $answer', ({ argv, answer }) => {
    expect(standardAnswer(parse(argv).values)).toBe(answer);
  });

  it('renders every flag, the short alias, which flags repeat, and defaults', () => {
    const help = renderHelp('Usage: t', 'intro', TABLE);
    for (const spec of TABLE) expect(help).toContain(`--${spec.name}`);
    expect(help).toContain('-h, --help');
    expect(help).toMatch(/--sink VALUE\n {6}where rows go \(repeatable; default: console\)/);
    expect(help).toMatch(/--tag VALUE\n {6}labels \(repeatable\)/);
    expect(help).toMatch(/--path VALUE\n {6}where \(env T_PATH\)/);
  });
});

describe('npm run kafka flags (the same table machinery)', () => {
  it.each([
    { argv: [], expected: { port: 9092, dataDir: '/w/.kindling/kafka-data', answer: null } },
    { argv: ['--port', '9093', '--data-dir', 'k'], expected: { port: 9093, dataDir: '/w/k', answer: null } },
    { argv: ['-h'], expected: { answer: 'help' } },
    { argv: ['--version'], expected: { answer: 'version' } },
  ])('parses $argv', ({ argv, expected }) => {
    expect(parseBrokerArgs(argv, '/w')).toMatchObject(expected);
  });

  it.each([
    { argv: ['--port', '0'], message: "--port must be an integer >= 1 and <= 65535; got '0'" },
    { argv: ['--port', '1', '--port', '2'], message: "--port given twice: '1' and '2'" },
    { argv: ['extra'], message: "unexpected argument 'extra'" },
  ])('refuses $argv: "$message"', ({ argv, message }) => {
    expect(() => parseBrokerArgs(argv, '/w')).toThrow(message);
  });
});
