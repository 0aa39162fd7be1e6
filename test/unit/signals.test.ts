// Which stop signals count as a second key press: the copy npm forwards must not force-quit a run, however late it comes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FORWARDED_COPY_MS, SAME_KEYPRESS_MS, parentIsNpm, signalPolicy, stopSignalCounter } from '../../src/signals.js';

function drive(underNpm: boolean, atMs: number[]): string[] {
  const calls: string[] = [];
  let now = 0;
  const handler = stopSignalCounter(signalPolicy(underNpm), () => calls.push(`first@${now}`), () => calls.push(`again@${now}`), () => now);
  for (const t of atMs) {
    now = t;
    handler('SIGINT');
  }
  return calls;
}

describe('stop signals', () => {
  it('outside npm: a copy within SAME_KEYPRESS_MS is ignored, a later signal is a second press', () => {
    expect(drive(false, [0, SAME_KEYPRESS_MS - 1])).toEqual(['first@0']);
    expect(drive(false, [0, SAME_KEYPRESS_MS])).toEqual(['first@0', `again@${SAME_KEYPRESS_MS}`]);
  });

  it('under npm: the forwarded copy is ignored even when it comes seconds late (a busy machine)', () => {
    expect(drive(true, [0, 3_000])).toEqual(['first@0']);
    expect(drive(true, [0, FORWARDED_COPY_MS])).toEqual(['first@0', `again@${FORWARDED_COPY_MS}`]);
  });

  it('under npm: a second key press (two more signals) quits at its first signal', () => {
    expect(drive(true, [0, 10, 2_000, 2_010])).toEqual(['first@0', 'again@2000', 'again@2010']);
  });

  it('knows an npm parent by its command line, and a plain node parent as not npm', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kindling-signals-'));
    const probe = `import(${JSON.stringify(pathToFileURL(resolve('dist/src/signals.js')).href)}).then((m) => console.log(m.parentIsNpm()))`;
    const parent = `const r = require('node:child_process').spawnSync(process.execPath, ['--input-type=module', '-e', ${JSON.stringify(probe)}], { encoding: 'utf8' }); process.stdout.write(r.stdout + r.stderr);`;
    for (const name of ['npm-cli.js', 'npx', 'runner.js']) writeFileSync(join(dir, name), parent);
    const ask = (name: string): string => execFileSync(process.execPath, [join(dir, name)], { encoding: 'utf8' }).trim();
    expect(ask('npm-cli.js')).toBe('true');
    expect(ask('npx')).toBe('true');
    expect(ask('runner.js')).toBe('false');
    rmSync(dir, { recursive: true, force: true });
  });
});
