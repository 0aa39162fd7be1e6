// `kindling ... | head`: when stdout's reader goes away the run stops with a message and the SIGPIPE status, never an unhandled EPIPE.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STDOUT_CLOSED_EXIT } from '../../src/stdout-closed.js';

const MAIN = resolve('dist/src/main.js');

describe('stdout closed by its reader', () => {
  it('the console sink stops the run with a message and exit 141 once `head` has what it wanted', async () => {
    // vulnerability-by-ip (complete mode) prints its whole result table every batch, so writes keep coming.
    const child = spawn(process.execPath, [MAIN, '--query', 'vulnerability-by-ip', '--events', '5000000', '--rate', '0', '--no-ui', '--cores', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let firstChunk = '';
    child.stdout.once('data', (d: Buffer) => {
      firstChunk = d.toString();
      child.stdout.destroy();
    });
    const code = await new Promise<number | null>((ok) => child.on('close', (c) => ok(c)));
    expect(firstChunk).toContain('Batch: 0');
    expect(stderr).toContain('stdout was closed by its reader');
    expect(stderr).not.toMatch(/Unhandled|internal error/);
    expect(code).toBe(STDOUT_CLOSED_EXIT);
  }, 60_000);
});
