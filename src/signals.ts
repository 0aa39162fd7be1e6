// Ctrl-C and SIGTERM handling shared by the long-running commands: a first signal stops cleanly, a real second one quits.

/**
 * Signals this close to the first one are the same key press delivered twice: npm and npx forward
 * the terminal's SIGINT to their child, which, when it is npm's direct child (`exec` in the npm
 * script, or a /bin/sh that execs a lone command), already got it from the terminal itself.
 */
export const SAME_KEYPRESS_MS = 500;

/**
 * Calls `first` on the first SIGINT or SIGTERM and `again` on a later one that arrives at least
 * SAME_KEYPRESS_MS after it; returns a function that removes the handlers.
 */
export function onStopSignals(first: (signal: NodeJS.Signals) => void, again: (signal: NodeJS.Signals) => void, nowMs: () => number = Date.now): () => void {
  let firstAtMs: number | null = null;
  const handler = (signal: NodeJS.Signals): void => {
    const now = nowMs();
    if (firstAtMs === null) {
      firstAtMs = now;
      first(signal);
    } else if (now - firstAtMs >= SAME_KEYPRESS_MS) again(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}
