// Plan values as plain JSON for explanations (timestamps and windows as ISO text), and the key text a user types (--key).
import { timestampToJson } from '../plan/timestamp.js';
import type { DataType, Value, WindowValue } from '../plan/types.js';

/** A value as JSON data: timestamps as ISO-8601 text, a window as {start, end}. */
export type PlainValue = string | number | boolean | null | { readonly start: string; readonly end: string };

/** `v` of type `type` as plain JSON data. */
export function plainValue(v: Value, type: DataType): PlainValue {
  if (v === null) return null;
  if (type === 'timestamp') return timestampToJson(v as number);
  if (type === 'window') {
    const w = v as WindowValue;
    return { start: timestampToJson(w.startUs), end: timestampToJson(w.endUs) };
  }
  return v as string | number | boolean;
}

/** A grouping key's values as the user writes them for --key: each value's text (null as `null`), joined with commas. */
export function keyText(values: readonly Value[]): string {
  return values.map((v) => (v === null ? 'null' : typeof v === 'object' ? `${v.startUs}-${v.endUs}` : String(v))).join(',');
}

/** Epoch ms as ISO-8601 UTC. */
export const isoOfMs = (ms: number): string => new Date(ms).toISOString();
