/**
 * One segment of a partition log: a `.log` file of batches byte for byte, named by its base
 * offset, with its offset and time indexes. Its state is kept in two layers: what has been
 * appended (sizeBytes, endOffset, the in-memory indexes, used to place batches at append time)
 * and what is on the file (writtenBytes, writtenEndOffset, the persisted index entries), which
 * the log writer advances. Readers of the file never look past writtenBytes.
 *
 * Only the `.log` file is held open while the segment is active. The index entries live in
 * memory (readers use those) and reach their files when the recovery point is checkpointed,
 * when the segment is sealed and when it is closed, each time in one write per file opened for
 * it: a partition costs one file descriptor, not three (10,000 partitions fit the usual
 * `ulimit -n`), and a write round costs one writev, not three. A crash can lose index entries
 * past the last checkpoint; opening the segment again re-places the batches after the last
 * entry on file (segment-load.ts), as it always had to for entries written but not synced.
 */
import type { FileSystem, StorageFile } from './file-system.js';
import { isNotFound } from './file-system.js';
import { logSuffix, offsetIndexSuffix, segmentPath, timeIndexSuffix } from './file-names.js';
import { writeAll } from './file-io.js';
import { OffsetIndex } from './offset-index.js';
import { TimeIndex } from './time-index.js';
import { offsetIndexEntryBytes, relativeOffsetMax, timeIndexEntryBytes } from './limits.js';

interface SegmentFiles {
  readonly log: StorageFile;
}

export class Segment {
  readonly logPath: string;
  readonly offsetIndexPath: string;
  readonly timeIndexPath: string;
  /** The offset after the last batch appended. */
  endOffset: number;
  /** Bytes appended (on the file or queued for it). */
  sizeBytes = 0;
  /** Bytes on the file. */
  writtenBytes = 0;
  /** The offset after the last batch on the file. */
  writtenEndOffset: number;
  /** Bytes appended since the last offset index entry. */
  bytesSinceIndexEntry = 0;
  /** The largest batch maxTimestamp, and the base offset of the first batch that had it. */
  maxTimestamp = Number.NEGATIVE_INFINITY;
  maxTimestampOffset: number;
  /**
   * When the segment's age starts, for segment.ms: the first batch's maxTimestamp, as Kafka
   * does, or the wall-clock time it was placed (or loaded) when that batch has no timestamp.
   */
  rollBaseMs: number | null = null;
  /** Set once retention has removed the segment (a read that still holds it answers nothing). */
  deleted = false;
  offsetIndex = new OffsetIndex();
  timeIndex = new TimeIndex();
  /** Open while this is the segment being appended to. */
  private files: SegmentFiles | null = null;
  /** Index entries written to their files since those were last synced. */
  private indexesUnsynced = false;

  constructor(
    readonly fs: FileSystem,
    readonly dir: string,
    readonly baseOffset: number,
  ) {
    this.logPath = segmentPath(dir, baseOffset, logSuffix);
    this.offsetIndexPath = segmentPath(dir, baseOffset, offsetIndexSuffix);
    this.timeIndexPath = segmentPath(dir, baseOffset, timeIndexSuffix);
    this.endOffset = baseOffset;
    this.writtenEndOffset = baseOffset;
    this.maxTimestampOffset = baseOffset;
  }

  get hasTimestamp(): boolean {
    return this.maxTimestamp !== Number.NEGATIVE_INFINITY;
  }

  get isOpen(): boolean {
    return this.files !== null;
  }

  /** Whether a batch of `bytes` ending at `lastOffset` must start a new segment instead. */
  isFullFor(bytes: number, lastOffset: number, segmentBytes: number): boolean {
    if (this.sizeBytes === 0) return false;
    return this.sizeBytes + bytes > segmentBytes || this.offsetIndex.full || lastOffset - this.baseOffset > relativeOffsetMax;
  }

  /** Whether the segment holds data and is at least segmentMs old (segmentMs < 0: never). */
  isOlderThan(segmentMs: number, nowMs: number): boolean {
    return segmentMs >= 0 && this.sizeBytes > 0 && this.rollBaseMs !== null && nowMs - this.rollBaseMs >= segmentMs;
  }

  /**
   * Places a batch at the end of the segment (when appended, or when found on the file at open)
   * and returns its position. Adds an offset index entry (and a time index entry when the largest
   * timestamp grew) once indexIntervalBytes have gone by since the last one; a batch the offset
   * index already names (met again while loading) is not indexed twice.
   */
  place(baseOffset: number, lastOffset: number, bytes: number, maxTimestamp: number, indexIntervalBytes: number, nowMs: number): number {
    const position = this.sizeBytes;
    if (position === 0) this.rollBaseMs = maxTimestamp >= 0 ? maxTimestamp : nowMs;
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.maxTimestampOffset = baseOffset;
    }
    const indexedAlready = this.offsetIndex.lastPosition === position;
    if (indexedAlready || (position > 0 && this.bytesSinceIndexEntry >= indexIntervalBytes)) {
      if (!indexedAlready) this.offsetIndex.append(baseOffset - this.baseOffset, position);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.maxTimestampOffset - this.baseOffset);
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += bytes;
    this.sizeBytes += bytes;
    this.endOffset = lastOffset + 1;
    return position;
  }

  /** Adds the time index entry for the largest timestamp, so that the last entry holds it. */
  addFinalTimeEntry(): void {
    if (this.hasTimestamp) this.timeIndex.maybeAppend(this.maxTimestamp, this.maxTimestampOffset - this.baseOffset);
  }

  /** Marks everything placed as on the file (after loading). */
  markWritten(): void {
    this.writtenBytes = this.sizeBytes;
    this.writtenEndOffset = this.endOffset;
  }

  /**
   * Opens the `.log` file for appending; `create` makes all three files and fails if they
   * exist (the caller syncs the folder so that their entries are durable). The index files are
   * opened only while entries are written to them (persistIndexes).
   */
  async openFiles(create: boolean): Promise<void> {
    if (this.files) return;
    if (create) {
      for (const path of [this.offsetIndexPath, this.timeIndexPath]) await (await this.fs.open(path, 'wx+')).close();
    }
    this.files = { log: await this.fs.open(this.logPath, create ? 'wx+' : 'r+') };
  }

  /** Writes batches at `position` (which must be writtenBytes); their index entries wait for persistIndexes. */
  async write(batches: Buffer[], position: number, bytes: number, endOffset: number): Promise<void> {
    const files = this.requireFiles();
    if (position !== this.writtenBytes) throw new Error(`segment ${this.baseOffset}: write at ${position} but ${this.writtenBytes} bytes are on the file`);
    await writeAll(files.log, batches, position);
    this.writtenBytes = position + bytes;
    this.writtenEndOffset = endOffset;
  }

  /** fdatasync of the `.log` file: the batches written so far become durable. */
  async syncLog(): Promise<void> {
    await this.requireFiles().log.datasync();
  }

  /** Writes the index entries not yet on file and fsyncs both index files: every entry so far becomes durable. */
  async syncIndexes(): Promise<void> {
    this.requireFiles();
    await this.persistIndexes(true);
  }

  /**
   * Writes the index entries whose batches are on the file and not yet in the index files
   * (opening each file only when it has entries to take), and with `sync` makes every entry
   * written so far durable.
   */
  async persistIndexes(sync = false): Promise<void> {
    const offsets = this.offsetIndex;
    let to = offsets.persisted;
    while (to < offsets.count && offsets.positionAt(to) < this.writtenBytes) to++;
    const offsetEntries = to > offsets.persisted ? { from: offsets.persisted, to, bytes: offsets.encode(offsets.persisted, to) } : null;
    const times = this.timeIndex;
    const writtenRelativeEnd = this.writtenEndOffset - this.baseOffset;
    to = times.persisted;
    while (to < times.count && times.relativeOffsetAt(to) < writtenRelativeEnd) to++;
    const timeEntries = to > times.persisted ? { from: times.persisted, to, bytes: times.encode(times.persisted, to) } : null;
    if (offsetEntries === null && timeEntries === null && !(sync && this.indexesUnsynced)) return;
    const syncAll = sync && this.indexesUnsynced;
    if (offsetEntries !== null || syncAll) {
      await this.writeIndexFile(this.offsetIndexPath, offsetEntries && { bytes: offsetEntries.bytes, position: offsetEntries.from * offsetIndexEntryBytes }, sync);
      if (offsetEntries !== null) offsets.persisted = offsetEntries.to;
    }
    if (timeEntries !== null || syncAll) {
      await this.writeIndexFile(this.timeIndexPath, timeEntries && { bytes: timeEntries.bytes, position: timeEntries.from * timeIndexEntryBytes }, sync);
      if (timeEntries !== null) times.persisted = timeEntries.to;
    }
    this.indexesUnsynced = !sync;
  }

  private async writeIndexFile(path: string, entries: { bytes: Buffer; position: number } | null, sync: boolean): Promise<void> {
    const handle = await this.fs.open(path, 'r+');
    try {
      if (entries !== null) await writeAll(handle, [entries.bytes], entries.position);
      if (sync) await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /**
   * Seals the segment when the log rolls past it or closes: adds the final time index entry,
   * writes the remaining index entries, syncs all three files and closes them. A sealed
   * segment is wholly durable, indexes included.
   */
  async seal(): Promise<void> {
    if (!this.files) return;
    this.addFinalTimeEntry();
    try {
      await this.syncLog();
      await this.persistIndexes(true);
    } finally {
      await this.closeFiles();
    }
  }

  async closeFiles(): Promise<void> {
    const files = this.files;
    if (!files) return;
    this.files = null;
    await files.log.close();
  }

  /** Closes the files, ignoring errors (after an I/O failure). */
  async closeFilesQuietly(): Promise<void> {
    await this.closeFiles().catch(() => {});
  }

  /** Removes the segment's files, the `.log` first (an index without its log is removed at open). */
  async deleteFiles(): Promise<void> {
    this.deleted = true;
    await this.closeFilesQuietly();
    for (const path of [this.logPath, this.offsetIndexPath, this.timeIndexPath]) {
      try {
        await this.fs.unlink(path);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
  }

  private requireFiles(): SegmentFiles {
    if (!this.files) throw new Error(`segment ${this.baseOffset} of ${this.dir} is not open for writing`);
    return this.files;
  }
}
