/** The memory engine: reads, timestamps, eviction and the topic catalog in memory. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryStorage } from '../../src/storage/index.js';
import type { PartitionOptions } from '../../src/storage/types.js';
import { appendMany, assertRead, expectedLookup, makeBatch } from './fixtures.js';

const options = (ringBufferBytesMax: number): PartitionOptions => ({ segmentBytes: 1 << 20, indexIntervalBytes: 4096, ringBufferBytesMax });

test('memory log: appends get consecutive offsets and every offset reads back', async () => {
  const storage = createMemoryStorage();
  const log = await storage.openPartition('t', 0, options(10_000_000));
  assert.equal(log.logEndOffset, 0);
  assert.deepEqual(await log.read(0, 1000), { chunks: [], bytes: 0 });
  assert.equal(log.maxTimestamp(), null);
  const { appended, written } = appendMany(log, 100);
  await Promise.all(written);
  assert.equal(log.logStartOffset, 0);
  assert.equal(log.logEndOffset, appended.at(-1)!.lastOffset + 1);
  assert.equal(log.sizeBytes, appended.reduce((sum, b) => sum + b.bytes.length, 0));
  for (let offset = 0; offset < log.logEndOffset; offset++) {
    assertRead(await log.read(offset, 1), appended, offset, 1, 'one batch');
    assertRead(await log.read(offset, 700), appended, offset, 700, 'up to 700 bytes');
  }
  assert.equal((await log.read(log.logEndOffset, 1000)).chunks.length, 0);
  await storage.close();
});

test('memory log: offsetForTimestamp and maxTimestamp', async () => {
  const storage = createMemoryStorage();
  const log = await storage.openPartition('t', 0, options(10_000_000));
  const { appended } = appendMany(log, 60, 7);
  const all = appended.flatMap((b) => b.timestamps);
  for (let t = Math.min(...all) - 5; t <= Math.max(...all) + 5; t += 3) {
    assert.deepEqual(await log.offsetForTimestamp(t), expectedLookup(appended, t), `timestamp ${t}`);
  }
  const max = Math.max(...all);
  const holder = appended.find((b) => b.timestamps.includes(max))!;
  assert.deepEqual(log.maxTimestamp(), { offset: holder.baseOffset, timestamp: max });
  await storage.close();
});

test('memory log: the ring evicts the oldest batches and advances the log start offset', async () => {
  const storage = createMemoryStorage();
  const log = await storage.openPartition('t', 0, options(2000));
  const sizes: number[] = [];
  for (let i = 0; i < 50; i++) {
    const { batch, info } = makeBatch(2, 100, [1000 + i, 1000 + i]);
    sizes.push(batch.length);
    log.append(batch, info);
  }
  assert.ok(log.sizeBytes <= 2000, `${log.sizeBytes} bytes held`);
  const held = Math.floor(2000 / sizes[0]!);
  assert.equal(log.logEndOffset, 100);
  assert.equal(log.logStartOffset, 100 - 2 * held);
  assert.equal((await log.read(log.logStartOffset, 1)).chunks[0]!.readBigInt64BE(0), BigInt(log.logStartOffset));
  assert.deepEqual(await log.offsetForTimestamp(0), { offset: log.logStartOffset, timestamp: 1000 + log.logStartOffset / 2 });

  // A batch larger than the whole ring stays (alone): the log is never emptied by eviction.
  const { batch, info } = makeBatch(1, 5000, [1]);
  log.append(batch, info);
  assert.equal(log.logStartOffset, 100);
  assert.equal(log.logEndOffset, 101);
  assert.equal(log.sizeBytes, batch.length);
  assert.deepEqual(log.maxTimestamp(), { offset: 100, timestamp: 1 }, 'recomputed after the maximum was evicted');
  await storage.close();
});

test('memory storage: topics, reopening a partition, deleting a topic', async () => {
  const storage = createMemoryStorage();
  assert.equal(storage.kind, 'memory');
  const id = Buffer.alloc(16, 9);
  await storage.saveTopic({ name: 'orders', id, partitions: 2, configs: { 'cleanup.policy': 'delete' } });
  assert.deepEqual(storage.listTopics(), [{ name: 'orders', id, partitions: 2, configs: { 'cleanup.policy': 'delete' } }]);
  const log = await storage.openPartition('orders', 1, options(1 << 20));
  assert.equal(await storage.openPartition('orders', 1, options(1 << 20)), log, 'the same log while open');
  const { batch, info } = makeBatch(1, 10, [5]);
  log.append(batch, info);
  await storage.deleteTopic('orders');
  assert.deepEqual(storage.listTopics(), []);
  assert.throws(() => log.append(batch, info), /closed/);
  const again = await storage.openPartition('orders', 1, options(1 << 20));
  assert.notEqual(again, log);
  assert.equal(again.logEndOffset, 0);
  await storage.close();
});
