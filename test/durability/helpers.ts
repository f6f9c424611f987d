/** Shared pieces of the durability tests: storage on the simulated file system, and checks of a recovered log. */
import assert from 'node:assert/strict';
import { attributesAt, batchBaseOffset, batchBytesAt, batchLastOffset, crcAt } from '../../src/protocol/record-batch.js';
import { crc32c } from '../../src/protocol/crc32c.js';
import { openDiskStorage, type DiskStorage } from '../../src/storage/disk-storage.js';
import type { SimulatedFileSystem } from '../../src/storage/simulated-file-system.js';
import type { PartitionLog, PartitionOptions } from '../../src/storage/types.js';

export const dataDir = '/data';

export function openOn(fs: SimulatedFileSystem, logLines: string[] = []): Promise<DiskStorage> {
  return openDiskStorage(dataDir, { fileSystem: fs, log: (line) => logLines.push(line), recoveryCheckpointIntervalMs: 0 });
}

/** Small segments and a tight index interval, so that a few batches roll segments and add index entries. */
export const smallSegments: PartitionOptions = { segmentBytes: 2048, indexIntervalBytes: 200, ringBufferBytesMax: 1024 };

export interface StoredBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly bytes: Buffer;
}

/** Every batch of a log from its start to its end, read a few at a time, each checked for framing, CRC and offsets that follow on. */
export async function readWholeLog(log: PartitionLog): Promise<StoredBatch[]> {
  const batches: StoredBatch[] = [];
  let offset = log.logStartOffset;
  for (let reads = 0; offset < log.logEndOffset; reads++) {
    assert.ok(reads < 1_000_000, 'reading the log ends');
    const read = await log.read(offset, 4096);
    assert.ok(read.chunks.length > 0, `nothing read at ${offset} below the log end ${log.logEndOffset}`);
    for (const chunk of read.chunks) {
      assert.equal(batchBytesAt(chunk), chunk.length, 'a whole batch');
      assert.equal(chunk.readUInt32BE(crcAt), crc32c(chunk.subarray(attributesAt)), `the batch at ${batchBaseOffset(chunk)} passes its CRC check`);
      const base = batchBaseOffset(chunk);
      if (batches.length > 0) assert.equal(base, batches.at(-1)!.lastOffset + 1, 'offsets follow on');
      batches.push({ baseOffset: base, lastOffset: batchLastOffset(chunk), bytes: Buffer.from(chunk) });
      offset = batchLastOffset(chunk) + 1;
    }
  }
  assert.equal(offset, log.logEndOffset, 'the last batch ends at the log end');
  return batches;
}
