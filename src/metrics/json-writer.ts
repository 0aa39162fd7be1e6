// --progress-json: one progress record per line, to a file or to stdout.
import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { KindlingError } from '../errors.js';

/** Writes already-serialised progress records, one per line; '-' means stdout. */
export class ProgressJsonWriter {
  private failed: Error | null = null;

  private constructor(
    private readonly out: Writable,
    private readonly ownsStream: boolean,
    /** What the user gave: a path or '-'. */
    readonly target: string,
  ) {
    out.on('error', (err: Error) => {
      this.failed ??= err;
    });
  }

  /**
   * Opens `target` for writing (truncating it) or takes stdout for '-'. A path that cannot be
   * opened is the user's error, reported before the first batch.
   */
  static async open(target: string, stdout: Writable = process.stdout): Promise<ProgressJsonWriter> {
    if (target === '-') return new ProgressJsonWriter(stdout, false, target);
    try {
      const handle = await open(target, 'w');
      return new ProgressJsonWriter(handle.createWriteStream(), true, target);
    } catch (err) {
      throw new KindlingError('BAD_PROGRESS_JSON', `--progress-json ${target}: cannot open for writing: ${(err as Error).message}`, { domain: 'user', cause: err });
    }
  }

  /** Appends one line; `json` is the record already serialised (shared with the web UI). */
  write(json: string): void {
    if (this.failed) return; // reported once, at close
    this.out.write(json + '\n');
  }

  /** Flushes and closes the file (stdout stays open); rejects if any write failed. */
  async close(): Promise<void> {
    if (this.ownsStream) {
      await new Promise<void>((resolve) => this.out.end(resolve));
    }
    if (this.failed) {
      throw new KindlingError('PROGRESS_JSON_FAILED', `--progress-json ${this.target}: write failed: ${this.failed.message}`, { domain: 'external', cause: this.failed });
    }
  }
}
