/**
 * Rebuilds producer state from the log: reads the batches from an offset to the log end and hands
 * each one's producer fields (id, epoch, base sequence, record count, offsets, max timestamp) to
 * the state. Only the 61-byte headers are looked at; nothing is decompressed.
 */
import { batchBytesAt, batchHeaderBytes, batchLastOffset, batchBaseOffset, batchMaxTimestamp, batchPrefixBytes, controlFlag, attributesAt, recordCountAt } from '../../protocol/record-batch.js';
import type { PartitionLog } from '../../storage/types.js';
import type { PartitionProducers } from './partition-producers.js';
import { replayReadBytes } from './limits.js';

const producerIdAt = 43;
const producerEpochAt = 51;
const baseSequenceAt = 53;

export interface ReplayReport {
  readonly batches: number;
  readonly idempotentBatches: number;
  readonly endOffset: number;
}

/** Replays the batches of `log` from `fromOffset` up to its log end offset into `state`. */
export async function replayLog(log: PartitionLog, fromOffset: number, state: PartitionProducers, nowMs: number): Promise<ReplayReport> {
  let offset = Math.max(fromOffset, log.logStartOffset);
  let batches = 0;
  let idempotentBatches = 0;
  while (offset < log.logEndOffset) {
    const { chunks } = await log.read(offset, replayReadBytes);
    const before = offset;
    for (const chunk of chunks) {
      for (let at = 0; at + batchPrefixBytes <= chunk.length; ) {
        const bytes = batchBytesAt(chunk, at);
        if (bytes < batchHeaderBytes || at + bytes > chunk.length) throw new Error(`${log.topic}-${log.partition}: a stored batch at offset ${offset} has a bad length (${bytes})`);
        const lastOffset = batchLastOffset(chunk, at);
        if (lastOffset >= offset) {
          batches++;
          const producerId = chunk.readBigInt64BE(at + producerIdAt);
          const control = (chunk.readUInt16BE(at + attributesAt) & controlFlag) !== 0;
          if (producerId >= 0n && !control) {
            idempotentBatches++;
            state.replay(
              {
                producerId,
                producerEpoch: chunk.readInt16BE(at + producerEpochAt),
                baseSequence: chunk.readInt32BE(at + baseSequenceAt),
                recordCount: chunk.readInt32BE(at + recordCountAt),
              },
              batchBaseOffset(chunk, at),
              lastOffset,
              Math.min(batchMaxTimestamp(chunk, at), nowMs),
            );
          }
          offset = lastOffset + 1;
        }
        at += bytes;
      }
    }
    // A read that moves nothing forward would loop for ever: the log changed under us (deleted).
    if (offset === before) break;
  }
  state.appliedEndOffset = Math.max(state.appliedEndOffset, offset);
  return { batches, idempotentBatches, endOffset: offset };
}
