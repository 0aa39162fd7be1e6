// Number, time and text formatting for the web page (browser module, no imports).

/** Escapes text for HTML (element content and quoted attributes). */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** An integer with thousands separators: 1,234,567. */
export function int(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

/** A compact number: 950, 12.3k, 4.56M. */
export function compact(x: number): string {
  const a = Math.abs(x);
  const trim = (s: string): string => (s.includes('.') ? s.replace(/\.?0+$/, '') : s);
  if (a >= 1e9) return `${trim((x / 1e9).toFixed(a >= 1e10 ? 1 : 2))}G`;
  if (a >= 1e6) return `${trim((x / 1e6).toFixed(a >= 1e7 ? 1 : 2))}M`;
  if (a >= 1e3) return `${trim((x / 1e3).toFixed(a >= 1e4 ? 1 : 2))}k`;
  if (a >= 10 || Number.isInteger(x)) return String(Math.round(x));
  return trim(x.toFixed(a >= 1 ? 1 : 2));
}

/** Milliseconds, precise when small: 0.021 ms, 3.4 ms, 172 ms, 2.3 s. */
export function ms(x: number): string {
  if (x === 0) return '0 ms';
  if (x >= 10_000) return `${(x / 1000).toFixed(1)} s`;
  if (x >= 100) return `${Math.round(x)} ms`;
  if (x >= 10) return `${x.toFixed(1)} ms`;
  if (x >= 0.1) return `${x.toFixed(2)} ms`;
  return `${x.toFixed(3)} ms`;
}

/** Seconds with one decimal: 30.0 s. */
export function seconds(msValue: number): string {
  return `${(msValue / 1000).toFixed(1)} s`;
}

/** A share 0..1 as a whole percentage. */
export function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** Bytes in KB/MB/GB (powers of 1024). */
export function bytes(b: number): string {
  if (b >= 1024 ** 3) return `${(b / 1024 ** 3).toFixed(1)} GB`;
  if (b >= 1024 ** 2) return `${(b / 1024 ** 2).toFixed(b >= 100 * 1024 ** 2 ? 0 : 1)} MB`;
  if (b >= 1024) return `${(b / 1024).toFixed(0)} KB`;
  return `${b} B`;
}

/** Wall-clock time of day in the browser's zone: 14:03:27. */
export function wallClock(msValue: number): string {
  return new Date(msValue).toLocaleTimeString('en-GB', { hour12: false });
}

/** Event time in UTC (as the query sees it): 10:40:29.987. */
export function eventClock(msValue: number): string {
  return new Date(msValue).toISOString().slice(11, 23);
}
