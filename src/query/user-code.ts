// A failure inside the user's query code (filter, key, having): which function, on which record, and the thrown error.

/** The query functions Kindling calls per record (filter, key) or per group (having). */
export type QueryFunction = 'filter' | 'key' | 'having';

/**
 * Thrown where Kindling calls a query function that threw: the run must stop and name the query,
 * the record and the error, rather than take it for a lost worker. `recordIndex` is the record's
 * index in the scanned split (null for `having`, which sees a group, not a record).
 */
export class QueryCodeError extends Error {
  constructor(
    readonly queryFunction: QueryFunction,
    readonly recordIndex: number | null,
    readonly thrown: unknown,
  ) {
    super(`its ${queryFunction} function threw: ${describeThrown(thrown)}`);
    this.name = 'QueryCodeError';
  }

  /** The thrown error's stack (where in the query module it failed), if it has one. */
  get thrownStack(): string | null {
    return this.thrown instanceof Error && typeof this.thrown.stack === 'string' ? this.thrown.stack : null;
  }
}

/** `Name: message` of an Error, or the thrown value itself (a query may throw a string). */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`;
  try {
    return typeof thrown === 'string' ? thrown : JSON.stringify(thrown) ?? String(thrown);
  } catch {
    return String(thrown);
  }
}

/** `having` guarded: a throw becomes a QueryCodeError. */
export function guardHaving(having: ((count: number) => boolean) | undefined): ((count: number) => boolean) | undefined {
  if (having === undefined) return undefined;
  return (count) => {
    try {
      return having(count);
    } catch (err) {
      throw new QueryCodeError('having', null, err);
    }
  };
}
