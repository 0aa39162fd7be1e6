// Reading a source's or sink's options as Spark does (keys compared lower-cased), and checking the rate source's at start().
import { unsupported } from './errors.js';

export const option = (options: Readonly<Record<string, string>>, key: string): string | undefined =>
  Object.entries(options).find(([k]) => k.toLowerCase() === key)?.[1];

export function intOption(options: Readonly<Record<string, string>>, key: string, what: string): number | null {
  const raw = option(options, key);
  if (raw === undefined) return null;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw unsupported(`${what} option ${key}=${JSON.stringify(raw)}`, 'give a whole number of at least 1.');
  return n;
}

/**
 * Spark's rate options: rowsPerSecond (default 1); numPartitions accepted (Kindling splits batches by its own
 * rules, results do not depend on it); rampUpTime refused unless 0, since Kindling produces the full rate at once.
 */
export function rateOptions(options: Readonly<Record<string, string>>): { readonly rowsPerSecond: number } {
  intOption(options, 'numpartitions', 'The rate source');
  const rampUp = option(options, 'rampuptime');
  if (rampUp !== undefined && !/^\s*0+\s*[a-z]*\s*$/i.test(rampUp)) {
    throw unsupported(`The rate source's rampUpTime=${JSON.stringify(rampUp)}`, 'Kindling produces rowsPerSecond from the first second: leave rampUpTime out.');
  }
  return { rowsPerSecond: intOption(options, 'rowspersecond', 'The rate source') ?? 1 };
}
