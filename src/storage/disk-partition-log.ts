/**
 * A partition of the disk engine: segments on file, a ring buffer of recent batches in front of
 * them, and a log writer between.
 *
 * append places the batch in the active segment (rolling first when it would not fit or is older
 * than segment.ms), gives it its offsets, puts it in the ring and queues the file write. Offsets
 * advance at once, but readers see a batch only once it is durable under the flush policy
 * (`logEndOffset` is that visible end), so no consumer ever reads a record that a crash or a
 * failed write could take back. The ring evicts only batches already on the file, so any offset
 * the ring does not hold can be read from the files.
 *
 * Four offsets, in order: logStartOffset <= logEndOffset (visible) <= written end <= next offset.
 *
 * After an I/O error (ENOSPC, EIO) the writer stops and the log repairs itself: it cuts the
 * files back to the last good offset (deleting segments begun after it, truncating the active
 * one, rechecking the batches before the cut), and takes appends again. Until then appends fail
 * at once with the StorageError; reads go on.
 */
import { setBaseOffset } from '../protocol/record-batch.js';
import { BatchRing, type RingEntry } from './batch-ring.js';
import type { FileSystem, StorageFile } from './file-system.js';
import { isNotFound } from './file-system.js';
import { flushPolicyOf, LogWriter, type FlushPolicy } from './log-writer.js';
import { lookupIn, ringBytesMaxOf } from './memory-storage.js';
import { ReadHandles } from './read-handles.js';
import { segmentsToDelete, type SegmentFacts } from './retention.js';
import { BatchScanner, cutWholeBatches } from './segment-scan.js';
import { loadSegments, type LoadReport } from './segment-load.js';
import { recoverSegment } from './segment-recover.js';
import { Segment } from './segment.js';
import { StorageError } from './storage-error.js';
import { repairRetryMs, scanBlockBytes, segmentBytesMax, segmentBytesMin } from './limits.js';
import { readInto } from './file-io.js';
import { segmentReadPool } from './read-buffer-pool.js';
import type { AppendResult, BatchInfo, PartitionLog, PartitionOptions, ReadResult, RetentionReport, TimestampLookup } from './types.js';

const emptyRead: ReadResult = Object.freeze({ chunks: [], bytes: 0 });
const noRetention: RetentionReport = Object.freeze({ deletedSegments: 0, deletedBytes: 0 });

export function checkPartitionOptions(options: PartitionOptions): void {
  const { segmentBytes, indexIntervalBytes } = options;
  if (!Number.isInteger(segmentBytes) || segmentBytes < segmentBytesMin || segmentBytes > segmentBytesMax) {
    throw new RangeError(`segmentBytes ${segmentBytes} is outside ${segmentBytesMin}..${segmentBytesMax}`);
  }
  if (!Number.isInteger(indexIntervalBytes) || indexIntervalBytes < 0) throw new RangeError(`indexIntervalBytes ${indexIntervalBytes} is not a non-negative integer`);
  for (const key of ['retentionMs', 'retentionBytes', 'segmentMs', 'flushIntervalMs'] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < -1)) throw new RangeError(`${key} ${value} is not an integer of at least -1`);
  }
  const messages = options.flushIntervalMessages;
  if (messages !== undefined && (!Number.isSafeInteger(messages) || messages < 1)) throw new RangeError(`flushIntervalMessages ${messages} is not a positive integer`);
}

/** What a partition needs from its storage. */
export interface DiskLogContext {
  readonly fs: FileSystem;
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** Persists the log start offset of `log` (the log-start-offset checkpoint); called after it moved. */
  readonly persistLogStartOffset: (log: DiskPartitionLog) => Promise<void>;
  readonly onClose: (log: DiskPartitionLog) => void;
}

/** What the storage's checkpoints say about the partition. */
export interface OpenState {
  /** null after a clean shutdown; else the offset recovery starts from (0 when none was checkpointed). */
  readonly recoveryPoint: number | null;
  /** The checkpointed log start offset, or null. */
  readonly logStartOffset: number | null;
}

interface Failure {
  readonly error: StorageError;
  readonly goodEnd: number;
  repairing: Promise<void> | null;
  lastAttemptMs: number;
}

export class DiskPartitionLog implements PartitionLog {
  private readonly ring = new BatchRing();
  private readonly handles: ReadHandles;
  private writer: LogWriter;
  private currentOptions: PartitionOptions;
  private policy: FlushPolicy;
  private ringBytesMax: number;
  /** The offset the next append gets. */
  private nextOffset: number;
  /** Everything below this is on the file. */
  private writtenEnd: number;
  /** Everything below this is visible to readers (durable under the flush policy). */
  private visibleEnd: number;
  private startOffset: number;
  private totalBytes: number;
  /** The largest visible timestamp and its batch. */
  private visibleMax: TimestampLookup | null = null;
  /** Batches appended but not visible yet that raised the maximum timestamp, oldest first. */
  private pendingMaxima: TimestampLookup[] = [];
  private failure: Failure | null = null;
  /** Retention, DeleteRecords and repairs, one at a time. */
  private maintenance: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | null = null;
  private closedCleanly = false;
  /**
   * The offset below which the log and its indexes are known to be synced, as last confirmed by
   * the writer: what the recovery-point checkpoint records, and where recovery starts after a
   * crash.
   */
  recoveryPoint: number;

  private constructor(
    readonly topic: string,
    readonly partition: number,
    readonly dir: string,
    options: PartitionOptions,
    private readonly segments: Segment[],
    readonly loadReport: LoadReport,
    private readonly context: DiskLogContext,
    logStartOffset: number | null,
  ) {
    this.currentOptions = options;
    this.policy = flushPolicyOf(options);
    this.ringBytesMax = ringBytesMaxOf(options);
    this.handles = new ReadHandles(context.fs);
    const active = segments[segments.length - 1]!;
    this.nextOffset = active.endOffset;
    this.writtenEnd = active.endOffset;
    this.visibleEnd = active.endOffset;
    this.recoveryPoint = active.endOffset;
    this.startOffset = Math.min(Math.max(segments[0]!.baseOffset, logStartOffset ?? 0), active.endOffset);
    this.totalBytes = segments.reduce((sum, segment) => sum + segment.sizeBytes, 0);
    this.visibleMax = maxOfSegments(segments, this.visibleEnd, this.startOffset);
    this.writer = this.newWriter(active, active.endOffset, active.endOffset);
  }

  /** Opens (or starts) the partition in `dir`, which must exist, recovering it when `state` says the last run crashed. */
  static async open(topic: string, partition: number, dir: string, options: PartitionOptions, context: DiskLogContext, state: OpenState): Promise<DiskPartitionLog> {
    checkPartitionOptions(options);
    const started = performance.now();
    const emptyBaseOffset = Math.max(state.recoveryPoint ?? 0, state.logStartOffset ?? 0);
    const { segments, report } = await loadSegments(context.fs, dir, {
      indexIntervalBytes: options.indexIntervalBytes,
      recoveryPoint: state.recoveryPoint,
      emptyBaseOffset,
      nowMs: context.now(),
    });
    const log = new DiskPartitionLog(topic, partition, dir, options, segments, report, context, state.logStartOffset);
    if (report.recovered) {
      const ms = (performance.now() - started).toFixed(0);
      context.log(`recovered ${topic}-${partition} after an unclean shutdown in ${ms} ms: checked ${report.scannedBytes} bytes from offset ${state.recoveryPoint}, log end ${log.nextOffset}`);
    }
    for (const line of report.truncations) context.log(`${report.recovered ? 'recovery' : 'open'} of ${topic}-${partition}: ${line}`);
    return log;
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  get logEndOffset(): number {
    return this.visibleEnd;
  }

  /** The offset the next append will get (past logEndOffset while appends wait to become durable). */
  get nextAppendOffset(): number {
    return this.nextOffset;
  }

  get sizeBytes(): number {
    return this.totalBytes;
  }

  get options(): PartitionOptions {
    return this.currentOptions;
  }

  /** Bytes appended and not yet on the file. */
  get pendingWriteBytes(): number {
    return this.writer.pendingBytes;
  }

  /** Base offsets of the segments, oldest first (for tests and tools). */
  get segmentBaseOffsets(): number[] {
    return this.segments.map((segment) => segment.baseOffset);
  }

  /** Bytes appended to each segment, oldest first (for tests and tools). */
  get segmentSizesBytes(): number[] {
    return this.segments.map((segment) => segment.sizeBytes);
  }

  /** The I/O error the log is recovering from, or null when it takes appends. */
  get storageError(): StorageError | null {
    return this.failure?.error ?? null;
  }

  /** Whether close() flushed and synced everything (a clean shutdown may be recorded). */
  get isClosedCleanly(): boolean {
    return this.closedCleanly;
  }

  append(batch: Buffer, info: BatchInfo): AppendResult {
    if (this.closing) throw new Error(`partition ${this.topic}-${this.partition} is closed`);
    if (this.failure) {
      this.maybeRepair();
      const failed = Promise.reject(this.failure.error);
      failed.catch(() => {});
      return { baseOffset: -1, lastOffset: -1, written: failed, durable: failed };
    }
    const nowMs = this.context.now();
    const baseOffset = this.nextOffset;
    const lastOffset = baseOffset + info.recordCount - 1;
    setBaseOffset(batch, baseOffset);
    let segment = this.segments[this.segments.length - 1]!;
    if (segment.isFullFor(batch.length, lastOffset, this.currentOptions.segmentBytes) || segment.isOlderThan(this.currentOptions.segmentMs ?? -1, nowMs)) {
      segment = this.startSegment(baseOffset).segment;
    }
    const position = segment.place(baseOffset, lastOffset, batch.length, info.maxTimestamp, this.currentOptions.indexIntervalBytes, nowMs);
    this.nextOffset = lastOffset + 1;
    this.totalBytes += batch.length;
    this.noteTimestamp(baseOffset, info.maxTimestamp);
    this.ring.push({ baseOffset, lastOffset, maxTimestamp: info.maxTimestamp, bytes: batch });
    const { written, durable } = this.writer.enqueueWrite(segment, batch, position, this.nextOffset, info.recordCount);
    return { baseOffset, lastOffset, written, durable };
  }

  async read(offset: number, maxBytes: number): Promise<ReadResult> {
    this.checkOpen();
    const end = this.visibleEnd;
    if (offset >= end || offset < this.startOffset) return emptyRead;
    const fromRing = this.ring.read(offset, maxBytes, end);
    if (fromRing) return fromRing;
    for (let i = this.segmentIndexOf(offset); i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      if (segment.baseOffset >= end) break;
      const read = await this.useSegment(segment, (handle) => readSegment(handle, segment, offset, maxBytes, end));
      if (read === null) return emptyRead;
      if (read.chunks.length > 0) return read;
    }
    return emptyRead;
  }

  async offsetForTimestamp(timestampMs: number): Promise<TimestampLookup | null> {
    this.checkOpen();
    for (const segment of [...this.segments]) {
      if (!(segment.maxTimestamp >= timestampMs)) continue;
      const from = Math.max(segment.baseOffset + segment.timeIndex.floorOffset(timestampMs), this.startOffset);
      const found = await this.findTimestampFrom(segment, from, timestampMs);
      if (found === 'none') return null;
      if (found) return found;
    }
    return null;
  }

  maxTimestamp(): TimestampLookup | null {
    return this.visibleMax;
  }

  async deleteRecordsBefore(offset: number): Promise<number> {
    this.checkOpen();
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.visibleEnd) {
      throw new RangeError(`offset ${offset} is outside 0..${this.visibleEnd} (the log end offset) of ${this.topic}-${this.partition}`);
    }
    return this.exclusive(async () => {
      if (offset <= this.startOffset) return this.startOffset;
      this.moveStartOffset(offset);
      let doomed = 0;
      while (doomed < this.segments.length - 1 && this.segments[doomed + 1]!.baseOffset <= offset) doomed++;
      if (doomed > 0 && !this.failure) await this.removeOldestSegments(doomed);
      await this.context.persistLogStartOffset(this);
      return this.startOffset;
    });
  }

  reconfigure(options: PartitionOptions): void {
    checkPartitionOptions(options);
    this.currentOptions = options;
    this.policy = flushPolicyOf(options);
    this.ringBytesMax = ringBytesMaxOf(options);
    this.writer.setPolicy(this.policy);
    this.evict();
  }

  /** One retention pass (see retention.ts); the storage calls it for every open log. */
  async enforceRetention(nowMs: number): Promise<RetentionReport> {
    if (this.closing) return noRetention;
    return this.exclusive(async () => {
      if (this.failure || this.closing) return noRetention;
      const facts = await this.segmentFacts();
      const count = segmentsToDelete(facts, {
        retentionMs: this.currentOptions.retentionMs ?? -1,
        retentionBytes: this.currentOptions.retentionBytes ?? -1,
        logStartOffset: this.startOffset,
        visibleEndOffset: this.visibleEnd,
        nowMs,
      });
      if (count === 0) return noRetention;
      if (count === this.segments.length) {
        // Every segment goes, the active one too: roll first, so that the log keeps its offsets.
        await this.startSegment(this.nextOffset).rolled;
      }
      const report = await this.removeOldestSegments(count);
      await this.context.persistLogStartOffset(this);
      return report;
    });
  }

  /**
   * The recovery point to checkpoint: syncs the active segment's index files through the
   * writer, then answers the offset below which everything is synced. A log that is failing or
   * closing answers the last confirmed one.
   */
  async checkpointRecoveryPoint(): Promise<number> {
    if (this.failure || this.closing) return this.recoveryPoint;
    try {
      this.recoveryPoint = Math.max(this.recoveryPoint, await this.writer.checkpoint());
    } catch {
      // The writer failed meanwhile; the last confirmed point still holds.
    }
    return this.recoveryPoint;
  }

  /** Resolves when every batch appended so far is on the file and synced as the policy asks. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.maintenance.catch(() => {});
        await this.failure?.repairing?.catch(() => {});
        if (!this.failure) {
          await this.writer.close();
          this.recoveryPoint = this.nextOffset;
          this.closedCleanly = true;
        }
      } finally {
        await this.handles.close();
        this.ring.clear();
        this.context.onClose(this);
      }
    })();
    return this.closing;
  }

  private checkOpen(): void {
    if (this.closing) throw new Error(`partition ${this.topic}-${this.partition} is closed`);
  }

  private newWriter(active: Segment, writtenEnd: number, syncedEnd: number): LogWriter {
    return new LogWriter(active, writtenEnd, syncedEnd, this.policy, {
      written: (endOffset) => {
        this.writtenEnd = endOffset;
        if (!this.policy.syncBeforeAck) this.advanceVisible(endOffset);
        this.evict();
      },
      synced: (endOffset) => {
        this.advanceVisible(this.policy.syncBeforeAck ? endOffset : this.writtenEnd);
      },
      failed: (error, goodEnd) => {
        this.context.log(`partition ${this.topic}-${this.partition}: ${error.message}; cutting the log back to offset ${goodEnd} and refusing appends until its files are repaired`);
        this.failure = { error, goodEnd, repairing: null, lastAttemptMs: Number.NEGATIVE_INFINITY };
        this.maybeRepair();
      },
    });
  }

  /** Starts a new active segment at `baseOffset`; `rolled` resolves once its files exist. */
  private startSegment(baseOffset: number): { segment: Segment; rolled: Promise<void> } {
    const segment = new Segment(this.context.fs, this.dir, baseOffset);
    this.segments.push(segment);
    const rolled = this.writer.enqueueRoll(segment);
    return { segment, rolled };
  }

  private noteTimestamp(baseOffset: number, timestamp: number): void {
    const top = this.pendingMaxima[this.pendingMaxima.length - 1] ?? this.visibleMax;
    if (top === null || timestamp > top.timestamp) this.pendingMaxima.push({ offset: baseOffset, timestamp });
  }

  private advanceVisible(endOffset: number): void {
    if (endOffset <= this.visibleEnd) return;
    this.visibleEnd = endOffset;
    let taken = 0;
    while (taken < this.pendingMaxima.length && this.pendingMaxima[taken]!.offset < endOffset) this.visibleMax = this.pendingMaxima[taken++]!;
    if (taken > 0) this.pendingMaxima = this.pendingMaxima.slice(taken);
  }

  /** Drops the oldest batches beyond the ring's bound, but only those already on the file. */
  private evict(): void {
    while (this.ring.bytes > this.ringBytesMax) {
      const oldest = this.ring.oldest();
      if (!oldest || oldest.lastOffset >= this.writtenEnd) break;
      this.ring.shift();
    }
  }

  private moveStartOffset(offset: number): void {
    this.startOffset = Math.max(this.startOffset, Math.min(offset, this.visibleEnd));
    this.ring.dropBelow(this.startOffset);
    if (this.visibleMax !== null && this.visibleMax.offset < this.startOffset) this.visibleMax = maxOfSegments(this.segments, this.visibleEnd, this.startOffset);
  }

  /** Deletes the `count` oldest segments (never the last) and moves the log start offset past them. */
  private async removeOldestSegments(count: number): Promise<RetentionReport> {
    const doomed = this.segments.splice(0, Math.min(count, this.segments.length - 1));
    if (doomed.length === 0) return noRetention;
    const deletedBytes = doomed.reduce((sum, segment) => sum + segment.sizeBytes, 0);
    this.totalBytes -= deletedBytes;
    this.moveStartOffset(this.segments[0]!.baseOffset);
    for (const segment of doomed) segment.deleted = true;
    for (const segment of doomed) await segment.deleteFiles();
    await this.context.fs.syncDir(this.dir);
    return { deletedSegments: doomed.length, deletedBytes };
  }

  private async segmentFacts(): Promise<SegmentFacts[]> {
    const facts: SegmentFacts[] = [];
    for (const segment of this.segments) {
      let largest = segment.maxTimestamp;
      if (!segment.hasTimestamp || largest < 0) largest = segment.sizeBytes === 0 ? this.context.now() : (await this.context.fs.stat(segment.logPath)).mtimeMs;
      facts.push({ baseOffset: segment.baseOffset, endOffset: segment.endOffset, sizeBytes: segment.sizeBytes, largestTimestampMs: largest });
    }
    return facts;
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.maintenance.catch(() => {}).then(task);
    this.maintenance = run;
    return run;
  }

  /** Starts a repair unless one runs, or one failed less than repairRetryMs ago. */
  private maybeRepair(): void {
    const failure = this.failure;
    if (!failure || failure.repairing || this.closing) return;
    const nowMs = this.context.now();
    if (nowMs - failure.lastAttemptMs < repairRetryMs) return;
    failure.lastAttemptMs = nowMs;
    failure.repairing = this.exclusive(() => this.repair(failure.goodEnd)).then(
      () => {
        this.failure = null;
        this.context.log(`partition ${this.topic}-${this.partition}: files repaired, log end offset ${this.nextOffset}; taking appends again`);
      },
      (error: unknown) => {
        failure.repairing = null;
        this.context.log(`partition ${this.topic}-${this.partition}: repair failed (${(error as Error).message}); retrying with the next append`);
      },
    );
  }

  /**
   * Cuts the log back to `goodEnd` after a failed write or sync: deletes the segments begun at
   * or after it (keeping the first segment), recovers the one that holds it from its file with
   * a cut at `goodEnd` (which truncates any half-written batch), and starts a new writer. The
   * in-memory state changes only at the end, so a failed repair can simply be tried again.
   */
  private async repair(goodEnd: number): Promise<void> {
    await this.writer.flush();
    await this.handles.close();
    let keep = 0;
    while (keep + 1 < this.segments.length && this.segments[keep + 1]!.baseOffset < goodEnd) keep++;
    const removed = this.segments.slice(keep + 1);
    for (const segment of removed) await segment.deleteFiles();
    if (removed.length > 0) await this.context.fs.syncDir(this.dir);
    const old = this.segments[keep]!;
    await old.closeFilesQuietly();
    const fresh = new Segment(this.context.fs, this.dir, old.baseOffset);
    try {
      await recoverSegment(fresh, { trustedBelow: goodEnd, endLimit: null, cutAt: goodEnd, indexIntervalBytes: this.currentOptions.indexIntervalBytes, nowMs: this.context.now() });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      // The segment's files were never created (a roll that failed): start them now.
      await fresh.openFiles(true);
      await this.context.fs.syncDir(this.dir);
      await fresh.closeFiles();
    }
    if (fresh.sizeBytes > 0) fresh.rollBaseMs = old.rollBaseMs ?? this.context.now();
    await fresh.openFiles(false);
    // Commit: from here on nothing awaits.
    this.segments.splice(keep, this.segments.length - keep, fresh);
    const end = fresh.endOffset;
    this.nextOffset = end;
    this.writtenEnd = end;
    this.pendingMaxima = [];
    this.visibleEnd = Math.min(this.visibleEnd, end);
    this.advanceVisible(end);
    this.recoveryPoint = Math.min(this.recoveryPoint, end);
    this.startOffset = Math.min(this.startOffset, end);
    this.totalBytes = this.segments.reduce((sum, segment) => sum + segment.sizeBytes, 0);
    this.ring.dropFrom(end);
    this.visibleMax = maxOfSegments(this.segments, end, this.startOffset);
    this.writer = this.newWriter(fresh, end, end);
  }

  /** Runs a read on a segment's file; null when retention deleted the segment meanwhile. */
  private async useSegment<T>(segment: Segment, read: (handle: StorageFile) => Promise<T>): Promise<T | null> {
    if (segment.deleted) return null;
    try {
      return await this.handles.use(segment, read);
    } catch (error) {
      if (segment.deleted || isNotFound(error)) return null;
      throw error;
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
   * batch before `from` has a smaller maxTimestamp: a lookup, 'none' when no visible batch
   * reaches it, or null to go on with the next segment. The ring holds everything from its
   * oldest batch to the log end; before that, the segment's file is scanned up to what is
   * written. The loop ends because each file scan either finds the batch or moves `from`
   * forward, and what is not on the file is in the ring.
   */
  private async findTimestampFrom(segment: Segment, from: number, timestampMs: number): Promise<TimestampLookup | 'none' | null> {
    for (;;) {
      const end = this.visibleEnd;
      const oldest = this.ring.oldest();
      if (oldest && from >= oldest.baseOffset) {
        const entry = this.ring.firstReaching(from, timestampMs);
        return entry && entry.baseOffset < end ? await this.lookup(entry, timestampMs) : 'none';
      }
      if (from >= segment.endOffset) return null;
      const scan = await this.useSegment(segment, (handle) => scanForTimestamp(handle, segment, from, timestampMs));
      if (scan === null) return null;
      if (scan.hit) return scan.hit.baseOffset < end ? await this.lookup(scan.hit, timestampMs) : 'none';
      if (scan.scannedEnd > from) {
        from = scan.scannedEnd;
        continue;
      }
      // Nothing on the file at or after `from`: either the segment ends there, or the rest is
      // not written yet and so is in the ring (or was written meanwhile and the next scan sees it).
      if (segment.writtenEndOffset >= segment.endOffset) return null;
    }
  }

  /** The record a lookup answers, never below the log start offset. */
  private async lookup(entry: RingEntry, timestampMs: number): Promise<TimestampLookup | null> {
    const found = await lookupIn(entry, timestampMs);
    if (found === null || found.offset >= this.startOffset) return found;
    return { offset: this.startOffset, timestamp: found.timestamp };
  }
}

/** The largest timestamp of the segments' batches below `visibleEnd` (and at or after `from`), as far as the segments know it. */
function maxOfSegments(segments: readonly Segment[], visibleEnd: number, from = 0): TimestampLookup | null {
  let max: TimestampLookup | null = null;
  for (const segment of segments) {
    if (!segment.hasTimestamp || segment.maxTimestampOffset >= visibleEnd || segment.maxTimestampOffset < from) continue;
    if (max === null || segment.maxTimestamp > max.timestamp) max = { offset: segment.maxTimestampOffset, timestamp: segment.maxTimestamp };
  }
  return max;
}

/** Whole visible batches of one segment's file from the one holding `offset`, at most maxBytes (the first whole). */
async function readSegment(handle: StorageFile, segment: Segment, offset: number, maxBytes: number, endOffset: number): Promise<ReadResult> {
  const end = segment.writtenBytes;
  const scanner = new BatchScanner(handle, segment.offsetIndex.floorPosition(offset - segment.baseOffset), end);
  for (let batch = await scanner.next(); batch !== null; batch = await scanner.next()) {
    if (batch.lastOffset < offset) continue;
    if (batch.baseOffset >= endOffset) break;
    const want = Math.min(end - batch.position, Math.max(batch.bytes, maxBytes));
    // The scanner's block (a fresh buffer) holds it or is read to hold it.
    if (want <= scanBlockBytes) return wholeBatches(await scanner.view(batch.position, want), endOffset);
    // A large read goes into a pooled buffer that the reader gives back once it is done with it.
    const buffer = segmentReadPool.take(want);
    try {
      await readInto(handle, buffer, batch.position, want);
    } catch (error) {
      segmentReadPool.give(buffer);
      throw error;
    }
    const read = wholeBatches(buffer.subarray(0, want), endOffset);
    if (read.chunks.length === 0) {
      segmentReadPool.give(buffer);
      return emptyRead;
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      segmentReadPool.give(buffer);
    };
    return { ...read, release };
  }
  return emptyRead;
}

/** The whole batches at the start of `data` (views), before `endOffset`, with their byte count. */
function wholeBatches(data: Buffer, endOffset: number): ReadResult {
  const chunks = cutWholeBatches(data, endOffset);
  return { chunks, bytes: chunks.reduce((sum, chunk) => sum + chunk.length, 0) };
}

interface TimestampScan {
  readonly hit: RingEntry | null;
  /** The offset after the last batch scanned. */
  readonly scannedEnd: number;
}

/** Scans the written part of a segment from the batch holding `from` for the first batch whose maxTimestamp reaches the target. */
async function scanForTimestamp(handle: StorageFile, segment: Segment, from: number, timestampMs: number): Promise<TimestampScan> {
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
