// xxHash64 exactly as Spark computes it (its XXH64: hashInt, hashLong, hashUnsafeBytes), on 64-bit words held as two uint32 halves.
//
// Why halves and not BigInt: approx_count_distinct hashes every input row, and BigInt arithmetic
// allocates on each operation; two uint32 numbers keep the hot path allocation-free. Spark's XXH64
// (sql/catalyst/.../expressions/XXH64.java) is the standard xxHash64 over little-endian bytes, plus two
// shortcuts, hashInt and hashLong, equal to hashing the 4 or 8 little-endian bytes of the number.
// The results are pinned by Spark's XXH64Suite vectors and by Spark's own xxhash64() values in
// test/unit/hll.test.ts.

// The five xxHash64 primes, as [hi, lo] uint32 halves.
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

const TWO_32 = 4294967296;

// Each 64-bit operation returns the high half and leaves the low half here (no allocation).
let outLo = 0;

/** Low 64 bits of a * b. */
function mul(ah: number, al: number, bh: number, bl: number): number {
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const mid = a0 * b1 + a1 * b0; // < 2^33, exact in a double
  const low = a0 * b0 + (mid % 65536) * 65536; // < 2^33
  outLo = low >>> 0;
  return (a1 * b1 + Math.floor(mid / 65536) + (low >= TWO_32 ? 1 : 0) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

/** a + b mod 2^64. */
function add(ah: number, al: number, bh: number, bl: number): number {
  const low = al + bl;
  outLo = low >>> 0;
  return (ah + bh + (low >= TWO_32 ? 1 : 0)) >>> 0;
}

/** Rotate left by r, 0 < r < 32 (all of xxHash64's rotations are). */
function rotl(h: number, l: number, r: number): number {
  outLo = ((l << r) | (h >>> (32 - r))) >>> 0;
  return ((h << r) | (l >>> (32 - r))) >>> 0;
}

/** Little-endian uint32 at offset i. */
function u32(b: Uint8Array, i: number): number {
  return ((b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) | ((b[i + 3] as number) << 24)) >>> 0;
}

/** A 64-bit two's-complement bigint (any sign) as [hi, lo] uint32 halves. */
export function halvesOf(x: bigint): [number, number] {
  const u = BigInt.asUintN(64, x);
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
}

/** [hi, lo] uint32 halves as the signed 64-bit value Java's `long` would hold. */
export function signedOf(hi: number, lo: number): bigint {
  return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
}

/**
 * A seeded xxHash64 hasher. Each `hash*` call returns the high 32 bits of the 64-bit hash and leaves
 * both halves in `hi` / `lo` (the result of the last call), so callers on a hot path allocate nothing.
 * `toBigInt()` gives the last result as Java's signed long.
 */
export class XxHash64 {
  /** Bits 63..32 of the last hash (uint32). */
  hi = 0;
  /** Bits 31..0 of the last hash (uint32). */
  lo = 0;
  private readonly seedHi: number;
  private readonly seedLo: number;
  private scratch = new Uint8Array(256);

  constructor(seed: bigint) {
    [this.seedHi, this.seedLo] = halvesOf(seed);
  }

  /** Spark's `XXH64.hashInt(input, seed)`: the 4 little-endian bytes of a 32-bit int (booleans hash as 1 / 0). */
  hashInt(input: number): number {
    let h = add(this.seedHi, this.seedLo, P5H, P5L);
    let l = outLo;
    h = add(h, l, 0, 4); l = outLo;
    const kh = mul(0, input >>> 0, P1H, P1L);
    h ^= kh; l = (l ^ outLo) >>> 0; h >>>= 0;
    h = rotl(h, l, 23); l = outLo;
    h = mul(h, l, P2H, P2L); l = outLo;
    h = add(h, l, P3H, P3L); l = outLo;
    return this.finish(h, l);
  }

  /** Spark's `XXH64.hashLong(input, seed)` for the 64-bit value with halves `inHi`, `inLo`. */
  hashLongHalves(inHi: number, inLo: number): number {
    let h = add(this.seedHi, this.seedLo, P5H, P5L);
    let l = outLo;
    h = add(h, l, 0, 8); l = outLo;
    h = this.mixWord(h, l, inHi >>> 0, inLo >>> 0); l = outLo;
    return this.finish(h, l);
  }

  /** hashLong of a JS integer (a safe integer number, or any bigint taken mod 2^64). */
  hashLong(input: number | bigint): number {
    if (typeof input === 'bigint') {
      const [h, l] = halvesOf(input);
      return this.hashLongHalves(h, l);
    }
    // ToUint32 of an integral double is its value mod 2^32, so these are the two's-complement halves.
    return this.hashLongHalves(Math.floor(input / TWO_32) >>> 0, input >>> 0);
  }

  /** Spark's `XXH64.hashUnsafeBytes(bytes, 0, length, seed)`: xxHash64 of bytes[0 .. length). */
  hashBytes(bytes: Uint8Array, length: number = bytes.length): number {
    let off = 0;
    let h: number, l: number;
    if (length >= 32) {
      let v1h = add(this.seedHi, this.seedLo, P1H, P1L), v1l = outLo;
      v1h = add(v1h, v1l, P2H, P2L); v1l = outLo;
      let v2h = add(this.seedHi, this.seedLo, P2H, P2L), v2l = outLo;
      let v3h = this.seedHi, v3l = this.seedLo;
      // seed - P1 = seed + (2^64 - P1)
      let v4h = add(this.seedHi, this.seedLo, 0x61c8864e, 0x7a143579), v4l = outLo;
      const limit = length - 32;
      do {
        v1h = this.round(v1h, v1l, u32(bytes, off + 4), u32(bytes, off)); v1l = outLo;
        v2h = this.round(v2h, v2l, u32(bytes, off + 12), u32(bytes, off + 8)); v2l = outLo;
        v3h = this.round(v3h, v3l, u32(bytes, off + 20), u32(bytes, off + 16)); v3l = outLo;
        v4h = this.round(v4h, v4l, u32(bytes, off + 28), u32(bytes, off + 24)); v4l = outLo;
        off += 32;
      } while (off <= limit);
      h = rotl(v1h, v1l, 1); l = outLo;
      let th = rotl(v2h, v2l, 7), tl = outLo;
      h = add(h, l, th, tl); l = outLo;
      th = rotl(v3h, v3l, 12); tl = outLo;
      h = add(h, l, th, tl); l = outLo;
      th = rotl(v4h, v4l, 18); tl = outLo;
      h = add(h, l, th, tl); l = outLo;
      h = this.mergeRound(h, l, v1h, v1l); l = outLo;
      h = this.mergeRound(h, l, v2h, v2l); l = outLo;
      h = this.mergeRound(h, l, v3h, v3l); l = outLo;
      h = this.mergeRound(h, l, v4h, v4l); l = outLo;
    } else {
      h = add(this.seedHi, this.seedLo, P5H, P5L); l = outLo;
    }
    h = add(h, l, Math.floor(length / TWO_32), length >>> 0); l = outLo;
    while (off <= length - 8) {
      h = this.mixWord(h, l, u32(bytes, off + 4), u32(bytes, off)); l = outLo;
      off += 8;
    }
    if (off + 4 <= length) {
      const kh = mul(0, u32(bytes, off), P1H, P1L);
      h = (h ^ kh) >>> 0; l = (l ^ outLo) >>> 0;
      h = rotl(h, l, 23); l = outLo;
      h = mul(h, l, P2H, P2L); l = outLo;
      h = add(h, l, P3H, P3L); l = outLo;
      off += 4;
    }
    while (off < length) {
      const kh = mul(0, bytes[off] as number, P5H, P5L);
      h = (h ^ kh) >>> 0; l = (l ^ outLo) >>> 0;
      h = rotl(h, l, 11); l = outLo;
      h = mul(h, l, P1H, P1L); l = outLo;
      off++;
    }
    return this.finish(h, l);
  }

  /**
   * A string as Spark hashes a UTF8String: its UTF-8 bytes. A lone surrogate (possible in a JS string,
   * e.g. from JSON's "\ud800") becomes `?`, as Java's `String.getBytes(UTF_8)` encodes it when Spark
   * builds the UTF8String.
   */
  hashString(s: string): number {
    const need = s.length * 3;
    if (this.scratch.length < need) this.scratch = new Uint8Array(Math.max(need, this.scratch.length * 2));
    const b = this.scratch;
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        b[n++] = c;
      } else if (c < 0x800) {
        b[n++] = 0xc0 | (c >> 6);
        b[n++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          b[n++] = 0xf0 | (cp >> 18);
          b[n++] = 0x80 | ((cp >> 12) & 0x3f);
          b[n++] = 0x80 | ((cp >> 6) & 0x3f);
          b[n++] = 0x80 | (cp & 0x3f);
          i++;
        } else {
          b[n++] = 0x3f; // '?'
        }
      } else {
        b[n++] = 0xe0 | (c >> 12);
        b[n++] = 0x80 | ((c >> 6) & 0x3f);
        b[n++] = 0x80 | (c & 0x3f);
      }
    }
    return this.hashBytes(b, n);
  }

  /** The last hash as Java's signed long. */
  toBigInt(): bigint {
    return signedOf(this.hi, this.lo);
  }

  /** acc + input * P2, rotl 31, * P1. */
  private round(ah: number, al: number, inHi: number, inLo: number): number {
    let h = mul(inHi, inLo, P2H, P2L), l = outLo;
    h = add(ah, al, h, l); l = outLo;
    h = rotl(h, l, 31); l = outLo;
    return mul(h, l, P1H, P1L);
  }

  /** hash ^= round(0, v); hash = hash * P1 + P4. */
  private mergeRound(hh: number, hl: number, vh: number, vl: number): number {
    let h = this.round(0, 0, vh, vl), l = outLo;
    h = (hh ^ h) >>> 0; l = (hl ^ l) >>> 0;
    h = mul(h, l, P1H, P1L); l = outLo;
    return add(h, l, P4H, P4L);
  }

  /** hash ^= round(0, word); hash = rotl(hash, 27) * P1 + P4 (one 8-byte step, and hashLong's body). */
  private mixWord(hh: number, hl: number, wh: number, wl: number): number {
    let h = this.round(0, 0, wh, wl), l = outLo;
    h = (hh ^ h) >>> 0; l = (hl ^ l) >>> 0;
    h = rotl(h, l, 27); l = outLo;
    h = mul(h, l, P1H, P1L); l = outLo;
    return add(h, l, P4H, P4L);
  }

  /** The final avalanche (fmix); stores the result. */
  private finish(h: number, l: number): number {
    l = (l ^ (h >>> 1)) >>> 0; // ^= >>> 33
    h = mul(h, l, P2H, P2L); l = outLo;
    l = (l ^ ((l >>> 29) | (h << 3))) >>> 0; h = (h ^ (h >>> 29)) >>> 0; // ^= >>> 29
    h = mul(h, l, P3H, P3L); l = outLo;
    l = (l ^ h) >>> 0; // ^= >>> 32
    this.hi = h;
    this.lo = l;
    return h;
  }
}
