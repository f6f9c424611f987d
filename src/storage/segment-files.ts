/** Helpers shared by the two ways of loading a segment (segment-load.ts, segment-recover.ts). */
import type { FileSystem } from './file-system.js';
import { isNotFound, replaceFileAtomically } from './file-io.js';
import { OffsetIndex } from './offset-index.js';
import type { Segment } from './segment.js';
import { TimeIndex } from './time-index.js';

/** A file's bytes, or null when it does not exist. */
export async function readOptional(fs: FileSystem, path: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(path);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** Empties a segment's in-memory state before a scan from its first byte. */
export function resetSegment(segment: Segment): void {
  segment.offsetIndex = new OffsetIndex();
  segment.timeIndex = new TimeIndex();
  segment.sizeBytes = 0;
  segment.endOffset = segment.baseOffset;
  segment.bytesSinceIndexEntry = 0;
  segment.maxTimestamp = Number.NEGATIVE_INFINITY;
  segment.maxTimestampOffset = segment.baseOffset;
  segment.rollBaseMs = null;
}

/** Suffix of the temporary file an index is rebuilt into before it replaces the old one. */
export const rebuildSuffix = '.tmp';

/**
 * Replaces both index files with the in-memory indexes (with the final time entry), each
 * atomically (temp file, fsync, rename, folder fsync): a crash leaves the old index or the new.
 */
export async function writeIndexFiles(segment: Segment): Promise<void> {
  segment.addFinalTimeEntry();
  const { fs, offsetIndexPath, timeIndexPath } = segment;
  await replaceFileAtomically(fs, offsetIndexPath, offsetIndexPath + rebuildSuffix, segment.offsetIndex.encode(0, segment.offsetIndex.count));
  await replaceFileAtomically(fs, timeIndexPath, timeIndexPath + rebuildSuffix, segment.timeIndex.encode(0, segment.timeIndex.count));
  segment.offsetIndex.persisted = segment.offsetIndex.count;
  segment.timeIndex.persisted = segment.timeIndex.count;
}
