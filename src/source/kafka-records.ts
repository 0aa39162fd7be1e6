// Kafka record batches to stage-1 splits: message values packed end to end with their end offsets, no per-record objects.
//
// kafkajs decodes every record into an object with string offsets and timestamps (about 540 ns per
// record on the main thread here, docs/kafka.md); the engine needs only each value's bytes and
// offset, so this walks the record batch format (https://kafka.apache.org/documentation/#recordbatch)
// directly and copies each value once, into a buffer that is later transferred to a worker whole.
import { Buffer } from 'node:buffer';
import { KindlingError } from '../errors.js';
import { RecordTimestamps } from '../metrics/record-latency.js';
import { CODECS, codecName, compress, decompress, type CodecName } from './kafka-codecs.js';
import type { AbortedTransaction } from './kafka-protocol.js';

/**
 * Decoded records of one topic partition: values end to end, `recordEnds` exclusive, offsets per
 * record. `recordEnds` lives in the tail of `bytes.buffer` when it fits, so transferring that one
 * ArrayBuffer to a worker moves both (a separate Uint32Array would be copied by postMessage).
 */
export interface RecordChunk {
  /** The values; `bytes.buffer` belongs to this chunk alone, so it can be transferred. */
  readonly bytes: Buffer;
  readonly recordEnds: Uint32Array;
  readonly offsets: Float64Array;
  /** The offset range the chunk covers, [startOffset, endOffset): control records and gaps included. */
  readonly startOffset: number;
  readonly endOffset: number;
}

/**
 * Compressed record batches of one topic partition, as fetched: decoded on a worker thread (the
 * main thread only reads their headers). The worker keeps the records in [startOffset, endOffset),
 * so a cut inside a batch sends the same bytes to two batches, each taking its own range.
 */
export interface CompressedChunk {
  readonly kind: 'batches';
  /** Whole record batches end to end; shared between the pieces of a cut (they are copied to the worker, not transferred). */
  readonly bytes: Buffer;
  readonly startOffset: number;
  readonly endOffset: number;
  /** Records by the batch headers' counts; a cut inside a batch splits them by offsets, exact unless compaction left gaps. */
  readonly records: number;
}

/** What take() hands out: decoded values, or compressed batches for a worker to decode. */
export type BufferedChunk = (RecordChunk & { readonly kind?: undefined }) | CompressedChunk;

/**
 * What a compressed chunk counts for in the buffer's budget: the bytes its records will take once
 * decompressed, guessed as 256 bytes a record (a lab event is about 230) and never less than the
 * compressed bytes. Back-pressure then holds about as many records of a compressed topic as of an
 * uncompressed one, so micro-batches, and what the workers decompress at once, stay as large.
 */
export function compressedBudget(chunk: { readonly bytes: Uint8Array; readonly records: number }): number {
  return Math.max(chunk.bytes.length, chunk.records * 256);
}

/** A chunk this small after a cut is copied out, so its big allocation can be reused. */
const SMALL_FRACTION = 4;

const align4 = (n: number): number => (n + 3) & ~3;

/**
 * Copies values k..last-1 of src (in order, the record framing between them) to dst at `base` in
 * one span copy, then packs them together with copyWithin; their ends and offsets go to
 * ends/endOffsets from `at`. Returns where the packed values end. Measured here, one copy per
 * ~150-byte value cost ~0.35 us, most of the source's main-thread time; this is several times less.
 */
function packValues(
  dst: Uint8Array,
  base: number,
  src: Uint8Array,
  starts: Int32Array,
  lengths: Int32Array,
  offsets: Float64Array,
  k: number,
  last: number,
  ends: Uint32Array,
  endOffsets: Float64Array,
  at: number,
): number {
  const spanStart = starts[k]!;
  dst.set(src.subarray(spanStart, starts[last - 1]! + lengths[last - 1]!), base);
  let packed = base;
  for (let i = k; i < last; i++, at++) {
    const from = base + (starts[i]! - spanStart);
    const len = lengths[i]!;
    if (from !== packed) dst.copyWithin(packed, from, from + len);
    packed += len;
    ends[at] = packed;
    endOffsets[at] = offsets[i]!;
  }
  return packed;
}

/** Record ends and offsets with room for `records` (at least doubled), their first `count` kept. */
function grownColumns(ends: Uint32Array, offsets: Float64Array, count: number, records: number): { ends: Uint32Array<ArrayBuffer>; offsets: Float64Array<ArrayBuffer> } {
  const size = Math.max(ends.length * 2, records);
  const grownEnds = new Uint32Array(size);
  grownEnds.set(ends.subarray(0, count));
  const grownOffsets = new Float64Array(size);
  grownOffsets.set(offsets.subarray(0, count));
  return { ends: grownEnds, offsets: grownOffsets };
}

/** Values and their ends in one fresh ArrayBuffer: [values | pad | ends]. */
function packChunk(src: Uint8Array, from: number, to: number, ends: Uint32Array, rebase: number): { bytes: Buffer; recordEnds: Uint32Array } {
  const len = to - from;
  const at = align4(len);
  const out = Buffer.allocUnsafeSlow(at + ends.length * 4);
  out.set(src.subarray(from, to), 0);
  const recordEnds = new Uint32Array(out.buffer, at, ends.length);
  recordEnds.set(ends);
  if (rebase !== 0) for (let i = 0; i < recordEnds.length; i++) recordEnds[i] = recordEnds[i]! - rebase;
  return { bytes: out.subarray(0, len), recordEnds };
}

/**
 * The records of one topic partition fetched but not yet handed to a batch, covering offsets
 * [startOffset, endOffset). Values go into an open chunk of `chunkBytes` capacity (their ends are
 * kept apart and written into the chunk's tail when it is sealed); full chunks are sealed.
 * `take(end)` removes the records below `end`, cutting a chunk exactly there if needed.
 */
export class PartitionBuffer {
  private sealed: BufferedChunk[] = [];
  private buf: Buffer | null = null;
  private used = 0;
  private ends = new Uint32Array(1024);
  private offsets = new Float64Array(1024);
  private count = 0;
  private openStart: number;
  /** The Kafka timestamps of the buffered records, from their batch headers (for record latency). */
  readonly timestamps = new RecordTimestamps();
  /** Bytes buffered (values sealed and open, compressed batches as fetched). */
  bytes = 0;
  /** Records buffered. */
  records = 0;

  constructor(
    public startOffset: number,
    private readonly chunkBytes: number,
    /** Next offset to fetch: everything below it and from startOffset is buffered. */
    public endOffset = startOffset,
  ) {
    this.openStart = startOffset;
  }

  /** Drops everything and starts over at `offset` (a seek). */
  reset(offset: number): void {
    this.timestamps.clear();
    this.sealed = [];
    this.used = 0;
    this.count = 0;
    this.bytes = 0;
    this.records = 0;
    this.startOffset = this.endOffset = this.openStart = offset;
  }

  private grow(records: number): void {
    if (this.ends.length < records) ({ ends: this.ends, offsets: this.offsets } = grownColumns(this.ends, this.offsets, this.count, records));
  }

  /** Bytes the open chunk needs once sealed with `records` records whose values take `valueBytes`. */
  private static sealedSize(valueBytes: number, records: number): number {
    return align4(valueBytes) + records * 4;
  }

  /**
   * Appends `n` values that lie in order inside src (value k is src[starts[k], starts[k] + lengths[k]),
   * with the record framing between them): each run that fits the open chunk is packed in (packValues).
   */
  appendValues(src: Buffer, starts: Int32Array, lengths: Int32Array, offsets: Float64Array, n: number): void {
    let k = 0;
    while (k < n) {
      let last = this.fitting(starts, lengths, k, n);
      if (last === k) {
        if (this.count > 0) this.sealOpen(offsets[k]!);
        const need = PartitionBuffer.sealedSize(lengths[k]!, 1) + 4;
        if (this.buf === null || this.buf.length < need) this.buf = Buffer.allocUnsafeSlow(Math.max(this.chunkBytes, need));
        last = this.fitting(starts, lengths, k, n);
      }
      const base = this.used;
      this.grow(this.count + (last - k));
      const packed = packValues(this.buf!, base, src, starts, lengths, offsets, k, last, this.ends, this.offsets, this.count);
      this.count += last - k;
      this.bytes += packed - base;
      this.records += last - k;
      this.used = packed;
      k = last;
    }
  }

  /** How far from value k the open chunk has room: for the copied span, and for the packed values plus their ends. */
  private fitting(starts: Int32Array, lengths: Int32Array, k: number, n: number): number {
    if (this.buf === null) return k;
    const capacity = this.buf.length;
    const spanStart = starts[k]!;
    let packed = this.used;
    let last = k;
    while (last < n) {
      const spanEnd = starts[last]! + lengths[last]! - spanStart;
      packed += lengths[last]!;
      if (this.used + spanEnd > capacity || PartitionBuffer.sealedSize(packed, this.count + (last - k) + 1) > capacity) break;
      last++;
    }
    return last;
  }

  /** Seals the open chunk as covering [openStart, end). */
  private sealOpen(end: number): void {
    const buf = this.buf!;
    const ends = this.ends.subarray(0, this.count);
    let chunk: { bytes: Buffer; recordEnds: Uint32Array };
    if (this.used * SMALL_FRACTION < buf.length) {
      // Mostly empty: copy the little there is and keep the big buffer for the next records.
      chunk = packChunk(buf, 0, this.used, ends, 0);
    } else {
      // The ends go into the buffer's own tail (room was kept for them), and the buffer leaves with the chunk.
      const at = align4(this.used);
      const recordEnds = new Uint32Array(buf.buffer, buf.byteOffset + at, this.count);
      recordEnds.set(ends);
      chunk = { bytes: buf.subarray(0, this.used), recordEnds };
      this.buf = null;
    }
    this.sealed.push({ ...chunk, offsets: this.offsets.slice(0, this.count), startOffset: this.openStart, endOffset: end });
    this.used = 0;
    this.count = 0;
    this.openStart = end;
  }

  /**
   * Appends compressed record batches covering offsets up to `nextOffset` (records below endOffset
   * in the first batch are dropped by the worker). `bytes` must be this buffer's own copy.
   */
  appendCompressed(bytes: Buffer, nextOffset: number, records: number): void {
    if (nextOffset <= this.endOffset) return;
    if (this.count > 0) this.sealOpen(this.endOffset);
    this.sealed.push({ kind: 'batches', bytes, startOffset: this.endOffset, endOffset: nextOffset, records });
    this.bytes += compressedBudget({ bytes, records });
    this.records += records;
    this.endOffset = this.openStart = nextOffset;
  }

  /** Marks offsets below `nextOffset` as fetched (records at them were appended or were control records). */
  advance(nextOffset: number): void {
    if (nextOffset > this.endOffset) this.endOffset = nextOffset;
  }

  /**
   * Removes and returns the records in [startOffset, end) (end <= endOffset), as chunks that each
   * own their buffer; startOffset becomes `end`.
   */
  take(end: number): BufferedChunk[] {
    if (end > this.endOffset || end < this.startOffset) throw new RangeError(`take(${end}) outside [${this.startOffset}, ${this.endOffset}]`);
    if (end > this.openStart) {
      if (this.count > 0) this.sealOpen(this.endOffset);
      else this.openStart = this.endOffset;
    }
    const out: BufferedChunk[] = [];
    while (this.sealed.length > 0 && this.sealed[0]!.startOffset < end) {
      const chunk = this.sealed[0]!;
      if (chunk.endOffset <= end) {
        this.sealed.shift();
        out.push(chunk);
        this.bytes -= chunk.kind === 'batches' ? compressedBudget(chunk) : chunk.bytes.length;
        this.records -= chunk.kind === 'batches' ? chunk.records : chunk.offsets.length;
        continue;
      }
      if (chunk.kind === 'batches') {
        // Cut inside: both pieces keep the bytes, each its own offset range.
        const head = Math.min(chunk.records, end - chunk.startOffset);
        out.push({ ...chunk, endOffset: end, records: head });
        const rest: CompressedChunk = { ...chunk, startOffset: end, records: chunk.records - head };
        this.sealed[0] = rest;
        // What stays is counted as the rest alone, so the budget returns to 0 once all is taken.
        this.bytes -= compressedBudget(chunk) - compressedBudget(rest);
        this.records -= head;
        break;
      }
      // Cut inside the chunk: records below `end` leave as a copy; the rest keeps the buffer, its ends rebased in place.
      let k = 0;
      while (k < chunk.offsets.length && chunk.offsets[k]! < end) k++;
      const cutByte = k === 0 ? 0 : chunk.recordEnds[k - 1]!;
      const head = packChunk(chunk.bytes, 0, cutByte, chunk.recordEnds.subarray(0, k), 0);
      out.push({ ...head, offsets: chunk.offsets.slice(0, k), startOffset: chunk.startOffset, endOffset: end });
      const restEnds = chunk.recordEnds.subarray(k);
      for (let i = 0; i < restEnds.length; i++) restEnds[i] = restEnds[i]! - cutByte;
      this.sealed[0] = { bytes: chunk.bytes.subarray(cutByte), recordEnds: restEnds, offsets: chunk.offsets.subarray(k), startOffset: end, endOffset: chunk.endOffset };
      this.bytes -= cutByte;
      this.records -= k;
      break;
    }
    this.startOffset = end;
    return out.filter((c) => (c.kind === 'batches' ? c.endOffset > c.startOffset : c.offsets.length > 0));
  }
}

/** What one record set added to a partition buffer. */
export interface DecodeResult {
  /** Complete record batches read (0 with bytes present: the set held only a partial batch). */
  readonly batches: number;
  readonly records: number;
  /** Some of the records came in compressed batches. */
  readonly compressed: boolean;
}

const MAGIC_V2 = 2;
const BATCH_HEADER_BYTES = 61;
/** The largest record batch a fetch can hold: the source doubles its fetch size for a big batch up to this. */
export const MAX_BATCH_BYTES = 1 << 30;

/** Bytes that cannot be a record batch: not retried, since the broker would send the same again. */
function corrupt(where: string, offset: number, why: string): KindlingError {
  return new KindlingError('KAFKA_CORRUPT_BATCH', `${where} offset ${offset}: corrupt record batch: ${why}`, { domain: 'external' });
}
/** The checks every batch header gets on the main thread; returns the batch's end in `buf`, or -1 when it is cut short. */
function checkBatch(buf: Buffer, at: number, end: number, where: string): number {
  const baseOffset = buf.readInt32BE(at) * 0x100000000 + buf.readUInt32BE(at + 4);
  const batchLength = buf.readInt32BE(at + 8);
  // A length below the header would move the read position backwards (or nowhere, forever); one
  // above the largest fetch can never arrive whole. Both mean the bytes are not a record batch.
  if (batchLength < BATCH_HEADER_BYTES - 12 || batchLength > MAX_BATCH_BYTES) {
    throw corrupt(where, baseOffset, `record batch length ${batchLength} is outside [${BATCH_HEADER_BYTES - 12}, ${MAX_BATCH_BYTES}]`);
  }
  const batchEnd = at + 12 + batchLength;
  if (batchEnd > end) return -1;
  const magic = buf[at + 16]!;
  if (magic !== MAGIC_V2) {
    throw new KindlingError('KAFKA_OLD_FORMAT', `${where} offset ${baseOffset}: record format v${magic} (written by Kafka before 0.11); Kindling reads format v2 only`, { domain: 'external' });
  }
  return batchEnd;
}

const int64At = (buf: Buffer, at: number): number => buf.readInt32BE(at) * 0x100000000 + buf.readUInt32BE(at + 4);
const baseOffsetOf = int64At;

/** Skips a varint (or varlong) at `at`; returns the position after it. */
function skipVarint(buf: Buffer, at: number): number {
  while (buf[at++]! & 0x80);
  return at;
}

/** The type of a control batch's marker (its first record's key: int16 version, int16 type): 0 ABORT, 1 COMMIT. */
function controlType(buf: Buffer, at: number): number {
  let p = skipVarint(buf, at + BATCH_HEADER_BYTES); // record length
  p = skipVarint(buf, p + 1); // attributes, then timestamp delta
  p = skipVarint(buf, p); // offset delta
  p = skipVarint(buf, p); // key length: always 4
  return buf.readInt16BE(p + 2);
}

/**
 * read_committed's filter over one Fetch answer's record set, as Kafka's own consumer applies it:
 * a producer counts as aborting from the first offset of an aborted transaction the answer lists
 * until its ABORT marker (a control batch); its transactional batches in between are dropped whole
 * (compressed ones included: the decision needs only the batch header).
 */
export class AbortedTransactionFilter {
  private readonly pending: AbortedTransaction[];
  private readonly aborting = new Set<number>();

  constructor(aborted: readonly AbortedTransaction[]) {
    this.pending = [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
  }

  /** True when the batch at buf[at] (attributes given, last offset `lastOffset`) holds an aborted transaction's records. */
  drops(buf: Buffer, at: number, attributes: number, lastOffset: number): boolean {
    const producerId = buf.readInt32BE(at + 43) * 0x100000000 + buf.readUInt32BE(at + 47);
    if (producerId < 0) return false;
    while (this.pending.length > 0 && this.pending[0]!.firstOffset <= lastOffset) this.aborting.add(this.pending.shift()!.producerId);
    if ((attributes & 0x20) !== 0) {
      if (controlType(buf, at) === 0) this.aborting.delete(producerId);
      return false;
    }
    return (attributes & 0x10) !== 0 && this.aborting.has(producerId);
  }
}

/**
 * Appends the values of the record batches in buf[start, end) — one topic partition's record set
 * from a Fetch response — with offset >= `into.endOffset` to `into`, and advances it past every
 * complete batch. A partial batch at the end (the broker cuts at the fetch size) is left for the
 * next fetch. Control batches (transaction markers) are skipped; a null value becomes an empty
 * record, which the scan rejects like any other non-JSON value. With `aborted` (read_committed),
 * the batches of aborted transactions are dropped too. Compressed batches are not
 * decompressed here: each run of them is copied whole into `into`, for a worker thread to decode
 * ({@link decodeCompressedChunk}), so the main thread's cost stays one copy per fetched byte.
 */
export function decodeRecordSet(buf: Buffer, start: number, end: number, into: PartitionBuffer, where: string, aborted: AbortedTransactionFilter | null = null): DecodeResult {
  let at = start;
  let batches = 0;
  let records = 0;
  // A run of compressed batches not yet handed to `into`: its first byte, records and next offset.
  let runStart = -1;
  let runRecords = 0;
  let runNext = 0;
  let compressed = false;
  const flushRun = (runEnd: number): void => {
    compressed = true;
    into.appendCompressed(Buffer.from(buf.subarray(runStart, runEnd)), runNext, runRecords);
    records += runRecords;
    runStart = -1;
    runRecords = 0;
  };
  while (at + BATCH_HEADER_BYTES <= end) {
    const batchEnd = checkBatch(buf, at, end, where);
    if (batchEnd < 0) break;
    const baseOffset = baseOffsetOf(buf, at);
    const attributes = buf.readInt16BE(at + 21);
    const nextOffset = baseOffset + buf.readInt32BE(at + 23) + 1;
    const control = (attributes & 0x20) !== 0;
    const codec = attributes & 0x07;
    batches++;
    if (aborted?.drops(buf, at, attributes, nextOffset - 1)) {
      // An aborted transaction's batch (read_committed): its offsets are passed over, like a control batch's.
      if (runStart >= 0) flushRun(at);
      into.advance(nextOffset);
      at = batchEnd;
      continue;
    }
    // Record latency needs only the header's timestamps (src/metrics/record-latency.ts).
    if (!control && nextOffset > into.endOffset) into.timestamps.note(Math.max(baseOffset, into.endOffset), nextOffset, int64At(buf, at + 27), int64At(buf, at + 35));
    if (runStart >= 0 || (codec !== 0 && !control && nextOffset > into.endOffset)) {
      // Inside a run everything joins it (the worker skips control batches and old offsets too), until an uncompressed data batch.
      if (codec === 0 && !control) flushRun(at);
      else {
        if (runStart < 0) runStart = at;
        if (!control) runRecords += Math.min(buf.readInt32BE(at + 57), nextOffset - Math.max(baseOffset, into.endOffset));
        runNext = nextOffset;
        at = batchEnd;
        continue;
      }
    }
    if (!control && nextOffset > into.endOffset) records += decodeRecords(buf, at + BATCH_HEADER_BYTES, batchEnd, buf.readInt32BE(at + 57), baseOffset, into, where);
    into.advance(nextOffset);
    at = batchEnd;
  }
  if (runStart >= 0) flushRun(at);
  return { batches, records, compressed };
}

/** Who compressed a topic's batches, for the message when one cannot be decoded. */
export type CompressedBy = string;

/** Decoded values of a compressed chunk: what a worker scans. */
export interface DecodedValues {
  readonly bytes: Buffer;
  readonly recordEnds: Uint32Array;
  readonly offsets: Float64Array;
}

/**
 * A byte area of at least `length` bytes that keeps what was written to it when asked for more
 * (on a worker: the byte kernel's memory, which the scan then reads in place, without a copy).
 */
export type ReserveBytes = (length: number) => Uint8Array;

/** A growable Buffer, for callers without a byte kernel. */
function growableBuffer(): ReserveBytes {
  let buf = Buffer.alloc(0);
  return (length) => {
    if (buf.length < length) {
      const next = Buffer.allocUnsafe(length);
      buf.copy(next);
      buf = next;
    }
    return buf.subarray(0, length);
  };
}

/** Where decodeRecords puts values: the fetch loop's PartitionBuffer, or a worker's flat area. */
interface ValueSink {
  readonly endOffset: number;
  appendValues(src: Buffer, starts: Int32Array, lengths: Int32Array, offsets: Float64Array, n: number): void;
}

/**
 * The values of one compressed split, end to end in one reserved area, with their ends and
 * offsets; records at or past `limit` (the split's end) are left out.
 */
class FlatValues implements ValueSink {
  endOffset: number;
  private view: Uint8Array;
  private used = 0;
  private count = 0;
  private ends: Uint32Array;
  private offsets: Float64Array;

  constructor(
    startOffset: number,
    private readonly limit: number,
    private readonly reserve: ReserveBytes,
    capacity: number,
    records: number,
  ) {
    this.endOffset = startOffset;
    this.view = reserve(capacity);
    this.ends = new Uint32Array(Math.max(16, records));
    this.offsets = new Float64Array(Math.max(16, records));
  }

  /** Copies each run of values in one go, then packs them (as PartitionBuffer.appendValues does). */
  appendValues(src: Buffer, starts: Int32Array, lengths: Int32Array, offsets: Float64Array, n: number): void {
    let m = n;
    while (m > 0 && offsets[m - 1]! >= this.limit) m--;
    if (m === 0) return;
    const span = starts[m - 1]! + lengths[m - 1]! - starts[0]!;
    const base = this.used;
    if (this.view.length < base + span) this.view = this.reserve(Math.max(this.view.length * 2, base + span));
    if (this.ends.length < this.count + m) ({ ends: this.ends, offsets: this.offsets } = grownColumns(this.ends, this.offsets, this.count, this.count + m));
    this.used = packValues(this.view, base, src, starts, lengths, offsets, 0, m, this.ends, this.offsets, this.count);
    this.count += m;
  }

  advance(nextOffset: number): void {
    if (nextOffset > this.endOffset) this.endOffset = nextOffset;
  }

  values(): DecodedValues {
    // The last reserve covers every byte written: the area stays valid until the next reserve.
    const view = this.reserve(this.view.length);
    return { bytes: Buffer.from(view.buffer, view.byteOffset, this.used), recordEnds: this.ends.subarray(0, this.count), offsets: this.offsets.subarray(0, this.count) };
  }
}

/** Uncompressed bytes per compressed byte assumed for the first reserve (JSON logs compress 4-10x); the area doubles when short. */
const FIRST_GUESS_RATIO = 4;

/**
 * Decodes a {@link CompressedChunk}'s batches (on a worker thread): decompresses one batch at a
 * time, keeps the records with offsets in [startOffset, endOffset), and packs their values end to
 * end into `reserve`'s area, so each decompressed batch is garbage as soon as its values are
 * copied and no second copy of the split is made. A batch that cannot be decompressed or decoded
 * fails with the topic partition, its offset, its codec and who compressed it.
 */
export async function decodeCompressedChunk(
  bytes: Buffer,
  startOffset: number,
  endOffset: number,
  where: string,
  compressedBy: CompressedBy,
  reserve: ReserveBytes = growableBuffer(),
): Promise<DecodedValues> {
  let records = 0;
  for (let at = 0; at + BATCH_HEADER_BYTES <= bytes.length; ) {
    const batchEnd = checkBatch(bytes, at, bytes.length, where);
    if (batchEnd < 0) throw corrupt(where, baseOffsetOf(bytes, at), 'a compressed run ends inside a batch');
    records += Math.max(0, bytes.readInt32BE(at + 57));
    at = batchEnd;
  }
  const into = new FlatValues(startOffset, endOffset, reserve, Math.max(1 << 16, bytes.length * FIRST_GUESS_RATIO), Math.min(records, endOffset - startOffset));
  for (let at = 0; at + BATCH_HEADER_BYTES <= bytes.length; ) {
    const batchEnd = checkBatch(bytes, at, bytes.length, where);
    const baseOffset = baseOffsetOf(bytes, at);
    const attributes = bytes.readInt16BE(at + 21);
    const nextOffset = baseOffset + bytes.readInt32BE(at + 23) + 1;
    const codec = attributes & 0x07;
    if ((attributes & 0x20) === 0 && nextOffset > startOffset && baseOffset < endOffset) {
      let data: Buffer;
      try {
        data = await decompress(codec, bytes.subarray(at + BATCH_HEADER_BYTES, batchEnd));
      } catch (err) {
        throw undecodable(where, baseOffset, codec, compressedBy, (err as Error).message);
      }
      try {
        decodeRecords(data, 0, data.length, bytes.readInt32BE(at + 57), baseOffset, into, where);
      } catch (err) {
        throw undecodable(where, baseOffset, codec, compressedBy, (err as Error).message);
      }
    }
    into.advance(nextOffset);
    at = batchEnd;
  }
  return into.values();
}

function undecodable(where: string, offset: number, codec: number, compressedBy: CompressedBy, why: string): KindlingError {
  return new KindlingError(
    'KAFKA_COMPRESSION',
    `${where} offset ${offset}: cannot decode a record batch compressed with ${codecName(codec)} (compressed by ${compressedBy}): ${why}`,
    { domain: 'external' },
  );
}

/** Reads `count` records from buf[at, end); returns how many were appended. */
let scratchStarts = new Int32Array(4096);
let scratchLengths = new Int32Array(4096);
let scratchOffsets = new Float64Array(4096);

function decodeRecords(buf: Buffer, at: number, end: number, count: number, baseOffset: number, into: ValueSink, where: string): number {
  const from = into.endOffset;
  let appended = 0;
  if (scratchStarts.length < count) {
    scratchStarts = new Int32Array(count);
    scratchLengths = new Int32Array(count);
    scratchOffsets = new Float64Array(count);
  }
  const starts = scratchStarts;
  const lengths = scratchLengths;
  const offsets = scratchOffsets;
  if (count < 0) throw corrupt(where, baseOffset, `record count ${count}`);
  let i = 0;
  for (; i < count && at < end; i++) {
    // length (varint, zigzag)
    let b = buf[at++]!;
    let v = b & 0x7f;
    for (let shift = 7; b & 0x80; shift += 7) {
      b = buf[at++]!;
      v |= (b & 0x7f) << shift;
    }
    const recordEnd = at + ((v >>> 1) ^ -(v & 1));
    // One compare per record keeps a bad length from reading another record's bytes as this one's.
    if (recordEnd > end || recordEnd <= at) throw corrupt(where, baseOffset, `record ${i} of ${count} has length ${recordEnd - at}, past the batch's end or empty`);
    at++; // attributes
    while (buf[at++]! & 0x80); // timestampDelta (varlong): skipped
    b = buf[at++]!;
    v = b & 0x7f;
    for (let shift = 7; b & 0x80; shift += 7) {
      b = buf[at++]!;
      v |= (b & 0x7f) << shift;
    }
    const offset = baseOffset + ((v >>> 1) ^ -(v & 1));
    // key: length then bytes (unused)
    b = buf[at++]!;
    v = b & 0x7f;
    for (let shift = 7; b & 0x80; shift += 7) {
      b = buf[at++]!;
      v |= (b & 0x7f) << shift;
    }
    const keyLen = (v >>> 1) ^ -(v & 1);
    if (keyLen > 0) at += keyLen;
    b = buf[at++]!;
    v = b & 0x7f;
    for (let shift = 7; b & 0x80; shift += 7) {
      b = buf[at++]!;
      v |= (b & 0x7f) << shift;
    }
    const valueLen = (v >>> 1) ^ -(v & 1);
    if (at + (valueLen > 0 ? valueLen : 0) > recordEnd) throw corrupt(where, baseOffset, `record ${i} of ${count}: its key or value runs past the record's length`);
    if (offset >= from) {
      starts[appended] = at;
      lengths[appended] = valueLen > 0 ? valueLen : 0;
      offsets[appended] = offset;
      appended++;
    }
    at = recordEnd;
  }
  if (i < count) throw corrupt(where, baseOffset, `the batch says ${count} records but its bytes end after ${i}`);
  if (appended > 0) into.appendValues(buf, starts, lengths, offsets, appended);
  return appended;
}

/** CRC-32C (Castagnoli), the record batch checksum; table-driven, four bytes per step. */
const CRC32C = ((): Uint32Array[] => {
  const tables = Array.from({ length: 4 }, () => new Uint32Array(256));
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    tables[0]![i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let t = 1; t < 4; t++) tables[t]![i] = (tables[t - 1]![i]! >>> 8) ^ tables[0]![tables[t - 1]![i]! & 0xff]!;
  }
  return tables;
})();

/** CRC-32C of buf[start, end). */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  const [t0, t1, t2, t3] = CRC32C as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let crc = 0xffffffff;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    crc ^= buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    crc = t3[crc & 0xff]! ^ t2[(crc >>> 8) & 0xff]! ^ t1[(crc >>> 16) & 0xff]! ^ t0[crc >>> 24]!;
  }
  for (; i < end; i++) crc = t0[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function varintSize(zigzagged: number): number {
  let n = 1;
  while (zigzagged >= 0x80) {
    zigzagged >>>= 7;
    n++;
  }
  return n;
}

function writeVarint(buf: Buffer, at: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v;
  return at;
}

/**
 * One uncompressed record batch (format v2, no key, no headers, no producer id) holding `values`,
 * all stamped `timestampMs`: what the lab's producer sends, built without per-record objects.
 */
export function encodeRecordBatch(values: readonly string[], timestampMs: number): Buffer {
  let size = BATCH_HEADER_BYTES;
  const lengths = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const len = Buffer.byteLength(values[i]!);
    lengths[i] = len;
    const body = 3 + varintSize(i * 2) + varintSize(len * 2) + len + 1;
    size += varintSize(body * 2) + body;
  }
  const buf = Buffer.allocUnsafe(size);
  buf.writeBigInt64BE(0n, 0); // base offset: the broker assigns offsets
  buf.writeInt32BE(size - 12, 8);
  buf.writeInt32BE(-1, 12); // partition leader epoch
  buf[16] = MAGIC_V2;
  buf.writeInt16BE(0, 21); // attributes: no compression, create time
  buf.writeInt32BE(values.length - 1, 23);
  const ts = BigInt(timestampMs);
  buf.writeBigInt64BE(ts, 27);
  buf.writeBigInt64BE(ts, 35);
  buf.writeBigInt64BE(-1n, 43); // producer id
  buf.writeInt16BE(-1, 51); // producer epoch
  buf.writeInt32BE(-1, 53); // base sequence
  buf.writeInt32BE(values.length, 57);
  let at = BATCH_HEADER_BYTES;
  for (let i = 0; i < values.length; i++) {
    const len = lengths[i]!;
    at = writeVarint(buf, at, 3 + varintSize(i * 2) + varintSize(len * 2) + len + 1);
    buf[at++] = 0; // attributes
    buf[at++] = 0; // timestamp delta
    at = writeVarint(buf, at, i); // offset delta
    buf[at++] = 1; // key length -1 (null), zigzagged
    at = writeVarint(buf, at, len);
    at += buf.write(values[i]!, at, len, 'utf8');
    buf[at++] = 0; // no headers
  }
  buf.writeUInt32BE(crc32c(buf, 21, size), 17);
  return buf;
}

/** A record batch from {@link encodeRecordBatch} with its records section compressed by `codec` (as a producer with compression.type set sends it). */
export async function compressRecordBatch(batch: Buffer, codec: CodecName): Promise<Buffer> {
  if (codec === 'none') return batch;
  const body = await compress(codec, batch.subarray(BATCH_HEADER_BYTES));
  const out = Buffer.allocUnsafe(BATCH_HEADER_BYTES + body.length);
  batch.copy(out, 0, 0, BATCH_HEADER_BYTES);
  body.copy(out, BATCH_HEADER_BYTES);
  out.writeInt32BE(out.length - 12, 8);
  out.writeInt16BE(batch.readInt16BE(21) | CODECS.indexOf(codec), 21);
  out.writeUInt32BE(crc32c(out, 21, out.length), 17);
  return out;
}
