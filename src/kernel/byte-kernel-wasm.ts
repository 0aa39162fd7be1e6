// The byte kernel's WebAssembly module (SIMD), assembled here from readable instructions: no toolchain, nothing downloaded.

/** Unsigned LEB128, as the binary format writes sizes, indices and offsets. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128, for i32.const. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => vec([...Buffer.from(s, 'utf8')].map((b) => [b]));

const I32 = 0x7f;
const V128 = 0x7b;
const EMPTY = 0x40;

// Instructions (the spec's opcodes); `simd(op)` is the 0xfd prefix.
const get = (i: number): number[] => [0x20, ...uleb(i)];
const set = (i: number): number[] => [0x21, ...uleb(i)];
const i32 = (n: number): number[] => [0x41, ...sleb(n)];
const block = [0x02, EMPTY];
const loop = [0x03, EMPTY];
const ifThen = [0x04, EMPTY];
const end = [0x0b];
const br = (depth: number): number[] => [0x0c, ...uleb(depth)];
const brIf = (depth: number): number[] => [0x0d, ...uleb(depth)];
const ret = [0x0f];
const add = [0x6a];
const sub = [0x6b];
const and = [0x71];
const or = [0x72];
const eq = [0x46];
const ne = [0x47];
const eqz = [0x45];
const gtU = [0x4b];
const geU = [0x4f];
const ctz = [0x68];
const shrU = [0x76];
const popcnt = [0x69];
const load8 = (offset = 0): number[] => [0x2d, 0x00, ...uleb(offset)];
const simd = (op: number): number[] => [0xfd, ...uleb(op)];
const v128Load = (offset = 0): number[] => [...simd(0x00), 0x00, ...uleb(offset)];
const splat8 = simd(0x0f);
const eq8 = simd(0x23);
const ne8 = simd(0x24);
const ltS8 = simd(0x25);
const vAnd = simd(0x4e);
const vOr = simd(0x50);
const bitmask8 = simd(0x64);
const anyTrue = simd(0x53);

/** A function body: its locals beyond the parameters, then its code. */
function body(locals: Array<[number, number]>, code: number[][]): number[] {
  const inner = [...vec(locals.map(([count, type]) => [...uleb(count), type])), ...code.flat(), ...end];
  return [...uleb(inner.length), ...inner];
}

/**
 * count_newlines(ptr, len) -> count of 0x0a bytes in [ptr, ptr + len): 64 bytes per step
 * (four 16-byte compares, each turned into a 16-bit mask and counted), then 16, then byte by byte.
 */
function countNewlines(): number[] {
  const [ptr, len, endAt, total, nl] = [0, 1, 2, 3, 4];
  const lane = (offset: number): number[] => [...get(ptr), ...v128Load(offset), ...get(nl), ...eq8, ...bitmask8, ...popcnt];
  return body([[2, I32], [1, V128]], [
    get(ptr), get(len), add, set(endAt),
    i32(10), splat8, set(nl),
    block, loop,
    get(ptr), i32(64), add, get(endAt), gtU, brIf(1),
    get(total), lane(0), add, lane(16), add, lane(32), add, lane(48), add, set(total),
    get(ptr), i32(64), add, set(ptr),
    br(0), end, end,
    block, loop,
    get(ptr), i32(16), add, get(endAt), gtU, brIf(1),
    get(total), lane(0), add, set(total),
    get(ptr), i32(16), add, set(ptr),
    br(0), end, end,
    block, loop,
    get(ptr), get(endAt), geU, brIf(1),
    get(total), get(ptr), load8(), i32(10), eq, add, set(total),
    get(ptr), i32(1), add, set(ptr),
    br(0), end, end,
    get(total),
  ]);
}

/**
 * find_term(ptr, len, termPtr, termLen) -> offset from ptr of the first occurrence of the term, or -1.
 * The term's bytes sit at termPtr and a mask per byte right after them (0x20 for a letter, so
 * `byte | mask == term byte` ignores ASCII case, 0 otherwise: exact). Candidates are found 16 at a
 * time by comparing the term's first and last byte at once (W. Muła's SIMD-friendly search), then
 * checked byte by byte.
 */
function findTerm(): number[] {
  const [ptr, len, termPtr, termLen, endAt, p, mask, q, j, last, vFirst, vFirstOr, vLast, vLastOr] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  // Leaves 1 when the term occurs at q (j ends at termLen), else 0.
  const matchesAtQ = (): number[] => [
    ...i32(0), ...set(j),
    ...block, ...loop,
    ...get(j), ...get(termLen), ...geU, ...brIf(1),
    ...get(q), ...get(j), ...add, ...load8(),
    ...get(termPtr), ...get(termLen), ...add, ...get(j), ...add, ...load8(), ...or,
    ...get(termPtr), ...get(j), ...add, ...load8(), ...ne, ...brIf(1),
    ...get(j), ...i32(1), ...add, ...set(j),
    ...br(0), ...end, ...end,
    ...get(j), ...get(termLen), ...eq,
  ];
  const laneMatch = (offset: number[], value: number, orMask: number): number[] => [...get(p), ...offset, ...add, ...v128Load(), ...get(orMask), ...vOr, ...get(value), ...eq8];
  return body([[6, I32], [4, V128]], [
    get(ptr), get(len), add, set(endAt),
    get(termLen), i32(1), sub, set(last),
    get(termPtr), load8(), splat8, set(vFirst),
    get(termPtr), get(termLen), add, load8(), splat8, set(vFirstOr),
    get(termPtr), get(last), add, load8(), splat8, set(vLast),
    get(termPtr), get(termLen), add, get(last), add, load8(), splat8, set(vLastOr),
    get(ptr), set(p),
    block, loop,
    // Stop when the block at p + last would read past the end.
    get(p), get(last), add, i32(16), add, get(endAt), gtU, brIf(1),
    laneMatch([...i32(0)], vFirst, vFirstOr), laneMatch(get(last), vLast, vLastOr), vAnd, bitmask8, set(mask),
    block, loop,
    get(mask), eqz, brIf(1),
    get(p), get(mask), ctz, add, set(q),
    matchesAtQ(), ifThen, get(q), get(ptr), sub, ret, end,
    get(mask), get(mask), i32(1), sub, and, set(mask),
    br(0), end, end,
    get(p), i32(16), add, set(p),
    br(0), end, end,
    // The tail, one position at a time.
    block, loop,
    get(p), get(termLen), add, get(endAt), gtU, brIf(1),
    get(p), set(q),
    matchesAtQ(), ifThen, get(q), get(ptr), sub, ret, end,
    get(p), i32(1), add, set(p),
    br(0), end, end,
    i32(-1),
  ]);
}

/**
 * find_special(ptr, len, flags) -> offset from ptr of the first byte that is, by `flags`:
 * 1 a backslash; 2 a non-ASCII byte (>= 0x80); 4 a newline not preceded by '}' or not followed by
 * '{' (a record boundary a JSON-object-per-line file does not have), or -1. Flag 4 reads the byte
 * before and after each newline: one byte either side of the range must be readable.
 */
function findSpecial(): number[] {
  const [ptr, len, flags, endAt, p, mask, vBackslash, vOnBackslash, vOnHigh, vOnShape, vNewline, vClose, vOpen, v] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const onIf = (bit: number): number[] => [...i32(0), ...get(flags), ...i32(bit), ...and, ...i32(0), ...ne, ...sub, ...splat8];
  // The special bytes of the 16 at p + offset, as a vector mask.
  const blockVector = (offset: number): number[] => [
    ...get(p), ...v128Load(offset), ...set(v),
    ...get(v), ...get(vBackslash), ...eq8, ...get(vOnBackslash), ...vAnd,
    ...get(v), ...i32(0), ...splat8, ...ltS8, ...get(vOnHigh), ...vAnd, ...vOr,
    ...get(v), ...get(vNewline), ...eq8,
    ...get(p), ...i32(1), ...sub, ...v128Load(offset), ...get(vClose), ...ne8,
    ...get(p), ...v128Load(offset + 1), ...get(vOpen), ...ne8, ...vOr, ...vAnd,
    ...get(vOnShape), ...vAnd, ...vOr,
  ];
  const blockMask = (): number[] => [...blockVector(0), ...bitmask8];
  // The same test on one byte at p, leaving 1 or 0.
  const byteIsSpecial = (): number[] => [
    ...get(p), ...load8(), ...i32(92), ...eq, ...get(flags), ...i32(1), ...and, ...and,
    ...get(p), ...load8(), ...i32(0x80), ...geU, ...get(flags), ...i32(1), ...shrU, ...i32(1), ...and, ...and, ...or,
    ...get(p), ...load8(), ...i32(10), ...eq,
    ...get(p), ...i32(1), ...sub, ...load8(), ...i32(125), ...ne, ...get(p), ...load8(1), ...i32(123), ...ne, ...or, ...and,
    ...get(flags), ...i32(2), ...shrU, ...i32(1), ...and, ...and, ...or,
  ];
  return body([[3, I32], [8, V128]], [
    get(ptr), get(len), add, set(endAt),
    i32(92), splat8, set(vBackslash),
    i32(10), splat8, set(vNewline),
    i32(125), splat8, set(vClose),
    i32(123), splat8, set(vOpen),
    onIf(1), set(vOnBackslash), onIf(2), set(vOnHigh), onIf(4), set(vOnShape),
    get(ptr), set(p),
    // 64 bytes a step while none is special; the first step with one leaves for the 16-byte loop.
    block, loop,
    get(p), i32(64), add, get(endAt), gtU, brIf(1),
    blockVector(0), blockVector(16), vOr, blockVector(32), vOr, blockVector(48), vOr, anyTrue, brIf(1),
    get(p), i32(64), add, set(p),
    br(0), end, end,
    block, loop,
    get(p), i32(16), add, get(endAt), gtU, brIf(1),
    blockMask(), set(mask),
    get(mask), ifThen, get(p), get(mask), ctz, add, get(ptr), sub, ret, end,
    get(p), i32(16), add, set(p),
    br(0), end, end,
    block, loop,
    get(p), get(endAt), geU, brIf(1),
    byteIsSpecial(), ifThen, get(p), get(ptr), sub, ret, end,
    get(p), i32(1), add, set(p),
    br(0), end, end,
    i32(-1),
  ]);
}

/** The module: one memory (exported, grown by the caller) and the three functions. */
export function byteKernelWasm(): Uint8Array<ArrayBuffer> {
  const twoToOne = [0x60, ...vec([[I32], [I32]]), ...vec([[I32]])];
  const threeToOne = [0x60, ...vec([[I32], [I32], [I32]]), ...vec([[I32]])];
  const fourToOne = [0x60, ...vec([[I32], [I32], [I32], [I32]]), ...vec([[I32]])];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([twoToOne, fourToOne, threeToOne])),
    ...section(3, vec([[0], [1], [2]])),
    ...section(5, vec([[0x00, ...uleb(1)]])),
    ...section(7, vec([
      [...name('memory'), 0x02, 0],
      [...name('count_newlines'), 0x00, 0],
      [...name('find_term'), 0x00, 1],
      [...name('find_special'), 0x00, 2],
    ])),
    ...section(10, vec([countNewlines(), findTerm(), findSpecial()])),
  ];
  return Uint8Array.from(bytes);
}
