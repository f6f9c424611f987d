/**
 * Crash recovery of the disk engine, on the simulated file system: a torn tail cut at every byte
 * of its last two batches, 1,000 random bit flips, the clean-shutdown marker, a scan bounded by
 * the recovery point, and damaged index files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SimulatedFileSystem } from '../../src/storage/simulated-file-system.js';
import { formatCheckpoint } from '../../src/storage/offset-checkpoint.js';
import type { DiskPartitionLog } from '../../src/storage/disk-partition-log.js';
import type { PartitionOptions } from '../../src/storage/types.js';
import { makeBatch, sequence } from './fixtures.js';
import { dataDir, openOn, readWholeLog, type StoredBatch } from '../durability/helpers.js';

const options: PartitionOptions = { segmentBytes: 3000, indexIntervalBytes: 300, ringBufferBytesMax: 0 };
const partitionDir = join(dataDir, 'events-0');
const markerPath = join(dataDir, '.clean-shutdown');
const recoveryCheckpointPath = join(dataDir, 'recovery-point-offset-checkpoint');
/** partitionLeaderEpoch: the four header bytes no check covers (Kafka's CRC starts after them, at the attributes). */
const leaderEpochBytes = [12, 13, 14, 15];

interface Fixture {
  readonly fs: SimulatedFileSystem;
  /** Every batch written, in order. */
  readonly batches: StoredBatch[];
  readonly lastSegmentPath: string;
  /** Where in the last segment file each of its batches starts. */
  readonly lastSegmentBatches: { position: number; batch: StoredBatch }[];
}

/** A closed log of at least `count` batches over several segments. */
async function buildLog(count: number, seed: number): Promise<Fixture> {
  const fs = SimulatedFileSystem.create();
  const storage = await openOn(fs);
  const log = (await storage.openPartition('events', 0, options)) as DiskPartitionLog;
  const next = sequence(seed);
  const durable: Promise<void>[] = [];
  const appendOne = (i: number) => {
    const records = 1 + Math.floor(next() * 3);
    const { batch, info } = makeBatch(records, 20 + Math.floor(next() * 200), Array.from({ length: records }, (_, r) => 5000 + i * 10 + r));
    durable.push(log.append(batch, info).durable);
  };
  for (let i = 0; i < count; i++) appendOne(i);
  // Go on until the last segment holds a few batches (and so an index entry or two).
  for (let i = count; log.segmentSizesBytes.at(-1)! < (2 / 3) * options.segmentBytes; i++) appendOne(i);
  await Promise.all(durable);
  const batches = await readWholeLog(log);
  const lastBase = log.segmentBaseOffsets.at(-1)!;
  assert.ok(log.segmentBaseOffsets.length >= 3, 'several segments');
  await storage.close();
  const lastSegmentPath = join(partitionDir, `${String(lastBase).padStart(20, '0')}.log`);
  const lastSegmentBatches: { position: number; batch: StoredBatch }[] = [];
  let position = 0;
  for (const batch of batches.filter((b) => b.baseOffset >= lastBase)) {
    lastSegmentBatches.push({ position, batch });
    position += batch.bytes.length;
  }
  assert.ok(lastSegmentBatches.length >= 3, 'the last segment holds several batches');
  return { fs, batches, lastSegmentPath, lastSegmentBatches };
}

/** Makes the next open see a crash: no marker, and a recovery point of `recoveryPoint` (null: no checkpoint entry). */
async function simulateCrash(fs: SimulatedFileSystem, recoveryPoint: number | null): Promise<void> {
  await fs.unlink(markerPath).catch(() => {});
  fs.setContents(recoveryCheckpointPath, Buffer.from(formatCheckpoint(recoveryPoint === null ? [] : [{ topic: 'events', partition: 0, offset: recoveryPoint }])));
}

/** Runs `check` on a copy of the fixture's disk, damaged by `damage` (each variation starts from the same files). */
async function onCopy(fixture: Fixture, damage: (fs: SimulatedFileSystem) => Promise<void>, check: (log: DiskPartitionLog, lines: string[], fs: SimulatedFileSystem) => Promise<void>): Promise<void> {
  const fs = fixture.fs.clone();
  await damage(fs);
  const lines: string[] = [];
  const storage = await openOn(fs, lines);
  const log = (await storage.openPartition('events', 0, options)) as DiskPartitionLog;
  await check(log, lines, fs);
  await storage.close();
}

test('a tail cut at every byte of its last two batches recovers to the last whole batch, and appends go on', async () => {
  const fixture = await buildLog(60, 7);
  const { lastSegmentBatches, batches } = fixture;
  const secondLast = lastSegmentBatches.at(-2)!;
  const fileBytes = lastSegmentBatches.at(-1)!.position + lastSegmentBatches.at(-1)!.batch.bytes.length;
  let cuts = 0;
  for (let cut = secondLast.position; cut < fileBytes; cut++) {
    // Alternate between no recovery point (scan all) and one just before the cut batches.
    const recoveryPoint = cut % 2 === 0 ? null : secondLast.batch.baseOffset;
    const whole = lastSegmentBatches.filter((b) => b.position + b.batch.bytes.length <= cut);
    const expectedEnd = whole.at(-1)!.batch.lastOffset + 1;
    await onCopy(
      fixture,
      async (fs) => {
        fs.setContents(fixture.lastSegmentPath, fs.contents(fixture.lastSegmentPath).subarray(0, cut));
        await simulateCrash(fs, recoveryPoint);
      },
      async (log, lines) => {
        assert.equal(log.logEndOffset, expectedEnd, `cut at ${cut}`);
        assert.equal(log.loadReport.recovered, true);
        const cutBytes = cut - (whole.at(-1)!.position + whole.at(-1)!.batch.bytes.length);
        assert.equal(log.loadReport.truncatedBytes, cutBytes, `cut at ${cut}`);
        if (cutBytes > 0) assert.ok(lines.some((line) => line.includes(`cut ${cutBytes} bytes`)), `the cut is logged: ${lines.join(' | ')}`);
        const read = await readWholeLog(log);
        assert.deepEqual(read, batches.filter((b) => b.lastOffset < expectedEnd), `cut at ${cut}`);
        // The log goes on from there with no gap.
        const more = makeBatch(1, 10, [9_999_999]);
        const result = log.append(more.batch, more.info);
        await result.durable;
        assert.equal(result.baseOffset, expectedEnd);
        assert.deepEqual((await log.read(expectedEnd, 1)).chunks, [more.batch]);
      },
    );
    cuts++;
  }
  assert.ok(cuts > 100, `${cuts} cut positions`);
});

test('1,000 random bit flips in the last segment: recovery keeps the batches before the damage and never serves a damaged batch', async () => {
  const fixture = await buildLog(60, 8);
  const original = fixture.fs.contents(fixture.lastSegmentPath);
  const lastBase = fixture.lastSegmentBatches[0]!.batch.baseOffset;
  const byOffset = new Map(fixture.batches.map((b) => [b.baseOffset, b.bytes]));
  const next = sequence(99);
  let epochFlips = 0;
  for (let flip = 0; flip < 1000; flip++) {
    const at = Math.floor(next() * original.length);
    const bit = 1 << Math.floor(next() * 8);
    const hit = [...fixture.lastSegmentBatches].reverse().find((b) => b.position <= at)!;
    const inEpoch = leaderEpochBytes.includes(at - hit.position);
    if (inEpoch) epochFlips++;
    // Recovery starts either from scratch or from the start of the last segment.
    const recoveryPoint = flip % 2 === 0 ? null : lastBase;
    await onCopy(
      fixture,
      async (fs) => {
        const damaged = Buffer.from(original);
        damaged[at]! ^= bit;
        fs.setContents(fixture.lastSegmentPath, damaged);
        await simulateCrash(fs, recoveryPoint);
      },
      async (log) => {
        const read = await readWholeLog(log);
        for (const batch of read) {
          const expected = byOffset.get(batch.baseOffset)!;
          const differing = [...batch.bytes.keys()].filter((i) => batch.bytes[i] !== expected[i]);
          assert.ok(
            differing.every((i) => leaderEpochBytes.includes(i)) && batch.bytes.length === expected.length,
            `flip ${flip} (byte ${at}, bit ${bit}): the batch at ${batch.baseOffset} is served damaged at bytes ${differing.join(',')}`,
          );
        }
        // Everything before the damaged batch is kept; the damaged batch goes unless only its leader epoch changed.
        const keptEnd = inEpoch ? fixture.batches.at(-1)!.lastOffset + 1 : hit.batch.baseOffset;
        assert.equal(log.logEndOffset, keptEnd, `flip ${flip} at byte ${at} (batch ${hit.batch.baseOffset} + ${at - hit.position})`);
      },
    );
  }
  assert.ok(epochFlips < 100, `${epochFlips} flips hit a leader epoch`);
});

test('the clean-shutdown marker skips the scan; without it the scan runs and finds damage', async () => {
  const fixture = await buildLog(40, 9);
  const middle = fixture.lastSegmentBatches[1]!;
  // Damage a byte the CRC covers in the middle of the last segment: only a scan can see it.
  const damage = async (fs: SimulatedFileSystem) => {
    const bytes = fs.contents(fixture.lastSegmentPath);
    bytes[middle.position + 70]! ^= 0xff;
    fs.setContents(fixture.lastSegmentPath, bytes);
  };
  await onCopy(fixture, damage, async (log, lines) => {
    assert.equal(log.loadReport.recovered, false, 'with the marker, no recovery');
    assert.equal(log.loadReport.scannedBytes, 0);
    assert.equal(log.logEndOffset, fixture.batches.at(-1)!.lastOffset + 1, 'the damage is not looked for');
    assert.ok(!lines.some((line) => line.startsWith('recovered')));
  });
  await onCopy(
    fixture,
    async (fs) => {
      await damage(fs);
      await simulateCrash(fs, null);
    },
    async (log, lines) => {
      assert.equal(log.loadReport.recovered, true, 'without the marker, recovery');
      assert.ok(log.loadReport.scannedBytes > 0);
      assert.equal(log.logEndOffset, middle.batch.baseOffset, 'cut at the damaged batch');
      assert.ok(lines.some((line) => line.startsWith('recovered events-0')), lines.join(' | '));
      assert.ok(lines.some((line) => /CRC-32C/.test(line)), lines.join(' | '));
    },
  );
});

test('after a crash, recovery reads only what lies past the recovery point; later segments past a cut are deleted', async () => {
  const fs = SimulatedFileSystem.create();
  let storage = await openOn(fs);
  let log = (await storage.openPartition('events', 0, options)) as DiskPartitionLog;
  const durable: Promise<void>[] = [];
  for (let i = 0; i < 400; i++) {
    const { batch, info } = makeBatch(2, 100, [i, i]);
    durable.push(log.append(batch, info).durable);
  }
  await Promise.all(durable);
  await storage.checkpointRecoveryPoints();
  const recoveryPoint = log.logEndOffset;
  const total = log.sizeBytes;
  const tail: Promise<void>[] = [];
  for (let i = 0; i < 5; i++) {
    const { batch, info } = makeBatch(2, 100, [1000 + i, 1000 + i]);
    tail.push(log.append(batch, info).durable);
  }
  await Promise.all(tail);
  const end = log.logEndOffset;
  const tailBytes = log.sizeBytes - total;
  const after = fs.powerLoss();
  await storage.close().catch(() => {});
  storage = await openOn(after);
  log = (await storage.openPartition('events', 0, options)) as DiskPartitionLog;
  assert.equal(log.loadReport.recovered, true);
  assert.equal(log.logEndOffset, end, 'every synced batch is kept');
  assert.ok(log.loadReport.scannedBytes <= tailBytes + options.segmentBytes, `scanned ${log.loadReport.scannedBytes} bytes of ${log.sizeBytes}; ${tailBytes} past the recovery point ${recoveryPoint}`);
  assert.ok(log.loadReport.scannedBytes < total / 10);
  await readWholeLog(log);
  const bases = log.segmentBaseOffsets;
  await storage.close();

  // Damage the third segment from the end: it is cut there and the two after it are deleted.
  const victim = bases.at(-3)!;
  const victimPath = join(partitionDir, `${String(victim).padStart(20, '0')}.log`);
  const bytes = after.contents(victimPath);
  bytes[bytes.length - 30]! ^= 1;
  after.setContents(victimPath, bytes);
  await simulateCrash(after, bases.at(-4)!);
  const lines: string[] = [];
  storage = await openOn(after, lines);
  log = (await storage.openPartition('events', 0, options)) as DiskPartitionLog;
  assert.deepEqual(log.loadReport.deletedSegments, bases.slice(-2));
  assert.ok(log.logEndOffset < bases.at(-2)!);
  assert.deepEqual(log.segmentBaseOffsets, bases.slice(0, -2));
  assert.ok(lines.some((line) => line.includes('deleted the 2 later segment(s)')), lines.join(' | '));
  await readWholeLog(log);
  await storage.close();
});

test('after a crash, torn or garbage index entries past the recovery point are dropped and rebuilt', async () => {
  const fixture = await buildLog(60, 10);
  const indexPath = fixture.lastSegmentPath.replace(/\.log$/, '.index');
  const timeIndexPath = fixture.lastSegmentPath.replace(/\.log$/, '.timeindex');
  const goodIndex = fixture.fs.contents(indexPath);
  const goodTimeIndex = fixture.fs.contents(timeIndexPath);
  assert.ok(goodIndex.length >= 16, 'the last segment has index entries');
  await onCopy(
    fixture,
    async (fs) => {
      // A torn entry, then garbage, as a crash during index writes might leave.
      fs.setContents(indexPath, Buffer.concat([goodIndex.subarray(0, 8), Buffer.from([0, 0, 0, 9, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(5, 7)]));
      fs.setContents(timeIndexPath, Buffer.concat([goodTimeIndex.subarray(0, 12), Buffer.alloc(7, 1)]));
      await simulateCrash(fs, fixture.lastSegmentBatches[1]!.batch.baseOffset);
    },
    async (log, _lines, fs) => {
      assert.equal(log.logEndOffset, fixture.batches.at(-1)!.lastOffset + 1);
      assert.deepEqual(await readWholeLog(log), fixture.batches);
      for (const batch of fixture.batches) assert.deepEqual((await log.read(batch.baseOffset, 1)).chunks[0], batch.bytes);
      const maxTimestamp = Math.max(...fixture.batches.map((b) => Number(b.bytes.readBigInt64BE(35))));
      assert.equal(log.maxTimestamp()?.timestamp, maxTimestamp);
      // The rebuilt index files are the ones appends wrote.
      assert.deepEqual(fs.contents(indexPath), goodIndex);
      assert.deepEqual(fs.contents(timeIndexPath), goodTimeIndex);
    },
  );
});
