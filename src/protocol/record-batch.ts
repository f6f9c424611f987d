/**
 * RecordBatch v2 (magic 2), the unit a producer sends, the log stores and a consumer receives.
 *
 * The broker treats a batch as bytes: it reads the 61-byte header and checks the CRC, walks the
 * records of an uncompressed batch only to check that the count is honest, and otherwise writes
 * nothing into it but the base offset (and, for LogAppendTime topics, the timestamp).
 *
 * Header layout (big-endian):
 *
 *   @0  baseOffset int64        @23 lastOffsetDelta int32   @51 producerEpoch int16
 *   @8  batchLength int32       @27 baseTimestamp int64     @53 baseSequence int32
 *   @12 partitionLeaderEpoch    @35 maxTimestamp int64      @57 recordCount int32
 *   @16 magic int8              @43 producerId int64        @61 records
 *   @17 crc uint32 (CRC-32C of the bytes from @21 to the end)
 *   @21 attributes int16: bits 0-2 compression, bit 3 LogAppendTime, bit 4 transactional, bit 5 control
 *
 * batchLength counts the bytes after itself, so a batch is 12 + batchLength bytes long.
 */
// binary-parser's package exports give TypeScript no types for its ESM entry; its CommonJS build
// has them (and Node exposes its named export to ESM).
import { Parser } from 'binary-parser/dist/binary_parser.js';
import { crc32c } from './crc32c.js';
import { decompress, DecompressionError, isCompressionCodec } from './compression.js';

/** Bytes from the start of a batch to its first record. */
export const batchHeaderBytes = 61;
/** baseOffset and batchLength: the part of the header outside batchLength's count. */
export const batchPrefixBytes = 12;
export const batchMagic = 2;

export const baseOffsetAt = 0;
export const batchLengthAt = 8;
export const magicAt = 16;
export const crcAt = 17;
export const attributesAt = 21;
export const lastOffsetDeltaAt = 23;
export const baseTimestampAt = 27;
export const maxTimestampAt = 35;
export const recordCountAt = 57;

export const compressionMask = 0x07;
export const compressionNone = 0;
/** The highest compression codec Kafka defines (zstd). */
export const compressionCodecMax = 4;
export const timestampTypeLogAppendTime = 0x08;
export const transactionalFlag = 0x10;
export const controlFlag = 0x20;

/**
 * The smallest record body: attributes, timestamp delta, offset delta, key length, value length
 * and header count, one byte each.
 */
const recordBodyBytesMin = 6;

/** What the broker learned about a batch when it validated it (storage/types.ts re-exports it). */
export interface BatchInfo {
  /** Bytes of the batch, including its 12-byte offset+length prefix. */
  readonly bytes: number;
  /** lastOffsetDelta + 1. */
  readonly recordCount: number;
  /** The batch's maxTimestamp field (ms), or the append time when the topic uses LogAppendTime. */
  readonly maxTimestamp: number;
  readonly firstTimestamp: number;
}

export interface BatchHeader {
  readonly baseOffset: bigint;
  readonly batchLength: number;
  readonly partitionLeaderEpoch: number;
  readonly magic: number;
  readonly crc: number;
  readonly attributes: number;
  readonly lastOffsetDelta: number;
  readonly baseTimestamp: bigint;
  readonly maxTimestamp: bigint;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly recordCount: number;
}

const headerParser = new Parser()
  .endianness('big')
  .int64('baseOffset')
  .int32('batchLength')
  .int32('partitionLeaderEpoch')
  .int8('magic')
  .uint32('crc')
  .int16('attributes')
  .int32('lastOffsetDelta')
  .int64('baseTimestamp')
  .int64('maxTimestamp')
  .int64('producerId')
  .int16('producerEpoch')
  .int32('baseSequence')
  .int32('recordCount');

if (headerParser.sizeOf() !== batchHeaderBytes) throw new Error(`batch header parser reads ${headerParser.sizeOf()} bytes, not ${batchHeaderBytes}`);

/** Parses the 61-byte header of the batch starting at `at`; throws RangeError when fewer bytes remain. */
export function parseBatchHeader(buf: Buffer, at = 0): BatchHeader {
  if (at < 0 || buf.length - at < batchHeaderBytes) {
    throw new RangeError(`a batch header needs ${batchHeaderBytes} bytes, ${Math.max(0, buf.length - at)} remain at ${at}`);
  }
  return headerParser.parse(buf.subarray(at, at + batchHeaderBytes)) as BatchHeader;
}

/** An int64 read as a number (exact below 2^53, which offsets and timestamps stay under). */
export function readInt64AsNumber(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 0x1_0000_0000 + buf.readUInt32BE(at + 4);
}

function writeInt64FromNumber(buf: Buffer, value: number, at: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${value} is not a safe integer`);
  buf.writeInt32BE(Math.floor(value / 0x1_0000_0000), at);
  buf.writeUInt32BE(value >>> 0, at + 4);
}

/** Total bytes of the batch starting at `at` (12 + batchLength); the caller checks 12 bytes are there. */
export function batchBytesAt(buf: Buffer, at = 0): number {
  return batchPrefixBytes + buf.readInt32BE(at + batchLengthAt);
}

export function batchBaseOffset(buf: Buffer, at = 0): number {
  return readInt64AsNumber(buf, at + baseOffsetAt);
}

export function batchLastOffset(buf: Buffer, at = 0): number {
  return readInt64AsNumber(buf, at + baseOffsetAt) + buf.readInt32BE(at + lastOffsetDeltaAt);
}

export function batchMaxTimestamp(buf: Buffer, at = 0): number {
  return readInt64AsNumber(buf, at + maxTimestampAt);
}

export type SplitResult = { batches: Buffer[] } | { error: 'CORRUPT_MESSAGE' | 'INVALID_RECORD'; reason: string };

/**
 * Cuts a Produce request's records field into its batches (views, no copies). Every length is
 * checked against the bytes that remain before it is used; a trailing partial batch is an error.
 */
export function splitBatches(records: Buffer): SplitResult {
  const batches: Buffer[] = [];
  let at = 0;
  while (at < records.length) {
    const remaining = records.length - at;
    if (remaining < batchHeaderBytes) {
      return { error: 'CORRUPT_MESSAGE', reason: `${remaining} bytes after batch ${batches.length} are fewer than a ${batchHeaderBytes}-byte batch header` };
    }
    const bytes = batchBytesAt(records, at);
    if (bytes < batchHeaderBytes) {
      return { error: 'CORRUPT_MESSAGE', reason: `batch ${batches.length} claims ${bytes} bytes, fewer than its ${batchHeaderBytes}-byte header` };
    }
    if (bytes > remaining) {
      return { error: 'CORRUPT_MESSAGE', reason: `batch ${batches.length} claims ${bytes} bytes but only ${remaining} remain` };
    }
    batches.push(records.subarray(at, at + bytes));
    at += bytes;
  }
  if (batches.length === 0) return { error: 'INVALID_RECORD', reason: 'the records field holds no batch' };
  return { batches };
}

export type BatchError = 'CORRUPT_MESSAGE' | 'INVALID_RECORD' | 'MESSAGE_TOO_LARGE' | 'UNSUPPORTED_FOR_MESSAGE_FORMAT';

export type ValidateResult = { ok: true; info: BatchInfo; header: BatchHeader } | { ok: false; error: BatchError; reason: string };

export interface BatchLimits {
  /** message.max.bytes: the largest batch accepted, prefix included. */
  readonly messageBytesMax: number;
}

/**
 * Checks one batch (as cut by splitBatches) in Kafka's order: framing and magic, size, CRC,
 * attributes, record count, then, for uncompressed batches, the records themselves.
 * Compressed batches are not decompressed.
 */
export function validateBatch(batch: Buffer, limits: BatchLimits): ValidateResult {
  if (batch.length < batchHeaderBytes) return fail('CORRUPT_MESSAGE', `a batch of ${batch.length} bytes is shorter than its ${batchHeaderBytes}-byte header`);
  const bytes = batchBytesAt(batch);
  if (bytes !== batch.length) return fail('CORRUPT_MESSAGE', `batch length says ${bytes} bytes but the batch has ${batch.length}`);
  const magic = batch.readInt8(magicAt);
  if (magic !== batchMagic) return fail('CORRUPT_MESSAGE', `magic ${magic}: only RecordBatch v2 (magic 2) is accepted`);
  if (batch.length > limits.messageBytesMax) {
    return fail('MESSAGE_TOO_LARGE', `a batch of ${batch.length} bytes exceeds the limit of ${limits.messageBytesMax} bytes`);
  }
  const header = parseBatchHeader(batch);
  const crc = crc32c(batch.subarray(attributesAt));
  if (crc !== header.crc) return fail('CORRUPT_MESSAGE', `CRC-32C is 0x${crc.toString(16)} but the batch says 0x${header.crc.toString(16)}`);
  const compression = header.attributes & compressionMask;
  if (compression > compressionCodecMax) return fail('CORRUPT_MESSAGE', `unknown compression codec ${compression}`);
  if (header.recordCount < 1) return fail('INVALID_RECORD', `record count ${header.recordCount}: a batch holds at least one record`);
  if (header.recordCount !== header.lastOffsetDelta + 1) {
    return fail('INVALID_RECORD', `record count ${header.recordCount} disagrees with last offset delta ${header.lastOffsetDelta}`);
  }
  if ((header.attributes & controlFlag) !== 0) return fail('INVALID_RECORD', 'control batches are written by the broker only');
  if (compression === compressionNone && !recordsAreWellFormed(batch, header.recordCount)) {
    // The fast walk only says whether; the slow one says what is wrong.
    return fail('INVALID_RECORD', checkRecords(batch, header.recordCount) ?? 'records are malformed');
  }
  const info: BatchInfo = {
    bytes: batch.length,
    recordCount: header.recordCount,
    maxTimestamp: Number(header.maxTimestamp),
    firstTimestamp: Number(header.baseTimestamp),
  };
  return { ok: true, info, header };
}

function fail(error: BatchError, reason: string): ValidateResult {
  return { ok: false, error, reason };
}

/** Writes the base offset into the batch in place (outside the CRC's range). */
export function setBaseOffset(batch: Buffer, offset: number): void {
  writeInt64FromNumber(batch, offset, baseOffsetAt);
}

/**
 * Marks the batch as LogAppendTime with `timestampMs` as its maxTimestamp and rewrites the CRC,
 * as Kafka does for topics with message.timestamp.type=LogAppendTime.
 */
export function setLogAppendTime(batch: Buffer, timestampMs: number): void {
  const attributes = batch.readUInt16BE(attributesAt);
  batch.writeUInt16BE(attributes | timestampTypeLogAppendTime, attributesAt);
  writeInt64FromNumber(batch, timestampMs, maxTimestampAt);
  batch.writeUInt32BE(crc32c(batch.subarray(attributesAt)), crcAt);
}

// ---------------------------------------------------------------------------------------------
// Walking records without allocating: one cursor per batch, varints read from the buffer.
// ---------------------------------------------------------------------------------------------

class Cursor {
  failed = false;

  constructor(
    readonly buf: Buffer,
    public at: number,
    public end: number,
  ) {}

  byte(): number {
    if (this.at >= this.end) {
      this.failed = true;
      return 0;
    }
    return this.buf[this.at++]!;
  }

  /** A zigzag varint (int32); at most 5 bytes. */
  varint(): number {
    let value = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      const byte = this.byte();
      if (this.failed) return 0;
      if (shift === 28 && byte > 0x0f) break;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        const unsigned = value >>> 0;
        return (unsigned >>> 1) ^ -(unsigned & 1);
      }
    }
    this.failed = true;
    return 0;
  }

  /** A zigzag varlong; at most 10 bytes; exact below 2^53. */
  varlong(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.byte();
      if (this.failed) return 0;
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if ((byte & 0x80) === 0) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    }
    this.failed = true;
    return 0;
  }

  /** Skips a varint length and that many bytes (-1 allowed when `nullable`); false when it does not fit. */
  skipSized(nullable: boolean): boolean {
    const length = this.varint();
    if (this.failed || length < (nullable ? -1 : 0) || length > this.end - this.at) return false;
    if (length > 0) this.at += length;
    return true;
  }
}

/** Where the last varintAt ended, or -1 when it failed. */
let varintEnd = 0;

/** A zigzag varint (int32, at most 5 bytes) at `at`, before `end`; sets varintEnd. */
function varintAt(buf: Buffer, at: number, end: number): number {
  // One and two bytes (every length, delta and count of a batch of small records) inline.
  if (at + 1 < end) {
    const first = buf[at]!;
    if (first < 0x80) {
      varintEnd = at + 1;
      return (first >>> 1) ^ -(first & 1);
    }
    const second = buf[at + 1]!;
    if (second < 0x80) {
      const unsigned = (first & 0x7f) | (second << 7);
      varintEnd = at + 2;
      return (unsigned >>> 1) ^ -(unsigned & 1);
    }
  }
  let value = 0;
  for (let shift = 0; shift <= 28; shift += 7) {
    if (at >= end) break;
    const byte = buf[at++]!;
    if (shift === 28 && byte > 0x0f) break;
    value |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) {
      varintEnd = at;
      const unsigned = value >>> 0;
      return (unsigned >>> 1) ^ -(unsigned & 1);
    }
  }
  varintEnd = -1;
  return 0;
}

/** The position after a varlong (at most 10 bytes) at `at`, before `end`, or -1. */
function skipVarlong(buf: Buffer, at: number, end: number): number {
  for (let i = 0; i < 10 && at < end; i++) if ((buf[at++]! & 0x80) === 0) return at;
  return -1;
}

/** The position after a varint-sized field (length -1 allowed when `nullable`) at `at`, or -1. */
function skipSizedAt(buf: Buffer, at: number, end: number, nullable: boolean): number {
  const length = varintAt(buf, at, end);
  const after = varintEnd;
  if (after < 0 || length < (nullable ? -1 : 0) || length > end - after) return -1;
  return length > 0 ? after + length : after;
}

/**
 * The produce path's check of an uncompressed batch's records: true exactly when checkRecords
 * would find nothing wrong, with no allocation and no message building (checkRecords runs only
 * to explain a failure). It touches each record's few varints, not its key or value bytes.
 */
function recordsAreWellFormed(buf: Buffer, count: number): boolean {
  const total = buf.length;
  let at = batchHeaderBytes;
  for (let i = 0; i < count; i++) {
    const length = varintAt(buf, at, total);
    if (varintEnd < 0) return false;
    at = varintEnd;
    if (length < recordBodyBytesMin || length > total - at) return false;
    const recordEnd = at + length;
    at = skipVarlong(buf, at + 1, recordEnd);
    if (at < 0) return false;
    const offsetDelta = varintAt(buf, at, recordEnd);
    if (varintEnd < 0 || offsetDelta !== i) return false;
    at = skipSizedAt(buf, varintEnd, recordEnd, true);
    if (at < 0) return false;
    at = skipSizedAt(buf, at, recordEnd, true);
    if (at < 0) return false;
    const headers = varintAt(buf, at, recordEnd);
    if (varintEnd < 0 || headers < 0) return false;
    at = varintEnd;
    for (let h = 0; h < headers; h++) {
      at = skipSizedAt(buf, at, recordEnd, false);
      if (at < 0) return false;
      at = skipSizedAt(buf, at, recordEnd, true);
      if (at < 0) return false;
    }
    if (at !== recordEnd) return false;
  }
  return at === total;
}

/**
 * Walks the records of an uncompressed batch; returns null when exactly `count` well-formed
 * records, with offset deltas 0, 1, 2 ..., fill the batch, or else what is wrong.
 */
function checkRecords(batch: Buffer, count: number): string | null {
  const cursor = new Cursor(batch, batchHeaderBytes, batch.length);
  for (let i = 0; i < count; i++) {
    const problem = checkRecord(cursor, i);
    if (problem !== null) return `record ${i} of ${count}: ${problem}`;
  }
  if (cursor.at !== batch.length) return `${batch.length - cursor.at} bytes follow the last of ${count} records`;
  return null;
}

function checkRecord(cursor: Cursor, index: number): string | null {
  cursor.end = cursor.buf.length;
  if (cursor.at >= cursor.end) return 'missing (the batch ends first)';
  const length = cursor.varint();
  if (cursor.failed) return 'its length varint is malformed';
  const remaining = cursor.end - cursor.at;
  if (length < recordBodyBytesMin || length > remaining) return `length ${length} does not fit in the ${remaining} bytes left`;
  const recordEnd = cursor.at + length;
  cursor.end = recordEnd;
  cursor.byte();
  cursor.varlong();
  const offsetDelta = cursor.varint();
  if (cursor.failed) return 'truncated before its offset delta';
  if (offsetDelta !== index) return `offset delta ${offsetDelta}, expected ${index}`;
  if (!cursor.skipSized(true)) return 'key does not fit';
  if (!cursor.skipSized(true)) return 'value does not fit';
  const headers = cursor.varint();
  if (cursor.failed || headers < 0) return 'bad header count';
  for (let h = 0; h < headers; h++) {
    if (!cursor.skipSized(false)) return `header ${h} key does not fit`;
    if (!cursor.skipSized(true)) return `header ${h} value does not fit`;
  }
  if (cursor.at !== recordEnd) return `${recordEnd - cursor.at} bytes left inside the record`;
  return null;
}

export interface RecordAtTimestamp {
  readonly offsetDelta: number;
  readonly timestamp: number;
}

/**
 * The first record of a batch whose timestamp is at or after `timestampMs`, or null, as Kafka
 * answers ListOffsets by time: a record's offset is baseOffset + offsetDelta and its timestamp
 * baseTimestamp + timestampDelta, except in LogAppendTime batches, where every record has the
 * batch's maxTimestamp. A batch whose maxTimestamp is below the target has no such record.
 *
 * This walks the records of an uncompressed batch, or `records`, the decompressed records
 * section of a compressed one (findRecordAtOrAfterAsync decompresses it). A compressed batch
 * that must be walked but comes without its records is a TypeError.
 */
export function findRecordAtOrAfter(batch: Buffer, timestampMs: number, records?: Buffer): RecordAtTimestamp | null {
  const maxTimestamp = batchMaxTimestamp(batch);
  if (maxTimestamp < timestampMs) return null;
  const attributes = batch.readUInt16BE(attributesAt);
  if ((attributes & timestampTypeLogAppendTime) !== 0) return { offsetDelta: 0, timestamp: maxTimestamp };
  if (records === undefined) {
    if ((attributes & compressionMask) !== compressionNone) {
      throw new TypeError('a compressed batch is walked with its decompressed records: use findRecordAtOrAfterAsync');
    }
    records = batch.subarray(batchHeaderBytes);
  }
  const baseTimestamp = readInt64AsNumber(batch, baseTimestampAt);
  const count = batch.readInt32BE(recordCountAt);
  const cursor = new Cursor(records, 0, records.length);
  for (let i = 0; i < count; i++) {
    const length = cursor.varint();
    const recordEnd = cursor.at + length;
    cursor.byte();
    const timestamp = baseTimestamp + cursor.varlong();
    const offsetDelta = cursor.varint();
    if (cursor.failed || length < recordBodyBytesMin || recordEnd > records.length) break;
    if (timestamp >= timestampMs) return { offsetDelta, timestamp };
    cursor.at = recordEnd;
  }
  // maxTimestamp qualified but no record did (a batch whose maxTimestamp exceeds its records').
  return { offsetDelta: 0, timestamp: maxTimestamp };
}

/**
 * findRecordAtOrAfter for any stored batch: a compressed batch is decompressed (off the event
 * loop, at most decompressedBytesMax bytes) when its records must be read, that is when its
 * maxTimestamp reaches the target and it is not LogAppendTime. A batch that cannot be opened
 * (damaged, an unknown codec, or past the size limit) answers with its first record and its
 * maxTimestamp: an offset no later than the exact one, so a consumer seeking there misses
 * nothing.
 */
export async function findRecordAtOrAfterAsync(batch: Buffer, timestampMs: number): Promise<RecordAtTimestamp | null> {
  const maxTimestamp = batchMaxTimestamp(batch);
  const attributes = batch.readUInt16BE(attributesAt);
  const codec = attributes & compressionMask;
  if (codec === compressionNone || maxTimestamp < timestampMs || (attributes & timestampTypeLogAppendTime) !== 0) {
    return findRecordAtOrAfter(batch, timestampMs);
  }
  if (!isCompressionCodec(codec)) return { offsetDelta: 0, timestamp: maxTimestamp };
  let records: Buffer;
  try {
    records = await decompress(codec, batch.subarray(batchHeaderBytes));
  } catch (error) {
    if (error instanceof DecompressionError) return { offsetDelta: 0, timestamp: maxTimestamp };
    throw error;
  }
  return findRecordAtOrAfter(batch, timestampMs, records);
}

// ---------------------------------------------------------------------------------------------
// Building batches (tests and our own tools).
// ---------------------------------------------------------------------------------------------

export interface RecordInput {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: readonly (readonly [string, Buffer | null])[];
  /** Milliseconds; default: the batch's timestamp option, else now. */
  readonly timestamp?: number;
}

export interface BuildOptions {
  readonly baseOffset?: number;
  /** Timestamp of records that have none; default now. */
  readonly timestamp?: number;
  readonly partitionLeaderEpoch?: number;
  readonly producerId?: number;
  readonly producerEpoch?: number;
  readonly baseSequence?: number;
  /** Sets the LogAppendTime attribute bit. */
  readonly logAppendTime?: boolean;
}

function unsignedVarintBytes(value: number): number {
  let bytes = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    bytes++;
  }
  return bytes;
}

function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function varintBytes(value: number): number {
  return unsignedVarintBytes(zigzag(value));
}

function writeVarint(buf: Buffer, value: number, at: number): number {
  let unsigned = zigzag(value);
  while (unsigned >= 128) {
    buf[at++] = (unsigned % 128) | 0x80;
    unsigned = Math.floor(unsigned / 128);
  }
  buf[at++] = unsigned;
  return at;
}

function sizedBytes(data: Buffer | null): number {
  return data === null ? 1 : varintBytes(data.length) + data.length;
}

function writeSized(buf: Buffer, data: Buffer | null, at: number): number {
  if (data === null) return writeVarint(buf, -1, at);
  at = writeVarint(buf, data.length, at);
  data.copy(buf, at);
  return at + data.length;
}

/** Encodes an uncompressed RecordBatch v2 with a correct CRC. */
export function buildBatch(records: readonly RecordInput[], options: BuildOptions = {}): Buffer {
  if (records.length === 0) throw new RangeError('a batch holds at least one record');
  const now = options.timestamp ?? Date.now();
  const timestamps = records.map((r) => r.timestamp ?? now);
  const baseTimestamp = timestamps[0]!;
  const maxTimestamp = timestamps.reduce((max, t) => Math.max(max, t), baseTimestamp);
  const headerKeys = records.map((r) => (r.headers ?? []).map(([key]) => Buffer.from(key, 'utf8')));
  const bodySizes = records.map((record, i) => {
    const headers = record.headers ?? [];
    let size = 1 + varintBytes(timestamps[i]! - baseTimestamp) + varintBytes(i) + sizedBytes(record.key) + sizedBytes(record.value);
    size += varintBytes(headers.length);
    headers.forEach(([, value], h) => (size += sizedBytes(headerKeys[i]![h]!) + sizedBytes(value)));
    return size;
  });
  const total = bodySizes.reduce((sum, size) => sum + varintBytes(size) + size, batchHeaderBytes);
  const batch = Buffer.alloc(total);
  writeInt64FromNumber(batch, options.baseOffset ?? 0, baseOffsetAt);
  batch.writeInt32BE(total - batchPrefixBytes, batchLengthAt);
  batch.writeInt32BE(options.partitionLeaderEpoch ?? -1, 12);
  batch.writeInt8(batchMagic, magicAt);
  batch.writeUInt16BE(options.logAppendTime ? timestampTypeLogAppendTime : 0, attributesAt);
  batch.writeInt32BE(records.length - 1, lastOffsetDeltaAt);
  writeInt64FromNumber(batch, baseTimestamp, baseTimestampAt);
  writeInt64FromNumber(batch, maxTimestamp, maxTimestampAt);
  writeInt64FromNumber(batch, options.producerId ?? -1, 43);
  batch.writeInt16BE(options.producerEpoch ?? -1, 51);
  batch.writeInt32BE(options.baseSequence ?? -1, 53);
  batch.writeInt32BE(records.length, recordCountAt);
  let at = batchHeaderBytes;
  records.forEach((record, i) => {
    at = writeVarint(batch, bodySizes[i]!, at);
    batch[at++] = 0;
    at = writeVarint(batch, timestamps[i]! - baseTimestamp, at);
    at = writeVarint(batch, i, at);
    at = writeSized(batch, record.key, at);
    at = writeSized(batch, record.value, at);
    const headers = record.headers ?? [];
    at = writeVarint(batch, headers.length, at);
    headers.forEach(([, value], h) => {
      at = writeSized(batch, headerKeys[i]![h]!, at);
      at = writeSized(batch, value, at);
    });
  });
  if (at !== total) throw new Error(`batch encoder wrote ${at} bytes of ${total}`);
  batch.writeUInt32BE(crc32c(batch.subarray(attributesAt)), crcAt);
  return batch;
}
