/**
 * Reads RecordBatch v2 batches back for tests, independently of the broker's own readers: the
 * header fields, and every record (decompressed when needed) with its absolute timestamp.
 */
import assert from 'node:assert/strict';
import { splitBatches, validateBatch, batchHeaderBytes, compressionMask, timestampTypeLogAppendTime } from '../../src/protocol/record-batch.js';
import { decompress, isCompressionCodec } from '../../src/protocol/compression.js';

export interface ReadRecord {
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headerCount: number;
}

export interface ReadBatch {
  readonly baseOffset: number;
  readonly codec: number;
  readonly logAppendTime: boolean;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly partitionLeaderEpoch: number;
  readonly records: ReadRecord[];
}

/** Every whole batch of a records field (a trailing partial one, as Fetch may send, is left out). */
export async function readBatches(data: Buffer): Promise<ReadBatch[]> {
  let end = 0;
  while (data.length - end >= 12 && end + 12 + data.readInt32BE(end + 8) <= data.length) end += 12 + data.readInt32BE(end + 8);
  if (end === 0) return [];
  const split = splitBatches(data.subarray(0, end));
  assert.ok('batches' in split, 'error' in split ? split.reason : '');
  const out: ReadBatch[] = [];
  for (const batch of split.batches) out.push(await readBatch(batch));
  return out;
}

/** One batch, CRC and framing checked. */
export async function readBatch(batch: Buffer): Promise<ReadBatch> {
  const checked = validateBatch(batch, { messageBytesMax: 1 << 30 });
  assert.ok(checked.ok, checked.ok ? '' : checked.reason);
  const { header } = checked;
  const codec = header.attributes & compressionMask;
  let body = batch.subarray(batchHeaderBytes);
  if (codec !== 0) {
    assert.ok(isCompressionCodec(codec));
    body = await decompress(codec, body);
  }
  const baseOffset = Number(header.baseOffset);
  const baseTimestamp = Number(header.baseTimestamp);
  let at = 0;
  const varlong = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      assert.ok(at < body.length && shift < 70, 'a varint runs past the records');
      const byte = body[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    }
  };
  const sized = (): Buffer | null => {
    const length = varlong();
    if (length < 0) return null;
    assert.ok(at + length <= body.length, 'bytes run past the records');
    const bytes = body.subarray(at, at + length);
    at += length;
    return bytes;
  };
  const records: ReadRecord[] = [];
  for (let i = 0; i < header.recordCount; i++) {
    const length = varlong();
    const end = at + length;
    at += 1;
    const timestamp = baseTimestamp + varlong();
    const offset = baseOffset + varlong();
    const key = sized();
    const value = sized();
    const headerCount = varlong();
    for (let h = 0; h < headerCount; h++) {
      sized();
      sized();
    }
    assert.equal(at, end, `record ${i} fills its length`);
    records.push({ offset, timestamp, key, value, headerCount });
  }
  assert.equal(at, body.length, 'the records fill the batch');
  return {
    baseOffset,
    codec,
    logAppendTime: (header.attributes & timestampTypeLogAppendTime) !== 0,
    baseTimestamp,
    maxTimestamp: Number(header.maxTimestamp),
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    records,
  };
}

/** A key or value as text (null stays null). */
export function text(bytes: Buffer | null): string | null {
  return bytes === null ? null : bytes.toString('utf8');
}
