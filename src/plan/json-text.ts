// JSON text as the JVM writes it: Java's Double.toString and Jackson's string escaping (for from_json and to_json).

/** Shortest round-trip decimal digits and the decimal exponent of a finite non-zero |x| (x = 0.d1d2... * 10^(exp+1)). */
function digitsOf(x: number): { digits: string; exp: number } {
  const [mantissa, e] = Math.abs(x).toExponential().split('e') as [string, string];
  return { digits: mantissa.replace('.', ''), exp: Number(e) };
}

/**
 * Java's `Double.toString`: `1000.0`, `4.2`, `1.0E10`, `1.0E-7`, `NaN`, `Infinity`, `-0.0`.
 * Plain notation for 1e-3 <= |x| < 1e7, else computerized scientific notation, with at least one
 * digit after the point. Uses the shortest round-trip digits (what JDK 19+ prints; JDK 17 prints
 * the same for all but rare doubles).
 */
export function javaDoubleToString(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const { digits, exp } = digitsOf(x);
  const ax = Math.abs(x);
  if (ax >= 1e-3 && ax < 1e7) {
    if (exp >= 0) {
      const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      const frac = digits.slice(exp + 1);
      return `${sign}${int}.${frac === '' ? '0' : frac}`;
    }
    return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  const frac = digits.slice(1);
  return `${sign}${digits[0]}.${frac === '' ? '0' : frac}E${exp}`;
}

/**
 * A JSON string literal as Jackson writes it: `"` and `\` escaped, control characters as `\n`,
 * `\t`, `\r`, `\b`, `\f` or `\u00XX`, everything else (`/`, non-ASCII) as is.
 */
export function jacksonString(s: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(from, i);
    from = i + 1;
    switch (c) {
      case 0x22: out += '\\"'; break;
      case 0x5c: out += '\\\\'; break;
      case 0x0a: out += '\\n'; break;
      case 0x09: out += '\\t'; break;
      case 0x0d: out += '\\r'; break;
      case 0x08: out += '\\b'; break;
      case 0x0c: out += '\\f'; break;
      default: out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
    }
  }
  return out + s.slice(from) + '"';
}
