// Test helper: runs a child process (a Node script, or any command) to completion, bounded by a timeout, and keeps its output.
import { spawn } from 'node:child_process';

/** What a finished child process left: exit code (null if killed) and its output. */
export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** How to run a command: its time limit, extra environment variables, and what to write to its stdin. */
export interface RunOptions {
  readonly timeoutMs: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
}

/** Runs `command ...args`; SIGKILLs it after `timeoutMs` so a hung run fails the test instead of stalling it. */
export function runProcess(command: string, args: readonly string[], options: RunOptions): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `node script ...args`, bounded by `timeoutMs`. */
export function runNodeScript(script: string, args: readonly string[], timeoutMs: number): Promise<ProcessResult> {
  return runProcess(process.execPath, [script, ...args], { timeoutMs });
}
