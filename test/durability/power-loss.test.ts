/**
 * Power loss, 200 randomized cycles on the simulated file system: each cycle opens the data
 * directory, appends to three partitions in bursts (small segments, so rolls happen; slow syncs
 * now and then, so syncs are under way), sometimes writes the recovery-point checkpoint or
 * closes cleanly, then cuts the power at a random moment, tearing the last unsynced write at a
 * random byte. The next cycle reopens and checks, per partition: every acknowledged batch (its
 * `durable` resolved) is there at its offset, byte for byte; every batch read back is whole,
 * passes its CRC and follows on from the one before; every batch is one that was appended at
 * that offset; and appends go on from the recovered end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedFileSystem } from '../../src/storage/simulated-file-system.js';
import type { DiskStorage } from '../../src/storage/disk-storage.js';
import type { PartitionLog } from '../../src/storage/types.js';
import { makeBatch, sequence } from '../storage/fixtures.js';
import { openOn, readWholeLog, smallSegments } from './helpers.js';

const cyclesTotal = 200;
const partitionsTotal = 3;
const burstsMax = 12;
const batchesPerBurstMax = 6;

interface PartitionModel {
  /** Bytes of every batch the log holds or may hold, by base offset (what was appended there last). */
  readonly appended: Map<number, Buffer>;
  /** Base offsets whose `durable` resolved: these must survive. */
  readonly acknowledged: Set<number>;
}

test(`power loss at random moments, ${cyclesTotal} cycles: no acknowledged batch is lost, none is served damaged`, async () => {
  const random = sequence(20_261_125);
  let fs = SimulatedFileSystem.create();
  const models: PartitionModel[] = Array.from({ length: partitionsTotal }, () => ({ appended: new Map(), acknowledged: new Set() }));
  let acknowledgedTotal = 0;
  let recoveredScans = 0;
  let cleanCloses = 0;
  for (let cycle = 0; cycle < cyclesTotal; cycle++) {
    const lines: string[] = [];
    const storage = await openOn(fs, lines);
    const logs: PartitionLog[] = [];
    for (let p = 0; p < partitionsTotal; p++) logs.push(await storage.openPartition('events', p, smallSegments));
    for (let p = 0; p < partitionsTotal; p++) await checkRecovered(logs[p]!, models[p]!, `cycle ${cycle}, partition ${p}`);
    if (lines.some((line) => line.startsWith('recovered'))) recoveredScans++;

    fs.syncDelayMs = random() < 0.3 ? 1 + Math.floor(random() * 3) : 0;
    const bursts = 1 + Math.floor(random() * burstsMax);
    const crashAfter = Math.floor(random() * bursts);
    let closedCleanly = false;
    for (let burst = 0; burst < bursts; burst++) {
      for (let i = 1 + Math.floor(random() * batchesPerBurstMax); i > 0; i--) {
        const p = Math.floor(random() * partitionsTotal);
        const records = 1 + Math.floor(random() * 3);
        const { batch, info } = makeBatch(records, Math.floor(random() * 300), Array.from({ length: records }, (_, r) => 1_000_000 + cycle * 100 + r));
        const result = logs[p]!.append(batch, info);
        if (result.baseOffset < 0) continue;
        const model = models[p]!;
        model.appended.set(result.baseOffset, Buffer.from(batch));
        result.durable.then(
          () => {
            model.acknowledged.add(result.baseOffset);
            acknowledgedTotal++;
          },
          () => {},
        );
      }
      if (burst === crashAfter) break;
      const pause = random();
      if (pause < 0.4) await new Promise((resolve) => setImmediate(resolve));
      else if (pause < 0.7) await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 3)));
      else if (pause < 0.8) await storage.checkpointRecoveryPoints().catch(() => {});
      else if (pause < 0.85) {
        await storage.close();
        closedCleanly = true;
        cleanCloses++;
        break;
      }
    }
    // Let a few more operations start (or not) before the power goes.
    for (let turns = Math.floor(random() * 4); turns > 0; turns--) await new Promise((resolve) => setImmediate(resolve));
    const tear = random() < 0.7 ? { keepBytes: Math.floor(random() * 400) } : undefined;
    fs = fs.powerLoss(tear ? { tear } : {});
    if (!closedCleanly) await abandon(storage);
  }
  const storage = await openOn(fs);
  for (let p = 0; p < partitionsTotal; p++) await checkRecovered(await storage.openPartition('events', p, smallSegments), models[p]!, `final, partition ${p}`);
  await storage.close();
  assert.ok(acknowledgedTotal > 500, `${acknowledgedTotal} batches acknowledged over the run`);
  assert.ok(recoveredScans > cyclesTotal / 2, `${recoveredScans} starts recovered after a crash`);
  assert.ok(cleanCloses > 0, 'some cycles closed cleanly');
});

/** Checks a reopened log against the model, then makes the model the recovered log. */
async function checkRecovered(log: PartitionLog, model: PartitionModel, context: string): Promise<void> {
  const batches = await readWholeLog(log);
  const present = new Map(batches.map((batch) => [batch.baseOffset, batch.bytes]));
  for (const offset of model.acknowledged) {
    const bytes = present.get(offset);
    assert.ok(bytes, `${context}: acknowledged batch at offset ${offset} is lost (log ${log.logStartOffset}..${log.logEndOffset})`);
    assert.deepEqual(bytes, model.appended.get(offset), `${context}: acknowledged batch at offset ${offset} differs`);
  }
  for (const batch of batches) assert.deepEqual(batch.bytes, model.appended.get(batch.baseOffset), `${context}: the batch at ${batch.baseOffset} is not the one appended there`);
  // What the recovered log holds is now the truth; anything past its end is gone.
  model.appended.clear();
  model.acknowledged.clear();
  for (const batch of batches) {
    model.appended.set(batch.baseOffset, batch.bytes);
    model.acknowledged.add(batch.baseOffset);
  }
}

/** A broker that lost power: its storage's calls now fail; let it wind down without waiting on it. */
async function abandon(storage: DiskStorage): Promise<void> {
  await storage.close().catch(() => {});
}
