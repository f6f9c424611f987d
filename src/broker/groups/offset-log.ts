/**
 * The durable side of the coordinator: committed offsets and group metadata as records (see
 * offset-log-format.ts) in an internal log opened through the broker's Storage, so that it lives
 * under the data directory with the disk engine and in memory with the memory engine. It is not
 * a topic: it is not in the catalog and Metadata never shows it.
 *
 * The log never shrinks by itself (the storage engines do not delete segments), so it is
 * rewritten: there are two slots, `__consumer_offsets.a` and `__consumer_offsets.b`, each a
 * one-partition internal log. The current slot begins with a snapshot of the whole state. When
 * it has grown by more than max(offsets.topic.segment.bytes, the snapshot's size) since then,
 * a snapshot of the state as it is now (epoch + 1) is written to the other slot, appends move
 * there, and the old slot is deleted once the snapshot is on the file. At start-up both slots
 * are read: the complete one (its snapshot-end record present) with the highest epoch is
 * replayed and the other deleted. Because a slot's writes complete in order, a commit that was
 * acknowledged after the switch implies the new snapshot is complete on the file.
 */
import { batchLastOffset, buildBatch, type BatchInfo } from '../../protocol/record-batch.js';
import type { PartitionLog, PartitionOptions, Storage } from '../../storage/types.js';
import { decodeRecord, encodeRecord, readBatchRecords, type EncodedRecord, type LogRecord } from './offset-log-format.js';
import { offsetLogBatchBytesMax, offsetLogBatchRecordsMax, offsetLogReadBytes, offsetLogRingBytes } from './limits.js';

export const offsetLogSlots = ['__consumer_offsets.a', '__consumer_offsets.b'] as const;

/** Whether a topic name would collide with the offset log (topic creation must refuse these). */
export function isOffsetLogName(name: string): boolean {
  return (offsetLogSlots as readonly string[]).includes(name);
}
/** Byte interval of the offset index in the offset log's segments. */
const offsetLogIndexIntervalBytes = 4096;

export interface OffsetLogOptions {
  /** offsets.topic.segment.bytes: segment size, and the least growth that triggers a rewrite. */
  readonly segmentBytes: number;
  readonly log: (line: string) => void;
}

interface Slot {
  readonly name: string;
  readonly log: PartitionLog;
}

interface Inspection {
  /** Epoch of the log-start record, or -1 when the log does not begin with one. */
  readonly epoch: number;
  readonly complete: boolean;
}

export class OffsetLog {
  private compaction: Promise<void> | null = null;
  private closed = false;

  private constructor(
    private readonly storage: Storage,
    private readonly options: OffsetLogOptions,
    private current: Slot,
    private epoch: number,
    /** Bytes of the current slot up to its snapshot end. */
    private snapshotBytes: number,
    private readonly snapshot: () => LogRecord[],
  ) {}

  /**
   * Opens both slots, replays the current one into `apply` (every record after the log start,
   * snapshot records first) and deletes the other. `snapshot` gives the records that describe
   * the whole state when the log is rewritten.
   */
  static async open(storage: Storage, options: OffsetLogOptions, apply: (record: LogRecord) => void, snapshot: () => LogRecord[]): Promise<OffsetLog> {
    const partitionOptions = logOptions(options);
    for (const topic of storage.listTopics()) {
      if (isOffsetLogName(topic.name)) throw new Error(`topic ${topic.name} is in the catalog, but the name belongs to the group coordinator's offset log`);
    }
    const slots: Slot[] = [];
    for (const name of offsetLogSlots) slots.push({ name, log: await storage.openPartition(name, 0, partitionOptions) });
    const inspections = await Promise.all(slots.map((slot) => inspect(slot.log, options.log)));
    let chosen = -1;
    inspections.forEach((inspection, i) => {
      if (inspection.complete && (chosen < 0 || inspection.epoch > inspections[chosen]!.epoch)) chosen = i;
    });
    if (chosen < 0) {
      if (slots.some((slot) => slot.log.logEndOffset > 0)) options.log('offset log: no complete slot found; starting with no committed offsets');
      for (const slot of slots) await storage.deleteTopic(slot.name);
      const fresh: Slot = { name: slots[0]!.name, log: await storage.openPartition(slots[0]!.name, 0, partitionOptions) };
      const epoch = 1;
      await appendRecords(fresh.log, [{ type: 'logStart', epoch, createdMs: Date.now() }, { type: 'snapshotEnd', epoch, records: 0 }]);
      return new OffsetLog(storage, options, fresh, epoch, fresh.log.sizeBytes, snapshot);
    }
    const current = slots[chosen]!;
    await storage.deleteTopic(slots[1 - chosen]!.name);
    const snapshotBytes = await replay(current.log, apply, options.log);
    return new OffsetLog(storage, options, current, inspections[chosen]!.epoch, snapshotBytes, snapshot);
  }

  /**
   * Appends the records (in one batch when they fit) and resolves when they are durable under
   * the storage's flush policy (AppendResult.durable: synced with the default policy; at once
   * for the memory engine). Rejects when the log is closed or the write fails.
   */
  append(records: readonly LogRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the offset log is closed'));
    let written: Promise<void>;
    try {
      written = appendRecords(this.current.log, records);
    } catch (error) {
      return Promise.reject(error);
    }
    this.maybeCompact();
    return written;
  }

  /** Waits for a rewrite under way; later appends fail. Storage closes the logs. */
  async close(): Promise<void> {
    this.closed = true;
    await this.compaction;
  }

  private maybeCompact(): void {
    if (this.compaction !== null || this.closed) return;
    const growth = this.current.log.sizeBytes - this.snapshotBytes;
    if (growth <= Math.max(this.options.segmentBytes, this.snapshotBytes)) return;
    this.compaction = this.compact().finally(() => (this.compaction = null));
  }

  /** Rewrites the state into the other slot and switches to it (see the file comment). */
  private async compact(): Promise<void> {
    const previous = this.current;
    const nextName = offsetLogSlots.find((name) => name !== previous.name)!;
    try {
      await this.storage.deleteTopic(nextName);
      const log = await this.storage.openPartition(nextName, 0, logOptions(this.options));
      if (this.closed) return;
      const epoch = this.epoch + 1;
      const state = this.snapshot();
      const written = appendRecords(log, [{ type: 'logStart', epoch, createdMs: Date.now() }, ...state, { type: 'snapshotEnd', epoch, records: state.length }]);
      this.current = { name: nextName, log };
      this.epoch = epoch;
      this.snapshotBytes = log.sizeBytes;
      try {
        await written;
      } catch (error) {
        this.options.log(`offset log: writing the snapshot to ${nextName} failed (${(error as Error).message}); staying on ${previous.name}`);
        this.current = previous;
        this.epoch = epoch - 1;
        return;
      }
      await this.storage.deleteTopic(previous.name);
    } catch (error) {
      if (!this.closed) this.options.log(`offset log: rewrite failed: ${(error as Error).stack ?? error}`);
    }
  }
}

function logOptions(options: OffsetLogOptions): PartitionOptions {
  return { segmentBytes: options.segmentBytes, indexIntervalBytes: offsetLogIndexIntervalBytes, ringBufferBytesMax: offsetLogRingBytes };
}

/** Appends records as batches of bounded size; resolves when the last (and so every) batch is durable. */
function appendRecords(log: PartitionLog, records: readonly LogRecord[]): Promise<void> {
  let written: Promise<void> = Promise.resolve();
  let batch: EncodedRecord[] = [];
  let batchBytes = 0;
  const flush = () => {
    if (batch.length === 0) return;
    const now = Date.now();
    const bytes = buildBatch(batch, { timestamp: now });
    const info: BatchInfo = { bytes: bytes.length, recordCount: batch.length, maxTimestamp: now, firstTimestamp: now };
    written = log.append(bytes, info).durable;
    batch = [];
    batchBytes = 0;
  };
  for (const record of records) {
    const encoded = encodeRecord(record);
    const size = encoded.key.length + (encoded.value?.length ?? 0);
    if (batch.length > 0 && (batch.length >= offsetLogBatchRecordsMax || batchBytes + size > offsetLogBatchBytesMax)) flush();
    batch.push(encoded);
    batchBytes += size;
  }
  flush();
  return written;
}

/** Calls `visit` with each record of the log, in order, and the log bytes read through its batch. */
async function walk(log: PartitionLog, visit: (record: LogRecord, bytesThrough: number) => boolean, logLine: (line: string) => void): Promise<void> {
  let offset = log.logStartOffset;
  let bytes = 0;
  while (offset < log.logEndOffset) {
    const { chunks } = await log.read(offset, offsetLogReadBytes);
    if (chunks.length === 0) break;
    for (const batch of chunks) {
      bytes += batch.length;
      offset = batchLastOffset(batch) + 1;
      const records = readBatchRecords(batch);
      if (typeof records === 'string') {
        logLine(`offset log ${log.topic}: skipping ${records} before offset ${offset}`);
        continue;
      }
      for (const { key, value } of records) {
        if (key === null) continue;
        const record = decodeRecord(key, value);
        if (typeof record === 'string') {
          logLine(`offset log ${log.topic}: skipping a record: ${record}`);
          continue;
        }
        if (!visit(record, bytes)) return;
      }
    }
  }
}

/** Reads a slot as far as its snapshot end, to learn its epoch and whether it is complete. */
async function inspect(log: PartitionLog, logLine: (line: string) => void): Promise<Inspection> {
  let epoch = -1;
  let complete = false;
  let first = true;
  await walk(
    log,
    (record) => {
      if (first) {
        first = false;
        if (record.type !== 'logStart') return false;
        epoch = record.epoch;
        return true;
      }
      if (record.type === 'snapshotEnd' && record.epoch === epoch) {
        complete = true;
        return false;
      }
      return true;
    },
    logLine,
  );
  return { epoch, complete };
}

/** Applies every record after the log start; returns the bytes up to the snapshot end. */
async function replay(log: PartitionLog, apply: (record: LogRecord) => void, logLine: (line: string) => void): Promise<number> {
  let snapshotBytes = 0;
  await walk(
    log,
    (record, bytesThrough) => {
      if (record.type === 'snapshotEnd') snapshotBytes = bytesThrough;
      else if (record.type !== 'logStart') apply(record);
      return true;
    },
    logLine,
  );
  return snapshotBytes;
}
