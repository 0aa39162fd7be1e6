// Keeps a block of lines at the bottom of a terminal, redrawn in place, while other output scrolls above it.

/** The part of a TTY stream the footer uses (process.stderr in the CLI; a fake in tests). */
export interface FooterTerminal {
  write(chunk: string | Uint8Array, ...rest: unknown[]): boolean;
  readonly rows?: number;
  on?(event: 'resize', listener: () => void): unknown;
  off?(event: 'resize', listener: () => void): unknown;
}

/** A stream whose writes the footer intercepts so they land above the block (process.stdout). */
export interface SharedStream {
  write(chunk: string | Uint8Array, ...rest: unknown[]): boolean;
}

const ESC = '\x1b[';

const endsWithNewline = (chunk: unknown): boolean => {
  if (typeof chunk === 'string') return chunk.endsWith('\n');
  if (chunk instanceof Uint8Array) return chunk.length > 0 && chunk[chunk.length - 1] === 10;
  return true;
};

/**
 * A footer drawn on `terminal`. Every write to `terminal` or to a shared stream (the console
 * sink's stdout, log lines on stderr) first erases the footer, then the footer is drawn again
 * below it, so tables stay whole and the footer stays last. Redraws are throttled to
 * `minIntervalMs`; the final state is always drawn by stop(). Only cursor-up (CSI n A), erase
 * below (CSI J) and carriage return are used, which every terminal since the VT100 understands.
 */
export class StickyFooter {
  private lines: string[] = [];
  private drawnLines = 0;
  private lastDrawMs = Number.NEGATIVE_INFINITY;
  /** Lines changed since they were last drawn. */
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  /** A foreign write left the cursor mid-line: drawing now would break that line. */
  private midLine = false;
  private readonly restores: Array<() => void> = [];
  private readonly rawWrite: (s: string) => void;
  private readonly onResize = (): void => this.draw();

  constructor(
    private readonly terminal: FooterTerminal,
    private readonly shared: readonly SharedStream[] = [],
    private readonly minIntervalMs = 100,
    private readonly now: () => number = Date.now,
  ) {
    const write = terminal.write;
    this.rawWrite = (s) => void write.call(terminal, s);
  }

  /** Starts intercepting writes to the terminal and the shared streams. */
  start(): this {
    for (const stream of new Set<SharedStream>([this.terminal, ...this.shared])) this.intercept(stream);
    this.terminal.on?.('resize', this.onResize);
    return this;
  }

  /** Replaces the footer's lines; drawn now, or after the throttle interval. */
  update(lines: readonly string[]): void {
    this.lines = [...lines];
    this.dirty = true;
    const wait = this.lastDrawMs + this.minIntervalMs - this.now();
    if (wait <= 0) this.draw();
    else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.draw();
      }, wait);
      this.timer.unref();
    }
  }

  /** Draws the latest lines, stops intercepting and leaves the footer on screen above what follows. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.dirty) this.draw();
    this.terminal.off?.('resize', this.onResize);
    for (const restore of this.restores.splice(0).reverse()) restore();
    this.drawnLines = 0;
  }

  private intercept(stream: SharedStream): void {
    const original = stream.write;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const footer = this;
    stream.write = function (this: SharedStream, chunk: string | Uint8Array, ...rest: unknown[]): boolean {
      footer.erase();
      const ok = original.call(this, chunk, ...rest);
      footer.midLine = !endsWithNewline(chunk);
      if (!footer.midLine && footer.lines.length > 0) footer.draw();
      return ok;
    };
    this.restores.push(() => {
      stream.write = original;
    });
  }

  private erase(): void {
    if (this.drawnLines === 0) return;
    this.rawWrite(`\r${ESC}${this.drawnLines}A${ESC}J`);
    this.drawnLines = 0;
  }

  private draw(): void {
    if (this.midLine || this.lines.length === 0) return;
    // A block taller than the screen cannot be redrawn in place: keep its first rows.
    const max = Math.max(1, (this.terminal.rows || 24) - 1); // 0 rows: a pty nobody sized
    const lines = this.lines.slice(0, max);
    const erase = this.drawnLines > 0 ? `\r${ESC}${this.drawnLines}A${ESC}J` : '';
    this.rawWrite(erase + lines.join('\n') + '\n');
    this.drawnLines = lines.length;
    this.lastDrawMs = this.now();
    this.dirty = false;
  }
}
