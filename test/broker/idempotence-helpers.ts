/**
 * Request helpers for the idempotence, DeleteRecords and config tests (and the interop tests that
 * read back what real clients wrote): hand-built idempotent batches, Produce, InitProducerId,
 * CreateTopics, ListOffsets and a Fetch loop that decodes every record of a partition.
 */
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/raw-client.js';
import { batchBaseOffset, batchBytesAt, batchHeaderBytes, buildBatch, compressionMask, attributesAt, recordCountAt } from '../../src/protocol/record-batch.js';
import type { Message } from '../../src/protocol/codec.js';

export interface ProducerIdentity {
  readonly producerId: number;
  readonly epoch: number;
}

/** An uncompressed batch of `values` stamped with a producer id, epoch and base sequence. */
export function idempotentBatch(values: readonly string[], producer: ProducerIdentity, sequence: number): Buffer {
  return buildBatch(
    values.map((value) => ({ key: null, value: Buffer.from(value) })),
    { producerId: producer.producerId, producerEpoch: producer.epoch, baseSequence: sequence },
  );
}

export interface ProduceResult {
  readonly errorCode: number;
  readonly baseOffset: bigint;
  readonly logStartOffset: bigint;
  readonly logAppendTimeMs: bigint;
}

/** Produce v7 (or `version`) of one batch to one partition with acks=-1. */
export async function produce(client: RawClient, topic: string, partition: number, records: Buffer, version = 7): Promise<ProduceResult> {
  const response = await client.request('Produce', version, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
  return (response.responses as { partitionResponses: ProduceResult[] }[])[0]!.partitionResponses[0]!;
}

export async function initProducerId(client: RawClient, version = 4, body: Partial<{ transactionalId: string | null; producerId: bigint; producerEpoch: number }> = {}): Promise<{ errorCode: number; producerId: bigint; producerEpoch: number }> {
  const response = await client.request('InitProducerId', version, {
    transactionalId: body.transactionalId ?? null,
    transactionTimeoutMs: 60_000,
    producerId: body.producerId ?? -1n,
    producerEpoch: body.producerEpoch ?? -1,
  });
  return response as unknown as { errorCode: number; producerId: bigint; producerEpoch: number };
}

/** A fresh producer id and epoch from the broker. */
export async function newProducer(client: RawClient): Promise<ProducerIdentity> {
  const answer = await initProducerId(client);
  assert.equal(answer.errorCode, 0);
  return { producerId: Number(answer.producerId), epoch: answer.producerEpoch };
}

export async function createTopic(client: RawClient, name: string, partitions = 1, configs: Record<string, string> = {}): Promise<void> {
  const response = await client.request('CreateTopics', 4, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })) }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  assert.equal((response.topics as { errorCode: number }[])[0]!.errorCode, 0, `creating ${name}`);
}

/** ListOffsets v5: -2 earliest (the log start offset), -1 latest (the high watermark). */
export async function listOffset(client: RawClient, topic: string, partition: number, timestamp: bigint): Promise<bigint> {
  const response = await client.request('ListOffsets', 5, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp }] }],
  });
  const p = (response.topics as { partitions: { errorCode: number; offset: bigint }[] }[])[0]!.partitions[0]!;
  assert.equal(p.errorCode, 0, `ListOffsets ${topic}-${partition}`);
  return p.offset;
}

export interface FetchedRecord {
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly producerId: bigint;
  readonly baseSequence: number;
}

type FetchPartition = { errorCode: number; highWatermark: bigint; records: Buffer | null };

export async function fetchOnce(client: RawClient, topic: string, partition: number, offset: number, maxBytes = 4 << 20): Promise<FetchPartition> {
  const response = await client.request('Fetch', 11, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: BigInt(offset), logStartOffset: -1n, partitionMaxBytes: maxBytes }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
  return (response.responses as { partitions: FetchPartition[] }[])[0]!.partitions[0]!;
}

/** Every record of a partition from `from` up to its high watermark (uncompressed batches only). */
export async function readPartition(client: RawClient, topic: string, partition: number, from = 0): Promise<FetchedRecord[]> {
  const out: FetchedRecord[] = [];
  let offset = from;
  for (let round = 0; round < 1_000_000; round++) {
    const fetched = await fetchOnce(client, topic, partition, offset);
    assert.equal(fetched.errorCode, 0, `Fetch ${topic}-${partition} at ${offset}`);
    const high = Number(fetched.highWatermark);
    if (offset >= high) return out;
    const records = parseRecords(fetched.records ?? Buffer.alloc(0)).filter((r) => r.offset >= offset);
    assert.ok(records.length > 0, `Fetch ${topic}-${partition} at ${offset} below ${high} returned nothing`);
    for (const record of records) out.push(record);
    offset = records[records.length - 1]!.offset + 1;
  }
  throw new Error('too many fetch rounds');
}

class Cursor {
  constructor(
    readonly buffer: Buffer,
    public at: number,
  ) {}

  varint(): number {
    let unsigned = 0;
    let scale = 1;
    for (;;) {
      const byte = this.buffer[this.at++]!;
      unsigned += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) break;
    }
    return unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2;
  }

  text(): string | null {
    const length = this.varint();
    if (length < 0) return null;
    const value = this.buffer.toString('utf8', this.at, this.at + length);
    this.at += length;
    return value;
  }
}

/** Decodes the records of whole uncompressed batches (a trailing partial batch is ignored). */
export function parseRecords(buffer: Buffer): FetchedRecord[] {
  const out: FetchedRecord[] = [];
  for (let at = 0; at + batchHeaderBytes <= buffer.length; ) {
    const bytes = batchBytesAt(buffer, at);
    if (at + bytes > buffer.length) break;
    assert.equal(buffer.readUInt16BE(at + attributesAt) & compressionMask, 0, 'readback handles uncompressed batches only');
    const base = batchBaseOffset(buffer, at);
    const producerId = buffer.readBigInt64BE(at + 43);
    const baseSequence = buffer.readInt32BE(at + 53);
    const count = buffer.readInt32BE(at + recordCountAt);
    const cursor = new Cursor(buffer, at + batchHeaderBytes);
    for (let i = 0; i < count; i++) {
      const length = cursor.varint();
      const end = cursor.at + length;
      cursor.at++; // attributes
      cursor.varint(); // timestamp delta (a varlong, but small)
      const delta = cursor.varint();
      const key = cursor.text();
      const value = cursor.text();
      out.push({ offset: base + delta, key, value, producerId, baseSequence });
      cursor.at = end;
    }
    at += bytes;
  }
  return out;
}

export function codes(response: Message, field = 'responses'): number[] {
  return (response[field] as { errorCode: number }[]).map((r) => r.errorCode);
}

export interface ExactlyOnceReport {
  /** Records read back. */
  readonly records: number;
  /** Indexes read more than once (each extra copy counts). */
  readonly duplicates: number;
  /** Indexes 0..count-1 never read. */
  readonly gaps: number;
  /** Records whose index is smaller than the one before it in the same key stream of the same partition. */
  readonly outOfOrder: number;
  /** Records in batches without a producer id (not written by an idempotent producer). */
  readonly plainRecords: number;
}

/**
 * Reads every partition of `topic` back and checks that the values "<tag>-<i>" for i in
 * 0..count-1 appear exactly once each, and in increasing order within each partition.
 */
export async function exactlyOnceReport(client: RawClient, topic: string, partitions: number, tag: string, count: number): Promise<ExactlyOnceReport> {
  const seen = new Uint32Array(count);
  let records = 0;
  let outOfOrder = 0;
  let plainRecords = 0;
  let foreign = 0;
  for (let partition = 0; partition < partitions; partition++) {
    let last = -1;
    for (const record of await readPartition(client, topic, partition)) {
      records++;
      if (record.producerId < 0n) plainRecords++;
      const match = record.value?.startsWith(`${tag}-`) ? Number(record.value.slice(tag.length + 1)) : Number.NaN;
      if (!Number.isInteger(match) || match < 0 || match >= count) {
        foreign++;
        continue;
      }
      seen[match]!++;
      if (match < last) outOfOrder++;
      last = match;
    }
  }
  assert.equal(foreign, 0, `${foreign} records of ${topic} are not "${tag}-<i>"`);
  let duplicates = 0;
  let gaps = 0;
  for (const times of seen) {
    if (times === 0) gaps++;
    else duplicates += times - 1;
  }
  return { records, duplicates, gaps, outOfOrder, plainRecords };
}
