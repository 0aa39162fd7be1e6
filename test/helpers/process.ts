// Test helper: runs a Node script as a child process to completion, bounded by a timeout, and keeps its output.
import { spawn } from 'node:child_process';

/** What a finished child process left: exit code (null if killed) and its output. */
export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node script ...args`; SIGKILLs it after `timeoutMs` so a hung run fails the test instead of stalling it. */
export function runNodeScript(script: string, args: readonly string[], timeoutMs: number): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}
