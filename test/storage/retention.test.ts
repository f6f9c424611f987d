/**
 * Retention and segments in the disk engine: which segments a pass deletes (by time, by size, by
 * log start offset), the log start offset moved and persisted, DeleteRecords, segment.ms rolls,
 * settings changed at runtime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SimulatedFileSystem } from '../../src/storage/simulated-file-system.js';
import { openDiskStorage } from '../../src/storage/disk-storage.js';
import { segmentsToDelete, type SegmentFacts } from '../../src/storage/retention.js';
import type { DiskPartitionLog } from '../../src/storage/disk-partition-log.js';
import type { PartitionOptions } from '../../src/storage/types.js';
import { makeBatch } from './fixtures.js';
import { dataDir, openOn, readWholeLog } from '../durability/helpers.js';

const hour = 3_600_000;
const options: PartitionOptions = { segmentBytes: 1024, indexIntervalBytes: 100, ringBufferBytesMax: 0 };

function facts(sizes: number[], timestamps: number[], recordsPerSegment = 10): SegmentFacts[] {
  return sizes.map((sizeBytes, i) => ({ baseOffset: i * recordsPerSegment, endOffset: (i + 1) * recordsPerSegment, sizeBytes, largestTimestampMs: timestamps[i]! }));
}

test('segmentsToDelete: by time, by size, by log start offset; never past what is visible; an empty active segment stays', () => {
  const now = 100 * hour;
  const limits = { retentionMs: -1, retentionBytes: -1, logStartOffset: 0, visibleEndOffset: 40, nowMs: now };
  const four = facts([100, 100, 100, 100], [now - 50 * hour, now - 30 * hour, now - 10 * hour, now - hour]);
  assert.equal(segmentsToDelete(four, limits), 0, 'no limits, nothing deleted');
  assert.equal(segmentsToDelete(four, { ...limits, retentionMs: 20 * hour }), 2, 'the two older than 20 h');
  assert.equal(segmentsToDelete(four, { ...limits, retentionMs: 0 }), 4, 'everything, the active segment too (the log rolls first)');
  assert.equal(segmentsToDelete(four, { ...limits, retentionMs: 0, visibleEndOffset: 35 }), 3, 'not the segment with records still being synced');
  assert.equal(segmentsToDelete(four, { ...limits, retentionBytes: 250 }), 1, 'down to 300 bytes: deleting a second would leave 200 < 250');
  assert.equal(segmentsToDelete(four, { ...limits, retentionBytes: 200 }), 2);
  assert.equal(segmentsToDelete(four, { ...limits, retentionBytes: 0 }), 4);
  assert.equal(segmentsToDelete(four, { ...limits, logStartOffset: 25 }), 2, 'segments wholly below the log start offset');
  assert.equal(segmentsToDelete(four, { ...limits, logStartOffset: 40 }), 3, 'never the active segment by log start offset');
  assert.equal(segmentsToDelete(four, { ...limits, retentionMs: 40 * hour, retentionBytes: 150 }), 2, 'the longer of the runs (by size)');
  assert.equal(segmentsToDelete(four, { ...limits, retentionMs: 20 * hour, retentionBytes: 350 }), 2, 'the longer of the runs (by time)');
  // Time retention stops at the first segment that is young enough, even if a later one is old.
  const mixed = facts([100, 100, 100], [now - 50 * hour, now - hour, now - 50 * hour]);
  assert.equal(segmentsToDelete(mixed, { ...limits, retentionMs: 20 * hour, visibleEndOffset: 30 }), 1);
  const emptyActive = facts([100, 0], [now - 50 * hour, now], 10);
  assert.equal(segmentsToDelete([emptyActive[0]!, { ...emptyActive[1]!, endOffset: 10 }], { ...limits, retentionMs: 0, visibleEndOffset: 10 }), 1);
});

/** A log of `count` one-record batches with the given timestamps, ~330 bytes each, so three per 1 KiB segment. */
async function fill(log: DiskPartitionLog, timestamps: number[]): Promise<void> {
  const durable = timestamps.map((t) => {
    const { batch, info } = makeBatch(1, 250, [t]);
    return log.append(batch, info).durable;
  });
  await Promise.all(durable);
}

test('retention by time deletes the old segments and moves the log start offset; by size keeps retention.bytes', async () => {
  const fs = SimulatedFileSystem.create();
  const lines: string[] = [];
  const storage = await openOn(fs, lines);
  const now = 1000 * hour;
  const log = (await storage.openPartition('events', 0, { ...options, retentionMs: 24 * hour })) as DiskPartitionLog;
  await fill(log, [...Array(9).fill(now - 48 * hour), ...Array(6).fill(now - hour)]);
  const before = log.segmentBaseOffsets;
  const sizes = log.segmentSizesBytes;
  assert.equal(before.length, 5);
  const report = await storage.enforceRetention(now);
  assert.deepEqual(report, { deletedSegments: 3, deletedBytes: sizes[0]! + sizes[1]! + sizes[2]! });
  assert.deepEqual(log.segmentBaseOffsets, before.slice(3));
  assert.equal(log.logStartOffset, 9);
  assert.deepEqual(await log.read(5, 100), { chunks: [], bytes: 0 }, 'below the log start offset nothing is served');
  assert.equal((await log.read(9, 1)).chunks.length, 1);
  assert.equal(await log.offsetForTimestamp(0).then((found) => found?.offset), 9, 'timestamp lookups start at the log start offset');
  const names = await fs.readdir(join(dataDir, 'events-0'));
  assert.ok(!names.some((name) => name.startsWith('00000000000000000000')), 'the files are gone');
  assert.ok(lines.some((line) => line.includes('retention deleted 3 segment(s)')));

  // retention.bytes at runtime: keep at least 700 bytes, deleting whole segments.
  log.reconfigure({ ...options, retentionMs: -1, retentionBytes: 700 });
  await storage.enforceRetention(now);
  assert.deepEqual(log.segmentBaseOffsets, [12]);
  assert.equal(log.logStartOffset, 12);
  assert.ok(log.sizeBytes >= 700 - 330);
  await storage.close();

  // The log start offset is persisted: a reopen (clean or not) keeps it.
  const reopened = await openOn(fs.powerLoss());
  const again = await reopened.openPartition('events', 0, options);
  assert.equal(again.logStartOffset, 12);
  assert.equal(again.logEndOffset, 15);
  await reopened.close();
});

test('when every segment is past retention the log rolls, deletes them all and goes on at the same offset', async () => {
  const fs = SimulatedFileSystem.create();
  const storage = await openOn(fs);
  const now = 1000 * hour;
  const log = (await storage.openPartition('events', 0, { ...options, retentionMs: hour })) as DiskPartitionLog;
  await fill(log, Array(7).fill(now - 2 * hour));
  await storage.enforceRetention(now);
  assert.equal(log.logStartOffset, 7);
  assert.equal(log.logEndOffset, 7);
  assert.deepEqual(log.segmentBaseOffsets, [7]);
  assert.equal(log.sizeBytes, 0);
  await fill(log, [now]);
  assert.equal(log.logEndOffset, 8);
  await storage.close();
  const reopened = await openOn(fs.powerLoss());
  const again = await reopened.openPartition('events', 0, options);
  assert.equal(again.logStartOffset, 7, 'the empty segment keeps the offsets after a restart');
  assert.equal(again.logEndOffset, 8);
  await reopened.close();
});

test('deleteRecordsBefore: the log start offset moves, whole segments below it go, and it survives a crash', async () => {
  const fs = SimulatedFileSystem.create();
  const storage = await openOn(fs);
  const log = (await storage.openPartition('events', 0, options)) as DiskPartitionLog;
  await fill(log, Array(12).fill(1));
  assert.equal(await log.deleteRecordsBefore(2), 2);
  assert.deepEqual(log.segmentBaseOffsets, [0, 3, 6, 9], 'no segment is wholly below 2');
  assert.equal(await log.deleteRecordsBefore(7), 7);
  assert.deepEqual(log.segmentBaseOffsets, [6, 9]);
  assert.equal(await log.deleteRecordsBefore(4), 7, 'an offset below the start changes nothing');
  assert.deepEqual((await log.read(6, 1)).chunks, [], 'offset 6 is below the start');
  const first = (await log.read(7, 1)).chunks[0]!;
  assert.equal(first.readBigInt64BE(0), 7n);
  await assert.rejects(log.deleteRecordsBefore(13), RangeError);
  await assert.rejects(log.deleteRecordsBefore(-1), RangeError);
  assert.equal(await log.deleteRecordsBefore(12), 12, 'up to the log end');
  assert.equal(log.logStartOffset, 12);
  // No clean shutdown: the log-start-offset checkpoint written by deleteRecordsBefore keeps it.
  const crashed = fs.powerLoss();
  await storage.close().catch(() => {});
  const reopened = await openOn(crashed);
  const again = await reopened.openPartition('events', 0, options);
  assert.equal(again.logStartOffset, 12);
  assert.equal(again.logEndOffset, 12);
  await reopened.close();
});

test('segment.ms rolls a segment once its first batch is that old', async () => {
  const fs = SimulatedFileSystem.create();
  let clock = 10 * hour;
  const storage = await openDiskStorage(dataDir, { fileSystem: fs, recoveryCheckpointIntervalMs: 0, now: () => clock });
  const log = (await storage.openPartition('events', 0, { segmentBytes: 1 << 20, indexIntervalBytes: 4096, ringBufferBytesMax: 0, segmentMs: hour })) as DiskPartitionLog;
  const append = async (timestamp: number) => {
    const { batch, info } = makeBatch(1, 10, [timestamp]);
    await log.append(batch, info).durable;
  };
  await append(clock);
  clock += hour / 2;
  await append(clock);
  assert.deepEqual(log.segmentBaseOffsets, [0]);
  clock += hour / 2;
  await append(clock);
  assert.deepEqual(log.segmentBaseOffsets, [0, 2], 'rolled an hour after the first batch');
  // A first batch without a timestamp (-1) ages from when it was placed.
  clock += hour;
  await append(-1);
  assert.deepEqual(log.segmentBaseOffsets, [0, 2, 3]);
  clock += hour / 2;
  await append(clock);
  assert.deepEqual(log.segmentBaseOffsets, [0, 2, 3]);
  clock += hour / 2;
  await append(clock);
  assert.deepEqual(log.segmentBaseOffsets, [0, 2, 3, 5]);
  // segment.ms changed at runtime applies to the next append.
  log.reconfigure({ segmentBytes: 1 << 20, indexIntervalBytes: 4096, ringBufferBytesMax: 0, segmentMs: 10 });
  clock += 10;
  await append(clock);
  assert.deepEqual(log.segmentBaseOffsets, [0, 2, 3, 5, 6]);
  await readWholeLog(log);
  await storage.close();
});

test('reconfigure refuses values out of range and changes nothing', async () => {
  const storage = await openOn(SimulatedFileSystem.create());
  const log = await storage.openPartition('events', 0, options);
  assert.throws(() => log.reconfigure({ ...options, segmentBytes: 10 }), RangeError);
  assert.throws(() => log.reconfigure({ ...options, retentionMs: -2 }), RangeError);
  assert.throws(() => log.reconfigure({ ...options, flushIntervalMessages: 0 }), RangeError);
  assert.deepEqual(log.options, options);
  log.reconfigure({ ...options, retentionBytes: 5000 });
  assert.equal(log.options.retentionBytes, 5000);
  await storage.close();
});
