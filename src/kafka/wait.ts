// Polling helper: wait until a condition holds, with a deadline, instead of sleeping a fixed time.

import { setTimeout as sleep } from 'node:timers/promises';

/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many milliseconds (default 30 000). */
  timeoutMs?: number;
  /** Pause between two attempts, in milliseconds (default 250). */
  intervalMs?: number;
  /** What is awaited, for the timeout message, e.g. "the broker on 127.0.0.1:9092". */
  what?: string;
  /** Stop waiting at once when this signal aborts; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Calls `predicate` until it returns a truthy value (or a promise of one) and resolves with that value.
 *
 * A predicate that throws or rejects counts as "not yet"; the last such error is quoted in the
 * timeout error, so a wait for a server that keeps refusing says why. An aborted `signal` stops
 * the wait at once (used to fail fast when the process being waited on has died).
 *
 * @throws Error `Timed out after <ms> ms waiting for <what>` when the deadline passes.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  opts: WaitForOptions = {},
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 250;
  const what = opts.what ?? 'a condition';
  const { signal } = opts;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await predicate();
      if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    signal?.throwIfAborted();
    const left = deadline - Date.now();
    if (left <= 0) {
      const cause = lastError === undefined ? '' : `; last error: ${describeError(lastError)}`;
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${cause}`, { cause: lastError });
    }
    try {
      await sleep(Math.min(intervalMs, left), undefined, signal ? { signal } : undefined);
    } catch {
      // Aborted during the pause: report the signal's reason, not the timer's AbortError.
      signal?.throwIfAborted();
      throw new Error(`waiting for ${what} was aborted`);
    }
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
