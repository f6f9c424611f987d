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

export interface AppendResult {
  /** The offset given to the first record of the batch. */
  readonly baseOffset: number;
  /** The batch's last offset. */
  readonly lastOffset: number;
  /** Resolves when the batch has been written to the file (not necessarily synced); rejects on I/O error. */
  readonly written: Promise<void>;
}

export interface ReadResult {
  /** Whole batches, in order, as views of stored bytes (never copies of the ring buffer). */
  readonly chunks: Buffer[];
  readonly bytes: number;
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
  /** The offset the next record will get (the high watermark on a single node). */
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
  /** Roll to a new segment when the active one would exceed this (log.segment.bytes). */
  readonly segmentBytes: number;
  /** Add an offset/time index entry every this many bytes of log (log.index.interval.bytes). */
  readonly indexIntervalBytes: number;
  /** Bytes of recent batches kept in the in-memory ring buffer of each partition. */
  readonly ringBufferBytesMax: number;
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
  close(): Promise<void>;
}
