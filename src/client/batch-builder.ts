/**
 * Building a RecordBatch v2 one record at a time, straight into one growing buffer: each append
 * writes the record's varint length, attributes, timestamp and offset deltas, key, value and
 * headers behind the 61-byte header (layout in protocol/record-batch.ts). Sealing writes the
 * header, compressing the records section first when asked. Producer id, epoch and base
 * sequence are stamped last, with the CRC, because an idempotent producer assigns sequences
 * only when the batch is first sent.
 */
import {
  attributesAt,
  baseTimestampAt,
  batchHeaderBytes,
  batchLengthAt,
  batchMagic,
  batchPrefixBytes,
  crcAt,
  lastOffsetDeltaAt,
  magicAt,
  maxTimestampAt,
  recordCountAt,
} from '../protocol/record-batch.js';
import { crc32c } from '../protocol/crc32c.js';
import { compressRecords, compressionIds, type CompressionType } from './compression.js';
import { varintBytes, varlongBytes, writeVarint, writeVarlong } from './varint.js';

const partitionLeaderEpochAt = 12;
const producerIdAt = 43;
const producerEpochAt = 51;
const baseSequenceAt = 53;

/** A record's key or value: bytes, text (written as UTF-8), or null. */
export type RecordData = Buffer | string | null;

export interface RecordHeader {
  readonly key: string;
  readonly value: RecordData;
}

/** Buffers start this small and double up to the batch limit, so sparse partitions hold little memory. */
export const batchInitialBytes = 1024;

function dataBytes(data: RecordData): number {
  if (data === null) return -1;
  return typeof data === 'string' ? Buffer.byteLength(data) : data.length;
}

function sizedBytes(length: number): number {
  return length < 0 ? 1 : varintBytes(length) + length;
}

function writeData(buffer: Buffer, data: RecordData, length: number, at: number): number {
  at = writeVarint(buffer, length, at);
  if (data === null) return at;
  if (typeof data === 'string') return at + buffer.write(data, at, length, 'utf8');
  data.copy(buffer, at);
  return at + length;
}

function writeInt64(buffer: Buffer, value: number, at: number): void {
  buffer.writeInt32BE(Math.floor(value / 0x1_0000_0000), at);
  buffer.writeUInt32BE(value >>> 0, at + 4);
}

export class BatchBuilder {
  private buffer: Buffer;
  private used = batchHeaderBytes;
  count = 0;
  private baseTimestamp = 0;
  private maxTimestamp = 0;

  /** `limitBytes`: appends stop when the batch would pass it (a first record is always taken). */
  constructor(private readonly limitBytes: number) {
    this.buffer = Buffer.allocUnsafe(Math.min(limitBytes, batchInitialBytes) + batchHeaderBytes);
  }

  /** Bytes written so far, header included. */
  get bytes(): number {
    return this.used;
  }

  /**
   * Appends a record; returns the bytes it took, or 0 when it would make the batch larger than
   * its limit (the batch is then full and the record belongs in the next one).
   */
  append(timestamp: number, key: RecordData, value: RecordData, headers: readonly RecordHeader[] | null): number {
    if (this.count === 0) {
      this.baseTimestamp = timestamp;
      this.maxTimestamp = timestamp;
    }
    const timestampDelta = timestamp - this.baseTimestamp;
    const keyLength = dataBytes(key);
    const valueLength = dataBytes(value);
    let body = 1 + varlongBytes(timestampDelta) + varintBytes(this.count) + sizedBytes(keyLength) + sizedBytes(valueLength);
    const headerCount = headers === null ? 0 : headers.length;
    body += varintBytes(headerCount);
    let headerLengths: number[] | null = null;
    if (headerCount > 0) {
      headerLengths = new Array<number>(headerCount * 2);
      for (let h = 0; h < headerCount; h++) {
        const header = headers![h]!;
        const keyBytes = Buffer.byteLength(header.key);
        const valueBytes = dataBytes(header.value);
        headerLengths[h * 2] = keyBytes;
        headerLengths[h * 2 + 1] = valueBytes;
        body += sizedBytes(keyBytes) + sizedBytes(valueBytes);
      }
    }
    const total = varintBytes(body) + body;
    if (this.count > 0 && this.used + total > this.limitBytes) return 0;
    this.reserve(total);
    const buffer = this.buffer;
    let at = writeVarint(buffer, body, this.used);
    buffer[at++] = 0;
    at = writeVarlong(buffer, timestampDelta, at);
    at = writeVarint(buffer, this.count, at);
    at = writeData(buffer, key, keyLength, at);
    at = writeData(buffer, value, valueLength, at);
    at = writeVarint(buffer, headerCount, at);
    for (let h = 0; h < headerCount; h++) {
      const header = headers![h]!;
      at = writeData(buffer, header.key, headerLengths![h * 2]!, at);
      at = writeData(buffer, header.value, headerLengths![h * 2 + 1]!, at);
    }
    this.used = at;
    this.count++;
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    return total;
  }

  private reserve(bytes: number): void {
    const needed = this.used + bytes;
    if (needed <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, Math.min(this.limitBytes, this.buffer.length * 2)));
    this.buffer.copy(grown, 0, 0, this.used);
    this.buffer = grown;
  }

  /**
   * The batch's bytes with its header written (compressed when asked) and, until `stampBatch`,
   * no producer id, sequence or CRC.
   */
  async seal(compression: CompressionType): Promise<Buffer> {
    if (this.count === 0) throw new RangeError('a batch holds at least one record');
    let batch: Buffer;
    if (compression === 'none') batch = this.buffer.subarray(0, this.used);
    else {
      const compressed = await compressRecords(compression, this.buffer.subarray(batchHeaderBytes, this.used));
      batch = Buffer.allocUnsafe(batchHeaderBytes + compressed.length);
      compressed.copy(batch, batchHeaderBytes);
    }
    this.writeHeader(batch, compressionIds[compression]);
    return batch;
  }

  /** `seal` for uncompressed batches, without a promise. */
  sealUncompressed(): Buffer {
    if (this.count === 0) throw new RangeError('a batch holds at least one record');
    const batch = this.buffer.subarray(0, this.used);
    this.writeHeader(batch, 0);
    return batch;
  }

  private writeHeader(batch: Buffer, codec: number): void {
    writeInt64(batch, 0, 0);
    batch.writeInt32BE(batch.length - batchPrefixBytes, batchLengthAt);
    batch.writeInt32BE(-1, partitionLeaderEpochAt);
    batch.writeInt8(batchMagic, magicAt);
    batch.writeUInt16BE(codec, attributesAt);
    batch.writeInt32BE(this.count - 1, lastOffsetDeltaAt);
    writeInt64(batch, this.baseTimestamp, baseTimestampAt);
    writeInt64(batch, this.maxTimestamp, maxTimestampAt);
    batch.writeInt32BE(this.count, recordCountAt);
  }
}

/** Writes the producer id, epoch and base sequence (-1s when not idempotent) and the CRC. */
export function stampBatch(batch: Buffer, producerId: bigint, producerEpoch: number, baseSequence: number): void {
  batch.writeBigInt64BE(producerId, producerIdAt);
  batch.writeInt16BE(producerEpoch, producerEpochAt);
  batch.writeInt32BE(baseSequence, baseSequenceAt);
  batch.writeUInt32BE(crc32c(batch.subarray(attributesAt)), crcAt);
}
