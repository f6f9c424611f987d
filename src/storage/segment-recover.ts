/**
 * Crash recovery of one segment, also used to cut a log back after a failed write.
 *
 * Offsets below `trustedBelow` are taken as durable and consistent: the index entries naming
 * them are kept (those files were synced before the recovery point that vouches for them was
 * checkpointed), once the last kept entry is seen to point at the batch it names. From there,
 * every batch is read whole and checked: framing, CRC-32C, and a base offset that follows on
 * from the previous batch. The segment is cut at the first batch that fails (or, with
 * `endLimit`, that reaches past it), the `.log` file is truncated there and synced, and both
 * index files are rewritten from what was kept and found, and synced.
 */
import { batchBaseOffset, batchHeaderBytes, batchMagic, magicAt } from '../protocol/record-batch.js';
import { readExactly, writeAll } from './file-io.js';
import { isNotFound } from './file-system.js';
import { offsetIndexEntryBytes, recoveryScanBlockBytes, relativeOffsetMax, timeIndexEntryBytes } from './limits.js';
import { OffsetIndex } from './offset-index.js';
import { BatchScanner, TornBatchError } from './segment-scan.js';
import { readOptional, resetSegment } from './segment-files.js';
import type { Segment } from './segment.js';
import { TimeIndex } from './time-index.js';
import type { StorageFile } from './file-system.js';

export interface RecoverOptions {
  /** Offsets below this are trusted (the segment's base offset: trust nothing). */
  readonly trustedBelow: number;
  /** A batch reaching this offset or past it is cut off (the next segment's base offset), or null. */
  readonly endLimit: number | null;
  /** Stop before the batch at this offset even when it is whole and valid (cutting a log back), or null. */
  readonly cutAt?: number | null;
  readonly indexIntervalBytes: number;
  readonly nowMs: number;
}

export interface RecoverOutcome {
  /** Bytes cut off the end of the `.log` file. */
  readonly truncatedBytes: number;
  /** Why the segment was cut, or null when nothing was. */
  readonly reason: string | null;
  /** Bytes read and checked batch by batch. */
  readonly scannedBytes: number;
}

/** Recovers `segment` (fresh, not yet loaded) from its files; its state then describes what is kept. */
export async function recoverSegment(segment: Segment, options: RecoverOptions): Promise<RecoverOutcome> {
  const fs = segment.fs;
  const handle = await fs.open(segment.logPath, 'r+');
  try {
    const logBytes = (await handle.stat()).size;
    resetSegment(segment);
    if (options.trustedBelow > segment.baseOffset) await keepTrustedIndexes(segment, handle, logBytes, options);
    const start = segment.sizeBytes;
    const scanner = new BatchScanner(handle, start, logBytes, recoveryScanBlockBytes);
    let cut: TornBatchError | null = null;
    try {
      for (let batch = await scanner.nextVerified(segment.endOffset); batch !== null; batch = await scanner.nextVerified(segment.endOffset)) {
        if (options.cutAt !== undefined && options.cutAt !== null && batch.baseOffset >= options.cutAt) {
          cut = new TornBatchError(batch.position, `cut back to offset ${options.cutAt}`);
          break;
        }
        if (options.endLimit !== null && batch.lastOffset >= options.endLimit) {
          cut = new TornBatchError(batch.position, `the batch at ${batch.position} reaches offset ${batch.lastOffset}, past the next segment's base ${options.endLimit}`);
          break;
        }
        if (batch.lastOffset - segment.baseOffset > relativeOffsetMax) {
          cut = new TornBatchError(batch.position, `the batch at ${batch.position} reaches offset ${batch.lastOffset}, too far past the segment's base`);
          break;
        }
        segment.place(batch.baseOffset, batch.lastOffset, batch.bytes, batch.maxTimestamp, options.indexIntervalBytes, options.nowMs);
      }
    } catch (error) {
      if (!(error instanceof TornBatchError)) throw error;
      cut = error;
    }
    const truncatedBytes = logBytes - segment.sizeBytes;
    if (truncatedBytes > 0) await handle.truncate(segment.sizeBytes);
    // Synced even when nothing was cut: what a crash of the process left in the page cache is
    // durable from here on, so the recovery point may move past it.
    await handle.datasync();
    await persistIndexes(segment, options.endLimit !== null);
    segment.markWritten();
    return { truncatedBytes, reason: cut?.message ?? null, scannedBytes: Math.max(0, scanner.position - start) };
  } finally {
    await handle.close();
  }
}

/**
 * Brings both index files in line with the segment's indexes: cut each file to the entries kept
 * from it, append the entries the scan added, sync. (Truncating and appending rather than
 * rewriting needs no new space when nothing was added, as after a failed write for lack of it.)
 * A segment with a next one gets the final time index entry, as a sealed segment has.
 */
async function persistIndexes(segment: Segment, sealed: boolean): Promise<void> {
  if (sealed) segment.addFinalTimeEntry();
  const files = [
    { path: segment.offsetIndexPath, index: segment.offsetIndex, entryBytes: offsetIndexEntryBytes },
    { path: segment.timeIndexPath, index: segment.timeIndex, entryBytes: timeIndexEntryBytes },
  ];
  for (const { path, index, entryBytes } of files) {
    const handle = await segment.fs.open(path, 'r+').catch((error: unknown) => {
      if (isNotFound(error)) return segment.fs.open(path, 'w');
      throw error;
    });
    try {
      await handle.truncate(index.persisted * entryBytes);
      if (index.count > index.persisted) await writeAll(handle, [index.encode(index.persisted, index.count)], index.persisted * entryBytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    index.persisted = index.count;
  }
}

/**
 * Keeps the leading index entries that name offsets below trustedBelow, when the last of them
 * points at the batch it names; sets the segment up to re-place batches from that entry's
 * batch. Leaves the segment empty (scan from the start) otherwise.
 */
async function keepTrustedIndexes(segment: Segment, handle: StorageFile, logBytes: number, options: RecoverOptions): Promise<void> {
  const offsetFile = await readOptional(segment.fs, segment.offsetIndexPath);
  const timeFile = await readOptional(segment.fs, segment.timeIndexPath);
  if (offsetFile === null || timeFile === null) return;
  const relativeEnd = options.endLimit === null ? relativeOffsetMax + 1 : options.endLimit - segment.baseOffset;
  const offsets = OffsetIndex.parsePrefix(offsetFile, logBytes);
  const times = TimeIndex.parsePrefix(timeFile, relativeEnd);
  const keep = offsets.countBelow(Math.min(options.trustedBelow - segment.baseOffset, relativeEnd));
  if (keep === 0) return;
  offsets.truncateTo(keep);
  const relative = offsets.relativeOffsetAt(keep - 1);
  const position = offsets.lastPosition;
  if (logBytes - position < batchHeaderBytes) return;
  const header = await readExactly(handle, position, batchHeaderBytes);
  if (header[magicAt] !== batchMagic || batchBaseOffset(header) !== segment.baseOffset + relative) return;
  times.truncateTo(times.countAtOrBelow(relative));
  segment.offsetIndex = offsets;
  segment.timeIndex = times;
  if (times.count > 0) {
    segment.maxTimestamp = times.lastTimestamp;
    segment.maxTimestampOffset = segment.baseOffset + times.relativeOffsetAt(times.count - 1);
  }
  segment.sizeBytes = position;
  segment.endOffset = segment.baseOffset + relative;
}
