/**
 * Legacy message sets (magic 0 and magic 1), the record format of Produce v0-v2 and Kafka before
 * 0.11. The broker reads them only to convert them to RecordBatch v2 (legacy-upconvert.ts); it
 * never stores or serves them.
 *
 * A message set is a sequence of entries with no count in front:
 *
 *   @0  offset int64        producers send 0 (or, inside a magic-1 wrapper, 0, 1, 2 ...)
 *   @8  messageSize int32   bytes after this field
 *   @12 crc uint32          CRC-32 (IEEE, as zlib's crc32) of the bytes from magic to the end
 *   @16 magic int8          0 or 1 (the same position as a v2 batch's magic)
 *   @17 attributes int8     bits 0-2 compression codec; bit 3 (magic 1) LogAppendTime
 *   @18 timestamp int64     magic 1 only: ms since the epoch, or -1
 *   then keyLength int32 (-1 for null) and the key, valueLength int32 (-1 for null) and the value
 *
 * A compressed entry (a "wrapper") holds in its value the compressed bytes of an inner message
 * set, whose messages are uncompressed and have the wrapper's magic. Inside a magic-1 wrapper the
 * inner offsets are relative (0, 1, 2 ...) and the wrapper's offset is the last inner offset (or
 * 0, as some librdkafka versions send); only the order of the inner messages matters here.
 *
 * Checks, in Kafka's order and with Kafka's errors (ByteBufferLogInputStream, LegacyRecord,
 * AbstractLegacyRecordBatch and LogValidator):
 *   - an entry shorter than the smallest magic-0 message, or claiming more bytes than remain, or a
 *     trailing partial entry: CORRUPT_MESSAGE (Kafka trims a partial tail silently; we do not
 *     accept one in a produce request);
 *   - a magic other than 0, 1 or 2: CORRUPT_MESSAGE; magic 2 after a legacy entry, or entries
 *     of different magic: INVALID_RECORD;
 *   - an entry larger than message.max.bytes (12-byte prefix included): MESSAGE_TOO_LARGE;
 *   - a CRC that does not match, here or inside a wrapper: CORRUPT_MESSAGE; so is a key or value
 *     length that does not fit the message, or bytes after the value;
 *   - an unknown codec (5-7): CORRUPT_MESSAGE; a compressed entry that is not the only entry,
 *     a zstd wrapper (zstd needs RecordBatch v2), a wrapper with a null value or no inner
 *     message, an inner message that is compressed or of another magic, a magic-1 wrapper offset
 *     below its last inner offset (and not 0): INVALID_RECORD;
 *   - a producer-set LogAppendTime bit (magic 1): INVALID_TIMESTAMP; so is a magic-1 timestamp
 *     that is neither -1 nor between 0 and 2^52 - 1 (Kafka takes any int64; RecordBatch v2
 *     deltas and our readers need safe integers).
 *
 * Every length is compared with the bytes that remain before it is used, nothing is copied but
 * the decompressed inner set, and decompression is bounded by compression.ts's limit.
 *
 * LZ4 wrappers of magic 0 carry the header checksum old Kafka computed wrongly (over the frame
 * magic too, KAFKA-3160), as librdkafka still writes for magic 0; Kafka ignores that byte for
 * magic 0, so we rewrite it with the correct value (on a copy) before decoding.
 */
import { crc32 } from '@node-rs/crc32';
import { codecLz4, codecZstd, decompress, decompressedBytesMax, DecompressionError, type CompressionCodec } from './compression.js';
import { xxhash32 } from './xxhash32.js';

/** offset int64 and messageSize int32: the part of an entry outside messageSize's count. */
export const legacyLogOverhead = 12;
export const legacyCrcAt = 12;
export const legacyMagicAt = 16;
export const legacyAttributesAt = 17;
export const legacyTimestampAt = 18;
/** crc, magic, attributes, keyLength, valueLength: the smallest magic-0 message. */
export const legacyMessageOverheadV0 = 14;
/** The same plus the timestamp. */
export const legacyMessageOverheadV1 = 22;

export const legacyCodecMask = 0x07;
export const legacyLogAppendTimeFlag = 0x08;
/** The largest magic-1 timestamp accepted (2^52 - 1 ms, some 140,000 years). */
export const legacyTimestampMax = 2 ** 52 - 1;
export const noTimestamp = -1;

export type LegacyError = 'CORRUPT_MESSAGE' | 'INVALID_RECORD' | 'INVALID_TIMESTAMP' | 'MESSAGE_TOO_LARGE';

/** One record of a legacy message set, as RecordBatch v2 will carry it. */
export interface LegacyRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** The magic-1 timestamp; -1 (no timestamp) for magic 0. */
  readonly timestamp: number;
}

export interface LegacyLimits {
  /** message.max.bytes: the largest entry of the request's message set, prefix included. */
  readonly messageBytesMax: number;
  /** The most bytes a wrapper may decompress to (default: compression.ts's decompressedBytesMax). */
  readonly decompressedBytesMax?: number;
}

export type LegacyReadResult =
  | { readonly ok: true; readonly magic: 0 | 1; readonly codec: number; readonly records: LegacyRecord[] }
  | { readonly ok: false; readonly error: LegacyError; readonly reason: string };

/** One entry as read from the bytes (views into them). */
interface Entry {
  readonly offset: bigint;
  readonly magic: 0 | 1;
  readonly attributes: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

class Refusal extends Error {
  constructor(
    readonly error: LegacyError,
    reason: string,
  ) {
    super(reason);
  }
}

/**
 * True when a Produce records field holds a legacy message set: its first entry's magic (at the
 * same position as a v2 batch's) is 0 or 1.
 */
export function isLegacyMessageSet(records: Buffer): boolean {
  return records.length > legacyMagicAt && (records[legacyMagicAt] === 0 || records[legacyMagicAt] === 1);
}

/**
 * Reads and checks a legacy message set from a Produce request and returns its records in
 * order, the wrapper's inner messages in place of the wrapper. Nothing is thrown for bad input.
 */
export async function readLegacyMessageSet(records: Buffer, limits: LegacyLimits): Promise<LegacyReadResult> {
  try {
    const entries = readEntries(records, 'request', limits.messageBytesMax);
    if (entries.length === 0) throw new Refusal('INVALID_RECORD', 'the records field holds no message');
    const magic = entries[0]!.magic;
    let codec = 0;
    for (const [i, entry] of entries.entries()) {
      if (entry.magic !== magic) throw new Refusal('INVALID_RECORD', `message ${i} has magic ${entry.magic}, the first has ${magic}`);
      const entryCodec = entry.attributes & legacyCodecMask;
      if (entryCodec > codecZstd) throw new Refusal('CORRUPT_MESSAGE', `message ${i} has unknown compression codec ${entryCodec}`);
      if (entryCodec !== 0) codec = entryCodec;
      if (magic === 1 && (entry.attributes & legacyLogAppendTimeFlag) !== 0) {
        throw new Refusal('INVALID_TIMESTAMP', `message ${i} says LogAppendTime, which only the broker may set`);
      }
    }
    if (codec === 0) return { ok: true, magic, codec, records: entries.map(toRecord) };
    if (entries.length > 1) throw new Refusal('INVALID_RECORD', `a compressed message must be the only one in its set, not one of ${entries.length}`);
    return { ok: true, magic, codec, records: await unwrap(entries[0]!, codec as CompressionCodec, limits.decompressedBytesMax ?? decompressedBytesMax) };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, error: error.error, reason: error.message };
    throw error;
  }
}

function toRecord(entry: Entry): LegacyRecord {
  return { key: entry.key, value: entry.value, timestamp: entry.timestamp };
}

/** The inner messages of a compressed wrapper, checked. */
async function unwrap(wrapper: Entry, codec: CompressionCodec, bytesMax: number): Promise<LegacyRecord[]> {
  if (codec === codecZstd) throw new Refusal('INVALID_RECORD', 'zstd is not allowed in magic 0 or 1 messages (it needs RecordBatch v2)');
  if (wrapper.value === null) throw new Refusal('INVALID_RECORD', 'the compressed message has a null value');
  const compressed = codec === codecLz4 && wrapper.magic === 0 ? withRepairedLz4HeaderChecksum(wrapper.value) : wrapper.value;
  let inner: Buffer;
  try {
    inner = await decompress(codec, compressed, bytesMax);
  } catch (error) {
    if (!(error instanceof DecompressionError)) throw error;
    throw new Refusal(error.failure === 'too-large' ? 'MESSAGE_TOO_LARGE' : 'CORRUPT_MESSAGE', `compressed message: ${error.message}`);
  }
  if (inner.length === 0) throw new Refusal('INVALID_RECORD', 'the compressed message holds no inner message');
  const entries = readEntries(inner, 'wrapper', Infinity, wrapper.magic);
  for (const [i, entry] of entries.entries()) {
    if ((entry.attributes & legacyCodecMask) !== 0) throw new Refusal('INVALID_RECORD', `inner message ${i} is itself compressed`);
  }
  const lastInner = entries[entries.length - 1]!.offset;
  if (wrapper.magic === 1 && wrapper.offset !== 0n && wrapper.offset < lastInner) {
    throw new Refusal('INVALID_RECORD', `wrapper offset ${wrapper.offset} is below the last inner offset ${lastInner} and not 0`);
  }
  return entries.map(toRecord);
}

/**
 * Reads every entry of a message set. `where` is 'request' for the request's own set (sizes are
 * held to message.max.bytes; a magic-2 entry is a mix of formats) or 'wrapper' for the inner set
 * of a compressed message (whose magic must be `wrapperMagic`).
 */
function readEntries(data: Buffer, where: 'request' | 'wrapper', messageBytesMax: number, wrapperMagic?: 0 | 1): Entry[] {
  const entries: Entry[] = [];
  const what = where === 'request' ? 'message' : 'inner message';
  let at = 0;
  while (at < data.length) {
    const n = entries.length;
    const remaining = data.length - at;
    if (remaining < legacyLogOverhead + legacyMessageOverheadV0) {
      throw new Refusal('CORRUPT_MESSAGE', `${remaining} bytes after ${what} ${n - 1} are fewer than the smallest message`);
    }
    const size = data.readInt32BE(at + 8);
    if (size < legacyMessageOverheadV0) throw new Refusal('CORRUPT_MESSAGE', `${what} ${n} claims ${size} bytes, fewer than the ${legacyMessageOverheadV0} of the smallest message`);
    if (size > remaining - legacyLogOverhead) throw new Refusal('CORRUPT_MESSAGE', `${what} ${n} claims ${size} bytes but only ${remaining - legacyLogOverhead} remain`);
    const magic = data.readInt8(at + legacyMagicAt);
    if (magic !== 0 && magic !== 1) {
      if (where === 'wrapper') throw new Refusal('INVALID_RECORD', `${what} ${n} has magic ${magic}, its wrapper ${wrapperMagic}`);
      if (magic === 2) throw new Refusal('INVALID_RECORD', `${what} ${n} is a RecordBatch v2 after magic ${entries[0]?.magic ?? '0/1'} messages`);
      throw new Refusal('CORRUPT_MESSAGE', `${what} ${n} has unknown magic ${magic}`);
    }
    if (where === 'wrapper' && magic !== wrapperMagic) throw new Refusal('INVALID_RECORD', `${what} ${n} has magic ${magic}, its wrapper ${wrapperMagic}`);
    const end = at + legacyLogOverhead + size;
    if (legacyLogOverhead + size > messageBytesMax) {
      throw new Refusal('MESSAGE_TOO_LARGE', `${what} ${n} of ${legacyLogOverhead + size} bytes exceeds the limit of ${messageBytesMax} bytes`);
    }
    const crc = crc32(data.subarray(at + legacyMagicAt, end)) >>> 0;
    const stated = data.readUInt32BE(at + legacyCrcAt);
    if (crc !== stated) throw new Refusal('CORRUPT_MESSAGE', `${what} ${n}: CRC-32 is 0x${crc.toString(16)} but the message says 0x${stated.toString(16)}`);
    entries.push(readMessage(data, at, end, magic, `${what} ${n}`));
    at = end;
  }
  return entries;
}

/** The fields of the message at `at` (its entry ends at `end`, already checked to be in `data`). */
function readMessage(data: Buffer, at: number, end: number, magic: 0 | 1, what: string): Entry {
  if (magic === 1 && end - at < legacyLogOverhead + legacyMessageOverheadV1) {
    throw new Refusal('CORRUPT_MESSAGE', `${what} has ${end - at - legacyLogOverhead} bytes, fewer than the ${legacyMessageOverheadV1} of the smallest magic-1 message`);
  }
  const offset = data.readBigInt64BE(at);
  const attributes = data[at + legacyAttributesAt]!;
  let cursor = at + legacyTimestampAt;
  let timestamp = noTimestamp;
  if (magic === 1) {
    const stated = data.readBigInt64BE(cursor);
    cursor += 8;
    if (stated !== -1n && (stated < 0n || stated > BigInt(legacyTimestampMax))) throw new Refusal('INVALID_TIMESTAMP', `${what} has timestamp ${stated}`);
    timestamp = Number(stated);
  }
  const key = sized(data, cursor, end, `${what} key`);
  cursor += 4 + (key?.length ?? 0);
  const value = sized(data, cursor, end, `${what} value`);
  cursor += 4 + (value?.length ?? 0);
  if (cursor !== end) throw new Refusal('CORRUPT_MESSAGE', `${end - cursor} bytes follow the value of ${what}`);
  return { offset, magic, attributes, timestamp, key, value };
}

/** An int32 length (-1 for null) and that many bytes, all before `end`. */
function sized(data: Buffer, at: number, end: number, what: string): Buffer | null {
  if (end - at < 4) throw new Refusal('CORRUPT_MESSAGE', `${what} length is cut off by the end of the message`);
  const length = data.readInt32BE(at);
  if (length === -1) return null;
  if (length < 0 || length > end - at - 4) throw new Refusal('CORRUPT_MESSAGE', `${what} length ${length} does not fit in the ${end - at - 4} bytes left`);
  return data.subarray(at + 4, at + 4 + length);
}

// ---------------------------------------------------------------------------------------------
// LZ4 frames from magic-0 producers
// ---------------------------------------------------------------------------------------------

const lz4FrameMagic = 0x184d2204;
/** Frame magic, FLG and BD: the bytes before the optional descriptor fields. */
const lz4DescriptorAt = 4;

/**
 * A copy of `frame` whose first LZ4 frame descriptor checksum is the correct one: the second
 * byte of XXH32 over the descriptor (FLG, BD and the optional content size and dictionary id).
 * Input that is not an LZ4 frame is returned as it is, for the decoder to refuse.
 */
export function withRepairedLz4HeaderChecksum(frame: Buffer): Buffer {
  if (frame.length < 7 || frame.readUInt32LE(0) !== lz4FrameMagic) return frame;
  const flags = frame[lz4DescriptorAt]!;
  const descriptorBytes = 2 + ((flags & 0x08) !== 0 ? 8 : 0) + ((flags & 0x01) !== 0 ? 4 : 0);
  const checksumAt = lz4DescriptorAt + descriptorBytes;
  if (frame.length <= checksumAt) return frame;
  const repaired = Buffer.from(frame);
  repaired[checksumAt] = lz4HeaderChecksum(frame.subarray(lz4DescriptorAt, checksumAt));
  return repaired;
}

/** The LZ4 frame header checksum of descriptor bytes (FLG onwards). */
export function lz4HeaderChecksum(descriptor: Uint8Array): number {
  return (xxhash32(descriptor) >>> 8) & 0xff;
}
