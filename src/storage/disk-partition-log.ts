/**
 * A partition of the disk engine: segments on file, a ring buffer of recent batches in front of
 * them, and a write queue between.
 *
 * append places the batch in the active segment (rolling first when it would not fit), gives it
 * its offsets, puts it in the ring and queues the file write: readers see it at once, and
 * `written` resolves when it is on the file. The ring evicts only batches already on the file,
 * so any offset the ring does not hold can be read from the files.
 */
import type { FileHandle } from 'node:fs/promises';
import { setBaseOffset } from '../protocol/record-batch.js';
import { BatchRing, type RingEntry } from './batch-ring.js';
import { lookupIn, ringBytesMaxOf } from './memory-storage.js';
import { ReadHandles } from './read-handles.js';
import { BatchScanner, cutWholeBatches } from './segment-scan.js';
import { loadSegments, type LoadReport } from './segment-load.js';
import { Segment } from './segment.js';
import { WriteQueue } from './write-queue.js';
import { segmentBytesMax, segmentBytesMin } from './limits.js';
import type { AppendResult, BatchInfo, PartitionLog, PartitionOptions, ReadResult, TimestampLookup } from './types.js';

const emptyRead: ReadResult = Object.freeze({ chunks: [], bytes: 0 });

export function checkPartitionOptions(options: PartitionOptions): void {
  const { segmentBytes, indexIntervalBytes } = options;
  if (!Number.isInteger(segmentBytes) || segmentBytes < segmentBytesMin || segmentBytes > segmentBytesMax) {
    throw new RangeError(`segmentBytes ${segmentBytes} is outside ${segmentBytesMin}..${segmentBytesMax}`);
  }
  if (!Number.isInteger(indexIntervalBytes) || indexIntervalBytes < 0) throw new RangeError(`indexIntervalBytes ${indexIntervalBytes} is not a non-negative integer`);
}

export class DiskPartitionLog implements PartitionLog {
  private readonly ring = new BatchRing();
  private readonly writer: WriteQueue;
  private readonly handles = new ReadHandles();
  private readonly ringBytesMax: number;
  private endOffset: number;
  private totalBytes: number;
  /** Everything below this offset is on the file. */
  private writtenEndOffset: number;
  private max: TimestampLookup | null = null;
  private closing: Promise<void> | null = null;
  /**
   * Offsets below this are known to be consistent on disk. Today that is what was found at open
   * (nothing is fsynced yet); fsync group-commit will advance it, and crash recovery will rescan
   * from it after an unclean shutdown.
   */
  readonly recoveryPoint: number;

  private constructor(
    readonly topic: string,
    readonly partition: number,
    readonly dir: string,
    private readonly options: PartitionOptions,
    private readonly segments: Segment[],
    readonly loadReport: LoadReport,
    private readonly onClose: (log: DiskPartitionLog) => void,
  ) {
    this.ringBytesMax = ringBytesMaxOf(options);
    const active = segments[segments.length - 1]!;
    this.endOffset = active.endOffset;
    this.writtenEndOffset = active.endOffset;
    this.recoveryPoint = active.endOffset;
    this.totalBytes = segments.reduce((sum, segment) => sum + segment.sizeBytes, 0);
    for (const segment of segments) {
      if (segment.hasTimestamp && (this.max === null || segment.maxTimestamp > this.max.timestamp)) {
        this.max = { offset: segment.maxTimestampOffset, timestamp: segment.maxTimestamp };
      }
    }
    this.writer = new WriteQueue(active, (endOffset) => {
      this.writtenEndOffset = endOffset;
      this.evict();
    });
  }

  /** Opens (or starts) the partition in `dir`, which must exist. */
  static async open(topic: string, partition: number, dir: string, options: PartitionOptions, onClose: (log: DiskPartitionLog) => void = () => {}): Promise<DiskPartitionLog> {
    checkPartitionOptions(options);
    const { segments, report } = await loadSegments(dir, options.indexIntervalBytes);
    return new DiskPartitionLog(topic, partition, dir, options, segments, report, onClose);
  }

  get logStartOffset(): number {
    return this.segments[0]!.baseOffset;
  }

  get logEndOffset(): number {
    return this.endOffset;
  }

  get sizeBytes(): number {
    return this.totalBytes;
  }

  /** Bytes appended and not yet on the file. */
  get pendingWriteBytes(): number {
    return this.writer.pendingBytes;
  }

  /** Base offsets of the segments, oldest first (for tests and tools). */
  get segmentBaseOffsets(): number[] {
    return this.segments.map((segment) => segment.baseOffset);
  }

  append(batch: Buffer, info: BatchInfo): AppendResult {
    if (this.closing) throw new Error(`partition ${this.topic}-${this.partition} is closed`);
    const baseOffset = this.endOffset;
    const failure = this.writer.failure;
    if (failure) return { baseOffset, lastOffset: baseOffset - 1, written: handled(Promise.reject(failure)) };
    const lastOffset = baseOffset + info.recordCount - 1;
    setBaseOffset(batch, baseOffset);
    let segment = this.segments[this.segments.length - 1]!;
    if (segment.isFullFor(batch.length, lastOffset, this.options.segmentBytes)) {
      segment = new Segment(this.dir, baseOffset);
      this.segments.push(segment);
    }
    const position = segment.place(baseOffset, lastOffset, batch.length, info.maxTimestamp, this.options.indexIntervalBytes);
    this.endOffset = lastOffset + 1;
    this.totalBytes += batch.length;
    if (this.max === null || info.maxTimestamp > this.max.timestamp) this.max = { offset: baseOffset, timestamp: info.maxTimestamp };
    this.ring.push({ baseOffset, lastOffset, maxTimestamp: info.maxTimestamp, bytes: batch });
    const written = handled(this.writer.enqueue(segment, batch, position, this.endOffset));
    return { baseOffset, lastOffset, written };
  }

  async read(offset: number, maxBytes: number): Promise<ReadResult> {
    this.checkOpen();
    if (offset >= this.endOffset || offset < this.logStartOffset) return emptyRead;
    const fromRing = this.ring.read(offset, maxBytes);
    if (fromRing) return fromRing;
    for (let i = this.segmentIndexOf(offset); i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      const read = await this.handles.use(segment, (handle) => readSegment(handle, segment, offset, maxBytes));
      if (read.chunks.length > 0) return read;
    }
    return emptyRead;
  }

  async offsetForTimestamp(timestampMs: number): Promise<TimestampLookup | null> {
    this.checkOpen();
    for (const segment of this.segments) {
      if (!(segment.maxTimestamp >= timestampMs)) continue;
      const from = Math.max(segment.baseOffset + segment.timeIndex.floorOffset(timestampMs), this.logStartOffset);
      const found = await this.findTimestampFrom(segment, from, timestampMs);
      if (found) return found;
    }
    return null;
  }

  maxTimestamp(): TimestampLookup | null {
    return this.max;
  }

  /** Resolves when every batch appended so far is on the file. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.writer.close();
        await this.handles.close();
        this.ring.clear();
      } finally {
        this.onClose(this);
      }
    })();
    return this.closing;
  }

  private checkOpen(): void {
    if (this.closing) throw new Error(`partition ${this.topic}-${this.partition} is closed`);
  }

  /** Drops the oldest batches beyond the ring's bound, but only those already on the file. */
  private evict(): void {
    while (this.ring.bytes > this.ringBytesMax) {
      const oldest = this.ring.oldest();
      if (!oldest || oldest.lastOffset >= this.writtenEndOffset) break;
      this.ring.shift();
    }
  }

  /** The segment whose offsets include `offset`: the last one with base offset at or below it. */
  private segmentIndexOf(offset: number): number {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.segments[middle]!.baseOffset <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /**
   * The first record at or after `timestampMs`, looking from `from` onward, knowing that every
   * batch before `from` has a smaller maxTimestamp. The ring holds everything from its oldest
   * batch to the log end; before that, the segment's file is scanned up to what is written. The
   * loop ends because each file scan either finds the batch or moves `from` forward, and what
   * is not on the file is in the ring.
   */
  private async findTimestampFrom(segment: Segment, from: number, timestampMs: number): Promise<TimestampLookup | null> {
    for (;;) {
      const oldest = this.ring.oldest();
      if (oldest && from >= oldest.baseOffset) {
        const entry = this.ring.firstReaching(from, timestampMs);
        return entry && lookupIn(entry, timestampMs);
      }
      if (from >= segment.endOffset) return null;
      const scan = await this.handles.use(segment, (handle) => scanForTimestamp(handle, segment, from, timestampMs));
      if (scan.hit) return lookupIn(scan.hit, timestampMs);
      if (scan.scannedEnd > from) {
        from = scan.scannedEnd;
        continue;
      }
      // Nothing on the file at or after `from`: either the segment ends there, or the rest is
      // not written yet and so is in the ring (or was written meanwhile and the next scan sees it).
      if (segment.writtenEndOffset >= segment.endOffset) return null;
    }
  }
}

/** Keeps an unobserved rejection (acks=0 producers never look) from crashing the process. */
function handled(promise: Promise<void>): Promise<void> {
  promise.catch(() => {});
  return promise;
}

/** Whole batches of one segment's file from the one holding `offset`, at most maxBytes (the first whole). */
async function readSegment(handle: FileHandle, segment: Segment, offset: number, maxBytes: number): Promise<ReadResult> {
  const end = segment.writtenBytes;
  const scanner = new BatchScanner(handle, segment.offsetIndex.floorPosition(offset - segment.baseOffset), end);
  for (let batch = await scanner.next(); batch !== null; batch = await scanner.next()) {
    if (batch.lastOffset < offset) continue;
    const want = Math.min(end - batch.position, Math.max(batch.bytes, maxBytes));
    const chunks = cutWholeBatches(await scanner.view(batch.position, want));
    return { chunks, bytes: chunks.reduce((sum, chunk) => sum + chunk.length, 0) };
  }
  return emptyRead;
}

interface TimestampScan {
  readonly hit: RingEntry | null;
  /** The offset after the last batch scanned. */
  readonly scannedEnd: number;
}

/** Scans the written part of a segment from the batch holding `from` for the first batch whose maxTimestamp reaches the target. */
async function scanForTimestamp(handle: FileHandle, segment: Segment, from: number, timestampMs: number): Promise<TimestampScan> {
  const scanner = new BatchScanner(handle, segment.offsetIndex.floorPosition(from - segment.baseOffset), segment.writtenBytes);
  let scannedEnd = from;
  for (let batch = await scanner.next(); batch !== null; batch = await scanner.next()) {
    scannedEnd = Math.max(scannedEnd, batch.lastOffset + 1);
    if (batch.lastOffset < from || batch.maxTimestamp < timestampMs) continue;
    const bytes = await scanner.view(batch.position, batch.bytes);
    return { hit: { baseOffset: batch.baseOffset, lastOffset: batch.lastOffset, maxTimestamp: batch.maxTimestamp, bytes }, scannedEnd };
  }
  return { hit: null, scannedEnd };
}
