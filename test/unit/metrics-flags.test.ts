// The observability flags: defaults, --ui-port 0, --no-ui, --progress-json, and contradictions reported.
import { describe, expect, it } from 'vitest';
import { parseRunArgs } from '../../src/config.js';
import { UsageError } from '../../src/errors.js';
import { chooseTerminalMode } from '../../src/metrics/observe.js';

const base = ['--cores', '1', '--no-ui'];
const parse = async (args: string[]) => (await parseRunArgs(['--cores', '1', ...args], {})).config!;

describe('observability flags', () => {
  it.each([
    [[], { ui: { host: '127.0.0.1', port: 4040, explicitPort: false }, progressJson: null, quiet: false }],
    [['--ui-port', '0'], { ui: { host: '127.0.0.1', port: 0, explicitPort: true } }],
    [['--ui-port', '8080', '--ui-host', '0.0.0.0'], { ui: { host: '0.0.0.0', port: 8080, explicitPort: true } }],
    [['--no-ui'], { ui: null }],
    [['--progress-json', '-', '--quiet'], { progressJson: '-', quiet: true }],
    [['--progress-json', 'out/progress.jsonl'], { progressJson: 'out/progress.jsonl' }],
  ])('%j gives %j', async (args, expected) => {
    expect(await parse(args)).toMatchObject(expected);
  });

  it.each([
    [['--no-ui', '--ui-port', '4041'], /--ui-port sets up the web UI, which --no-ui turns off/],
    [['--ui-port', '70000'], /--ui-port must be an integer >= 0 and <= 65535; got '70000'/],
    [['--progress-json'], /--progress-json needs a value/],
  ])('%j is a usage error', async (args, message) => {
    await expect(parse(args)).rejects.toThrow(UsageError);
    await expect(parse(args)).rejects.toThrow(message);
  });

  it('parses with the UI off when asked', async () => {
    expect((await parseRunArgs(base, {})).config!.ui).toBeNull();
  });
});

describe('chooseTerminalMode', () => {
  it.each([
    [false, true, 'xterm-256color', false, 'live'],
    [false, true, 'dumb', false, 'plain'],
    [false, true, 'xterm', true, 'plain'],
    [false, false, 'xterm', false, 'plain'],
    [true, true, 'xterm', false, 'none'],
    [true, false, 'xterm', false, 'none'],
  ] as const)('quiet=%s, stderr tty=%s, TERM=%s, stdout a pipe=%s: %s', (quiet, isTTY, term, pipe, mode) => {
    expect(chooseTerminalMode(quiet, { isTTY }, { TERM: term }, pipe)).toBe(mode);
  });
});
