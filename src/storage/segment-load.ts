/**
 * Opening a partition folder after a clean close: finds the segments, loads their indexes,
 * rebuilds an index that is missing or inconsistent, and finds the log end by scanning the last
 * segment from its last offset index entry.
 *
 * This is where a later crash-recovery pass belongs: after an unclean shutdown it would rescan
 * (and CRC-check) every batch from the recovery point instead of trusting the indexes, and
 * truncate at the first bad batch. Today the tail scan checks framing only, and truncates a
 * partial batch at the very end of the last segment (the one thing a clean close cannot leave,
 * and the one that would make later appends unreadable).
 */
import { open, readdir, readFile, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { batchBaseOffset, batchHeaderBytes, batchMagic, magicAt } from '../protocol/record-batch.js';
import { isNotFound, readExactly } from './file-io.js';
import { offsetIndexSuffix, segmentBaseOffset, segmentFileStem, timeIndexSuffix } from './file-names.js';
import { relativeOffsetMax } from './limits.js';
import { OffsetIndex } from './offset-index.js';
import { BatchScanner, TornBatchError } from './segment-scan.js';
import { Segment } from './segment.js';
import { TimeIndex } from './time-index.js';

export interface LoadReport {
  /** Segments whose indexes were rebuilt from the log. */
  readonly rebuilt: number[];
  /** Bytes cut from the end of the last segment (a partial batch). */
  readonly truncatedBytes: number;
}

/** Loads a partition folder's segments, oldest first; the last one is open for appending. */
export async function loadSegments(dir: string, indexIntervalBytes: number): Promise<{ segments: Segment[]; report: LoadReport }> {
  const names = await readdir(dir);
  const bases = names.flatMap((name) => {
    const base = segmentBaseOffset(name);
    return base === null ? [] : [base];
  });
  bases.sort((a, b) => a - b);
  await removeOrphanIndexes(dir, names, new Set(bases.map(segmentFileStem)));
  const report = { rebuilt: [] as number[], truncatedBytes: 0 };
  if (bases.length === 0) {
    const segment = new Segment(dir, 0);
    await segment.openFiles(true);
    return { segments: [segment], report };
  }
  const segments: Segment[] = [];
  for (let i = 0; i < bases.length; i++) {
    const segment = new Segment(dir, bases[i]!);
    const nextBase = i + 1 < bases.length ? bases[i + 1]! : null;
    const outcome = await loadSegment(segment, nextBase, indexIntervalBytes);
    if (outcome.rebuilt) report.rebuilt.push(segment.baseOffset);
    report.truncatedBytes += outcome.truncatedBytes;
    segments.push(segment);
  }
  await segments[segments.length - 1]!.openFiles(false);
  return { segments, report };
}

async function removeOrphanIndexes(dir: string, names: string[], stems: Set<string>): Promise<void> {
  for (const name of names) {
    const suffix = name.endsWith(offsetIndexSuffix) ? offsetIndexSuffix : name.endsWith(timeIndexSuffix) ? timeIndexSuffix : null;
    if (suffix !== null && !stems.has(name.slice(0, -suffix.length))) await unlink(join(dir, name));
  }
}

async function readOptional(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

interface SegmentOutcome {
  rebuilt: boolean;
  truncatedBytes: number;
}

/** `nextBase` is the next segment's base offset, or null for the last segment. */
async function loadSegment(segment: Segment, nextBase: number | null, indexIntervalBytes: number): Promise<SegmentOutcome> {
  const logBytes = (await stat(segment.logPath)).size;
  const isLast = nextBase === null;
  const handle = await open(segment.logPath, isLast ? 'r+' : 'r');
  try {
    const adopted = await adoptIndexes(segment, handle, logBytes, nextBase);
    if (adopted && !isLast) {
      segment.sizeBytes = logBytes;
      segment.endOffset = nextBase;
      markWritten(segment);
      return { rebuilt: false, truncatedBytes: 0 };
    }
    if (adopted) {
      const tail = await replayTail(segment, handle, logBytes, indexIntervalBytes);
      if (tail !== null) {
        await writeNewIndexEntries(segment);
        return { rebuilt: false, truncatedBytes: tail };
      }
    }
    const truncatedBytes = await rebuild(segment, handle, logBytes, indexIntervalBytes, isLast);
    return { rebuilt: true, truncatedBytes };
  } finally {
    await handle.close();
  }
}

function markWritten(segment: Segment): void {
  segment.writtenBytes = segment.sizeBytes;
  segment.writtenEndOffset = segment.endOffset;
}

/**
 * Takes the index files as the segment's indexes when they are well formed and agree with the
 * log: the last offset entry must point at a batch with the offset it names, and a segment with
 * data must have a time index entry (a sealed segment's last one holds its largest timestamp).
 */
async function adoptIndexes(segment: Segment, handle: FileHandle, logBytes: number, nextBase: number | null): Promise<boolean> {
  const offsetFile = await readOptional(segment.offsetIndexPath);
  const timeFile = await readOptional(segment.timeIndexPath);
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
async function replayTail(segment: Segment, handle: FileHandle, logBytes: number, indexIntervalBytes: number): Promise<number | null> {
  const offsets = segment.offsetIndex;
  const start = offsets.count === 0 ? 0 : offsets.lastPosition;
  segment.sizeBytes = start;
  segment.endOffset = segment.baseOffset + (offsets.count === 0 ? 0 : offsets.relativeOffsetAt(offsets.count - 1));
  const scanner = new BatchScanner(handle, start, logBytes);
  let truncatedBytes = 0;
  try {
    for (let batch = await scanner.next(); batch !== null; batch = await scanner.next()) {
      if (batch.baseOffset < segment.endOffset) return null;
      segment.place(batch.baseOffset, batch.lastOffset, batch.bytes, batch.maxTimestamp, indexIntervalBytes);
    }
  } catch (error) {
    if (!(error instanceof TornBatchError)) throw error;
    truncatedBytes = logBytes - error.position;
    await handle.truncate(error.position);
  }
  const times = segment.timeIndex;
  if (times.count > 0 && segment.baseOffset + times.relativeOffsetAt(times.count - 1) >= segment.endOffset) return null;
  markWritten(segment);
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
 * Rebuilds both indexes by scanning the whole log and writes them out. A partial batch at the
 * end of the last segment is cut off; anywhere else it is an error for crash recovery to handle.
 */
async function rebuild(segment: Segment, handle: FileHandle, logBytes: number, indexIntervalBytes: number, isLast: boolean): Promise<number> {
  segment.offsetIndex = new OffsetIndex();
  segment.timeIndex = new TimeIndex();
  segment.sizeBytes = 0;
  segment.endOffset = segment.baseOffset;
  segment.bytesSinceIndexEntry = 0;
  segment.maxTimestamp = Number.NEGATIVE_INFINITY;
  segment.maxTimestampOffset = segment.baseOffset;
  const scanner = new BatchScanner(handle, 0, logBytes);
  let truncatedBytes = 0;
  try {
    for (let batch = await scanner.next(); batch !== null; batch = await scanner.next()) {
      if (batch.baseOffset < segment.endOffset) throw new Error(`${segment.logPath}: batch at ${batch.position} has offset ${batch.baseOffset}, below ${segment.endOffset}`);
      segment.place(batch.baseOffset, batch.lastOffset, batch.bytes, batch.maxTimestamp, indexIntervalBytes);
    }
  } catch (error) {
    if (!(error instanceof TornBatchError) || !isLast) throw error;
    truncatedBytes = logBytes - error.position;
    await handle.truncate(error.position);
  }
  segment.addFinalTimeEntry();
  await writeFile(segment.offsetIndexPath, segment.offsetIndex.encode(0, segment.offsetIndex.count));
  await writeFile(segment.timeIndexPath, segment.timeIndex.encode(0, segment.timeIndex.count));
  segment.offsetIndex.persisted = segment.offsetIndex.count;
  segment.timeIndex.persisted = segment.timeIndex.count;
  markWritten(segment);
  return truncatedBytes;
}
