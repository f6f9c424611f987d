/**
 * Opening a partition folder: finds the segments and loads them, each in one of two ways.
 *
 * - Trusted (every segment after a clean shutdown; after a crash, the segments wholly below the
 *   recovery point): the index files are taken when they are well formed and agree with the log
 *   (else both are rebuilt by a header scan), and only the last segment is read, from its last
 *   offset index entry to the end, framing only; a partial batch at its very end is cut off.
 * - Recovered (after a crash, the segments at or past the recovery point; see
 *   segment-recover.ts): every batch from the recovery point on is read whole and checked
 *   (framing, CRC-32C, offsets that follow on), the segment is cut at the first bad batch, and
 *   any later segment is deleted, since the log cannot continue past a hole.
 *
 * So after a crash the work is bounded by what was written since the last recovery-point
 * checkpoint, not by the size of the log.
 */
import { join } from 'node:path';
import { batchBaseOffset, batchHeaderBytes, batchMagic, batchMaxTimestamp, magicAt } from '../protocol/record-batch.js';
import type { FileSystem, StorageFile } from './file-system.js';
import { readExactly } from './file-io.js';
import { readOptional, rebuildSuffix, resetSegment, writeIndexFiles } from './segment-files.js';
import { offsetIndexSuffix, segmentBaseOffset, segmentFileStem, timeIndexSuffix } from './file-names.js';
import { relativeOffsetMax } from './limits.js';
import { OffsetIndex } from './offset-index.js';
import { BatchScanner, TornBatchError } from './segment-scan.js';
import { recoverSegment } from './segment-recover.js';
import { Segment } from './segment.js';
import { TimeIndex } from './time-index.js';

export interface LoadOptions {
  readonly indexIntervalBytes: number;
  /**
   * null when the previous run shut down cleanly; otherwise the offset below which the log was
   * known to be durable (the recovery-point checkpoint; 0 when the partition has none).
   */
  readonly recoveryPoint: number | null;
  /** The base offset of the first segment when the folder has none (never below a checkpointed offset). */
  readonly emptyBaseOffset: number;
  readonly nowMs: number;
}

export interface LoadReport {
  /** Segments whose indexes were rebuilt from the log. */
  readonly rebuilt: number[];
  /** Bytes cut from the ends of segments (torn or damaged batches and what followed them). */
  truncatedBytes: number;
  /** One line per cut or deleted segment, saying where and why (logged by the broker). */
  readonly truncations: string[];
  /** Segments deleted because an earlier segment was cut short. */
  readonly deletedSegments: number[];
  /** Bytes that crash recovery read and checked batch by batch. */
  scannedBytes: number;
  /** Whether the folder was loaded after a crash (the recovery path ran). */
  readonly recovered: boolean;
}

/** Loads a partition folder's segments, oldest first; the last one is open for appending. */
export async function loadSegments(fs: FileSystem, dir: string, options: LoadOptions): Promise<{ segments: Segment[]; report: LoadReport }> {
  const names = await fs.readdir(dir);
  const bases = names.flatMap((name) => {
    const base = segmentBaseOffset(name);
    return base === null ? [] : [base];
  });
  bases.sort((a, b) => a - b);
  await removeOrphanIndexes(fs, dir, names, new Set(bases.map(segmentFileStem)));
  const report: LoadReport = { rebuilt: [], truncatedBytes: 0, truncations: [], deletedSegments: [], scannedBytes: 0, recovered: options.recoveryPoint !== null };
  if (bases.length === 0) {
    const segment = new Segment(fs, dir, options.emptyBaseOffset);
    await segment.openFiles(true);
    await fs.syncDir(dir);
    return { segments: [segment], report };
  }
  const segments: Segment[] = [];
  for (let i = 0; i < bases.length; i++) {
    const segment = new Segment(fs, dir, bases[i]!);
    const nextBase = i + 1 < bases.length ? bases[i + 1]! : null;
    const recoveryPoint = options.recoveryPoint;
    let trusted = recoveryPoint === null || (nextBase !== null && nextBase <= recoveryPoint);
    if (trusted) {
      try {
        const outcome = await loadTrusted(segment, nextBase, options);
        if (outcome.rebuilt) report.rebuilt.push(segment.baseOffset);
        if (outcome.truncatedBytes > 0) {
          report.truncatedBytes += outcome.truncatedBytes;
          report.truncations.push(`segment ${segment.baseOffset}: cut ${outcome.truncatedBytes} bytes of a partial batch at its end`);
        }
      } catch (error) {
        if (!(error instanceof TornBatchError)) throw error;
        report.truncations.push(`segment ${segment.baseOffset}: ${error.message}; checking it batch by batch`);
        trusted = false;
      }
    }
    if (!trusted) {
      const trustedBelow = recoveryPoint === null ? segment.baseOffset : Math.max(segment.baseOffset, recoveryPoint);
      const outcome = await recoverSegment(segment, { trustedBelow, endLimit: nextBase, indexIntervalBytes: options.indexIntervalBytes, nowMs: options.nowMs });
      report.rebuilt.push(segment.baseOffset);
      report.scannedBytes += outcome.scannedBytes;
      if (outcome.truncatedBytes > 0) {
        report.truncatedBytes += outcome.truncatedBytes;
        report.truncations.push(`segment ${segment.baseOffset}: cut ${outcome.truncatedBytes} bytes at position ${segment.sizeBytes} (offset ${segment.endOffset}): ${outcome.reason}`);
      }
    }
    segments.push(segment);
    if (nextBase !== null && segment.endOffset !== nextBase) {
      for (const later of bases.slice(i + 1)) {
        await new Segment(fs, dir, later).deleteFiles();
        report.deletedSegments.push(later);
      }
      report.truncations.push(`segment ${segment.baseOffset} ends at offset ${segment.endOffset}, not at the next segment's base ${nextBase}: deleted the ${bases.length - i - 1} later segment(s)`);
      await fs.syncDir(dir);
      break;
    }
  }
  const last = segments[segments.length - 1]!;
  if (last.sizeBytes > 0 && last.rollBaseMs === null) {
    const handle = await fs.open(last.logPath, 'r');
    try {
      const first = batchMaxTimestamp(await readExactly(handle, 0, batchHeaderBytes));
      last.rollBaseMs = first >= 0 ? first : options.nowMs;
    } finally {
      await handle.close();
    }
  }
  await last.openFiles(false);
  return { segments, report };
}

/** Removes index files without their log, and temp files a crash left (an index being rebuilt, partition.metadata being replaced). */
async function removeOrphanIndexes(fs: FileSystem, dir: string, names: string[], stems: Set<string>): Promise<void> {
  for (const name of names) {
    if (name.endsWith(rebuildSuffix)) {
      await fs.unlink(join(dir, name));
      continue;
    }
    const suffix = name.endsWith(offsetIndexSuffix) ? offsetIndexSuffix : name.endsWith(timeIndexSuffix) ? timeIndexSuffix : null;
    if (suffix !== null && !stems.has(name.slice(0, -suffix.length))) await fs.unlink(join(dir, name));
  }
}

interface TrustedOutcome {
  rebuilt: boolean;
  truncatedBytes: number;
}

/**
 * Loads a segment trusting what is on file. `nextBase` is the next segment's base offset, or null
 * for the last segment. Throws TornBatchError when a segment before the last is not whole.
 */
async function loadTrusted(segment: Segment, nextBase: number | null, options: LoadOptions): Promise<TrustedOutcome> {
  const fs = segment.fs;
  const logBytes = (await fs.stat(segment.logPath)).size;
  const isLast = nextBase === null;
  const handle = await fs.open(segment.logPath, isLast ? 'r+' : 'r');
  try {
    const adopted = await adoptIndexes(segment, handle, logBytes, nextBase);
    if (adopted && !isLast) {
      segment.sizeBytes = logBytes;
      segment.endOffset = nextBase;
      segment.markWritten();
      return { rebuilt: false, truncatedBytes: 0 };
    }
    if (adopted) {
      const tail = await replayTail(segment, handle, logBytes, options);
      if (tail !== null) {
        await writeNewIndexEntries(segment);
        return { rebuilt: false, truncatedBytes: tail };
      }
    }
    const truncatedBytes = await rebuild(segment, handle, logBytes, isLast, options);
    return { rebuilt: true, truncatedBytes };
  } finally {
    await handle.close();
  }
}

/**
 * Takes the index files as the segment's indexes when they are well formed and agree with the
 * log: the last offset entry must point at a batch with the offset it names, and a segment with
 * data must have a time index entry (a sealed segment's last one holds its largest timestamp).
 */
async function adoptIndexes(segment: Segment, handle: StorageFile, logBytes: number, nextBase: number | null): Promise<boolean> {
  const offsetFile = await readOptional(segment.fs, segment.offsetIndexPath);
  const timeFile = await readOptional(segment.fs, segment.timeIndexPath);
  if (offsetFile === null || timeFile === null) return false;
  const relativeEnd = nextBase === null ? relativeOffsetMax + 1 : nextBase - segment.baseOffset;
  const offsets = OffsetIndex.parse(offsetFile, logBytes);
  const times = TimeIndex.parse(timeFile, relativeEnd);
  if (offsets === null || times === null) return false;
  if (offsets.count > 0) {
    if (offsets.relativeOffsetAt(offsets.count - 1) >= relativeEnd) return false;
    const position = offsets.lastPosition;
    if (logBytes - position < batchHeaderBytes) return false;
    const header = await readExactly(handle, position, batchHeaderBytes);
    if (header[magicAt] !== batchMagic || batchBaseOffset(header) !== segment.baseOffset + offsets.relativeOffsetAt(offsets.count - 1)) return false;
    if (times.count === 0) return false;
  }
  if (logBytes > 0 && nextBase !== null && times.count === 0) return false;
  segment.offsetIndex = offsets;
  segment.timeIndex = times;
  if (times.count > 0) {
    segment.maxTimestamp = times.lastTimestamp;
    segment.maxTimestampOffset = segment.baseOffset + times.relativeOffsetAt(times.count - 1);
  }
  return true;
}

/**
 * Re-places the batches from the last offset index entry to the end of the file. Returns the
 * bytes cut off the end, or null when what it finds disagrees with the indexes (then the caller
 * rebuilds them).
 */
async function replayTail(segment: Segment, handle: StorageFile, logBytes: number, options: LoadOptions): Promise<number | null> {
  const offsets = segment.offsetIndex;
  const start = offsets.count === 0 ? 0 : offsets.lastPosition;
  segment.sizeBytes = start;
  segment.endOffset = segment.baseOffset + (offsets.count === 0 ? 0 : offsets.relativeOffsetAt(offsets.count - 1));
  const scanner = new BatchScanner(handle, start, logBytes);
  let truncatedBytes = 0;
  try {
    for (let batch = await scanner.next(); batch !== null; batch = await scanner.next()) {
      if (batch.baseOffset < segment.endOffset) return null;
      segment.place(batch.baseOffset, batch.lastOffset, batch.bytes, batch.maxTimestamp, options.indexIntervalBytes, options.nowMs);
    }
  } catch (error) {
    if (!(error instanceof TornBatchError)) throw error;
    truncatedBytes = logBytes - error.position;
    await handle.truncate(error.position);
    await handle.datasync();
  }
  const times = segment.timeIndex;
  if (times.count > 0 && segment.baseOffset + times.relativeOffsetAt(times.count - 1) >= segment.endOffset) return null;
  segment.markWritten();
  return truncatedBytes;
}

/** Writes index entries the tail replay added (their batches are all on the file). */
async function writeNewIndexEntries(segment: Segment): Promise<void> {
  await segment.openFiles(false);
  try {
    await segment.persistIndexes();
  } finally {
    await segment.closeFiles();
  }
}

/**
 * Rebuilds both indexes by scanning the whole log (headers only) and writes them out. A partial
 * batch at the end of the last segment is cut off; anywhere else it is a TornBatchError for the
 * caller to recover from.
 */
async function rebuild(segment: Segment, handle: StorageFile, logBytes: number, isLast: boolean, options: LoadOptions): Promise<number> {
  resetSegment(segment);
  const scanner = new BatchScanner(handle, 0, logBytes);
  let truncatedBytes = 0;
  try {
    for (let batch = await scanner.next(); batch !== null; batch = await scanner.next()) {
      if (batch.baseOffset !== segment.endOffset) throw new TornBatchError(batch.position, `${segment.logPath}: batch at ${batch.position} has offset ${batch.baseOffset}, not ${segment.endOffset}`);
      segment.place(batch.baseOffset, batch.lastOffset, batch.bytes, batch.maxTimestamp, options.indexIntervalBytes, options.nowMs);
    }
  } catch (error) {
    if (!(error instanceof TornBatchError) || !isLast) throw error;
    truncatedBytes = logBytes - error.position;
    await handle.truncate(error.position);
    await handle.datasync();
  }
  await writeIndexFiles(segment);
  segment.markWritten();
  return truncatedBytes;
}
