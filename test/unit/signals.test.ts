// Which stop signals count as a second key press: the copy npm forwards must not force-quit a run, however late it comes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FORWARDED_COPY_MS, SAME_KEYPRESS_MS, isNpmCommandLine, parentIsNpm, signalPolicy, stopSignalCounter } from '../../src/signals.js';

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
    // npm sets process.title, which rewrites its cmdline to one title: the form a real `npm start` parent has.
    writeFileSync(join(dir, 'titled.js'), `process.title = 'npm start --rate 2000 --cores 1'; ${parent}`);
    expect(ask('titled.js')).toBe('true');
    writeFileSync(join(dir, 'titled-other.js'), `process.title = 'vitest run --reporter npm'; ${parent}`);
    expect(ask('titled-other.js')).toBe('false');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads npm and npx from a command line as started or as titled, and nothing else', () => {
    expect(isNpmCommandLine('node\0/usr/lib/node_modules/npm/bin/npm-cli.js\0start\0')).toBe(true);
    expect(isNpmCommandLine('npm start --rate 2000 --cores 1\0\0\0')).toBe(true);
    expect(isNpmCommandLine('npm exec kindling\0\0')).toBe(true);
    expect(isNpmCommandLine('npx\0kindling\0')).toBe(true);
    expect(isNpmCommandLine('node\0dist/src/main.js\0--cores\0npm\0')).toBe(false);
    expect(isNpmCommandLine('/bin/sh\0-c\0npm start\0')).toBe(false);
  });
});
