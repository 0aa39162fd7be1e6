// approx_count_distinct as Spark computes it: HyperLogLog++ (dense) with Spark's hash, seed, precision, bias tables and rounding, so estimates equal Spark's exactly.
//
// API
//   const agg = approxCountDistinct('string', 0.05);   // input type, rsd (Spark's default 0.05)
//   const state = agg.init();                           // HllState: Uint8Array, one byte per register
//   agg.update(state, 'user_42');                       // null / undefined are ignored, as in Spark
//   agg.merge(state, otherPartial);                     // register-wise max, in place into `state`
//   agg.evaluate(state);                                // the estimate (a number; Spark returns a LONG)
// Stage 1 keeps one state per group and ships it; stage 2 merges partials in any order and split: the
// result is the same as one pass (max is associative and commutative). The state is plain bytes, so it
// survives structured clone, msgpackr (which gives back a Buffer, also a Uint8Array) and snapshots.
// Input values by type (as src/plan holds cells): string → string; long → number (safe integer) or
// bigint; int → number; double → number; boolean → boolean; timestamp → epoch MICROSECONDS (number or
// bigint), Spark's internal unit for TimestampType.
//
// What is Spark's here (Spark 4.0.5: HyperLogLogPlusPlusHelper, InterpretedHashFunction, XXH64):
// - p = ceil(2 * ln(1.106 / rsd) / ln 2); p < 4 is Spark's error "HLL++ requires at least 4 bits ...".
// - x = xxHash64(value, seed 42): ints and booleans (1/0) via hashInt, longs and timestamps via hashLong,
//   strings via their UTF-8 bytes, doubles via hashLong(doubleToLongBits(d)) after normalising -0.0 to
//   0.0 and every NaN to the canonical NaN (Spark's DOUBLE_NORMALIZER, then `d == -0.0d` in the hash).
// - register idx = top p bits of x; value = 1 + leading zeros of ((x << p) | 1 << (p - 1)).
// - estimate: E = alpha·m² / Σ 2^-M[j]; if some register is 0, linear counting H = m·ln(m/V) wins when
//   (p < 19 and H <= THRESHOLDS[p-4]) or E <= 2.5m; otherwise E minus the bias (mean of the 6 nearest
//   raw estimates, for p < 19 and E < 5m); Math.round.
// Spark packs ten 6-bit registers per LONG word (m/10 + 1 words); the estimate does not depend on the
// packing, so the state keeps one byte per register and toSparkWords/fromSparkWords convert.
import { KindlingError } from '../errors.js';
import { HLL_BIAS_DATA, HLL_BIAS_NEIGHBOURS, HLL_RAW_ESTIMATE_DATA, HLL_THRESHOLDS } from './hll-tables.js';
import { XxHash64 } from './xxhash64.js';

/** The input types approx_count_distinct accepts (Spark's String, Long, Integer, Double, Boolean, Timestamp types). */
export type HllInputType = 'string' | 'long' | 'int' | 'double' | 'boolean' | 'timestamp';

/** One input cell; null and undefined (SQL NULL) are skipped. */
export type HllInput = string | number | bigint | boolean | null | undefined;

/** A partial aggregate: register j of the sketch is byte j (m = 2^p bytes). Plain data: clone or encode it freely. */
export type HllState = Uint8Array;

/** The approx_count_distinct aggregate for one input type and rsd. */
export interface ApproxCountDistinct {
  readonly inputType: HllInputType;
  /** The requested maximum relative standard deviation (Spark's `rsd`). */
  readonly relativeSD: number;
  /** p: log2 of the number of registers. */
  readonly precision: number;
  /** An empty sketch (all registers zero): the estimate of no rows, 0. */
  init(): HllState;
  /** Adds one value to `state` in place. */
  update(state: HllState, value: HllInput): void;
  /** Merges partial `from` into `into` in place (register-wise max). Both must come from the same precision. */
  merge(into: HllState, from: HllState): void;
  /** The estimated number of distinct non-null values, exactly as Spark's approx_count_distinct returns it. */
  evaluate(state: HllState): number;
}

/** Spark's default `rsd` for approx_count_distinct. */
export const DEFAULT_RELATIVE_SD = 0.05;

/** Spark's hash seed for HyperLogLog++. */
const SEED = 42n;
/** Above this precision a single group's sketch would need > 16 MB (Spark would allocate it; we refuse). */
const MAX_PRECISION = 24;
const REGISTERS_PER_WORD = 10;
const REGISTER_BITS = 6;

/**
 * p for a relative standard deviation, as Spark computes it. Throws a user error when Spark would
 * (rsd too large, p < 4) and when the sketch would be unreasonably large (p > 24, rsd < ~0.0003).
 */
export function hllPrecision(relativeSD: number): number {
  const p = Math.ceil((2.0 * Math.log(1.106 / relativeSD)) / Math.log(2.0));
  if (!Number.isFinite(relativeSD) || relativeSD <= 0 || Number.isNaN(p)) {
    throw new KindlingError('BAD_QUERY', `approx_count_distinct: rsd must be a positive number; got ${relativeSD}`, { domain: 'user' });
  }
  if (p < 4) {
    throw new KindlingError(
      'BAD_QUERY',
      `approx_count_distinct: rsd ${relativeSD} is too large. HLL++ requires at least 4 bits for addressing. Use a lower error, at most 39%.`,
      { domain: 'user' },
    );
  }
  if (p > MAX_PRECISION) {
    throw new KindlingError(
      'BAD_QUERY',
      `approx_count_distinct: rsd ${relativeSD} needs 2^${p} registers per group; use rsd >= 0.0003 (2^${MAX_PRECISION} registers)`,
      { domain: 'user' },
    );
  }
  return p;
}

/** Spark's aggregation buffer size for precision p: m / 10 + 1 LONG words. */
export function sparkWordCount(precision: number): number {
  return Math.floor((1 << precision) / REGISTERS_PER_WORD) + 1;
}

/** The state as Spark's aggregation buffer: ten 6-bit registers per LONG word, register j at bits 6·(j mod 10). */
export function toSparkWords(state: HllState): bigint[] {
  const words: bigint[] = [];
  const count = sparkWordCount(Math.log2(state.length));
  for (let w = 0; w < count; w++) {
    let word = 0n;
    for (let i = 0; i < REGISTERS_PER_WORD; i++) {
      const j = w * REGISTERS_PER_WORD + i;
      if (j < state.length) word |= BigInt(state[j] as number) << BigInt(REGISTER_BITS * i);
    }
    words.push(word);
  }
  return words;
}

/** A state from Spark's aggregation buffer words (inverse of toSparkWords). */
export function fromSparkWords(words: readonly bigint[], precision: number): HllState {
  if (words.length !== sparkWordCount(precision)) {
    throw new RangeError(`HLL++ buffer for p=${precision} has ${sparkWordCount(precision)} words; got ${words.length}`);
  }
  const state = new Uint8Array(1 << precision);
  for (let j = 0; j < state.length; j++) {
    const word = words[Math.floor(j / REGISTERS_PER_WORD)] as bigint;
    state[j] = Number((word >> BigInt(REGISTER_BITS * (j % REGISTERS_PER_WORD))) & 63n);
  }
  return state;
}

/** 2^-k for every register value k (exact powers of two, as Spark's 1.0 / (1L << k)). */
const INVERSE_POWERS = Float64Array.from({ length: 66 }, (_, k) => 2 ** -k);

/**
 * Java's `Arrays.binarySearch(double[], from, to, key)`, step for step: the tables are not strictly
 * sorted everywhere, so only the same algorithm lands on the same index.
 */
function javaBinarySearch(a: readonly number[], key: number): number {
  let low = 0;
  let high = a.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const midVal = a[mid] as number;
    if (midVal < key) low = mid + 1;
    else if (midVal > key) high = mid - 1;
    else if (Object.is(midVal, key)) return mid;
    // Equal but different bits: only (-0.0, 0.0); raw estimates are positive, kept for fidelity.
    else if (Object.is(midVal, -0)) low = mid + 1;
    else high = mid - 1;
  }
  return -(low + 1);
}

/** Spark's estimateBias: mean bias of the K raw estimates nearest to e (k-nearest-neighbour). */
function estimateBias(p: number, e: number): number {
  const estimates = HLL_RAW_ESTIMATE_DATA[p - 4] as readonly number[];
  const biases = HLL_BIAS_DATA[p - 4] as readonly number[];
  const n = estimates.length;
  const ix = javaBinarySearch(estimates, e);
  const nearest = ix < 0 ? -(ix + 1) : ix;
  const distance = (i: number): number => {
    const diff = e - (estimates[i] as number);
    return diff * diff;
  };
  let low = Math.max(nearest - HLL_BIAS_NEIGHBOURS + 1, 0);
  let high = Math.min(low + HLL_BIAS_NEIGHBOURS, n);
  while (high < n && distance(high) < distance(low)) {
    low++;
    high++;
  }
  let biasSum = 0.0;
  for (let i = low; i < high; i++) biasSum += biases[i] as number;
  return biasSum / (high - low);
}

/** Spark's query(): the estimate from the registers. */
function estimate(p: number, state: HllState): number {
  const m = 1 << p;
  let zInverse = 0.0;
  let V = 0.0;
  // Summed in register order, as Spark does: floating-point addition is order-sensitive.
  for (let j = 0; j < m; j++) {
    const M = state[j] as number;
    zInverse += INVERSE_POWERS[M] as number;
    if (M === 0) V += 1.0;
  }
  const alphaM2 = p === 4 ? 0.673 * m * m : p === 5 ? 0.697 * m * m : p === 6 ? 0.709 * m * m : (0.7213 / (1.0 + 1.079 / m)) * m * m;
  const E = alphaM2 / zInverse;
  const biasCorrected = (): number => (p < 19 && E < 5.0 * m ? E - estimateBias(p, E) : E);
  let result: number;
  if (V > 0) {
    const H = m * Math.log(m / V);
    result = (p < 19 && H <= (HLL_THRESHOLDS[p - 4] as number)) || E <= 2.5 * m ? H : biasCorrected();
  } else {
    result = biasCorrected();
  }
  // Java's Math.round (half up) and JS's agree for every double.
  return Math.round(result);
}

/**
 * The hash of one non-null value into `hasher` (hi/lo hold it afterwards), per Spark's type rules.
 * Throws a TypeError when the JS value does not fit the declared type (a planner bug, not bad data).
 */
type HashOne = (hasher: XxHash64, value: Exclude<HllInput, null | undefined>) => void;

const doubleView = new DataView(new ArrayBuffer(8));

function wrongType(type: HllInputType, value: unknown): never {
  throw new TypeError(`approx_count_distinct over ${type}: got a ${typeof value} (${String(value)})`);
}

const HASHERS: Readonly<Record<HllInputType, HashOne>> = {
  string: (h, v) => (typeof v === 'string' ? h.hashString(v) : wrongType('string', v)),
  int: (h, v) => (typeof v === 'number' ? h.hashInt(v | 0) : wrongType('int', v)),
  boolean: (h, v) => (typeof v === 'boolean' ? h.hashInt(v ? 1 : 0) : wrongType('boolean', v)),
  long: (h, v) => (typeof v === 'number' || typeof v === 'bigint' ? h.hashLong(v) : wrongType('long', v)),
  timestamp: (h, v) => (typeof v === 'number' || typeof v === 'bigint' ? h.hashLong(v) : wrongType('timestamp', v)),
  double: (h, v) => {
    if (typeof v !== 'number') return wrongType('double', v);
    // -0.0 and 0.0 hash as 0L; every NaN as Java's canonical NaN bits 0x7ff8000000000000.
    if (v === 0) return h.hashLongHalves(0, 0);
    if (Number.isNaN(v)) return h.hashLongHalves(0x7ff80000, 0);
    doubleView.setFloat64(0, v, true);
    return h.hashLongHalves(doubleView.getUint32(4, true), doubleView.getUint32(0, true));
  },
};

/**
 * Spark's `xxhash64(col)` of one value of `inputType` (seed 42, a signed 64-bit result): the hash
 * HyperLogLog++ sketches. SQL NULL gives the seed, 42, as in Spark.
 */
export function sparkXxHash64(inputType: HllInputType, value: HllInput): bigint {
  if (value === null || value === undefined) return SEED;
  const hasher = new XxHash64(SEED);
  HASHERS[inputType](hasher, value);
  return hasher.toBigInt();
}

/** approx_count_distinct(col, rsd) over values of `inputType`. Throws a user error for an rsd Spark rejects. */
export function approxCountDistinct(inputType: HllInputType, relativeSD: number = DEFAULT_RELATIVE_SD): ApproxCountDistinct {
  const hashOne = HASHERS[inputType];
  if (hashOne === undefined) {
    throw new KindlingError('BAD_QUERY', `approx_count_distinct: unsupported input type ${JSON.stringify(inputType)}`, { domain: 'user' });
  }
  const p = hllPrecision(relativeSD);
  const m = 1 << p;
  const hasher = new XxHash64(SEED);
  const indexShift = 32 - p; // idx = x >>> (64 - p), taken from the high half (p <= 24)
  const wPadding = 1 << (p - 1);
  const checkState = (state: HllState, what: string): void => {
    if (!(state instanceof Uint8Array) || state.length !== m) {
      throw new RangeError(`approx_count_distinct (p=${p}): ${what} must be a Uint8Array of ${m} registers; got ${state instanceof Uint8Array ? `${state.length} bytes` : typeof state}`);
    }
  };
  return {
    inputType,
    relativeSD,
    precision: p,
    init: () => new Uint8Array(m),
    update(state, value) {
      if (value === null || value === undefined) return;
      hashOne(hasher, value);
      const hi = hasher.hi;
      const lo = hasher.lo;
      const idx = hi >>> indexShift;
      // (x << p) | wPadding, then count its leading zeros across the two halves.
      const shiftedHi = ((hi << p) | (lo >>> (32 - p))) >>> 0;
      const shiftedLo = ((lo << p) | wPadding) >>> 0;
      const pw = (shiftedHi !== 0 ? Math.clz32(shiftedHi) : 32 + Math.clz32(shiftedLo)) + 1;
      if (pw > (state[idx] as number)) state[idx] = pw;
    },
    merge(into, from) {
      checkState(into, 'the merge target');
      checkState(from, 'the merged partial');
      for (let j = 0; j < m; j++) {
        const r = from[j] as number;
        if (r > (into[j] as number)) into[j] = r;
      }
    },
    evaluate(state) {
      checkState(state, 'the state');
      return estimate(p, state);
    },
  };
}
