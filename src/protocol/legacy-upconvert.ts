/**
 * Converts a legacy message set (magic 0 or 1, from Produce v0-v2) to one RecordBatch v2, as
 * Kafka's LogValidator does when a topic's message format is v2 and its compression.type is
 * "producer" (the default, and the only behaviour Inkwell has):
 *
 *   - every record of the set, a wrapper's inner messages in their place, in order, becomes one
 *     record of a single batch, with offset deltas 0 .. n-1 and no headers;
 *   - timestamps are the magic-1 ones; magic-0 records have none, so they get -1 (Kafka's
 *     NO_TIMESTAMP); a LogAppendTime topic overwrites the batch's later, as for any batch;
 *   - the batch is compressed with the codec the producer used (gzip, snappy or lz4), or not at
 *     all, so consumers see what the producer intended;
 *   - producer id -1, epoch -1, base sequence -1, partition leader epoch -1, base offset 0.
 *
 * The result is an ordinary batch for validateBatch and the normal append path, which also holds
 * it to message.max.bytes (Kafka checks converted batches against it too: MESSAGE_TOO_LARGE).
 */
import { crc32c } from './crc32c.js';
import { compress, isCompressionCodec } from './compression.js';
import { attributesAt, batchHeaderBytes, batchLengthAt, batchPrefixBytes, buildBatch, crcAt } from './record-batch.js';
import { readLegacyMessageSet, type LegacyError, type LegacyLimits, type LegacyRecord } from './legacy-message-set.js';

export type UpconvertResult =
  | { readonly ok: true; readonly batch: Buffer; readonly magic: 0 | 1; readonly codec: number; readonly recordCount: number }
  | { readonly ok: false; readonly error: LegacyError; readonly reason: string };

/** Reads, checks and converts a Produce request's legacy message set. */
export async function upconvertMessageSet(records: Buffer, limits: LegacyLimits): Promise<UpconvertResult> {
  const read = await readLegacyMessageSet(records, limits);
  if (!read.ok) return read;
  const batch = await legacyRecordsToBatch(read.records, read.codec);
  return { ok: true, batch, magic: read.magic, codec: read.codec, recordCount: read.records.length };
}

/** One RecordBatch v2 holding `records` (at least one), compressed with `codec` (0 for none). */
export async function legacyRecordsToBatch(records: readonly LegacyRecord[], codec: number): Promise<Buffer> {
  const plain = buildBatch(
    records.map((record) => ({ key: record.key, value: record.value, timestamp: record.timestamp })),
    { baseOffset: 0, partitionLeaderEpoch: -1, producerId: -1, producerEpoch: -1, baseSequence: -1 },
  );
  if (codec === 0) return plain;
  if (!isCompressionCodec(codec)) throw new RangeError(`compression codec ${codec} is not one of 1 to 4`);
  const section = await compress(codec, plain.subarray(batchHeaderBytes));
  const batch = Buffer.allocUnsafe(batchHeaderBytes + section.length);
  plain.copy(batch, 0, 0, batchHeaderBytes);
  section.copy(batch, batchHeaderBytes);
  batch.writeInt32BE(batch.length - batchPrefixBytes, batchLengthAt);
  batch.writeInt16BE(codec, attributesAt);
  batch.writeUInt32BE(crc32c(batch.subarray(attributesAt)), crcAt);
  return batch;
}
