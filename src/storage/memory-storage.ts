/**
 * The memory engine: each partition is a ring of its most recent batches and nothing else.
 * When the ring outgrows ringBufferBytesMax the oldest batches are dropped and the log start
 * offset moves past them (the newest batch always stays, however large).
 */
import { findRecordAtOrAfter, setBaseOffset } from '../protocol/record-batch.js';
import { BatchRing, type RingEntry } from './batch-ring.js';
import { LogRegistry } from './log-registry.js';
import { ringBufferBytesMaxDefault } from './limits.js';
import type { AppendResult, BatchInfo, PartitionLog, PartitionOptions, ReadResult, Storage, TimestampLookup, TopicRecord } from './types.js';

const writtenAlready: Promise<void> = Promise.resolve();
const emptyRead: ReadResult = Object.freeze({ chunks: [], bytes: 0 });

/** ringBufferBytesMax when it is a usable number, else the default. */
export function ringBytesMaxOf(options: PartitionOptions): number {
  const value = options.ringBufferBytesMax;
  return Number.isFinite(value) && value >= 0 ? value : ringBufferBytesMaxDefault;
}

export class MemoryPartitionLog implements PartitionLog {
  private readonly ring = new BatchRing();
  private endOffset = 0;
  private max: TimestampLookup | null = null;
  private closed = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly ringBytesMax: number,
    private readonly onClose: (log: MemoryPartitionLog) => void = () => {},
  ) {}

  get logStartOffset(): number {
    return this.ring.oldest()?.baseOffset ?? this.endOffset;
  }

  get logEndOffset(): number {
    return this.endOffset;
  }

  get sizeBytes(): number {
    return this.ring.bytes;
  }

  append(batch: Buffer, info: BatchInfo): AppendResult {
    if (this.closed) throw new Error(`partition ${this.topic}-${this.partition} is closed`);
    const baseOffset = this.endOffset;
    const lastOffset = baseOffset + info.recordCount - 1;
    setBaseOffset(batch, baseOffset);
    this.ring.push({ baseOffset, lastOffset, maxTimestamp: info.maxTimestamp, bytes: batch });
    this.endOffset = lastOffset + 1;
    if (this.max === null || info.maxTimestamp > this.max.timestamp) this.max = { offset: baseOffset, timestamp: info.maxTimestamp };
    this.evict();
    return { baseOffset, lastOffset, written: writtenAlready };
  }

  async read(offset: number, maxBytes: number): Promise<ReadResult> {
    return this.ring.read(offset, maxBytes) ?? emptyRead;
  }

  async offsetForTimestamp(timestampMs: number): Promise<TimestampLookup | null> {
    const entry = this.ring.firstReaching(this.logStartOffset, timestampMs);
    return entry && lookupIn(entry, timestampMs);
  }

  maxTimestamp(): TimestampLookup | null {
    return this.max;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ring.clear();
    this.onClose(this);
  }

  private evict(): void {
    let droppedMax = false;
    while (this.ring.bytes > this.ringBytesMax && this.ring.size > 1) {
      const dropped = this.ring.shift()!;
      if (dropped.baseOffset === this.max?.offset) droppedMax = true;
    }
    if (droppedMax) this.recomputeMax();
  }

  private recomputeMax(): void {
    this.max = null;
    for (let i = 0; i < this.ring.size; i++) {
      const entry = this.ring.at(i)!;
      if (this.max === null || entry.maxTimestamp > this.max.timestamp) this.max = { offset: entry.baseOffset, timestamp: entry.maxTimestamp };
    }
  }
}

/** The exact record of a batch that answers a timestamp lookup. */
export function lookupIn(entry: RingEntry, timestampMs: number): TimestampLookup | null {
  const found = findRecordAtOrAfter(entry.bytes, timestampMs);
  return found && { offset: entry.baseOffset + found.offsetDelta, timestamp: found.timestamp };
}

class MemoryStorage implements Storage {
  readonly kind = 'memory';
  private readonly topics = new Map<string, TopicRecord>();
  private readonly logs = new LogRegistry<MemoryPartitionLog>();

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
    const bytesMax = ringBytesMaxOf(options);
    return this.logs.get(topic, partition, async () => new MemoryPartitionLog(topic, partition, bytesMax, (log) => this.logs.forget(topic, partition, log)));
  }

  async close(): Promise<void> {
    await this.logs.closeAll();
  }
}

/** Storage that keeps every partition in memory and forgets it all at exit. */
export function createMemoryStorage(): Storage {
  return new MemoryStorage();
}
