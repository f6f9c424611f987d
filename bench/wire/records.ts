/**
 * Reads the records of fetched RecordBatch v2 data without copying: for each record at or after
 * `fromOffset`, calls back with its offset and where its value lies. Compressed batches are not
 * opened (the benchmark never compresses); a partial batch at the end is left for the next fetch,
 * as clients do.
 */
import { batchHeaderBytes, compressionMask } from '../../src/protocol/record-batch.js';

class VarintCursor {
  constructor(
    readonly buf: Buffer,
    public at: number,
  ) {}

  /** A zigzag varint (up to 2^53, enough for lengths, deltas and timestamps). */
  varint(): number {
    let unsigned = 0;
    let scale = 1;
    while (true) {
      const byte = this.buf[this.at++]!;
      unsigned += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 128;
    }
    return unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2;
  }
}

export type RecordVisitor = (offset: number, data: Buffer, valueAt: number, valueBytes: number) => void;

/** Visits records at or after `fromOffset`; returns the offset after the last whole batch (or fromOffset). */
export function visitRecords(data: Buffer, fromOffset: number, visit: RecordVisitor): number {
  let next = fromOffset;
  let at = 0;
  while (data.length - at >= batchHeaderBytes) {
    const baseOffset = Number(data.readBigInt64BE(at));
    const batchEnd = at + 12 + data.readInt32BE(at + 8);
    if (batchEnd > data.length) break;
    const attributes = data.readInt16BE(at + 21);
    const count = data.readInt32BE(at + 57);
    if ((attributes & compressionMask) !== 0) throw new Error('a compressed batch (the benchmark sends none)');
    const cursor = new VarintCursor(data, at + batchHeaderBytes);
    for (let i = 0; i < count; i++) {
      const length = cursor.varint();
      const recordEnd = cursor.at + length;
      cursor.at += 1; // attributes
      cursor.varint(); // timestamp delta
      const offset = baseOffset + cursor.varint();
      const keyBytes = cursor.varint();
      if (keyBytes > 0) cursor.at += keyBytes;
      const valueBytes = cursor.varint();
      if (offset >= fromOffset) visit(offset, data, cursor.at, Math.max(valueBytes, 0));
      cursor.at = recordEnd;
    }
    next = Math.max(next, baseOffset + data.readInt32BE(at + 23) + 1);
    at = batchEnd;
  }
  return next;
}
