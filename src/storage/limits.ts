/**
 * Every bound the storage engines keep, in one place, with the relations between them checked
 * when the module loads.
 */
import { batchHeaderBytes } from '../protocol/record-batch.js';

/** Bytes of recent batches a partition keeps in memory when the options give no usable value. */
export const ringBufferBytesMaxDefault = 4 * 1024 * 1024;
/** First capacity of a ring, in batches; it doubles when full (see BatchRing). */
export const ringBatchesInitial = 64;

/** Largest segment (log.segment.bytes): file positions in the offset index are uint32, and Kafka caps it at Int.MaxValue. */
export const segmentBytesMax = 2 ** 31 - 1;
/** Smallest segment we accept; tests use tiny segments, one batch header is the floor. */
export const segmentBytesMin = batchHeaderBytes;
/** Offsets within a segment are stored relative to its base offset as uint32. */
export const relativeOffsetMax = 0xffff_ffff;
/** Entries of one segment's offset index; a full index rolls the segment (Kafka's 10 MiB segment.index.bytes / 8). */
export const indexEntriesMax = 1_310_720;
/** A time index holds at most one entry per offset index entry, plus the one written when the segment is sealed. */
export const timeIndexEntriesMax = indexEntriesMax + 1;
export const offsetIndexEntryBytes = 8;
export const timeIndexEntryBytes = 12;

/** Buffers handed to one writev call (Linux's IOV_MAX). */
export const writevBuffersMax = 1024;
/** Bytes gathered into one writev call. */
export const writevBytesMax = 8 * 1024 * 1024;
/** Bytes read at a time while walking batch headers in a segment file. */
export const scanBlockBytes = 64 * 1024;
/** Bytes read at a time by crash recovery, which reads every byte it checks. */
export const recoveryScanBlockBytes = 1024 * 1024;

/** How often the recovery-point checkpoint is written by default (Kafka's log.flush.offset.checkpoint.interval.ms is 60 s; ours is shorter, as it bounds the scan after a crash). */
export const recoveryCheckpointIntervalMsDefault = 10_000;
/** Bytes the memory engine holds across all partitions by default (inkwell.memory.bytes.max). */
export const memoryBytesMaxDefault = 1024 * 1024 * 1024;

/** After a failed repair of a partition's files, the next append tries again once this long has passed. */
export const repairRetryMs = 1000;

/** Largest topics.json we read back (a catalog of partitionsTotalMax partitions' topics is far smaller). */
export const catalogBytesMax = 64 * 1024 * 1024;
/** Digits of a segment file name: the base offset, zero-padded as Kafka does. */
export const segmentFileNameDigits = 20;

if (segmentBytesMax > 0xffff_ffff) throw new Error('segment positions must fit a uint32');
if (scanBlockBytes < batchHeaderBytes || recoveryScanBlockBytes < batchHeaderBytes) throw new Error('a scan block must hold a batch header');
if (writevBuffersMax < 1 || writevBytesMax < segmentBytesMin) throw new Error('writev bounds are too small');
