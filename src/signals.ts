// Ctrl-C and SIGTERM handling shared by the long-running commands: a first signal stops cleanly, a real second one quits.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * Signals this close to the first one are the same key press delivered twice: npm and npx forward
 * the terminal's SIGINT to their child, which, when it is npm's direct child (`exec` in the npm
 * script, or a /bin/sh that execs a lone command), already got it from the terminal itself.
 */
export const SAME_KEYPRESS_MS = 500;

/**
 * Under npm the forwarded copy can come much later than SAME_KEYPRESS_MS when the machine is busy
 * (npm is a second Node process that must be scheduled to forward it), so when the parent is npm or
 * npx one extra signal within this long of the first is still the same key press.
 */
export const FORWARDED_COPY_MS = 5_000;

/** How a run tells a repeated key press from the copy its parent forwards. */
export interface SignalPolicy {
  /** A signal within this long of the first one is the same key press (a copy), never a second press. */
  copyWindowMs: number;
  /** How many copies of the first signal to expect at most (npm forwards exactly one). */
  maxCopies: number;
}

/**
 * Decides which signals are a real second press: `first` on the first, `again` on any later one that is
 * not one of the expected copies of the first.
 */
export function stopSignalCounter(policy: SignalPolicy, first: (signal: NodeJS.Signals) => void, again: (signal: NodeJS.Signals) => void, nowMs: () => number): (signal: NodeJS.Signals) => void {
  let firstAtMs: number | null = null;
  let copiesSeen = 0;
  return (signal) => {
    const now = nowMs();
    if (firstAtMs === null) {
      firstAtMs = now;
      first(signal);
    } else if (copiesSeen < policy.maxCopies && now - firstAtMs < policy.copyWindowMs) {
      copiesSeen++;
    } else {
      again(signal);
    }
  };
}

/**
 * True when this process's parent is npm or npx (Linux: read from /proc; elsewhere unknown, so false).
 * Under `npx kindling` with dash as /bin/sh the parent is `sh -c`, not npx: npm forwards its copy to
 * that shell, which keeps it, so Kindling gets the terminal's signal only and needs no late-copy
 * allowance (the 130 npx then reports is dash's re-raised SIGINT; README says so).
 */
export function parentIsNpm(): boolean {
  try {
    return isNpmCommandLine(readFileSync(`/proc/${process.ppid}/cmdline`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * True for the /proc cmdline of npm or npx: either as started (`node …/npm-cli.js start`, NUL-separated)
 * or as npm shows itself once it sets process.title, which rewrites its cmdline to one
 * space-separated title (`npm start --rate 2000`, `npm exec kindling`).
 */
export function isNpmCommandLine(cmdline: string): boolean {
  const argv = cmdline.split('\0');
  const titleWord = argv[0]!.split(' ')[0]!;
  return [titleWord, ...argv.slice(0, 2)].some((arg) => /^np[mx](-cli\.js)?$/.test(basename(arg)));
}

/** The policy for this process: one late copy under npm/npx, otherwise copies only within SAME_KEYPRESS_MS. */
export function signalPolicy(underNpm: boolean = parentIsNpm()): SignalPolicy {
  return underNpm ? { copyWindowMs: FORWARDED_COPY_MS, maxCopies: 1 } : { copyWindowMs: SAME_KEYPRESS_MS, maxCopies: Number.POSITIVE_INFINITY };
}

/**
 * Calls `first` on the first SIGINT or SIGTERM and `again` on a real second one (see signalPolicy);
 * returns a function that removes the handlers.
 */
export function onStopSignals(first: (signal: NodeJS.Signals) => void, again: (signal: NodeJS.Signals) => void, nowMs: () => number = Date.now): () => void {
  const handler = stopSignalCounter(signalPolicy(), first, again, nowMs);
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
