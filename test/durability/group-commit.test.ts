/**
 * Group commit and the flush policy, counted through the simulated file system: with the default
 * policy many concurrent appends share a few syncs and none is durable before one; with Kafka's
 * page-cache policy appends are durable once written and syncs follow the message and time
 * intervals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedFileSystem } from '../../src/storage/simulated-file-system.js';
import type { PartitionOptions } from '../../src/storage/types.js';
import { makeBatch } from '../storage/fixtures.js';
import { openOn } from './helpers.js';

const big: PartitionOptions = { segmentBytes: 1 << 24, indexIntervalBytes: 4096, ringBufferBytesMax: 1 << 20 };

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

test('one sync covers every batch that arrived while the previous sync ran', async () => {
  const fs = SimulatedFileSystem.create();
  const storage = await openOn(fs);
  const log = await storage.openPartition('events', 0, big);
  fs.syncDelayMs = 40;
  const before = fs.counters.syncs;
  const first = makeBatch(1, 10, [1]);
  const firstResult = log.append(first.batch, first.info);
  // Let the first write and its sync start, then append many more while that sync runs.
  while (fs.counters.writes === 0) await nextTurn();
  const durable: Promise<void>[] = [];
  for (let i = 0; i < 500; i++) {
    const { batch, info } = makeBatch(1, 10, [i]);
    durable.push(log.append(batch, info).durable);
  }
  await firstResult.durable;
  assert.equal(fs.counters.syncs - before, 1, 'the first batch had a sync of its own');
  assert.equal(log.logEndOffset, 1, 'the others wait for the next sync');
  await Promise.all(durable);
  assert.equal(fs.counters.syncs - before, 2, 'one more sync covered all 500');
  assert.equal(log.logEndOffset, 501);
  await storage.close();
});

test('many concurrent appends from many "connections" need far fewer syncs than appends', async () => {
  const fs = SimulatedFileSystem.create();
  const storage = await openOn(fs);
  const logs = [await storage.openPartition('events', 0, big), await storage.openPartition('events', 1, big)];
  fs.syncDelayMs = 2;
  const before = fs.counters.syncs;
  const appendsTotal = 4000;
  const durable: Promise<void>[] = [];
  const syncsSeenAtDurable: number[] = [];
  for (let i = 0; i < appendsTotal; i++) {
    const { batch, info } = makeBatch(1, 50, [i]);
    const result = logs[i % 2]!.append(batch, info);
    const syncsAtAppend = fs.counters.syncs;
    durable.push(result.durable.then(() => void syncsSeenAtDurable.push(fs.counters.syncs - syncsAtAppend)));
    // Appends arrive in bursts of 10, a turn of the event loop apart, as from 10 connections.
    if (i % 10 === 9) await nextTurn();
  }
  await Promise.all(durable);
  const syncs = fs.counters.syncs - before;
  assert.ok(syncs < appendsTotal / 10, `${syncs} syncs for ${appendsTotal} appends`);
  assert.ok(syncs >= 2, 'both partitions synced');
  assert.ok(syncsSeenAtDurable.every((count) => count >= 1), 'no append is durable before a sync that began after it');
  await storage.close();
});

test("Kafka's page-cache policy: durable once written; syncs every flushIntervalMessages records and after flushIntervalMs", async () => {
  const fs = SimulatedFileSystem.create();
  const storage = await openOn(fs);
  const log = await storage.openPartition('events', 0, { ...big, flushIntervalMessages: 100, flushIntervalMs: 50 });
  const before = fs.counters.syncs;
  for (let i = 0; i < 250; i++) {
    const { batch, info } = makeBatch(1, 10, [i]);
    const result = log.append(batch, info);
    await result.durable;
    assert.equal(log.logEndOffset, result.lastOffset + 1, 'visible once written');
  }
  assert.equal(fs.counters.syncs - before, 2, 'synced at 100 and 200 records');
  // The 50 records past the last sync are synced by the time bound.
  const unsynced = fs.counters.syncs;
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal(fs.counters.syncs, unsynced + 1, 'flushIntervalMs synced the rest');
  // A power loss now loses nothing: everything was synced.
  const after = fs.powerLoss();
  await storage.close().catch(() => {});
  const reopened = await openOn(after);
  assert.equal((await reopened.openPartition('events', 0, big)).logEndOffset, 250);
  await reopened.close();
});

test('reconfigure switches the flush policy at runtime (page cache to sync-before-ack and back)', async () => {
  const fs = SimulatedFileSystem.create();
  const storage = await openOn(fs);
  const log = await storage.openPartition('events', 0, { ...big, flushIntervalMessages: 1_000_000 });
  let { batch, info } = makeBatch(1, 10, [1]);
  await log.append(batch, info).durable;
  const syncsAfterFirst = fs.counters.syncs;
  log.reconfigure({ ...big, flushIntervalMessages: 1 });
  ({ batch, info } = makeBatch(1, 10, [2]));
  await log.append(batch, info).durable;
  assert.ok(fs.counters.syncs > syncsAfterFirst, 'sync-before-ack syncs');
  fs.syncDelayMs = 1000;
  ({ batch, info } = makeBatch(1, 10, [3]));
  const pending = log.append(batch, info).durable;
  while (fs.counters.writes < 3) await nextTurn();
  log.reconfigure({ ...big, flushIntervalMessages: 1_000_000 });
  await pending;
  assert.equal(log.logEndOffset, 3, 'a batch waiting for a sync is durable at once under the page-cache policy');
  assert.throws(() => log.reconfigure({ ...big, flushIntervalMessages: 0 }), RangeError);
  fs.syncDelayMs = 0;
  await storage.close();
});
