/**
 * Walks the batch headers of a segment file from a position, reading the file a block at a time.
 * Blocks are fresh buffers, never reused, so views of them can be handed to readers.
 *
 * `next()` checks framing only (enough header bytes, magic 2, a length that fits); recovery
 * uses `nextVerified()`, which also reads the whole batch and checks its CRC-32C and that its
 * base offset is the one expected.
 */
import { batchBaseOffset, batchBytesAt, batchHeaderBytes, batchMagic, batchMaxTimestamp, crcAt, attributesAt, lastOffsetDeltaAt, magicAt } from '../protocol/record-batch.js';
import { crc32c } from '../protocol/crc32c.js';
import type { StorageFile } from './file-system.js';
import { readExactly } from './file-io.js';
import { scanBlockBytes } from './limits.js';

/** The bytes at `position` are not a whole, valid batch (a torn write at the tail, or damage). */
export class TornBatchError extends Error {
  constructor(
    readonly position: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ScannedBatch {
  readonly position: number;
  readonly bytes: number;
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
}

export class BatchScanner {
  private block: Buffer = Buffer.alloc(0);
  private blockStart = 0;

  constructor(
    private readonly handle: StorageFile,
    /** Where the next batch starts. */
    public position: number,
    /** Bytes of the file to consider. */
    private readonly end: number,
    /** Bytes read at a time. */
    private readonly blockBytes = scanBlockBytes,
  ) {}

  /** The next batch's header facts, null at `end`; throws TornBatchError when no whole batch is there. */
  async next(): Promise<ScannedBatch | null> {
    const position = this.position;
    if (position >= this.end) return null;
    const left = this.end - position;
    if (left < batchHeaderBytes) throw new TornBatchError(position, `${left} bytes at ${position} are fewer than a batch header`);
    const header = await this.view(position, batchHeaderBytes);
    const bytes = batchBytesAt(header);
    const magic = header[magicAt];
    const lastOffsetDelta = header.readInt32BE(lastOffsetDeltaAt);
    if (magic !== batchMagic || bytes < batchHeaderBytes || lastOffsetDelta < 0) {
      throw new TornBatchError(position, `no batch header at ${position} (magic ${magic}, ${bytes} bytes, last offset delta ${lastOffsetDelta})`);
    }
    if (bytes > left) throw new TornBatchError(position, `the batch at ${position} claims ${bytes} bytes but ${left} remain`);
    this.position = position + bytes;
    const baseOffset = batchBaseOffset(header);
    return { position, bytes, baseOffset, lastOffset: baseOffset + lastOffsetDelta, maxTimestamp: batchMaxTimestamp(header) };
  }

  /**
   * As next(), and also reads the whole batch and checks it: its CRC-32C (which covers every byte
   * from the attributes on) and that its base offset is `expectedBaseOffset`, the offset after
   * the previous batch (a check on the 8 bytes the CRC does not cover).
   */
  async nextVerified(expectedBaseOffset: number): Promise<ScannedBatch | null> {
    const batch = await this.next();
    if (batch === null) return null;
    if (batch.baseOffset !== expectedBaseOffset) {
      throw new TornBatchError(batch.position, `the batch at ${batch.position} has base offset ${batch.baseOffset}, not the ${expectedBaseOffset} that follows the previous batch`);
    }
    const bytes = await this.view(batch.position, batch.bytes);
    const stored = bytes.readUInt32BE(crcAt);
    const computed = crc32c(bytes.subarray(attributesAt));
    if (stored !== computed) throw new TornBatchError(batch.position, `the batch at ${batch.position} (offset ${batch.baseOffset}) fails its CRC-32C check (stored ${stored}, computed ${computed})`);
    return batch;
  }

  /** `length` bytes at `position`: a view of the current block when it holds them, else read. */
  async view(position: number, length: number): Promise<Buffer> {
    const inBlock = position - this.blockStart;
    if (inBlock >= 0 && inBlock + length <= this.block.length) return this.block.subarray(inBlock, inBlock + length);
    if (length > this.blockBytes) return readExactly(this.handle, position, length);
    this.block = await readExactly(this.handle, position, Math.max(length, Math.min(this.blockBytes, this.end - position)));
    this.blockStart = position;
    return this.block.subarray(0, length);
  }
}

/** Cuts bytes that start at a batch into whole batches (views); a trailing partial batch is left out, and so is any batch at or past `endOffset`. */
export function cutWholeBatches(data: Buffer, endOffset = Number.POSITIVE_INFINITY): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  while (data.length - at >= batchHeaderBytes) {
    const bytes = batchBytesAt(data, at);
    if (bytes < batchHeaderBytes || at + bytes > data.length || batchBaseOffset(data, at) >= endOffset) break;
    chunks.push(data.subarray(at, at + bytes));
    at += bytes;
  }
  return chunks;
}
