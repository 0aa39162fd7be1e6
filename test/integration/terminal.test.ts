// The terminal output of a real run: a live view redrawn in place on a pseudo-terminal, plain lines on a pipe, nothing with --quiet.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const MAIN = resolve('dist/src/main.js');
// Event time runs 40x faster than wall time, so windows close and the console sink prints tables during the run.
const RUN = ['--rate', '40000', '--event-rate', '1000', '--events', '120000', '--trigger', '200', '--cores', '2', '--crash-one-in', '5', '--users', '5', '--no-ui'];

const children: Array<{ kill(signal: NodeJS.Signals): boolean; exitCode: number | null }> = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Runs a command to its end (bounded) and returns its exit code and output. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/**
 * What a terminal shows after `raw`: a minimal VT100 that knows what the live view emits
 * (CR, LF, cursor up `CSI n A`, erase below `CSI J`) and ignores colours. Scrollback is kept.
 */
function screen(raw: string): string[] {
  // eslint-disable-next-line no-control-regex
  const text = raw.replace(/\x1b\[[0-9;]*m/g, '');
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\x1b') {
      // eslint-disable-next-line no-control-regex
      const m = /^\x1b\[(\d*)([A-Za-z])/.exec(text.slice(i, i + 12));
      if (!m) throw new Error(`unexpected escape at ${i}: ${JSON.stringify(text.slice(i, i + 12))}`);
      if (m[2] === 'A') row = Math.max(0, row - Number(m[1] || 1));
      else if (m[2] === 'J') {
        lines.length = row + 1;
        lines[row] = lines[row]!.slice(0, col);
      } else throw new Error(`escape the live view should not use: ${m[0]}`);
      i += m[0].length - 1;
    } else if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      col = 0;
      if (row === lines.length) lines.push('');
    } else {
      const line = lines[row]!.padEnd(col);
      lines[row] = line.slice(0, col) + ch + line.slice(col + 1);
      col++;
    }
  }
  return lines;
}

describe('terminal output', () => {
  it('on a pseudo-terminal: redraws the live view in place below whole console tables', async () => {
    const command = `stty cols 140 rows 40; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} ${RUN.join(' ')}`;
    const r = await run('script', ['-qfec', command, '/dev/null'], { TERM: 'xterm-256color', NO_COLOR: '' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const raw = r.stdout;
    expect(raw).toMatch(/\r\x1b\[\d+A\x1b\[J/); // redrawn in place: cursor up, erase below
    const lines = screen(raw);

    // The view is on screen exactly once, after every table, with the summary below it.
    const views = lines.flatMap((l, i) => (/^Kindling crash-alerts · batch \d+/.test(l) ? [i] : []));
    expect(views).toHaveLength(1);
    const view = views[0]!;
    expect(lines.slice(view, view + 12).join('\n')).toMatch(/rate +in [\d,]+ rows\/s · processed [\d,]+ rows\/s[\s\S]*worker 0 +[█░]+ +\d+% busy[\s\S]*worker 1 [\s\S]*memory +heap/);
    expect(lines.slice(view).join('\n')).toMatch(/Kindling finished \(end of input\)/);

    // Each table the console sink printed is intact: header, rules and rows on consecutive lines.
    const tables = lines.flatMap((l, i) => (/^Batch: \d+$/.test(l) ? [i] : []));
    expect(tables.length).toBeGreaterThanOrEqual(2);
    for (const t of tables) {
      expect(t).toBeLessThan(view);
      expect(lines[t - 1]).toMatch(/^-+$/);
      expect(lines[t + 1]).toMatch(/^-+$/);
      expect(lines[t + 2]).toMatch(/^\+-+\+-+\+-+\+$/);
      expect(lines[t + 3]).toMatch(/^\| +window\| +user_id\|crash_count\|$/);
      expect(lines[t + 4]).toMatch(/^\+-+\+-+\+-+\+$/);
      let k = t + 5;
      while (lines[k]!.startsWith('|{')) {
        // Spark's console sink: cells right-aligned, truncated to 20 characters.
        expect(lines[k]).toMatch(/^\|\{\d{4}-\d\d-\d\d \d\d:\d\d\.\.\.\| *user_\d+\| *\d+\|$/);
        k++;
      }
      expect(k).toBeGreaterThan(t + 5);
      expect(lines[k]).toMatch(/^\+-+\+-+\+-+\+$/);
    }
  });

  it('on a pipe: one plain line per batch, no escape codes', async () => {
    const r = await run(process.execPath, [MAIN, ...RUN, '--sink', 'none'], { TERM: 'xterm-256color' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('\x1b');
    const batches = r.stderr.split('\n').filter((l) => l.startsWith('batch '));
    expect(batches.length).toBeGreaterThanOrEqual(3);
    for (const line of batches) expect(line).toMatch(/^batch \d+( \(no-data\))?: [\d,]+ rows in [\d.]+ ms \([\d,]+ rows\/s\) \| watermark [\d:]+ \| state [\d,]+ \| late [\d,]+ \| rejected [\d,]+ \| out [\d,]+( \| no rows yet: .*)?$/);
    expect(r.stderr).toMatch(/events in 120,000/);
  });

  it('with --quiet: no progress at all, the rows and the final summary still print', async () => {
    const r = await run(process.execPath, [MAIN, ...RUN, '--quiet'], { TERM: 'xterm-256color' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/^batch \d+/m);
    expect(r.stderr).not.toContain('\x1b');
    expect(r.stderr).toMatch(/Kindling finished \(end of input\)/);
    expect(r.stdout).toMatch(/^Batch: \d+$/m);
  });
});
