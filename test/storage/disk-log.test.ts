/** The disk engine's partition log: segments, indexes, reads, timestamps, restarts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readdir, readFile, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openDiskStorage, type DiskPartitionLog } from '../../src/storage/index.js';
import type { PartitionLog, PartitionOptions, Storage } from '../../src/storage/types.js';
import { appendMany, assertRead, batchHolding, expectedLookup, makeBatch, withTempDir, type AppendedBatch } from './fixtures.js';

const tiny: PartitionOptions = { segmentBytes: 1500, indexIntervalBytes: 200, ringBufferBytesMax: 0 };

async function open(dir: string, options = tiny): Promise<{ storage: Storage; log: DiskPartitionLog }> {
  const storage = await openDiskStorage(dir);
  const log = (await storage.openPartition('events', 0, options)) as DiskPartitionLog;
  return { storage, log };
}

/** Reads every offset one batch at a time and with a byte budget, checking against the model. */
async function checkAllReads(log: PartitionLog, appended: AppendedBatch[], context: string): Promise<void> {
  for (let offset = log.logStartOffset; offset < log.logEndOffset; offset++) {
    assertRead(await log.read(offset, 1), appended, offset, 1, `${context}, one batch`);
    const read = await log.read(offset, 900);
    assertRead(read, appended, offset, 900, `${context}, 900 bytes`);
  }
  assert.deepEqual(await log.read(log.logEndOffset, 1000), { chunks: [], bytes: 0 });
}

async function checkTimestamps(log: PartitionLog, appended: AppendedBatch[], context: string): Promise<void> {
  // Every record timestamp, one either side of it, and beyond both ends.
  const all = [...new Set(appended.flatMap((b) => b.timestamps))];
  const targets = [...all.flatMap((t) => [t - 1, t, t + 1]), Math.min(...all) - 1000, Math.max(...all) + 1000];
  for (const t of targets) {
    assert.deepEqual(await log.offsetForTimestamp(t), expectedLookup(appended, t), `${context}: timestamp ${t}`);
  }
}

async function fileBytes(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const name of (await readdir(dir)).sort()) out.set(name, await readFile(join(dir, name)));
  return out;
}

test('appends roll across many segments; every offset reads back from disk', async () => {
  await withTempDir(async (dataDir) => {
    const { storage, log } = await open(dataDir);
    const { appended, durable } = appendMany(log, 300);
    await Promise.all(durable);
    const dir = join(dataDir, 'events-0');
    const names = await readdir(dir);
    const logs = names.filter((n) => n.endsWith('.log')).sort();
    assert.ok(logs.length >= 10, `${logs.length} segments`);
    assert.equal(logs[0], '00000000000000000000.log');
    assert.deepEqual(logs.map((n) => Number(n.slice(0, 20))), log.segmentBaseOffsets);
    for (const name of logs) {
      assert.match(name, /^\d{20}\.log$/);
      assert.ok(names.includes(name.replace('.log', '.index')) && names.includes(name.replace('.log', '.timeindex')));
      const size = (await stat(join(dir, name))).size;
      assert.ok(size <= tiny.segmentBytes, `${name} holds ${size} bytes`);
    }
    // Each segment file holds exactly the batches whose offsets it starts, byte for byte.
    const bases = log.segmentBaseOffsets;
    for (let i = 0; i < bases.length; i++) {
      const content = await readFile(join(dir, logs[i]!));
      const inSegment = appended.filter((b) => b.baseOffset >= bases[i]! && (i + 1 === bases.length || b.baseOffset < bases[i + 1]!));
      assert.deepEqual(content, Buffer.concat(inSegment.map((b) => b.bytes)));
    }
    assert.equal(log.sizeBytes, appended.reduce((sum, b) => sum + b.bytes.length, 0));
    await checkAllReads(log, appended, 'from disk');
    await checkTimestamps(log, appended, 'from disk');
    await storage.close();
  });
});

test('reads return whole batches: the first whole even over maxBytes, then only what fits', async () => {
  await withTempDir(async (dataDir) => {
    const { storage, log } = await open(dataDir, { segmentBytes: 1 << 20, indexIntervalBytes: 100, ringBufferBytesMax: 0 });
    const sizes = [100, 5000, 50, 50, 50];
    const appended: AppendedBatch[] = [];
    for (const [i, size] of sizes.entries()) {
      const { batch, info } = makeBatch(3, size, [i * 10, i * 10 + 1, i * 10 + 2]);
      const result = log.append(batch, info);
      appended.push({ baseOffset: result.baseOffset, lastOffset: result.lastOffset, bytes: Buffer.from(batch), timestamps: [] });
      await result.durable;
    }
    const bytes = appended.map((b) => b.bytes.length);
    // From the middle of the large batch with a small budget: that batch alone, whole.
    let read = await log.read(4, 10);
    assert.deepEqual(read.chunks, [appended[1]!.bytes]);
    // A budget that fits three batches exactly, then one byte less.
    read = await log.read(7, bytes[2]! + bytes[3]! + bytes[4]!);
    assert.equal(read.chunks.length, 3);
    read = await log.read(7, bytes[2]! + bytes[3]! + bytes[4]! - 1);
    assert.equal(read.chunks.length, 2);
    // Everything.
    read = await log.read(0, 1 << 20);
    assert.deepEqual(read.chunks, appended.map((b) => b.bytes));
    assert.equal(read.bytes, bytes.reduce((a, b) => a + b));
    await storage.close();
  });
});

test('batches are invisible until durable, and tail reads then come from the ring, not the file', async () => {
  await withTempDir(async (dataDir) => {
    const { storage, log } = await open(dataDir, { segmentBytes: 1 << 20, indexIntervalBytes: 100, ringBufferBytesMax: 1 << 20 });
    const { appended, written, durable } = appendMany(log, 50);
    // Nothing awaited yet: the batches are placed but neither written nor synced.
    assert.ok(log.pendingWriteBytes > 0);
    assert.equal(log.nextAppendOffset, appended.at(-1)!.lastOffset + 1);
    assert.equal(log.logEndOffset, 0, 'nothing is visible before it is durable');
    assert.deepEqual(await log.read(0, 1 << 20), { chunks: [], bytes: 0 });
    assert.equal(await log.offsetForTimestamp(0), null);
    assert.equal(log.maxTimestamp(), null);
    await Promise.all(written);
    assert.equal(log.pendingWriteBytes, 0);
    await Promise.all(durable);
    assert.equal(log.logEndOffset, log.nextAppendOffset);
    // With the file gone (the writer keeps its own handle), reads still work: they never touch it.
    await unlink(join(dataDir, 'events-0', '00000000000000000000.log'));
    await checkAllReads(log, appended, 'from the ring');
    await checkTimestamps(log, appended, 'from the ring');
    await storage.close();
  });
});

test('a ring smaller than the log serves the tail and the file the rest', async () => {
  await withTempDir(async (dataDir) => {
    const { storage, log } = await open(dataDir, { segmentBytes: 4000, indexIntervalBytes: 300, ringBufferBytesMax: 3000 });
    const { appended, durable } = appendMany(log, 200, 3);
    await Promise.all(durable);
    await checkAllReads(log, appended, 'ring and file');
    await checkTimestamps(log, appended, 'ring and file');
    await storage.close();
  });
});

test('close and reopen: the same offsets, bytes, timestamps; appends go on', async () => {
  await withTempDir(async (dataDir) => {
    let { storage, log } = await open(dataDir);
    const first = appendMany(log, 150, 5);
    await storage.close();
    const dir = join(dataDir, 'events-0');
    const filesAtClose = await fileBytes(dir);

    ({ storage, log } = await open(dataDir));
    assert.deepEqual(log.loadReport, { rebuilt: [], truncatedBytes: 0, truncations: [], deletedSegments: [], scannedBytes: 0, recovered: false });
    assert.equal(log.logStartOffset, 0);
    assert.equal(log.logEndOffset, first.appended.at(-1)!.lastOffset + 1);
    assert.equal(log.recoveryPoint, log.logEndOffset);
    const all = first.appended.flatMap((b) => b.timestamps);
    const max = Math.max(...all);
    assert.deepEqual(log.maxTimestamp(), { offset: first.appended.find((b) => b.timestamps.includes(max))!.baseOffset, timestamp: max });
    await checkAllReads(log, first.appended, 'after reopen');
    await checkTimestamps(log, first.appended, 'after reopen');
    assert.deepEqual(await fileBytes(dir), filesAtClose, 'opening changes no file');

    const second = appendMany(log, 80, 6, 2_000_000);
    assert.equal(second.appended[0]!.baseOffset, first.appended.at(-1)!.lastOffset + 1);
    await Promise.all(second.written);
    await storage.close();

    ({ storage, log } = await open(dataDir));
    const appended = [...first.appended, ...second.appended];
    await checkAllReads(log, appended, 'after the second reopen');
    await checkTimestamps(log, appended, 'after the second reopen');
    await storage.close();
  });
});

test('missing or damaged index files are rebuilt, identical to the originals', async () => {
  await withTempDir(async (dataDir) => {
    let { storage, log } = await open(dataDir);
    const { appended } = appendMany(log, 150, 9);
    await storage.close();
    const dir = join(dataDir, 'events-0');
    const original = await fileBytes(dir);
    const indexNames = [...original.keys()].filter((n) => n.endsWith('.index'));
    const timeNames = [...original.keys()].filter((n) => n.endsWith('.timeindex'));
    assert.ok(indexNames.length >= 5);

    // Remove every offset index, damage a time index (a torn entry) and point an offset index entry at the wrong batch.
    for (const name of indexNames) await unlink(join(dir, name));
    const damaged = timeNames[1]!;
    await truncate(join(dir, damaged), original.get(damaged)!.length - 5);
    ({ storage, log } = await open(dataDir));
    assert.equal(log.loadReport.rebuilt.length, indexNames.length);
    assert.deepEqual(await fileBytes(dir), original, 'rebuilt files equal the ones written during appends');
    await checkAllReads(log, appended, 'rebuilt');
    await checkTimestamps(log, appended, 'rebuilt');
    await storage.close();

    const lastIndex = indexNames.at(-1)!;
    const wrong = Buffer.from(original.get(lastIndex)!);
    assert.ok(wrong.length >= 8, 'the last segment has index entries');
    wrong.writeUInt32BE(wrong.readUInt32BE(wrong.length - 8) + 1, wrong.length - 8);
    await writeFile(join(dir, lastIndex), wrong);
    ({ storage, log } = await open(dataDir));
    assert.deepEqual(log.loadReport.rebuilt, [Number(lastIndex.slice(0, 20))]);
    assert.deepEqual(await fileBytes(dir), original);
    await storage.close();
  });
});

test('a partial batch at the end of the last segment is cut off at open', async () => {
  await withTempDir(async (dataDir) => {
    let { storage, log } = await open(dataDir);
    const { appended } = appendMany(log, 40, 11);
    await storage.close();
    const dir = join(dataDir, 'events-0');
    const lastLog = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort().at(-1)!;
    const extra = makeBatch(2, 30, [1, 2]).batch;
    await appendFile(join(dir, lastLog), extra.subarray(0, 70));
    ({ storage, log } = await open(dataDir));
    assert.equal(log.loadReport.truncatedBytes, 70);
    assert.equal(log.logEndOffset, appended.at(-1)!.lastOffset + 1);
    await checkAllReads(log, appended, 'after truncation');
    const next = makeBatch(1, 5, [3]);
    const result = log.append(next.batch, next.info);
    await result.durable;
    assert.equal(result.baseOffset, log.logEndOffset - 1);
    assertRead(await log.read(result.baseOffset, 1), [...appended, { ...result, bytes: Buffer.from(next.batch), timestamps: [3] }], result.baseOffset, 1);
    await storage.close();
  });
});

test('a batch larger than segmentBytes gets a segment of its own', async () => {
  await withTempDir(async (dataDir) => {
    const { storage, log } = await open(dataDir, { segmentBytes: 500, indexIntervalBytes: 0, ringBufferBytesMax: 0 });
    const small = makeBatch(1, 10, [1]);
    const large = makeBatch(2, 2000, [2, 3]);
    const after = makeBatch(1, 10, [4]);
    await log.append(small.batch, small.info).durable;
    await log.append(large.batch, large.info).durable;
    await log.append(after.batch, after.info).durable;
    assert.deepEqual(log.segmentBaseOffsets, [0, 1, 3]);
    assert.deepEqual((await log.read(2, 1)).chunks, [large.batch]);
    assert.deepEqual(await log.offsetForTimestamp(3), { offset: 2, timestamp: 3 });
    await storage.close();
  });
});

test('many small appends are written in order and `written` and `durable` resolve for each, in order', async () => {
  await withTempDir(async (dataDir) => {
    const { storage, log } = await open(dataDir, { segmentBytes: 1 << 20, indexIntervalBytes: 4096, ringBufferBytesMax: 1 << 20 });
    const order: number[] = [];
    const durableOrder: number[] = [];
    const batches: Buffer[] = [];
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 2000; i++) {
      const { batch, info } = makeBatch(1, 8, [i]);
      batches.push(batch);
      const result = log.append(batch, info);
      waits.push(result.written.then(() => void order.push(i)));
      waits.push(
        result.durable.then(() => {
          assert.ok(log.logEndOffset > result.baseOffset, 'a durable batch is visible');
          durableOrder.push(i);
        }),
      );
    }
    await Promise.all(waits);
    assert.deepEqual(order, Array.from({ length: 2000 }, (_, i) => i));
    assert.deepEqual(durableOrder, order);
    const file = await readFile(join(dataDir, 'events-0', '00000000000000000000.log'));
    assert.deepEqual(file, Buffer.concat(batches));
    assert.equal(batchHolding([], 0), -1);
    await storage.close();
  });
});

test('reads and timestamp lookups interleaved with appends, writes and syncs agree with the model', async () => {
  await withTempDir(async (dataDir) => {
    const { storage, log } = await open(dataDir, { segmentBytes: 2000, indexIntervalBytes: 150, ringBufferBytesMax: 600 });
    const appended: AppendedBatch[] = [];
    const durable: Promise<void>[] = [];
    const visible = () => appended.filter((b) => b.lastOffset < log.logEndOffset);
    for (let round = 0; round < 40; round++) {
      const more = appendMany(log, 8, 100 + round, 1_000_000 + round * 1000);
      appended.push(...more.appended);
      durable.push(...more.durable);
      // Once the round's first batch is durable, everything visible reads back, nothing past it does.
      await more.durable[0];
      const end = log.logEndOffset;
      assert.ok(end > more.appended[0]!.baseOffset);
      for (const batch of more.appended) {
        // The log end is read just before each read: a sync may finish during an earlier read.
        const endNow = log.logEndOffset;
        const read = await log.read(batch.lastOffset, 1);
        if (batch.lastOffset < endNow) assertRead(read, appended, batch.lastOffset, 1, `round ${round}, visible`);
        else assert.deepEqual(read, { chunks: [], bytes: 0 }, `round ${round}: offset ${batch.lastOffset} is past the log end ${endNow}`);
      }
      // Some rounds let syncs finish, most do not: reads meet batches in every state.
      if (round % 5 === 0) await Promise.all(durable);
      for (let offset = Math.max(0, log.logEndOffset - 60); offset < log.logEndOffset; offset += 3) {
        assertRead(await log.read(offset, 500), visible(), offset, 500, `round ${round}`);
      }
      assertRead(await log.read(round, 1), appended, round, 1, `round ${round}, early offset`);
      const target = 1_000_000 + round * 500;
      const found = await log.offsetForTimestamp(target);
      const expected = expectedLookup(visible(), target);
      assert.deepEqual(found, expected, `round ${round}: timestamp ${target}`);
    }
    await Promise.all(durable);
    await storage.close();
  });
});

test('a closed log refuses appends and reads', async () => {
  await withTempDir(async (dataDir) => {
    const { storage, log } = await open(dataDir);
    const { batch, info } = makeBatch(1, 1, [1]);
    const result = log.append(batch, info);
    await log.close();
    await result.written;
    assert.throws(() => log.append(batch, info), /closed/);
    await assert.rejects(log.read(0, 100), /closed/);
    await storage.close();
  });
});

test('extreme producer timestamps are stored and indexed without breaking the log', async () => {
  await withTempDir(async (dataDir) => {
    let { storage, log } = await open(dataDir, { segmentBytes: 1 << 20, indexIntervalBytes: 0, ringBufferBytesMax: 0 });
    const batches = [makeBatch(1, 5, [0]), makeBatch(1, 5, [5]), makeBatch(1, 5, [10])];
    // Timestamps near both ends of int64, written into the header as a producer could send them.
    batches[1]!.batch.writeBigInt64BE(2n ** 63n - 1n, 35);
    batches[2]!.batch.writeBigInt64BE(-(2n ** 63n), 35);
    for (const { batch } of batches) {
      const info = { bytes: batch.length, recordCount: 1, maxTimestamp: Number(batch.readBigInt64BE(35)), firstTimestamp: 0 };
      await log.append(batch, info).written;
    }
    await storage.close();
    ({ storage, log } = await open(dataDir, { segmentBytes: 1 << 20, indexIntervalBytes: 0, ringBufferBytesMax: 0 }));
    assert.equal(log.logEndOffset, 3);
    assert.equal((await log.offsetForTimestamp(1))?.offset, 1);
    assert.equal(log.maxTimestamp()?.offset, 1);
    await storage.close();
  });
});
