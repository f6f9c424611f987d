/**
 * The memory engine: each partition is a ring of its most recent batches and nothing else.
 *
 * A partition's ring is bounded by retention.bytes when set, else by ringBufferBytesMax
 * (inkwell.ring.buffer.bytes); past it the oldest batches go (the newest always stays, however
 * large). All rings together are bounded by the broker-wide memoryBytesMax
 * (inkwell.memory.bytes.max); past that the oldest batches across partitions go (see
 * memory-budget.ts). Either way the log start offset moves past what went. A retention pass
 * also drops batches older than retention.ms.
 *
 * Nothing is written anywhere, so a batch is visible, written and "durable" as soon as it is
 * appended, and everything is forgotten at exit.
 */
import { findRecordAtOrAfterAsync, setBaseOffset } from '../protocol/record-batch.js';
import { BatchRing, type RingEntry } from './batch-ring.js';
import { LogRegistry } from './log-registry.js';
import { MemoryBudget, type BudgetedLog } from './memory-budget.js';
import { memoryBytesMaxDefault, ringBufferBytesMaxDefault } from './limits.js';
import type { AppendResult, BatchInfo, PartitionLog, PartitionOptions, ReadResult, RetentionReport, Storage, TimestampLookup, TopicRecord } from './types.js';

const writtenAlready: Promise<void> = Promise.resolve();
const emptyRead: ReadResult = Object.freeze({ chunks: [], bytes: 0 });

/** ringBufferBytesMax when it is a usable number, else the default. */
export function ringBytesMaxOf(options: PartitionOptions): number {
  const value = options.ringBufferBytesMax;
  return Number.isFinite(value) && value >= 0 ? value : ringBufferBytesMaxDefault;
}

/** The memory engine's per-partition bound: retention.bytes when set, else the ring size. */
export function memoryPartitionBytesMax(options: PartitionOptions): number {
  const retention = options.retentionBytes ?? -1;
  return retention >= 0 ? retention : ringBytesMaxOf(options);
}

export interface MemoryStorageOptions {
  /** Bytes all partitions together may hold (inkwell.memory.bytes.max); default 1 GiB. */
  readonly memoryBytesMax?: number;
}

export class MemoryPartitionLog implements PartitionLog, BudgetedLog {
  private readonly ring = new BatchRing();
  private endOffset = 0;
  private startOffset = 0;
  private max: TimestampLookup | null = null;
  private closed = false;
  private currentOptions: PartitionOptions;
  private bytesMax: number;

  constructor(
    readonly topic: string,
    readonly partition: number,
    options: PartitionOptions,
    private readonly budget: MemoryBudget = new MemoryBudget(Number.MAX_SAFE_INTEGER),
    private readonly onClose: (log: MemoryPartitionLog) => void = () => {},
  ) {
    this.currentOptions = options;
    this.bytesMax = memoryPartitionBytesMax(options);
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  get logEndOffset(): number {
    return this.endOffset;
  }

  get sizeBytes(): number {
    return this.ring.bytes;
  }

  get options(): PartitionOptions {
    return this.currentOptions;
  }

  append(batch: Buffer, info: BatchInfo): AppendResult {
    if (this.closed) throw new Error(`partition ${this.topic}-${this.partition} is closed`);
    const baseOffset = this.endOffset;
    const lastOffset = baseOffset + info.recordCount - 1;
    setBaseOffset(batch, baseOffset);
    this.ring.push({ baseOffset, lastOffset, maxTimestamp: info.maxTimestamp, bytes: batch, sequence: this.budget.nextSequence() });
    this.endOffset = lastOffset + 1;
    if (this.max === null || info.maxTimestamp > this.max.timestamp) this.max = { offset: baseOffset, timestamp: info.maxTimestamp };
    this.dropWhile(() => this.ring.bytes > this.bytesMax && this.ring.size > 1);
    this.budget.added(this, batch.length);
    return { baseOffset, lastOffset, written: writtenAlready, durable: writtenAlready };
  }

  async read(offset: number, maxBytes: number): Promise<ReadResult> {
    if (offset < this.startOffset) return emptyRead;
    return this.ring.read(offset, maxBytes) ?? emptyRead;
  }

  async offsetForTimestamp(timestampMs: number): Promise<TimestampLookup | null> {
    const entry = this.ring.firstReaching(this.startOffset, timestampMs);
    const found = entry && (await lookupIn(entry, timestampMs));
    return found && found.offset < this.startOffset ? { offset: this.startOffset, timestamp: found.timestamp } : found;
  }

  maxTimestamp(): TimestampLookup | null {
    return this.max;
  }

  async deleteRecordsBefore(offset: number): Promise<number> {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.endOffset) {
      throw new RangeError(`offset ${offset} is outside 0..${this.endOffset} (the log end offset) of ${this.topic}-${this.partition}`);
    }
    if (offset > this.startOffset) {
      this.startOffset = offset;
      this.dropWhile((oldest) => oldest.lastOffset < offset);
    }
    return this.startOffset;
  }

  reconfigure(options: PartitionOptions): void {
    const bytesMax = memoryPartitionBytesMax(options);
    if (!Number.isSafeInteger(bytesMax) || bytesMax < 0) throw new RangeError(`retention.bytes / ring bound ${bytesMax} is not a non-negative integer`);
    this.currentOptions = options;
    this.bytesMax = bytesMax;
    this.dropWhile(() => this.ring.bytes > this.bytesMax && this.ring.size > 1);
  }

  /** Drops batches whose newest record is more than retention.ms old. */
  enforceRetention(nowMs: number): RetentionReport {
    const retentionMs = this.currentOptions.retentionMs ?? -1;
    if (retentionMs < 0 || this.closed) return { deletedSegments: 0, deletedBytes: 0 };
    return this.dropWhile((oldest) => nowMs - oldest.maxTimestamp > retentionMs);
  }

  oldestSequence(): number | null {
    if (this.closed) return null;
    return this.ring.oldest()?.sequence ?? null;
  }

  evictOldest(): number {
    const dropped = this.shift();
    return dropped?.bytes.length ?? 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.budget.released(this.ring.bytes);
    this.ring.clear();
    this.onClose(this);
  }

  /** Drops the oldest batches while `drop` says so, telling the budget. */
  private dropWhile(drop: (oldest: RingEntry) => boolean): RetentionReport {
    let deletedSegments = 0;
    let deletedBytes = 0;
    for (let oldest = this.ring.oldest(); oldest !== undefined && drop(oldest); oldest = this.ring.oldest()) {
      this.shift();
      deletedSegments++;
      deletedBytes += oldest.bytes.length;
    }
    this.budget.released(deletedBytes);
    return { deletedSegments, deletedBytes };
  }

  /** Removes the oldest batch and moves the log start offset past it. */
  private shift(): RingEntry | undefined {
    const dropped = this.ring.shift();
    if (!dropped) return undefined;
    this.startOffset = Math.max(this.startOffset, this.ring.oldest()?.baseOffset ?? this.endOffset);
    if (dropped.baseOffset === this.max?.offset) this.recomputeMax();
    return dropped;
  }

  private recomputeMax(): void {
    this.max = null;
    for (let i = 0; i < this.ring.size; i++) {
      const entry = this.ring.at(i)!;
      if (this.max === null || entry.maxTimestamp > this.max.timestamp) this.max = { offset: entry.baseOffset, timestamp: entry.maxTimestamp };
    }
  }
}

/**
 * The exact record of a batch that answers a timestamp lookup (a compressed batch is
 * decompressed off the event loop; one that cannot be answers with its first record).
 */
export async function lookupIn(entry: RingEntry, timestampMs: number): Promise<TimestampLookup | null> {
  const found = await findRecordAtOrAfterAsync(entry.bytes, timestampMs);
  return found && { offset: entry.baseOffset + found.offsetDelta, timestamp: found.timestamp };
}

class MemoryStorage implements Storage {
  readonly kind = 'memory';
  private readonly topics = new Map<string, TopicRecord>();
  private readonly logs = new LogRegistry<MemoryPartitionLog>();
  private readonly budget: MemoryBudget;

  constructor(options: MemoryStorageOptions) {
    this.budget = new MemoryBudget(options.memoryBytesMax ?? memoryBytesMaxDefault);
  }

  listTopics(): TopicRecord[] {
    return [...this.topics.values()];
  }

  async saveTopic(topic: TopicRecord): Promise<void> {
    this.topics.set(topic.name, { name: topic.name, id: Buffer.from(topic.id), partitions: topic.partitions, configs: { ...topic.configs } });
  }

  async deleteTopic(name: string): Promise<void> {
    await this.logs.closeTopic(name);
    this.topics.delete(name);
  }

  async openPartition(topic: string, partition: number, options: PartitionOptions): Promise<PartitionLog> {
    return this.logs.get(topic, partition, async () => new MemoryPartitionLog(topic, partition, options, this.budget, (log) => this.logs.forget(topic, partition, log)));
  }

  async enforceRetention(nowMs: number): Promise<RetentionReport> {
    let deletedSegments = 0;
    let deletedBytes = 0;
    for (const log of this.logs.openLogs()) {
      const report = log.enforceRetention(nowMs);
      deletedSegments += report.deletedSegments;
      deletedBytes += report.deletedBytes;
    }
    return { deletedSegments, deletedBytes };
  }

  /** Bytes held by all partitions together. */
  get heldBytes(): number {
    return this.budget.bytes;
  }

  async close(): Promise<void> {
    await this.logs.closeAll();
  }
}

/** Storage that keeps every partition in memory and forgets it all at exit. */
export function createMemoryStorage(options: MemoryStorageOptions = {}): Storage {
  return new MemoryStorage(options);
}
