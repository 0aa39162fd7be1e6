// The lab's event stream as a pure function of (settings, index): seeded, deterministic, addressable by index.

/** Settings of the lab's generator (DESIGN.md section 1), plus seeded lateness. */
export interface GeneratorSpec {
  readonly seed: number;
  /** Event time of event 0, epoch ms. */
  readonly startTimeMs: number;
  /** Event time advances by 1000 / eventsPerSecond ms per event. */
  readonly eventsPerSecond: number;
  /** Users are user_<userBase> .. user_<userBase + users - 1>, uniform. */
  readonly users: number;
  readonly userBase: number;
  /** Source IPs 192.168.1.1 .. 192.168.1.<sourceIps>. */
  readonly sourceIps: number;
  /** One event in N gets the term "crash" (the lab's ADDITIONAL_TERM_RATE). */
  readonly crashOneIn: number;
  /** One event in N mentions a "vulnerability". */
  readonly vulnerabilityOneIn: number;
  /** Fraction of events whose timestamp is pushed back by up to `lateSpreadMs`. */
  readonly lateFraction: number;
  readonly lateSpreadMs: number;
}

/** The lab's defaults. */
export const DEFAULT_GENERATOR: Omit<GeneratorSpec, 'startTimeMs'> = {
  seed: 42,
  eventsPerSecond: 10_000,
  users: 1000,
  userBase: 1000,
  sourceIps: 100,
  crashOneIn: 100,
  vulnerabilityOneIn: 50,
  lateFraction: 0,
  lateSpreadMs: 0,
};

const MESSAGES = [
  'user login successful',
  'payment processed',
  'cache miss on product page',
  'request timed out upstream',
  'disk usage above threshold',
  'session refreshed',
  'order submitted',
  'configuration reloaded',
];
const CRASH_SPELLINGS = ['crash', 'Crash', 'CRASH', 'app crash', 'CrAsH'];
const STATUSES = ['OK', 'OK', 'OK', 'WARN', 'ERROR'];

/** A 32-bit mixing function (lowbias32): decorrelates seed and index into a uniform word. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Draw number `draw` for event `index`, uniform in [0, 1). */
function uniform(seed: number, index: number, draw: number): number {
  const hi = Math.floor(index / 0x100000000);
  return mix32(mix32(mix32(seed ^ Math.imul(draw + 1, 0x9e3779b9)) ^ (index >>> 0)) ^ hi) / 0x100000000;
}

/** Event `index` of the stream as the JSON text the lab's producer writes (one line, no newline). */
export function labEventJson(spec: GeneratorSpec, index: number): string {
  const { seed } = spec;
  let timestamp = spec.startTimeMs + Math.floor((index * 1000) / spec.eventsPerSecond);
  if (spec.lateFraction > 0 && uniform(seed, index, 0) < spec.lateFraction) {
    timestamp -= 1 + Math.floor(uniform(seed, index, 1) * spec.lateSpreadMs);
  }
  const r = uniform(seed, index, 2);
  const severity = r < 0.18 ? 'High' : r < 0.3 ? 'Critical' : r < 0.65 ? 'Medium' : 'Low';
  const user = spec.userBase + Math.floor(uniform(seed, index, 3) * spec.users);
  const ip = 1 + Math.floor(uniform(seed, index, 4) * spec.sourceIps);
  const status = STATUSES[Math.floor(uniform(seed, index, 5) * STATUSES.length)]!;
  let content = MESSAGES[Math.floor(uniform(seed, index, 6) * MESSAGES.length)]!;
  if (uniform(seed, index, 7) * spec.vulnerabilityOneIn < 1) content = `vulnerability detected: ${content}`;
  if (uniform(seed, index, 8) * spec.crashOneIn < 1) {
    content += ` ${CRASH_SPELLINGS[Math.floor(uniform(seed, index, 9) * CRASH_SPELLINGS.length)]!}`;
  }
  return (
    `{"timestamp":${timestamp},"status":"${status}","severity":"${severity}",` +
    `"source_ip":"192.168.1.${ip}","user_id":"user_${user}","content":"${content}"}`
  );
}

/** Events [firstIndex, firstIndex + count) as newline-terminated NDJSON text. */
export function labEventsNdjson(spec: GeneratorSpec, firstIndex: number, count: number): string {
  const lines = new Array<string>(count);
  for (let i = 0; i < count; i++) lines[i] = labEventJson(spec, firstIndex + i);
  return count === 0 ? '' : lines.join('\n') + '\n';
}
