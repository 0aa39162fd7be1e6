// Timestamps as Spark holds them (epoch microseconds, session time zone UTC): string parsing and formatting.

const US_PER_SECOND = 1_000_000;
const US_PER_MS = 1_000;

/** Epoch microseconds of a UTC calendar time; years outside 0..99 need setUTCFullYear (Date.UTC maps 0..99 to 19xx). */
function utcMicros(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime() * US_PER_MS;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : MONTH_DAYS[month - 1]!;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** A zone suffix to its offset in seconds: `Z`, `+01`, `+01:00`, `+0100`, `UTC`, `GMT+01:00`, `UT`; null for anything else. */
function zoneOffsetSeconds(zone: string): number | null {
  if (zone === '' || zone === 'Z' || zone === 'UTC' || zone === 'GMT' || zone === 'UT') return 0;
  const m = /^(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(zone);
  if (!m) return null;
  const h = Number(m[2]);
  const min = Number(m[3] ?? 0);
  const s = Number(m[4] ?? 0);
  if (h > 18 || min > 59 || s > 59) return null;
  return (m[1] === '-' ? -1 : 1) * (h * 3600 + min * 60 + s);
}

const TIMESTAMP_TEXT =
  /^([+-]?\d{4,6})(?:-(\d{1,2})(?:-(\d{1,2})(?:[T ](?:(\d{1,2})(?::(\d{1,2})(?::(\d{1,2})(?:\.(\d*))?)?)?)?)?)?)?\s*(Z|[+-]\d{1,2}(?::?\d{2}){0,2}|(?:UTC|GMT|UT)(?:[+-]\d{1,2}(?::?\d{2}){0,2})?)?$/;

/**
 * Spark's string → timestamp (DateTimeUtils.stringToTimestamp, used by cast, to_timestamp without a
 * format and from_json): `yyyy[-[m]m[-[d]d[(T| )[h]h[:[m]m[:[s]s[.fraction]]]]]][zone]`, trimmed,
 * a year of 4-6 digits, the fraction truncated to microseconds, the session time zone UTC.
 * Returns epoch microseconds, or null when the text is not a timestamp (or names a region time zone,
 * which Kindling does not resolve).
 */
export function stringToTimestampUs(text: string): number | null {
  const m = TIMESTAMP_TEXT.exec(text.trim());
  if (!m) return null;
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const hour = Number(m[4] ?? 0);
  const minute = Number(m[5] ?? 0);
  const second = Number(m[6] ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return null;
  const offset = zoneOffsetSeconds(m[8] ?? '');
  if (offset === null) return null;
  const fraction = Number((m[7] ?? '').slice(0, 6).padEnd(6, '0'));
  return utcMicros(year, month, day, hour, minute, second) + fraction - offset * US_PER_SECOND;
}

/** Java's floorDiv. */
export const floorDiv = (a: number, b: number): number => Math.floor(a / b);

interface Civil {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Microseconds within the second, 0..999999. */
  micros: number;
}

function civilOf(us: number): Civil {
  const ms = floorDiv(us, US_PER_MS);
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    micros: us - floorDiv(us, US_PER_SECOND) * US_PER_SECOND,
  };
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const yearText = (y: number): string => (y < 0 ? '-' + pad(-y, 4) : y > 9999 ? '+' + String(y) : pad(y, 4));

/** Spark's cast(timestamp as string): `2024-11-25 10:40:00`, `2024-11-25 10:40:00.12`, trailing zeros of the fraction dropped. */
export function timestampToString(us: number): string {
  const c = civilOf(us);
  const base = `${yearText(c.year)}-${pad(c.month, 2)}-${pad(c.day, 2)} ${pad(c.hour, 2)}:${pad(c.minute, 2)}:${pad(c.second, 2)}`;
  if (c.micros === 0) return base;
  return `${base}.${pad(c.micros, 6).replace(/0+$/, '')}`;
}

/** Spark's to_json of a timestamp (`yyyy-MM-dd'T'HH:mm:ss.SSSXXX`, UTC): `2024-11-25T10:40:00.000Z`. */
export function timestampToJson(us: number): string {
  const c = civilOf(us);
  return `${yearText(c.year)}-${pad(c.month, 2)}-${pad(c.day, 2)}T${pad(c.hour, 2)}:${pad(c.minute, 2)}:${pad(c.second, 2)}.${pad(Math.floor(c.micros / 1000), 3)}Z`;
}

/** A compiled datetime pattern (a subset of Java's DateTimeFormatter letters): parse and format. */
export interface DatetimePattern {
  readonly pattern: string;
  /** Epoch microseconds of `text`, or null when it does not match the pattern. */
  parse(text: string): number | null;
  format(us: number): string;
}

type PatternPart = { literal: string } | { letter: 'y' | 'M' | 'd' | 'H' | 'm' | 's' | 'S'; width: number };

const SUPPORTED_LETTERS = 'yMdHmsS';

/**
 * Compiles a datetime pattern of the letters y M d H m s S with quoted literals ('T') and other
 * punctuation as literals. Throws an Error naming the first unsupported letter.
 */
export function compilePattern(pattern: string): DatetimePattern {
  const parts: PatternPart[] = [];
  for (let i = 0; i < pattern.length; ) {
    const ch = pattern[i]!;
    if (ch === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end < 0) throw new Error(`datetime pattern "${pattern}": unclosed quote at position ${i}`);
      parts.push({ literal: end === i + 1 ? "'" : pattern.slice(i + 1, end) });
      i = end + 1;
    } else if (/[A-Za-z]/.test(ch)) {
      let j = i;
      while (pattern[j] === ch) j++;
      if (!SUPPORTED_LETTERS.includes(ch)) {
        throw new Error(`datetime pattern "${pattern}": letter '${ch}' at position ${i} is not supported; use y M d H m s S and quoted literals`);
      }
      parts.push({ letter: ch as 'y', width: j - i });
      i = j;
    } else {
      parts.push({ literal: ch });
      i++;
    }
  }
  return {
    pattern,
    parse(text: string): number | null {
      const f = { y: 1970, M: 1, d: 1, H: 0, m: 0, s: 0, S: 0 };
      let pos = 0;
      for (const part of parts) {
        if ('literal' in part) {
          if (!text.startsWith(part.literal, pos)) return null;
          pos += part.literal.length;
          continue;
        }
        // Java's strict resolver: a fixed width for 'SSS' and 'yyyy'-style fields, 1-2 digits for the others.
        const max = part.letter === 'S' ? part.width : part.letter === 'y' ? (part.width === 2 ? 2 : 9) : Math.max(2, part.width);
        const min = part.width;
        let end = pos;
        while (end < text.length && end - pos < max && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
        if (end - pos < min) return null;
        const n = Number(text.slice(pos, end));
        f[part.letter] = part.letter === 'S' ? Number(text.slice(pos, end).padEnd(6, '0').slice(0, 6)) : part.letter === 'y' && part.width === 2 ? 2000 + n : n;
        pos = end;
      }
      if (pos !== text.length) return null;
      if (f.M < 1 || f.M > 12 || f.d < 1 || f.d > daysInMonth(f.y, f.M) || f.H > 23 || f.m > 59 || f.s > 59) return null;
      return utcMicros(f.y, f.M, f.d, f.H, f.m, f.s) + f.S;
    },
    format(us: number): string {
      const c = civilOf(us);
      let out = '';
      for (const part of parts) {
        if ('literal' in part) {
          out += part.literal;
          continue;
        }
        switch (part.letter) {
          case 'y': out += part.width === 2 ? pad(c.year % 100, 2) : pad(c.year, part.width); break;
          case 'M': out += pad(c.month, part.width); break;
          case 'd': out += pad(c.day, part.width); break;
          case 'H': out += pad(c.hour, part.width); break;
          case 'm': out += pad(c.minute, part.width); break;
          case 's': out += pad(c.second, part.width); break;
          case 'S': out += pad(c.micros, 6).slice(0, part.width).padEnd(part.width, '0'); break;
        }
      }
      return out;
    },
  };
}
