// Samples per-core CPU load and machine memory in the background, so a batch reads the latest sample for free.
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import type { SystemProgress } from './progress.js';

/** The two systeminformation calls the sampler makes (injected in tests). */
export interface SystemReader {
  currentLoad(): Promise<{ currentLoad: number; cpus: ReadonlyArray<{ load: number }> }>;
  mem(): Promise<{ total: number; available: number }>;
}

type CpuTimes = ReturnType<typeof cpus>[number]['times'];

/**
 * Per-core load from the change in os.cpus() times since the previous call: the formula of
 * systeminformation's currentLoad(), without what that does on Linux besides: a synchronous
 * `execSync('cat /proc/stat | grep cpu')` (for steal time) that held the main thread 10-30 ms per
 * call here, stalling the batch loop. Like currentLoad(), the first call averages since boot.
 */
export function cpuTimesLoad(read: () => ReadonlyArray<{ times: CpuTimes }> = cpus): SystemReader['currentLoad'] {
  let last: CpuTimes[] = [];
  return async () => {
    const now = read().map((c) => c.times);
    const loads = now.map((t, i) => {
      const before = last[i] ?? { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 };
      const total = t.user + t.nice + t.sys + t.idle + t.irq - (before.user + before.nice + before.sys + before.idle + before.irq);
      const idle = t.idle - before.idle;
      return total > 0 ? (100 * (total - idle)) / total : 0;
    });
    last = now;
    return { currentLoad: loads.length ? loads.reduce((a, b) => a + b, 0) / loads.length : 0, cpus: loads.map((load) => ({ load })) };
  };
}

/** MemTotal and MemAvailable of /proc/meminfo in bytes (what systeminformation's mem() reads on Linux), or null. */
export function meminfoBytes(text: string): { total: number; available: number } | null {
  const kib = (field: string): number | null => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  const total = kib('MemTotal');
  const available = kib('MemAvailable');
  return total !== null && available !== null ? { total, available } : null;
}

/**
 * CPU from os.cpus() deltas (see cpuTimesLoad); memory from /proc/meminfo, else systeminformation's
 * mem(), imported only then: its import took tens of ms of the main thread while the first batch started.
 */
export function defaultSystemReader(): SystemReader {
  const mem = async (): Promise<{ total: number; available: number }> => {
    const fromProc = meminfoBytes(await readFile('/proc/meminfo', 'utf8').catch(() => ''));
    return fromProc ?? (await import('systeminformation')).default.mem();
  };
  return { currentLoad: cpuTimesLoad(), mem };
}

/** The process's own memory figures (injected in tests). */
export type ProcessMemoryReader = () => { heapUsed: number; heapTotal: number; rss: number; external: number };

/** How often to sample, and what to read from. */
export interface SystemSamplerOptions {
  /** Time between samples; currentLoad() reports the load averaged since the previous call. */
  readonly intervalMs?: number;
  readonly reader?: SystemReader;
  readonly processMemory?: ProcessMemoryReader;
  /** Called once if a sample fails (systeminformation cannot read the machine); sampling then stops. */
  readonly onError?: (err: unknown) => void;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/**
 * Keeps the latest CPU/memory sample, read on a timer, never per batch. The first CPU reading is
 * the average since boot, so it is discarded as a baseline and later ones are averages over one
 * interval. `snapshot()` never waits.
 */
export class SystemSampler {
  private cpu: SystemProgress['cpu'] = null;
  private memory: SystemProgress['memory'] = null;
  private sampledAt: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private baselineTaken = false;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly reader: SystemReader;
  private readonly processMemory: ProcessMemoryReader;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly options: SystemSamplerOptions = {}) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.reader = options.reader ?? defaultSystemReader();
    this.processMemory = options.processMemory ?? (() => process.memoryUsage());
  }

  /** Starts sampling in the background (the timer does not keep the process alive). */
  start(): this {
    if (this.timer || this.stopped) return this;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Resolves once a first real sample exists (or sampling stopped). */
  ready(): Promise<void> {
    if (this.cpu !== null || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The latest sample plus the process's memory now; cheap enough to call once per batch. */
  snapshot(): SystemProgress {
    const m = this.processMemory();
    return {
      sampledAt: this.sampledAt,
      cpu: this.cpu,
      memory: this.memory,
      process: { heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, rssBytes: m.rss, externalBytes: m.external },
    };
  }

  /** Stops the timer and waits for a sample in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
    this.wake();
  }

  private tick(): void {
    if (this.inFlight || this.stopped) return; // a slow sample is never stacked on another
    this.inFlight = this.sample().finally(() => {
      this.inFlight = null;
    });
  }

  private async sample(): Promise<void> {
    try {
      const [load, mem] = await Promise.all([this.reader.currentLoad(), this.reader.mem()]);
      if (this.stopped) return;
      this.memory = { totalBytes: mem.total, availableBytes: mem.available, usedBytes: mem.total - mem.available };
      this.sampledAt = new Date().toISOString();
      if (!this.baselineTaken) {
        // The first currentLoad() is the average since boot: a baseline, not a reading.
        this.baselineTaken = true;
        return;
      }
      this.cpu = { loadPercent: round1(load.currentLoad), coresLoadPercent: load.cpus.map((c) => round1(c.load)) };
      this.wake();
    } catch (err) {
      this.stopped = true;
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      this.options.onError?.(err);
      this.wake();
    }
  }

  private wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
