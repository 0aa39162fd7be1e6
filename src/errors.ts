// One error type for the engine: a code, who is at fault (user, external system, Kindling itself) and whether retrying can help.

/** Who caused an error: bad flags or input (user), a broker or disk (external), or a bug (internal). */
export type ErrorDomain = 'user' | 'external' | 'internal';

/** An error with a stable code; main maps `user` errors to exit code 2. */
export class KindlingError extends Error {
  readonly code: string;
  readonly domain: ErrorDomain;
  readonly retriable: boolean;

  constructor(code: string, message: string, options: { domain?: ErrorDomain; retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KindlingError';
    this.code = code;
    this.domain = options.domain ?? 'internal';
    this.retriable = options.retriable ?? false;
  }
}

/** A usage error: a bad flag or value. Exit code 2. */
export class UsageError extends KindlingError {
  constructor(message: string) {
    super('USAGE', message, { domain: 'user' });
    this.name = 'UsageError';
  }
}
