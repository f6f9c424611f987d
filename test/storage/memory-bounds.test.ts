/**
 * The memory engine's bounds: retention.bytes (else the ring size) per partition, the
 * broker-wide inkwell.memory.bytes.max across partitions (oldest batches first), retention.ms,
 * DeleteRecords; the log start offset follows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryStorage } from '../../src/storage/index.js';
import type { PartitionLog, PartitionOptions } from '../../src/storage/types.js';
import { makeBatch } from './fixtures.js';

const options: PartitionOptions = { segmentBytes: 1 << 20, indexIntervalBytes: 4096, ringBufferBytesMax: 1 << 20 };

/** Appends one batch of about `bytes` bytes; returns its exact size. */
function append(log: PartitionLog, bytes: number, timestamp = 1): number {
  const { batch, info } = makeBatch(1, bytes - 80, [timestamp]);
  log.append(batch, info);
  return batch.length;
}

test('retention.bytes bounds a partition in memory, else the ring size does', async () => {
  const storage = createMemoryStorage();
  const bounded = await storage.openPartition('a', 0, { ...options, retentionBytes: 1000 });
  const ringOnly = await storage.openPartition('b', 0, { ...options, ringBufferBytesMax: 2000 });
  let size = 0;
  for (let i = 0; i < 20; i++) {
    size = append(bounded, 300);
    append(ringOnly, 300);
  }
  assert.ok(bounded.sizeBytes <= 1000 && bounded.sizeBytes > 600, `${bounded.sizeBytes}`);
  assert.ok(ringOnly.sizeBytes <= 2000 && ringOnly.sizeBytes > 1600, `${ringOnly.sizeBytes}`);
  const kept = (await bounded.read(bounded.logStartOffset, 1 << 20)).chunks.length;
  assert.equal(bounded.logStartOffset + kept, 20, 'the log start offset is just past what went');
  assert.equal(kept, Math.floor(1000 / size));
  assert.equal((await bounded.read(0, 1 << 20)).chunks.length, 0, 'evicted offsets are gone');
  // A smaller bound at runtime applies at once.
  bounded.reconfigure({ ...options, retentionBytes: 400 });
  assert.ok(bounded.sizeBytes <= 400);
  await storage.close();
});

test('the broker-wide bound evicts the oldest batches across partitions first', async () => {
  const storage = createMemoryStorage({ memoryBytesMax: 3000 });
  const logs = [await storage.openPartition('t', 0, options), await storage.openPartition('t', 1, options), await storage.openPartition('u', 0, options)];
  // Partition 0 writes first; then the others.
  let sizes = 0;
  for (let i = 0; i < 5; i++) sizes += append(logs[0]!, 300);
  for (let i = 0; i < 5; i++) {
    sizes += append(logs[1]!, 300);
    sizes += append(logs[2]!, 300);
  }
  const held = logs.reduce((sum, log) => sum + log.sizeBytes, 0);
  assert.ok(held <= 3000, `${held} bytes held`);
  assert.ok(held > 3000 - 300, 'evicting no more than needed');
  assert.equal(logs[0]!.sizeBytes, 0, "partition 0's batches were the oldest");
  assert.equal(logs[0]!.logStartOffset, 5);
  assert.equal(logs[0]!.logEndOffset, 5);
  assert.ok(logs[1]!.logStartOffset >= 0 && logs[1]!.logStartOffset <= 1);
  assert.equal(logs[1]!.logStartOffset, logs[2]!.logStartOffset, 'the other two lose their oldest alike');
  // Closing a partition releases its bytes: the others can grow again.
  await logs[1]!.close();
  append(logs[2]!, 300);
  assert.ok(logs[2]!.sizeBytes + logs[0]!.sizeBytes <= 3000);
  assert.ok(sizes > 3000);
  await storage.close();
});

test('memory retention.ms drops old batches in a retention pass; deleteRecordsBefore moves the start', async () => {
  const storage = createMemoryStorage();
  const log = await storage.openPartition('t', 0, { ...options, retentionMs: 1000 });
  for (let i = 0; i < 5; i++) append(log, 200, 100 + i);
  for (let i = 0; i < 3; i++) append(log, 200, 5000);
  const report = await storage.enforceRetention(5500);
  assert.equal(report.deletedSegments, 5);
  assert.equal(log.logStartOffset, 5);
  assert.equal(await log.deleteRecordsBefore(6), 6);
  assert.equal(log.logStartOffset, 6);
  assert.equal((await log.read(5, 100)).chunks.length, 0);
  assert.equal((await log.offsetForTimestamp(0))?.offset, 6);
  await assert.rejects(log.deleteRecordsBefore(99), RangeError);
  assert.equal(await log.deleteRecordsBefore(8), 8);
  assert.equal(log.sizeBytes, 0);
  await storage.close();
});
