// Spark's from_json in PERMISSIVE mode with partial results (Spark 4.0): one record's text to a row, field by field.
import { jacksonString, javaDoubleToString } from './json-text.js';
import type { Schema } from './schema.js';
import { stringToTimestampUs } from './timestamp.js';
import type { FieldType, Row, Value } from './types.js';

/** Counters of one parser: corrupt records (all fields null) and, per field, nulls from a missing or mistyped value. */
export interface ParseCounters {
  records: number;
  corruptRecords: number;
  /** By field ordinal: records without the key (a JSON null is not counted). */
  missingFields: number[];
  /** By field ordinal: records whose value could not convert to the field's type. */
  mistypedFields: number[];
}

/** Fresh zeroed counters for a schema. */
export function newParseCounters(schema: Schema): ParseCounters {
  const n = schema.fields.length;
  return { records: 0, corruptRecords: 0, missingFields: new Array<number>(n).fill(0), mistypedFields: new Array<number>(n).fill(0) };
}

/** Parses one record into `row` (length = fields); returns null, or why the record is corrupt (then every field is null). */
export type RecordParser = (text: string, row: Row, counters: ParseCounters) => string | null;

/** Thrown inside the scanner for invalid JSON; caught once per record, never escapes. */
class Corrupt {
  constructor(readonly reason: string) {}
}

/** A scalar token's kind, as Jackson reports it. */
const enum Tok {
  String,
  Int,
  Float,
  True,
  False,
  Null,
  /** An object or array (its Jackson text is built only when a string field needs it). */
  Struct,
}

const LONG_MAX = 9223372036854775807n;
const LONG_MIN = -9223372036854775808n;
const INT_MAX = 2147483647;
const INT_MIN = -2147483648;
/** Largest |seconds| whose microseconds still fit a long (Spark multiplies with overflow check). */
const MAX_TIMESTAMP_SECONDS = 9223372036854n;

/** A reader of integer token texts within [min, max]: the value as a number, or undefined when out of range. */
function integerReader(min: bigint, max: bigint): (text: string) => number | undefined {
  const minN = Number(min);
  const maxN = Number(max);
  return (text) => {
    // Up to 15 digits always fits a double exactly and a long; only longer texts need BigInt.
    if (text.length <= 15) {
      const n = Number(text);
      return n >= minN && n <= maxN ? n + 0 : undefined;
    }
    const b = BigInt(text);
    return b >= min && b <= max ? Number(b) : undefined;
  };
}

const readLong = integerReader(LONG_MIN, LONG_MAX);
const readInt = integerReader(BigInt(INT_MIN), BigInt(INT_MAX));
const readTimestampSeconds = integerReader(-MAX_TIMESTAMP_SECONDS, MAX_TIMESTAMP_SECONDS);

/**
 * True for a record of JSON whitespace only (or nothing). Spark's json file source reads no row from
 * such a line (Jackson finds no first token) and does not count it as input, while from_json of one
 * (the text or kafka source) is a row of nulls.
 */
export function isBlankRecord(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}

/**
 * Builds the parser for `schema`. The scanner follows Jackson with Spark's JSON options: single
 * quotes allowed, NaN/Infinity allowed, no comments, no leading zeros or '+', no raw control
 * characters in strings; after the first complete object the rest of the text is ignored.
 * Keys match field names case-sensitively after escapes are decoded. A duplicate key's value
 * replaces the earlier one only if it converts (null converts); a value that does not convert
 * leaves the field as it was (Spark's partial results).
 */
export function recordParser(schema: Schema): RecordParser {
  const types: FieldType[] = schema.fields.map((f) => f.type);
  const ordinals = new Map<string, number>(schema.fields.map((f, i) => [f.name, i]));
  const n = types.length;
  // Per record: 0 missing, 1 set (also to null), 2 seen but did not convert.
  const seen = new Uint8Array(n);

  let s = '';
  let pos = 0;
  // The last scalar token: kind, raw text (numbers) or decoded text (strings), parsed double (NaN/Infinity tokens).
  let tok: Tok = Tok.Null;
  let tokText = '';
  let tokDouble = 0;

  const fail = (what: string): never => {
    throw new Corrupt(pos >= s.length ? `unexpected end of record (expected ${what})` : `unexpected '${s[pos]}' at character ${pos} (expected ${what})`);
  };
  const ws = (): void => {
    for (;;) {
      const c = s.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else return;
    }
  };
  const readString = (quote: number): string => {
    pos++;
    let out = '';
    let from = pos;
    for (;;) {
      if (pos >= s.length) fail('the end of a string');
      const c = s.charCodeAt(pos);
      if (c === quote) {
        out += s.slice(from, pos);
        pos++;
        return out;
      }
      if (c < 0x20) fail('an escaped control character');
      if (c !== 0x5c) {
        pos++;
        continue;
      }
      out += s.slice(from, pos);
      const e = s[pos + 1];
      switch (e) {
        case '"': case '\\': case '/': out += e; pos += 2; break;
        case "'": out += e; pos += 2; break;
        case 'b': out += '\b'; pos += 2; break;
        case 'f': out += '\f'; pos += 2; break;
        case 'n': out += '\n'; pos += 2; break;
        case 'r': out += '\r'; pos += 2; break;
        case 't': out += '\t'; pos += 2; break;
        case 'u': {
          const hex = s.slice(pos + 2, pos + 6);
          if (!/^[0-9A-Fa-f]{4}$/.test(hex)) {
            pos += 2;
            fail('four hex digits after \\u');
          }
          out += String.fromCharCode(parseInt(hex, 16));
          pos += 6;
          break;
        }
        default:
          pos++;
          fail('a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
      }
      from = pos;
    }
  };
  const word = (w: string): boolean => {
    if (s.startsWith(w, pos)) {
      pos += w.length;
      return true;
    }
    return false;
  };
  const readNumber = (): void => {
    const start = pos;
    let c = s.charCodeAt(pos);
    if (c === 0x2d || c === 0x2b) {
      // Jackson's non-numeric numbers: -Infinity, +Infinity, -INF, +INF. A '+' before digits is invalid.
      const negative = c === 0x2d;
      pos++;
      if (word('Infinity') || word('INF')) {
        tok = Tok.Float;
        tokDouble = negative ? -Infinity : Infinity;
        tokText = '';
        return;
      }
      if (!negative) fail('a digit without a leading +');
      c = s.charCodeAt(pos);
    }
    if (c === 0x30) {
      pos++;
      const d = s.charCodeAt(pos);
      if (d >= 0x30 && d <= 0x39) fail('no leading zero');
    } else if (c >= 0x31 && c <= 0x39) {
      while (pos < s.length && s.charCodeAt(pos) >= 0x30 && s.charCodeAt(pos) <= 0x39) pos++;
    } else fail('a digit');
    let float = false;
    if (s.charCodeAt(pos) === 0x2e) {
      float = true;
      pos++;
      const digitsAt = pos;
      while (pos < s.length && s.charCodeAt(pos) >= 0x30 && s.charCodeAt(pos) <= 0x39) pos++;
      if (pos === digitsAt) fail('a digit after the decimal point');
    }
    c = s.charCodeAt(pos);
    if (c === 0x65 || c === 0x45) {
      float = true;
      pos++;
      c = s.charCodeAt(pos);
      if (c === 0x2b || c === 0x2d) pos++;
      const digitsAt = pos;
      while (pos < s.length && s.charCodeAt(pos) >= 0x30 && s.charCodeAt(pos) <= 0x39) pos++;
      if (pos === digitsAt) fail('a digit in the exponent');
    }
    tok = float ? Tok.Float : Tok.Int;
    tokText = s.slice(start, pos);
    tokDouble = float ? Number(tokText) : NaN;
  };
  /** Jackson's text of the last number token: integers as written (-0 as 0), floats through Double.toString, non-finite quoted. */
  const numberText = (): string => {
    if (tok === Tok.Int) return /^-0+$/.test(tokText) ? '0' : tokText;
    return Number.isFinite(tokDouble) ? javaDoubleToString(tokDouble) : `"${javaDoubleToString(tokDouble)}"`;
  };
  /** Scans one value; for an object or array appends its compact Jackson text to `text` when asked. */
  const readValue = (buildText: boolean): string => {
    const c = s.charCodeAt(pos);
    if (c === 0x7b || c === 0x5b) {
      const close = c === 0x7b ? 0x7d : 0x5d;
      let text = c === 0x7b ? '{' : '[';
      pos++;
      ws();
      if (s.charCodeAt(pos) === close) {
        pos++;
      } else {
        for (let first = true; ; first = false) {
          if (!first) {
            ws();
            const sep = s.charCodeAt(pos);
            if (sep === close) {
              pos++;
              break;
            }
            if (sep !== 0x2c) fail(c === 0x7b ? "',' or '}'" : "',' or ']'");
            pos++;
            ws();
          }
          if (c === 0x7b) {
            const q = s.charCodeAt(pos);
            if (q !== 0x22 && q !== 0x27) fail('a quoted field name');
            const key = readString(q);
            ws();
            if (s.charCodeAt(pos) !== 0x3a) fail("':'");
            pos++;
            ws();
            const inner = readValue(buildText);
            if (buildText) text += (first ? '' : ',') + jacksonString(key) + ':' + inner;
          } else {
            const inner = readValue(buildText);
            if (buildText) text += (first ? '' : ',') + inner;
          }
        }
      }
      tok = Tok.Struct;
      return buildText ? text + (close === 0x7d ? '}' : ']') : '';
    }
    if (c === 0x22 || c === 0x27) {
      tokText = readString(c);
      tok = Tok.String;
      return buildText ? jacksonString(tokText) : '';
    }
    if (word('true')) {
      tok = Tok.True;
      return 'true';
    }
    if (word('false')) {
      tok = Tok.False;
      return 'false';
    }
    if (word('null')) {
      tok = Tok.Null;
      return 'null';
    }
    if (word('NaN')) {
      tok = Tok.Float;
      tokDouble = NaN;
      return buildText ? '"NaN"' : '';
    }
    if (word('Infinity')) {
      tok = Tok.Float;
      tokDouble = Infinity;
      return buildText ? '"Infinity"' : '';
    }
    readNumber();
    return buildText ? numberText() : '';
  };

  /** Converts the value just scanned to the field's type; undefined when it does not convert. */
  const convert = (type: FieldType, structText: string): Value | undefined => {
    if (tok === Tok.Null) return null;
    switch (type) {
      case 'string':
        if (tok === Tok.String) return tokText;
        if (tok === Tok.Struct) return structText;
        if (tok === Tok.True) return 'true';
        if (tok === Tok.False) return 'false';
        return numberText();
      case 'long':
        return tok === Tok.Int ? readLong(tokText) : undefined;
      case 'int':
        return tok === Tok.Int ? readInt(tokText) : undefined;
      case 'double':
        if (tok === Tok.Int) return Number(tokText) + 0;
        if (tok === Tok.Float) return tokDouble;
        if (tok === Tok.String) return SPECIAL_DOUBLES.get(tokText);
        return undefined;
      case 'boolean':
        return tok === Tok.True ? true : tok === Tok.False ? false : undefined;
      case 'timestamp': {
        if (tok === Tok.String) return stringToTimestampUs(tokText) ?? undefined;
        if (tok !== Tok.Int) return undefined;
        const seconds = readTimestampSeconds(tokText);
        return seconds === undefined ? undefined : seconds * 1_000_000;
      }
    }
  };

  return (text, row, counters) => {
    counters.records++;
    s = text;
    pos = 0;
    seen.fill(0);
    for (let i = 0; i < n; i++) row[i] = null;
    try {
      ws();
      if (pos >= s.length) throw new Corrupt('empty record');
      if (s.charCodeAt(pos) !== 0x7b) throw new Corrupt(`not a JSON object (starts with '${s[pos]}')`);
      pos++;
      ws();
      if (s.charCodeAt(pos) === 0x7d) pos++;
      else {
        for (;;) {
          const q = s.charCodeAt(pos);
          if (q !== 0x22 && q !== 0x27) fail('a quoted field name');
          const key = readString(q);
          ws();
          if (s.charCodeAt(pos) !== 0x3a) fail("':'");
          pos++;
          ws();
          const ordinal = ordinals.get(key);
          if (ordinal === undefined) readValue(false);
          else {
            const type = types[ordinal]!;
            // Only an object or array needs its Jackson text built (scalars convert from the token).
            const c = s.charCodeAt(pos);
            const structText = readValue(type === 'string' && (c === 0x7b || c === 0x5b));
            const value = convert(type, structText);
            if (value !== undefined) {
              row[ordinal] = value;
              seen[ordinal] = 1;
            } else if (seen[ordinal] === 0) seen[ordinal] = 2;
          }
          ws();
          const sep = s.charCodeAt(pos);
          if (sep === 0x7d) break;
          if (sep !== 0x2c) fail("',' or '}'");
          pos++;
          ws();
        }
      }
    } catch (err) {
      if (!(err instanceof Corrupt)) throw err;
      for (let i = 0; i < n; i++) row[i] = null;
      counters.corruptRecords++;
      return err.reason;
    } finally {
      s = '';
    }
    for (let i = 0; i < n; i++) {
      if (seen[i] === 0) counters.missingFields[i]!++;
      else if (seen[i] === 2) counters.mistypedFields[i]!++;
    }
    return null;
  };
}

/** The strings JacksonParser accepts for a double field. */
const SPECIAL_DOUBLES = new Map<string, number>([
  ['NaN', NaN], ['+NaN', NaN], ['-NaN', NaN],
  ['Infinity', Infinity], ['+Infinity', Infinity], ['+INF', Infinity],
  ['-Infinity', -Infinity], ['-INF', -Infinity],
]);
