/**
 * Where produced records wait to be sent: per partition, an open batch being filled and closed
 * batches queued behind it. A batch closes when the next record would pass batchBytes, when it
 * has lingered lingerMs, or on flush. All open and queued bytes count against bufferBytesMax;
 * when a record does not fit, the producer makes the caller wait.
 */
import type { Cluster, TopicInfo } from './cluster.js';
import type { CompressionType } from './compression.js';
import type { RecordData, RecordHeader } from './batch-builder.js';
import { KafkaError } from './errors.js';
import { decodeRecords } from './batch-reader.js';
import { partitionForKey, pickStickyPartition } from './partitioner.js';
import { PartitionQueue, ProducerBatch, type Reject, type Resolve } from './producer-batch.js';

export interface AccumulatorConfig {
  readonly batchBytes: number;
  readonly bufferBytesMax: number;
  readonly compression: CompressionType;
  /** Custom partitioner; the default is murmur2 for keys and sticky for the rest. */
  readonly partitioner?: (topic: string, key: Buffer | null, partitionCount: number) => number;
}

export interface AppendRecord {
  readonly topic: string;
  readonly partition?: number;
  readonly key?: RecordData;
  readonly value: RecordData;
  readonly headers?: readonly RecordHeader[] | null;
  readonly timestamp?: number;
}

interface TopicState {
  info: TopicInfo;
  metadataAtMs: number;
  readonly queues: PartitionQueue[];
  sticky: number;
}

/** Fixed bytes a batch adds to its records (the header). */
const batchOverheadBytes = 61;

export type AppendResult = 'appended' | 'no-metadata' | 'no-room';

export class RecordAccumulator {
  private readonly topics = new Map<string, TopicState>();
  /** Partitions with an open, queued or in-flight batch. */
  readonly active = new Set<PartitionQueue>();
  bufferedBytes = 0;
  /** Records appended and not yet completed (for flush). */
  pendingRecords = 0;

  constructor(
    private readonly config: AccumulatorConfig,
    private readonly cluster: Cluster,
    /** Called when a batch becomes ready to send (closed and sealed). */
    private readonly onBatchReady: () => void,
    /** Called when a partition opens a new batch (the linger clock starts). */
    private readonly onBatchOpened: (batch: ProducerBatch) => void,
  ) {}

  private topicState(topic: string): TopicState | null {
    let state = this.topics.get(topic);
    if (state !== undefined && state.metadataAtMs === this.cluster.metadataAtMs) return state;
    const info = this.cluster.topics.get(topic);
    if (info === undefined || info.partitions.length === 0) return null;
    if (state === undefined) {
      state = { info, metadataAtMs: this.cluster.metadataAtMs, queues: [], sticky: -1 };
      this.topics.set(topic, state);
    }
    state.info = info;
    state.metadataAtMs = this.cluster.metadataAtMs;
    for (let p = state.queues.length; p < info.partitions.length; p++) state.queues.push(new PartitionQueue(topic, p));
    if (state.sticky < 0 || state.sticky >= info.partitions.length) state.sticky = this.pickSticky(state, -1);
    return state;
  }

  private pickSticky(state: TopicState, avoid: number): number {
    return pickStickyPartition(
      state.info.partitions.map((p) => (p === undefined ? -1 : p.leader)),
      avoid,
    );
  }

  /** Appends a record, or says why it cannot yet: the topic's metadata is missing, or the buffer is full. */
  append(record: AppendRecord, resolve: Resolve, reject: Reject, depth = 0): AppendResult {
    const state = this.topicState(record.topic);
    if (state === null) return 'no-metadata';
    const partitionCount = state.info.partitions.length;
    let key = record.key ?? null;
    let partition: number;
    const sticky = record.partition === undefined && key === null && this.config.partitioner === undefined;
    if (record.partition !== undefined) {
      partition = record.partition;
      if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
        reject(new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `${record.topic} has ${partitionCount} partitions; there is no partition ${partition}`, { topic: record.topic, partition, retriable: false }));
        return 'appended';
      }
    } else if (this.config.partitioner !== undefined) {
      if (typeof key === 'string') key = Buffer.from(key);
      partition = this.config.partitioner(record.topic, key, partitionCount);
    } else if (key !== null) {
      if (typeof key === 'string') key = Buffer.from(key);
      partition = partitionForKey(key, partitionCount);
    } else {
      partition = state.sticky;
    }
    const headers = record.headers ?? null;
    if (this.bufferedBytes > 0 && this.bufferedBytes + batchOverheadBytes + estimateBytes(key, record.value, headers) > this.config.bufferBytesMax) {
      return 'no-room';
    }
    const queue = state.queues[partition]!;
    const timestamp = record.timestamp ?? Date.now();
    let batch = queue.open;
    if (batch !== null) {
      const added = batch.builder.append(timestamp, key, record.value, headers);
      if (added > 0) {
        this.accept(batch, added, resolve, reject);
        return 'appended';
      }
      // Full: close it; an unkeyed record follows the sticky partition, which has just moved on.
      this.close(queue);
      if (sticky && depth < partitionCount) return this.append(record, resolve, reject, depth + 1);
    }
    batch = new ProducerBatch(record.topic, partition, this.config.batchBytes, Date.now());
    batch.accountedBytes = batchOverheadBytes;
    this.bufferedBytes += batchOverheadBytes;
    const added = batch.builder.append(timestamp, key, record.value, headers);
    queue.open = batch;
    queue.last = batch;
    this.active.add(queue);
    this.accept(batch, added, resolve, reject);
    this.onBatchOpened(batch);
    return 'appended';
  }

  private accept(batch: ProducerBatch, bytes: number, resolve: Resolve, reject: Reject): void {
    batch.accountedBytes += bytes;
    this.bufferedBytes += bytes;
    this.pendingRecords++;
    batch.addCallbacks(resolve, reject);
  }

  /** Whether a record of about `bytes` would fit in the buffer now. */
  hasRoomFor(bytes: number): boolean {
    return this.bufferedBytes === 0 || this.bufferedBytes + bytes <= this.config.bufferBytesMax;
  }

  /** Closes the partition's open batch: it joins the queue and is sealed (compressed off the event loop). */
  close(queue: PartitionQueue): void {
    const batch = queue.open;
    if (batch === null) return;
    queue.open = null;
    queue.ready.push(batch);
    if (this.config.compression === 'none') {
      batch.bytes = batch.builder.sealUncompressed();
      this.onBatchReady();
    } else {
      batch.builder.seal(this.config.compression).then(
        (bytes) => {
          batch.bytes = bytes;
          this.onBatchReady();
        },
        (error: unknown) => {
          const index = queue.ready.indexOf(batch);
          if (index >= 0) queue.ready.splice(index, 1);
          this.complete(queue, batch);
          batch.fail(error instanceof Error ? error : new Error(String(error)));
          this.onBatchReady();
        },
      );
    }
    const state = this.topics.get(queue.topic);
    if (state !== undefined && state.sticky === queue.partition && this.config.partitioner === undefined) state.sticky = this.pickSticky(state, queue.partition);
  }

  /** A batch is finished (acknowledged or failed for good): its bytes leave the buffer. */
  complete(queue: PartitionQueue, batch: ProducerBatch): void {
    if (batch.released) return;
    batch.released = true;
    this.bufferedBytes -= batch.accountedBytes;
    this.pendingRecords -= batch.recordCount;
    batch.accountedBytes = 0;
    if (queue.empty) this.active.delete(queue);
  }

  /**
   * Splits a batch the broker refused as too large (MESSAGE_TOO_LARGE) into two, halves by
   * record count in order, each record keeping its callbacks; the halves are sealed like any
   * batch and take over the old one's buffer bytes. The caller queues them in its place.
   */
  async split(batch: ProducerBatch): Promise<ProducerBatch[]> {
    const { records } = await decodeRecords(batch.bytes!, { topic: batch.topic, partition: batch.partition, fetchOffset: 0, aborted: null, checkCrc: false });
    const count = batch.recordCount;
    if (records.length !== count) throw new KafkaError('CORRUPT_MESSAGE', `splitting a batch of ${count} records for ${batch.topic}[${batch.partition}] found ${records.length}`, { retriable: false });
    const half = Math.ceil(count / 2);
    const ranges = [
      [0, half],
      [half, count],
    ] as const;
    const parts: ProducerBatch[] = [];
    for (const [from, to] of ranges) {
      const part = new ProducerBatch(batch.topic, batch.partition, Number.MAX_SAFE_INTEGER, batch.createdAtMs);
      for (let i = from; i < to; i++) {
        const record = records[i]!;
        part.builder.append(record.timestamp, record.key, record.value, record.headers.length === 0 ? null : record.headers);
      }
      part.bytes = this.config.compression === 'none' ? part.builder.sealUncompressed() : await part.builder.seal(this.config.compression);
      parts.push(part);
    }
    // Nothing can fail from here: the parts take over the records' callbacks and buffer bytes.
    ranges.forEach(([from, to], i) => batch.delegate(parts[i]!, from, to));
    parts[0]!.accountedBytes = Math.floor(batch.accountedBytes / 2);
    parts[1]!.accountedBytes = batch.accountedBytes - parts[0]!.accountedBytes;
    batch.accountedBytes = 0;
    batch.released = true;
    return parts;
  }

  queueOf(topic: string, partition: number): PartitionQueue | undefined {
    return this.topics.get(topic)?.queues[partition];
  }

  /** Every partition's queue, empty or not. */
  *allQueues(): IterableIterator<PartitionQueue> {
    for (const state of this.topics.values()) yield* state.queues;
  }

  /** Every queue with something in it, for flush and close. */
  queues(): IterableIterator<PartitionQueue> {
    return this.active.values();
  }
}

/** An upper estimate of a record's encoded size, for the buffer check. */
export function estimateBytes(key: RecordData, value: RecordData, headers: readonly RecordHeader[] | null): number {
  let bytes = 32 + dataLength(key) + dataLength(value);
  if (headers !== null) for (const header of headers) bytes += 10 + header.key.length * 3 + dataLength(header.value);
  return bytes;
}

function dataLength(data: RecordData): number {
  if (data === null) return 0;
  return typeof data === 'string' ? data.length * 3 : data.length;
}
