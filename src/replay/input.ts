// A run's input cut into its batches again: from a checkpoint's offsets log (file or generator source), or from files cut as a run would.
import { open, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { CheckpointMetadata, OffsetsEntry } from '../checkpoint/log.js';
import { CheckpointStore } from '../checkpoint/store.js';
import { SPLIT_BYTES } from '../engine/build.js';
import { KindlingError } from '../errors.js';
import { FileSource, type FilePosition } from '../source/file.js';
import { readFileRange } from '../source/file-range.js';
import type { GeneratorOffsets } from '../source/generator.js';
import { labEventJson, type GeneratorSpec } from '../source/lab-events.js';
import type { Split } from '../source/source.js';
import type { ReplayBatch } from './trace.js';

/** A run's input as batches, and what the replay found about it. */
export interface ReplayInput {
  readonly batches: ReplayBatch[];
  /** The run ended with a --drain batch. */
  readonly drain: boolean;
  /** One line: what was replayed. */
  readonly describe: string;
  /** The offsets log's entries of the data batches (their watermarks are checked against the replay's). */
  readonly logged: readonly OffsetsEntry[];
  /** Where the input no longer matches the log (a changed file), found before the replay. */
  readonly problems: string[];
  readonly metadata: CheckpointMetadata | null;
}

/** How a run without a checkpoint cut its file batches (the run's flags). */
export interface FileCut {
  readonly path: string;
  readonly maxFilesPerBatch: number | null;
  readonly maxEventsPerBatch: number | null;
  readonly maxBytesPerBatch: number;
}

/** A file as a person reads it: relative to the working directory when it is below it. */
function shortPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

const NEWLINE = 10;
const CR = 13;

/** Splits file splits into records as the engine's scanner does (a newline ends one, a CR before it is dropped) and numbers their lines per file. */
class FileLines {
  private readonly seen = new Map<string, number>();

  /** Lines of `file` before byte `offset`, when a replay starts in the middle of it. */
  async startAt(file: string, offset: number): Promise<void> {
    if (this.seen.has(file) || offset === 0) return;
    const handle = await open(file, 'r');
    try {
      // A logged offset may fall inside a record (file splits are byte ranges owning the records
      // that start in them): the lines before the first record at or after it are the newlines
      // before offset - 1, plus the one ending the record that holds byte offset - 1.
      const buf = Buffer.alloc(offset - 1);
      await handle.read(buf, 0, offset - 1, 0);
      let lines = 1;
      for (let i = buf.indexOf(NEWLINE); i !== -1; i = buf.indexOf(NEWLINE, i + 1)) lines++;
      this.seen.set(file, lines);
    } finally {
      await handle.close();
    }
  }

  batch(splits: readonly Split[]): ReplayBatch {
    const records: string[] = [];
    const where: Array<{ file: string; firstLine: number; first: number }> = [];
    for (const split of splits) {
      const payload = split.payload.kind === 'file-range' ? { bytes: readFileRange(split.payload) } : split.payload;
      if (!('bytes' in payload)) throw new Error('file splits hold bytes or byte ranges');
      const bytes = Buffer.from(payload.bytes.buffer, payload.bytes.byteOffset, payload.bytes.byteLength);
      const file = split.origin.label;
      const before = this.seen.get(file) ?? 0;
      where.push({ file, firstLine: before + 1, first: records.length });
      let s = 0;
      let n = 0;
      while (s < bytes.length) {
        let next = bytes.indexOf(NEWLINE, s);
        if (next === -1) next = bytes.length;
        const e = next > s && bytes[next - 1] === CR ? next - 1 : next;
        records.push(bytes.toString('utf8', s, e));
        n++;
        s = next + 1;
      }
      this.seen.set(file, before + n);
    }
    return {
      records,
      position(index) {
        let w = where[0]!;
        for (const x of where) if (x.first <= index) w = x;
        return `${shortPath(w.file)} line ${w.firstLine + index - w.first}`;
      },
    };
  }
}

/** Replays files cut by a run's flags (no checkpoint): the same cut as the run's, since it depends only on the files and the flags. */
export async function inputFromFiles(cut: FileCut): Promise<ReplayInput> {
  const source = await FileSource.open({ ...cut, splitBytes: SPLIT_BYTES });
  const lines = new FileLines();
  const batches: ReplayBatch[] = [];
  try {
    for (;;) {
      const polled = await source.poll();
      if (polled.kind !== 'batch') break;
      batches.push(lines.batch(polled.batch.splits));
    }
  } finally {
    await source.close();
  }
  return { batches, drain: false, describe: `${source.describe()}, cut into ${batches.length} batches as a run with these flags cuts it`, logged: [], problems: [], metadata: null };
}

/**
 * Says how a logged file position no longer fits the input: gone or shorter. A position may fall
 * inside a record: a batch cut by --max-bytes-per-batch ends at any byte, and owns the records that
 * start before it (src/source/file-range.ts), so a record boundary proves nothing.
 */
async function checkFilePosition(source: FileSource, batchId: number, position: FilePosition, edge: 'starts' | 'ends'): Promise<string | null> {
  const file = source.files[position.fileIndex];
  if (file === undefined) return position.byteOffset === 0 ? null : `batch ${batchId} ${edge} in file #${position.fileIndex}, which the input no longer has`;
  const size = (await stat(file)).size;
  if (position.byteOffset > size) return `batch ${batchId} ${edge} at byte ${position.byteOffset} of ${file}, which now has only ${size} bytes (the file changed after the run)`;
  return null;
}

/** The logged entries of a checkpoint, from batch 0 without a gap, or a user error saying which are missing and why. */
async function loggedEntries(store: CheckpointStore): Promise<OffsetsEntry[]> {
  const ids = await store.loggedBatchIds();
  if (ids.length === 0) throw new KindlingError('CHECKPOINT_INPUT', `checkpoint ${store.dir} has no logged batch: nothing to replay`, { domain: 'user' });
  if (ids[0] !== 0) {
    throw new KindlingError(
      'CHECKPOINT_INPUT',
      `checkpoint ${store.dir}: the offsets log starts at batch ${ids[0]}; batches 0-${ids[0]! - 1} were pruned, so their boundaries (and the watermark they made) are unknown and the run cannot be replayed exactly. Keep them with --checkpoint-retain (see docs/replay.md)`,
      { domain: 'user' },
    );
  }
  ids.forEach((id, i) => {
    if (id !== i) throw new KindlingError('CHECKPOINT_INPUT', `checkpoint ${store.dir}: the offsets log has a gap before batch ${id}`, { domain: 'user' });
  });
  return Promise.all(ids.map((id) => store.readOffsets(id)));
}

/** How to reach the topic of a Kafka run (not in the checkpoint: brokers move, the topic's offsets do not). */
export interface KafkaReach {
  readonly brokers: readonly string[];
  readonly isolationLevel: 'read_uncommitted' | 'read_committed';
}

/**
 * Replays a checkpoint's logged batches over the same input: each data batch re-cut to its logged
 * range. A no-data batch in the middle replays as an empty batch; the last one (and a drain batch)
 * the oracle runs by itself after the input, as a run does.
 */
export async function inputFromCheckpoint(dir: string, kafka: KafkaReach | null = null): Promise<ReplayInput> {
  const store = await CheckpointStore.openExisting(dir);
  const metadata = await store.readMetadata();
  if (!metadata) throw new KindlingError('CHECKPOINT_INPUT', `${dir} has no metadata.json: not a Kindling checkpoint`, { domain: 'user' });
  const entries = await loggedEntries(store);
  const drain = entries.some((e) => e.drain === true);
  let last = entries.length;
  while (last > 0 && entries[last - 1]!.noData) last--;
  const data = entries.slice(0, last);
  const source = metadata.source;
  if (source.name === 'file') {
    const path = (source.identity as { path?: unknown } | null)?.path;
    if (typeof path !== 'string') throw new KindlingError('CHECKPOINT_INPUT', `checkpoint ${dir}: its metadata names no input path`, { domain: 'user' });
    return replayFiles(dir, path, metadata, data, drain);
  }
  if (source.name === 'generator') return replayGenerator(dir, source.identity as GeneratorSpec, metadata, data, drain);
  if (source.name === 'kafka') {
    const topic = (source.identity as { topic?: unknown } | null)?.topic;
    if (typeof topic !== 'string') throw new KindlingError('CHECKPOINT_INPUT', `checkpoint ${dir}: its metadata names no topic`, { domain: 'user' });
    if (!kafka) throw new KindlingError('CHECKPOINT_INPUT', `checkpoint ${dir} is over Kafka topic ${topic}: give --brokers HOST:PORT (or KAFKA_BROKERS) to read it again`, { domain: 'user' });
    const { replayKafka } = await import('./kafka-input.js');
    return replayKafka(dir, topic, kafka, metadata, data, drain);
  }
  throw new KindlingError('CHECKPOINT_INPUT', `checkpoint ${dir} is over the ${source.name} source, which explain and what-if cannot read again`, { domain: 'user' });
}

async function replayFiles(dir: string, path: string, metadata: CheckpointMetadata, entries: readonly OffsetsEntry[], drain: boolean): Promise<ReplayInput> {
  let source: FileSource;
  try {
    source = await FileSource.open({ path, maxFilesPerBatch: null, maxEventsPerBatch: null, maxBytesPerBatch: Number.MAX_SAFE_INTEGER, splitBytes: SPLIT_BYTES, allowEmpty: true });
  } catch (err) {
    throw new KindlingError('CHECKPOINT_INPUT', `checkpoint ${dir} was written over ${path}, which cannot be read now: ${(err as Error).message}`, { domain: 'user', cause: err });
  }
  const lines = new FileLines();
  const batches: ReplayBatch[] = [];
  const problems: string[] = [];
  try {
    for (const entry of entries) {
      if (entry.noData || entry.startOffsets === null || entry.endOffsets === null) {
        batches.push({ records: [], position: () => '' });
        continue;
      }
      const start = source.parseOffsets(entry.startOffsets);
      const end = source.parseOffsets(entry.endOffsets);
      for (const [p, edge] of [[start, 'starts'], [end, 'ends']] as const) {
        const problem = await checkFilePosition(source, entry.batchId, p, edge);
        if (problem) problems.push(problem);
      }
      if (problems.length > 0) break;
      const file = source.files[start.fileIndex];
      if (file !== undefined) await lines.startAt(file, start.byteOffset);
      await source.seek(start);
      const polled = await source.pollUntil(end);
      batches.push(polled.kind === 'batch' ? lines.batch(polled.batch.splits) : { records: [], position: () => '' });
    }
  } finally {
    await source.close();
  }
  return { batches, drain, describe: `the offsets log of ${dir}: batches 0-${entries.length - 1} over file ${resolve(path)}`, logged: entries, problems, metadata };
}

function replayGenerator(dir: string, spec: GeneratorSpec, metadata: CheckpointMetadata, entries: readonly OffsetsEntry[], drain: boolean): ReplayInput {
  const batches = entries.map((entry): ReplayBatch => {
    if (entry.noData || entry.startOffsets === null || entry.endOffsets === null) return { records: [], position: () => '' };
    const first = (entry.startOffsets as GeneratorOffsets).index;
    const end = (entry.endOffsets as GeneratorOffsets).index;
    const records: string[] = [];
    for (let i = first; i < end; i++) records.push(labEventJson(spec, i));
    return { records, position: (index) => `generator event ${first + index}` };
  });
  return { batches, drain, describe: `the offsets log of ${dir}: batches 0-${entries.length - 1} over the generator (seed ${spec.seed})`, logged: entries, problems: [], metadata };
}
