/**
 * Reading the records field of a Fetch response: a run of RecordBatch v2, the last possibly cut
 * short by the broker's size limit (that one is left for the next fetch). Each batch's CRC is
 * checked, compressed batches are opened, control batches and, under read_committed, batches
 * of aborted transactions are skipped, and records before the fetch offset (a batch can start
 * earlier) are dropped. Keys, values and header values are views of the response, not copies.
 */
import {
  attributesAt,
  baseTimestampAt,
  batchHeaderBytes,
  batchPrefixBytes,
  compressionMask,
  controlFlag,
  crcAt,
  lastOffsetDeltaAt,
  magicAt,
  maxTimestampAt,
  readInt64AsNumber,
  recordCountAt,
  timestampTypeLogAppendTime,
  transactionalFlag,
} from '../protocol/record-batch.js';
import { crc32c } from '../protocol/crc32c.js';
import { decompressRecords } from './compression.js';
import { KafkaError } from './errors.js';
import { VarintReader } from './varint.js';

export interface ReceivedHeader {
  readonly key: string;
  readonly value: Buffer | null;
}

export interface ConsumerRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Milliseconds since the epoch (CreateTime, or LogAppendTime for such topics). */
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly ReceivedHeader[];
}

export interface AbortedTransaction {
  readonly producerId: bigint;
  readonly firstOffset: bigint;
}

export interface DecodeOptions {
  readonly topic: string;
  readonly partition: number;
  /** Records before this offset are dropped. */
  readonly fetchOffset: number;
  /** Aborted transactions in the fetched range (read_committed), or null. */
  readonly aborted: readonly AbortedTransaction[] | null;
  /** Check each batch's CRC-32C (default true). */
  readonly checkCrc?: boolean;
}

export interface DecodedRecords {
  readonly records: ConsumerRecord[];
  /** The offset after the last whole batch read (fetchOffset when there was none). */
  readonly nextOffset: number;
}

const noHeaders: readonly ReceivedHeader[] = Object.freeze([]);
const producerIdAt = 43;
/** A record body is at least six one-byte fields; a count above bytes/6 is a lie. */
const recordBytesMin = 7;

export async function decodeRecords(data: Buffer, options: DecodeOptions): Promise<DecodedRecords> {
  const records: ConsumerRecord[] = [];
  let nextOffset = options.fetchOffset;
  const abortedQueue = options.aborted === null ? null : [...options.aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const abortedProducers = new Set<bigint>();
  const where = `${options.topic}[${options.partition}]`;
  let at = 0;
  while (data.length - at >= batchHeaderBytes) {
    const bytes = batchPrefixBytes + data.readInt32BE(at + 8);
    if (bytes < batchHeaderBytes) throw new KafkaError('CORRUPT_MESSAGE', `${where}: batch at offset ${readInt64AsNumber(data, at)} claims ${bytes} bytes`);
    if (at + bytes > data.length) break;
    const batch = data.subarray(at, at + bytes);
    at += bytes;
    const baseOffset = readInt64AsNumber(batch, 0);
    const lastOffset = baseOffset + batch.readInt32BE(lastOffsetDeltaAt);
    const magic = batch.readInt8(magicAt);
    if (magic !== 2) throw new KafkaError('UNSUPPORTED_FOR_MESSAGE_FORMAT', `${where}: message format v${magic} at offset ${baseOffset}; only RecordBatch v2 is read`);
    if (options.checkCrc !== false && crc32c(batch.subarray(attributesAt)) !== batch.readUInt32BE(crcAt)) {
      throw new KafkaError('CORRUPT_MESSAGE', `${where}: batch at offset ${baseOffset} fails its CRC check`);
    }
    if (lastOffset < options.fetchOffset) continue;
    nextOffset = lastOffset + 1;
    const attributes = batch.readUInt16BE(attributesAt);
    if (abortedQueue !== null && (attributes & transactionalFlag) !== 0) {
      const producerId = batch.readBigInt64BE(producerIdAt);
      while (abortedQueue.length > 0 && abortedQueue[0]!.firstOffset <= BigInt(lastOffset)) abortedProducers.add(abortedQueue.shift()!.producerId);
      if ((attributes & controlFlag) !== 0) {
        abortedProducers.delete(producerId);
        continue;
      }
      if (abortedProducers.has(producerId)) continue;
    }
    if ((attributes & controlFlag) !== 0) continue;
    const count = batch.readInt32BE(recordCountAt);
    const codec = attributes & compressionMask;
    const body = codec === 0 ? batch.subarray(batchHeaderBytes) : await decompressRecords(codec, batch.subarray(batchHeaderBytes), `${where} offset ${baseOffset}`);
    if (count < 0 || count > body.length / recordBytesMin + 1) throw new KafkaError('CORRUPT_MESSAGE', `${where}: batch at offset ${baseOffset} claims ${count} records`);
    const logAppendTime = (attributes & timestampTypeLogAppendTime) !== 0;
    const baseTimestamp = readInt64AsNumber(batch, logAppendTime ? maxTimestampAt : baseTimestampAt);
    readBatchRecords(body, count, baseOffset, baseTimestamp, logAppendTime, options, records, where);
  }
  return { records, nextOffset };
}

function readBatchRecords(
  body: Buffer,
  count: number,
  baseOffset: number,
  baseTimestamp: number,
  logAppendTime: boolean,
  options: DecodeOptions,
  out: ConsumerRecord[],
  where: string,
): void {
  const { topic, partition, fetchOffset } = options;
  const reader = new VarintReader(body, 0, body.length);
  for (let i = 0; i < count; i++) {
    const length = reader.varint();
    const end = reader.at + length;
    if (reader.failed || length < 6 || end > body.length) throw new KafkaError('CORRUPT_MESSAGE', `${where}: record ${i} of the batch at offset ${baseOffset} is cut short`);
    reader.end = end;
    reader.at++; // attributes: unused in v2
    const timestampDelta = reader.varlong();
    const offset = baseOffset + reader.varint();
    const key = reader.bytes();
    const value = reader.bytes();
    const headerCount = reader.varint();
    let headers = noHeaders;
    if (headerCount > 0) {
      if (headerCount > length) throw new KafkaError('CORRUPT_MESSAGE', `${where}: record at offset ${offset} claims ${headerCount} headers`);
      const list: ReceivedHeader[] = new Array(headerCount);
      for (let h = 0; h < headerCount; h++) list[h] = { key: reader.string(), value: reader.bytes() };
      headers = list;
    }
    if (reader.failed) throw new KafkaError('CORRUPT_MESSAGE', `${where}: record at offset ${offset} is malformed`);
    reader.at = end;
    reader.end = body.length;
    if (offset < fetchOffset) continue;
    out.push({ topic, partition, offset, timestamp: logAppendTime ? baseTimestamp : baseTimestamp + timestampDelta, key, value, headers });
  }
}
