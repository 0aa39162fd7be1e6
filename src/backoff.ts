// Retry backoff: how long to wait before the next attempt after a run of failures (the Kafka source and `kindling produce` both use it).

/** A doubling backoff: `initialMs` after the first failure, doubling up to `maxMs`. */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /**
   * Spread each delay uniformly over ±jitter of itself (0.2: 80-120 %), so that several clients
   * that lost the same broker do not all come back at the same instant. 0: exact delays.
   */
  readonly jitter: number;
}

/** The delay before the attempt that follows the `failures`-th failure in a row (failures >= 1). */
export function backoffDelayMs(failures: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  // The exponent is capped so the doubling never overflows; maxMs caps the delay long before.
  const exact = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(Math.max(failures, 1) - 1, 30));
  return policy.jitter === 0 ? exact : exact * (1 - policy.jitter + 2 * policy.jitter * random());
}
