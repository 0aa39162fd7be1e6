// The sticky footer: other output lands above it whole, it is redrawn below, throttled, and leaves cleanly.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StickyFooter } from '../../src/metrics/sticky-footer.js';

/** A fake terminal stream that records what reaches it. */
class FakeTty {
  out = '';
  rows = 24;
  write(chunk: string | Uint8Array): boolean {
    this.out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }
}

const ERASE = (n: number): string => `\r\x1b[${n}A\x1b[J`;
let clock = 0;
const now = (): number => clock;

afterEach(() => {
  vi.useRealTimers();
  clock = 0;
});

describe('StickyFooter', () => {
  it('draws the lines, then erases them before a foreign write and draws them again after it', () => {
    const tty = new FakeTty();
    const stdout = new FakeTty();
    const footer = new StickyFooter(tty, [stdout], 100, now).start();
    footer.update(['a', 'b']);
    expect(tty.out).toBe('a\nb\n');
    stdout.write('+---+\n|row|\n+---+\n');
    // The erase goes to the terminal, the table to stdout, the redraw to the terminal: in time order.
    expect(tty.out).toBe(`a\nb\n${ERASE(2)}a\nb\n`);
    expect(stdout.out).toBe('+---+\n|row|\n+---+\n');
    footer.stop();
  });

  it('does not redraw after a write that leaves the cursor mid-line, until the line ends', () => {
    const tty = new FakeTty();
    const footer = new StickyFooter(tty, [], 0, now).start();
    footer.update(['view']);
    tty.write('partial');
    expect(tty.out).toBe(`view\n${ERASE(1)}partial`);
    footer.update(['view 2']);
    expect(tty.out).toBe(`view\n${ERASE(1)}partial`);
    tty.write(' line\n');
    expect(tty.out).toBe(`view\n${ERASE(1)}partial line\nview 2\n`);
    footer.stop();
  });

  it('redraws at most once per interval and always draws the final state on stop', () => {
    vi.useFakeTimers();
    const tty = new FakeTty();
    const footer = new StickyFooter(tty, [], 100, now).start();
    clock = 1000;
    footer.update(['1']);
    clock = 1010;
    footer.update(['2']);
    footer.update(['3']);
    expect(tty.out).toBe('1\n');
    clock = 1100;
    vi.advanceTimersByTime(100);
    expect(tty.out).toBe(`1\n${ERASE(1)}3\n`);
    clock = 1150;
    footer.update(['4']);
    footer.stop();
    expect(tty.out).toBe(`1\n${ERASE(1)}3\n${ERASE(1)}4\n`);
  });

  it('restores the streams on stop: later writes pass through untouched', () => {
    const tty = new FakeTty();
    const stdout = new FakeTty();
    const originalWrite = stdout.write;
    const footer = new StickyFooter(tty, [stdout], 0, now).start();
    footer.update(['view']);
    footer.stop();
    expect(stdout.write).toBe(originalWrite);
    stdout.write('summary\n');
    expect(tty.out).toBe('view\n');
    expect(stdout.out).toBe('summary\n');
  });

  it('keeps a block taller than the screen to the screen height, so it can still be erased', () => {
    const tty = new FakeTty();
    tty.rows = 4;
    const footer = new StickyFooter(tty, [], 0, now).start();
    footer.update(['1', '2', '3', '4', '5', '6']);
    expect(tty.out).toBe('1\n2\n3\n');
    tty.write('x\n');
    expect(tty.out).toBe(`1\n2\n3\n${ERASE(3)}x\n1\n2\n3\n`);
    footer.stop();
  });
});
