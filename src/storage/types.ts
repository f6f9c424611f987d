/**
 * The storage interface the broker uses. A partition log holds record batches exactly as they
 * arrived (with the base offset written in); two engines implement it: the on-disk engine
 * (segments + sparse offset and time indexes, with a ring buffer of recent batches in front)
 * and the memory engine (the ring buffer alone).
 *
 * Offsets are JavaScript numbers: they are assigned by us, start at 0 and grow by the record
 * count, so they stay far below 2^53.
 */

/**
 * What the broker learned about a batch when it validated it. Defined beside the batch codec in
 * protocol/record-batch.ts (protocol code imports nothing from storage) and re-exported here.
 */
export type { BatchInfo } from '../protocol/record-batch.js';
import type { BatchInfo } from '../protocol/record-batch.js';
/** The file layer the disk engine runs on (see file-system.ts). */
export type { FileSystem, StorageFile } from './file-system.js';

export interface AppendResult {
  /** The offset given to the first record of the batch. */
  readonly baseOffset: number;
  /** The batch's last offset. */
  readonly lastOffset: number;
  /**
   * Resolves when the batch has been written to the file (handed to the OS, not necessarily
   * synced); rejects on I/O error (a StorageError). The memory engine resolves it at once.
   */
  readonly written: Promise<void>;
  /**
   * Resolves when the batch is as durable as the partition's flush policy requires before a
   * producer may be acknowledged (acks 1/all wait for this), and the batch is then visible to
   * readers (logEndOffset has passed it). With the default policy (flushIntervalMessages 1)
   * that is after fdatasync of its segment file; with a larger interval (Kafka's page-cache
   * behaviour) it is when `written` resolves, and the sync happens later. Rejects with a
   * StorageError when the batch could not be made durable: it was then never visible and the
   * log is cut back to before it. Never rejects for a batch whose `written` resolved under the
   * page-cache policy, except through a failed sync (see docs/storage-format.md).
   */
  readonly durable: Promise<void>;
}

export interface ReadResult {
  /** Whole batches, in order, as views of stored bytes (never copies of the ring buffer). */
  readonly chunks: Buffer[];
  readonly bytes: number;
  /**
   * Present when the chunks are views of a pooled read buffer: call it once nothing refers to
   * them any more (the response holding them is written), and the buffer is used again. Not
   * calling it is always safe.
   */
  readonly release?: () => void;
}

export interface TimestampLookup {
  readonly offset: number;
  readonly timestamp: number;
}

export interface PartitionLog {
  readonly topic: string;
  readonly partition: number;
  /** First offset still stored. */
  readonly logStartOffset: number;
  /**
   * The offset after the last record readers can see: the high watermark on a single node.
   * Records become visible when durable under the flush policy (see AppendResult.durable), so
   * a consumer never sees a record that a crash could take back. Fetch, ListOffsets latest and
   * DeleteRecords' upper bound use it. (The next append may get a larger offset while earlier
   * appends are still being synced.)
   */
  readonly logEndOffset: number;
  /** Bytes held on disk (or in memory for the memory engine). */
  readonly sizeBytes: number;
  /**
   * Appends one validated batch (12-byte prefix included). Writes the assigned base offset into
   * the first 8 bytes of `batch` in place, keeps the bytes as they are otherwise, and makes the
   * batch visible to readers before returning.
   */
  append(batch: Buffer, info: BatchInfo): AppendResult;
  /**
   * Batches from the one containing `offset` onward, at most `maxBytes` in total, except that the
   * first batch is always returned whole even when it is larger (as Kafka does, so that a
   * consumer can make progress). Empty when `offset` equals logEndOffset.
   * Callers check offset range first: logStartOffset <= offset <= logEndOffset.
   */
  read(offset: number, maxBytes: number): Promise<ReadResult>;
  /** The first offset whose batch has maxTimestamp >= timestampMs, or null when none does. */
  offsetForTimestamp(timestampMs: number): Promise<TimestampLookup | null>;
  /** The largest timestamp in the log and the offset of the batch that holds it (ListOffsets -3), or null when empty. */
  maxTimestamp(): TimestampLookup | null;
  /** The settings the log runs with now (those given at open, or to the last reconfigure). */
  readonly options: PartitionOptions;
  /**
   * DeleteRecords: moves the log start offset up to `offset`, so that records below it are no
   * longer served (Fetch below it gets OFFSET_OUT_OF_RANGE, ListOffsets earliest answers it),
   * and deletes the segments that then lie wholly below it. Resolves with the log start offset
   * afterwards (the low watermark DeleteRecords reports) once it is persisted (disk engine: the
   * log-start-offset checkpoint). An offset at or below the current log start offset changes
   * nothing and resolves with the current one. Rejects with a RangeError, changing nothing,
   * when `offset` is not an integer in 0..logEndOffset (the handler answers OFFSET_OUT_OF_RANGE;
   * Kafka's -1, "up to the high watermark", is the caller's to translate into logEndOffset).
   */
  deleteRecordsBefore(offset: number): Promise<number>;
  /**
   * Changes the partition's settings at runtime (AlterConfigs / IncrementalAlterConfigs of
   * retention.ms, retention.bytes, segment.bytes, segment.ms, index.interval.bytes, ...):
   * segment and index settings apply to the next append, retention to the next retention pass
   * (the memory engine applies a smaller byte bound at once). Give the whole new option set, as
   * the broker derives it from the topic's configs. Throws a RangeError, changing nothing, when a
   * value is outside its bounds.
   */
  reconfigure(options: PartitionOptions): void;
  /** Flushes pending writes and closes files. */
  close(): Promise<void>;
}

export interface TopicRecord {
  readonly name: string;
  /** 16 random bytes, as Kafka's topic id. */
  readonly id: Buffer;
  readonly partitions: number;
  /** Topic-level configs set at creation or later, by Kafka name (e.g. "cleanup.policy"). */
  readonly configs: Readonly<Record<string, string>>;
}

export interface PartitionOptions {
  /** Roll to a new segment when the active one would exceed this (segment.bytes / log.segment.bytes). */
  readonly segmentBytes: number;
  /** Add an offset/time index entry every this many bytes of log (index.interval.bytes / log.index.interval.bytes). */
  readonly indexIntervalBytes: number;
  /** Bytes of recent batches kept in the in-memory ring buffer of each partition (inkwell.ring.buffer.bytes). */
  readonly ringBufferBytesMax: number;
  /**
   * retention.ms: a segment is deleted once its newest record (largest timestamp) is older than
   * this; -1 (the default when absent) keeps segments whatever their age.
   */
  readonly retentionMs?: number;
  /**
   * retention.bytes: the oldest segments are deleted while the partition holds more than this;
   * -1 (the default when absent) means no bound. The memory engine bounds its ring by it.
   */
  readonly retentionBytes?: number;
  /** segment.ms: roll the active segment once its first batch is this old; absent or -1: never by age. */
  readonly segmentMs?: number;
  /**
   * Kafka's flush.messages (log.flush.interval.messages): sync after this many records. 1 (the
   * default when absent) syncs before acknowledging (group commit); more acknowledges after
   * write() and syncs later, Kafka's page-cache behaviour.
   */
  readonly flushIntervalMessages?: number;
  /** Kafka's flush.ms (log.flush.interval.ms): with flushIntervalMessages > 1, sync at least this often while data is unsynced; absent or -1: no time bound. */
  readonly flushIntervalMs?: number;
}

/** What one retention pass did, summed over the partitions it looked at. */
export interface RetentionReport {
  /** Segments (disk) or batches (memory) deleted. */
  readonly deletedSegments: number;
  readonly deletedBytes: number;
}

export interface Storage {
  /** "disk" or "memory". */
  readonly kind: string;
  /** Topics recovered at open (their partitions can then be opened). */
  listTopics(): TopicRecord[];
  /** Records a topic durably (atomic write of the catalog). Also used after adding partitions or changing configs. */
  saveTopic(topic: TopicRecord): Promise<void>;
  /** Removes a topic's catalog entry and all its partition data. */
  deleteTopic(name: string): Promise<void>;
  openPartition(topic: string, partition: number, options: PartitionOptions): Promise<PartitionLog>;
  /**
   * One retention pass over every open partition (the broker calls it every
   * log.retention.check.interval.ms from one timer): deletes segments past retention.ms or
   * beyond retention.bytes, rolls segments older than segment.ms, advances and persists log
   * start offsets. Never deletes a partition's active segment. Errors are logged per partition,
   * not thrown.
   */
  enforceRetention(nowMs: number): Promise<RetentionReport>;
  /** Flushes and syncs everything, records a clean shutdown (disk engine) and closes. */
  close(): Promise<void>;
}
