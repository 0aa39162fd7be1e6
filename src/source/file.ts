// The file source: newline-delimited JSON files replayed in name order, with fixed batch boundaries.
import { Buffer } from 'node:buffer';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { KindlingError } from '../errors.js';
import type { PollResult, ResumableSource, Split } from './source.js';

/** How the file source cuts batches. At most one of the two limits is set; otherwise bytes decide. */
export interface FileSourceOptions {
  readonly path: string;
  /** Whole files per batch (Spark's maxFilesPerTrigger). */
  readonly maxFilesPerBatch: number | null;
  /** Records per batch (counted on the main thread, the only per-record work it does). */
  readonly maxEventsPerBatch: number | null;
  /** Bytes per batch when neither limit is set; a batch holds the records that start in its bytes. */
  readonly maxBytesPerBatch: number;
  /** Bytes per stage-1 task. */
  readonly splitBytes: number;
  /** --allow-empty: a path with nothing to read runs (0 events) instead of being a usage error. */
  readonly allowEmpty?: boolean;
  /** Where the warning about files without an NDJSON extension goes. */
  readonly log?: (line: string) => void;
}

/** The names the file source expects; others are read too, with a warning (see checkInput). */
const NDJSON_NAME = /\.(ndjson|jsonl|json)$/i;

/** Where the file source stands: the next unread byte of file `fileIndex`. */
export interface FilePosition {
  readonly fileIndex: number;
  readonly file: string | null;
  readonly byteOffset: number;
}

const NEWLINE = 10;

/** A copy of buf[0, length) in a buffer of its own. */
function copyOf(buf: Buffer, length: number): Buffer {
  const own = Buffer.allocUnsafeSlow(length);
  buf.copy(own, 0, 0, length);
  return own;
}

/** Counts records in buf[from, to) up to `limit`; returns how many and the byte where the last one counted ends. */
function countRecords(buf: Buffer, from: number, to: number, limit: number, atEof: boolean): { records: number; end: number } {
  let records = 0;
  let s = from;
  while (s < to && records < limit) {
    const nl = buf.indexOf(NEWLINE, s);
    if (nl === -1 || nl >= to) {
      if (atEof) {
        records++;
        s = to;
      }
      break;
    }
    records++;
    s = nl + 1;
  }
  return { records, end: s };
}

/**
 * Says when --path holds nothing to read: no files, or only empty ones, is a usage error (exit 2) unless
 * --allow-empty, because a run that silently counts 0 events hides a wrong path; files that do not look
 * like NDJSON by name are read anyway (their lines are counted as rejected if they are not records) with a warning.
 */
async function checkInput(options: FileSourceOptions, files: readonly string[]): Promise<void> {
  let bytes = 0;
  for (const file of files) bytes += await stat(file).then((s) => s.size, () => 0);
  if (bytes === 0) {
    const what = files.length === 0 ? 'no files (hidden ones are skipped)' : `${files.length} file(s), all empty`;
    const message = `--path ${options.path}: nothing to read: it holds ${what}`;
    if (!options.allowEmpty) {
      throw new KindlingError('BAD_PATH', `${message}. Write some with  npx kindling generate --out ${options.path}  or give --allow-empty to run with no input`, {
        domain: 'user',
      });
    }
    options.log?.(`warning: ${message}; running anyway (--allow-empty): 0 events`);
    return;
  }
  const named = files.filter((f) => NDJSON_NAME.test(f)).length;
  if (named === 0) {
    options.log?.(`warning: --path ${options.path}: none of its ${files.length} file(s) ends in .ndjson, .jsonl or .json; reading them as NDJSON anyway (lines that are not records count as rejected)`);
  }
}

/**
 * Reads NDJSON files in name order. A split is a byte range of a file (src/source/file-range.ts)
 * that the worker scanning it reads and cuts at newlines: it owns the records that start in it, so
 * no record is cut or read twice, and the main thread never touches the bytes. Only
 * --max-events-per-batch reads on the main thread (it must count records to cut): there each split
 * is a fresh buffer transferred to a worker, ending at the last newline it holds. Batch boundaries
 * depend only on the files and the options, so a replay cuts the same batches.
 */
export class FileSource implements ResumableSource<FilePosition> {
  readonly name = 'file';
  readonly readAhead = true;
  private fileIndex = 0;
  private byteOffset = 0;
  private handle: FileHandle | null = null;
  private handleSize = 0;

  private constructor(
    private readonly options: FileSourceOptions,
    readonly files: readonly string[],
  ) {}

  /** Lists the input files; an unreadable or missing path is a user error. */
  static async open(options: FileSourceOptions): Promise<FileSource> {
    let files: string[];
    try {
      const info = await stat(options.path);
      if (info.isDirectory()) {
        const entries = await readdir(options.path, { withFileTypes: true });
        files = entries
          .filter((e) => e.isFile() && !e.name.startsWith('.'))
          .map((e) => e.name)
          .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
          .map((name) => join(options.path, name));
      } else {
        files = [options.path];
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A first run on a fresh clone has no input yet: say how to make some.
      const hint = code === 'ENOENT' ? `: it does not exist; \`npx kindling generate --out ${options.path}\` writes seeded lab events there` : '';
      throw new KindlingError('BAD_PATH', `--path ${options.path}: cannot read it (${code ?? (err as Error).message}${hint})`, {
        domain: 'user',
        cause: err,
      });
    }
    await checkInput(options, files);
    return new FileSource(options, files);
  }

  describe(): string {
    const { path, maxFilesPerBatch, maxEventsPerBatch, maxBytesPerBatch } = this.options;
    const cut =
      maxFilesPerBatch !== null
        ? `${maxFilesPerBatch} file(s) per batch`
        : maxEventsPerBatch !== null
          ? `${maxEventsPerBatch.toLocaleString('en-US')} events per batch`
          : `${(maxBytesPerBatch / 1048576).toFixed(1)} MiB per batch`;
    return `file ${path} (${this.files.length} file(s), ${cut})`;
  }

  /** The current position (for offsets logs). */
  get position(): FilePosition {
    return { fileIndex: this.fileIndex, file: this.files[this.fileIndex] ?? null, byteOffset: this.byteOffset };
  }

  /** The input directory or file: offsets are positions in it. */
  identity(): unknown {
    return { path: resolve(this.options.path) };
  }

  /** Moves to a position written by `position` (restores). */
  async seek(position: FilePosition): Promise<void> {
    await this.closeHandle();
    this.fileIndex = position.fileIndex;
    this.byteOffset = position.byteOffset;
  }

  async poll(): Promise<PollResult<FilePosition>> {
    return this.cut(null);
  }

  /** Cuts the next batch to end exactly at `endOffsets` (a replay), ignoring the batch limits. */
  async pollUntil(endOffsets: FilePosition): Promise<PollResult<FilePosition>> {
    return this.cut(endOffsets);
  }

  /** Cuts one batch by the options, or exactly up to `until`. */
  private async cut(until: FilePosition | null): Promise<PollResult<FilePosition>> {
    const { maxFilesPerBatch, maxEventsPerBatch, maxBytesPerBatch, splitBytes } = this.options;
    const startOffsets = this.position;
    const splits: Split[] = [];
    let filesDone = 0;
    let records = 0;
    let bytes = 0;
    for (;;) {
      if (this.fileIndex >= this.files.length) break;
      if (until !== null) {
        if (this.fileIndex > until.fileIndex || (this.fileIndex === until.fileIndex && this.byteOffset >= until.byteOffset)) break;
      } else {
        if (maxFilesPerBatch !== null && filesDone >= maxFilesPerBatch) break;
        if (maxEventsPerBatch !== null && records >= maxEventsPerBatch) break;
        if (maxFilesPerBatch === null && maxEventsPerBatch === null && bytes >= maxBytesPerBatch) break;
      }
      const file = this.files[this.fileIndex]!;
      const size = await this.openCurrent(file);
      if (this.byteOffset >= size) {
        await this.nextFile();
        filesDone++;
        continue;
      }
      if (maxEventsPerBatch === null || until !== null) {
        // A byte range for a worker to read and cut at newlines itself: no byte of the file
        // passes through the main thread (it read and copied ~400 MB per 3M events before).
        let end = Math.min(size, this.byteOffset + splitBytes);
        if (until !== null) {
          if (this.fileIndex === until.fileIndex) end = Math.min(end, until.byteOffset);
        } else if (maxFilesPerBatch === null) end = Math.min(end, this.byteOffset + Math.max(1, maxBytesPerBatch - bytes));
        splits.push({ payload: { kind: 'file-range', path: file, start: this.byteOffset, end, size }, origin: { label: file } });
        bytes += end - this.byteOffset;
        this.byteOffset = end;
        if (this.byteOffset >= size) {
          await this.nextFile();
          filesDone++;
        }
        continue;
      }
      // --max-events-per-batch: read here and count records to cut the batch after the last one.
      let buf = await this.readAt(this.byteOffset, Math.min(splitBytes, size - this.byteOffset));
      let atEof = this.byteOffset + buf.length >= size;
      let cut = atEof ? buf.length : buf.lastIndexOf(NEWLINE) + 1;
      while (cut === 0) {
        // One record longer than the chunk: read on until its newline or the end of the file.
        const more = await this.readAt(this.byteOffset + buf.length, Math.min(Math.max(buf.length, splitBytes), size - this.byteOffset - buf.length));
        buf = Buffer.concat([buf, more]);
        atEof = this.byteOffset + buf.length >= size;
        cut = atEof ? buf.length : buf.lastIndexOf(NEWLINE) + 1;
      }
      const counted = countRecords(buf, 0, cut, maxEventsPerBatch - records, atEof && cut === buf.length);
      records += counted.records;
      if (counted.end < cut) {
        cut = counted.end;
        atEof = false;
      }
      // Each split's bytes sit alone in their ArrayBuffer (allocUnsafeSlow), which the coordinator
      // transfers to a worker: a view of the first `cut` bytes, no copy (the tail is read again
      // with the next split). Copying cost 21 ns per event on the main thread.
      const own = buf.buffer.byteLength <= 2 * cut + 65_536 ? buf.subarray(0, cut) : copyOf(buf, cut);
      splits.push({ payload: { kind: 'bytes', bytes: own }, origin: { label: file } });
      this.byteOffset += cut;
      bytes += cut;
      if (atEof && this.byteOffset >= size) {
        await this.nextFile();
        filesDone++;
      }
    }
    if (splits.length === 0) {
      await this.closeHandle();
      return { kind: 'end' };
    }
    return {
      kind: 'batch',
      batch: { splits, records: maxEventsPerBatch !== null && until === null ? records : null, startOffsets, endOffsets: this.position },
    };
  }

  async close(): Promise<void> {
    await this.closeHandle();
  }

  /** Checks offsets from a checkpoint against these files: a user error if they do not fit them. */
  parseOffsets(offsets: unknown): FilePosition {
    const o = offsets as Partial<FilePosition> | null;
    const bad = (why: string): never => {
      throw new KindlingError('BAD_OFFSETS', `file source ${this.options.path}: cannot resume at ${JSON.stringify(offsets)}: ${why}`, { domain: 'user' });
    };
    if (typeof o !== 'object' || o === null || !Number.isSafeInteger(o.fileIndex) || !Number.isSafeInteger(o.byteOffset) || o.fileIndex! < 0 || o.byteOffset! < 0) {
      return bad('not a file position {fileIndex, file, byteOffset}');
    }
    if (o.fileIndex! > this.files.length) bad(`the input has only ${this.files.length} file(s)`);
    const here = this.files[o.fileIndex!];
    if (typeof o.file === 'string' && (here === undefined || basename(here) !== basename(o.file))) {
      bad(`the checkpoint expects file ${basename(o.file)} at index ${o.fileIndex}, but the input has ${here === undefined ? 'fewer files' : basename(here)} (were input files renamed or removed?)`);
    }
    return { fileIndex: o.fileIndex!, file: o.file ?? null, byteOffset: o.byteOffset! };
  }

  private async openCurrent(file: string): Promise<number> {
    if (this.handle === null) {
      try {
        this.handle = await open(file, 'r');
        this.handleSize = (await this.handle.stat()).size;
      } catch (err) {
        throw new KindlingError('BAD_PATH', `cannot read input file ${file}: ${(err as Error).message}`, { domain: 'user', cause: err });
      }
    }
    return this.handleSize;
  }

  private async readAt(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafeSlow(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.handle!.read(buf, filled, length - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === length ? buf : buf.subarray(0, filled);
  }

  private async nextFile(): Promise<void> {
    await this.closeHandle();
    this.fileIndex++;
    this.byteOffset = 0;
  }

  private async closeHandle(): Promise<void> {
    if (this.handle !== null) {
      await this.handle.close();
      this.handle = null;
    }
  }
}
