/**
 * ENOSPC and EIO: a failed write or sync is never acknowledged, the log is cut back to its last
 * good offset (a half-written batch is truncated, never followed), reads go on, and appends
 * resume when space returns. End to end, a Produce request gets KAFKA_STORAGE_ERROR for the
 * affected partition only, and Fetch keeps serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedFileSystem } from '../../src/storage/simulated-file-system.js';
import { StorageError } from '../../src/storage/storage-error.js';
import type { DiskPartitionLog } from '../../src/storage/disk-partition-log.js';
import type { AppendResult, PartitionLog } from '../../src/storage/types.js';
import { startBroker } from '../../src/index.js';
import { buildBatch } from '../../src/protocol/record-batch.js';
import { errorCode } from '../../src/protocol/errors.js';
import type { Message } from '../../src/protocol/codec.js';
import { RawClient } from '../helpers/raw-client.js';
import { makeBatch } from '../storage/fixtures.js';
import { openOn, readWholeLog, smallSegments } from './helpers.js';

/** Retries an append until the log takes it again (its repair runs between tries); bounded. */
async function appendWhenRepaired(log: PartitionLog, records: number, timestamp: number): Promise<{ result: AppendResult; bytes: Buffer }> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const { batch, info } = makeBatch(records, 40, Array.from({ length: records }, () => timestamp));
    const result = log.append(batch, info);
    try {
      await result.durable;
      return { result, bytes: batch };
    } catch (error) {
      assert.ok(error instanceof StorageError);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
  throw new Error('the log never took appends again');
}

for (const failure of [
  { name: 'ENOSPC on a write, after half the batch landed', fault: { code: 'ENOSPC', operations: ['write', 'create'], bytesBeforeFailure: 37 } as const },
  { name: 'EIO on a sync', fault: { code: 'EIO', operations: ['sync'] } as const },
]) {
  test(`${failure.name}: not acknowledged, cut back, reads go on, appends resume when the fault clears`, async () => {
    const fs = SimulatedFileSystem.create();
    const lines: string[] = [];
    const storage = await openOn(fs, lines);
    const log = (await storage.openPartition('events', 0, smallSegments)) as DiskPartitionLog;
    const good: Promise<void>[] = [];
    for (let i = 0; i < 30; i++) {
      const { batch, info } = makeBatch(2, 60, [i, i]);
      good.push(log.append(batch, info).durable);
    }
    await Promise.all(good);
    const before = await readWholeLog(log);
    const goodEnd = log.logEndOffset;

    fs.injectFault({ ...failure.fault, path: /events-0/ });
    const failed: AppendResult[] = [];
    for (let i = 0; i < 5; i++) {
      const { batch, info } = makeBatch(3, 80, [100, 100, 100]);
      failed.push(log.append(batch, info));
    }
    for (const result of failed) {
      await assert.rejects(result.durable, (error: unknown) => error instanceof StorageError && error.code === failure.fault.code);
    }
    assert.equal(log.logEndOffset, goodEnd, 'nothing that failed became visible');
    assert.deepEqual(await readWholeLog(log), before, 'reads go on');
    assert.ok(lines.some((line) => line.includes(failure.fault.code) && line.includes('cutting the log back')), lines.join(' | '));
    // While the fault lasts, appends keep failing and nothing is acknowledged.
    for (let i = 0; i < 3; i++) {
      const { batch, info } = makeBatch(1, 10, [200]);
      await assert.rejects(log.append(batch, info).durable, StorageError);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(log.logEndOffset, goodEnd);

    fs.clearFaults();
    const { result, bytes } = await appendWhenRepaired(log, 2, 300);
    assert.equal(result.baseOffset, goodEnd, 'the log goes on from its last good offset, with no gap');
    const after = await readWholeLog(log);
    assert.deepEqual(after, [...before, { baseOffset: goodEnd, lastOffset: goodEnd + 1, bytes }]);
    assert.ok(lines.some((line) => line.includes('files repaired')), lines.join(' | '));

    // The files hold exactly that: a crash now recovers the same log, with no half-written batch.
    const rebooted = fs.powerLoss();
    await storage.close().catch(() => {});
    const again = await openOn(rebooted);
    assert.deepEqual(await readWholeLog(await again.openPartition('events', 0, smallSegments)), after);
    await again.close();
  });
}

test('a failed roll (no space for the new segment files) cuts back to the end of the old segment', async () => {
  const fs = SimulatedFileSystem.create();
  const storage = await openOn(fs);
  const log = (await storage.openPartition('events', 0, smallSegments)) as DiskPartitionLog;
  let last: Promise<void> = Promise.resolve();
  while (log.segmentBaseOffsets.length < 3) {
    const { batch, info } = makeBatch(1, 200, [1]);
    last = log.append(batch, info).durable;
  }
  await last.catch(() => {});
  // Fill the active segment up to just below a roll, then fail file creation.
  const goodEnd = log.logEndOffset;
  fs.injectFault({ code: 'ENOSPC', operations: ['create'] });
  const results: AppendResult[] = [];
  for (let i = 0; i < 20; i++) {
    const { batch, info } = makeBatch(1, 200, [2]);
    results.push(log.append(batch, info));
  }
  const settled = await Promise.allSettled(results.map((r) => r.durable));
  const acknowledged = settled.filter((s) => s.status === 'fulfilled').length;
  assert.ok(settled.some((s) => s.status === 'rejected'), 'the batches for the new segment fail');
  const end = log.logEndOffset;
  assert.ok(end >= goodEnd + acknowledged);
  fs.clearFaults();
  await appendWhenRepaired(log, 1, 3);
  const batches = await readWholeLog(log);
  assert.equal(batches.length, end + 1, 'one batch per offset, none missing');
  await storage.close();
});

test('end to end: ENOSPC answers Produce with KAFKA_STORAGE_ERROR for that partition only; Fetch keeps serving; produce resumes', async () => {
  const fs = SimulatedFileSystem.create();
  const dataDir = await mkdtemp(join(tmpdir(), 'inkwell-storage-errors-'));
  const lines: string[] = [];
  const broker = await startBroker({ dataDir, fileSystem: fs, config: { 'num.partitions': 2 }, log: (line) => lines.push(line) });
  const client = await RawClient.connect({ port: broker.listeners[0]!.port });
  const produce = async (values: string[][]): Promise<number[]> => {
    const response = await client.request('Produce', 7, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: 'disk-full', partitionData: values.map((v, index) => ({ index, records: buildBatch(v.map((value) => ({ key: null, value: Buffer.from(value) }))) })) }],
    });
    return ((response.responses as Message[])[0]!.partitionResponses as { errorCode: number }[]).map((p) => p.errorCode);
  };
  const fetchValues = async (partition: number): Promise<{ errorCode: number; highWatermark: bigint; records: Buffer | null }> => {
    const response = await client.request('Fetch', 11, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'disk-full', partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: 0n, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    return (response.responses as { partitions: { errorCode: number; highWatermark: bigint; records: Buffer | null }[] }[])[0]!.partitions[0]!;
  };
  try {
    assert.deepEqual(await produce([['a0', 'a1'], ['b0']]), [0, 0]);
    fs.injectFault({ code: 'ENOSPC', operations: ['write', 'create'], path: /disk-full-0\//, bytesBeforeFailure: 20 });
    assert.deepEqual(await produce([['lost-0'], ['b1']]), [errorCode('KAFKA_STORAGE_ERROR'), 0], 'only partition 0 fails');
    assert.deepEqual(await produce([['lost-1'], ['b2']]), [errorCode('KAFKA_STORAGE_ERROR'), 0]);
    const during = await fetchValues(0);
    assert.equal(during.errorCode, 0, 'Fetch keeps serving the partition');
    assert.equal(during.highWatermark, 2n, 'nothing that failed is visible');
    fs.clearFaults();
    let codes: number[] = [];
    for (let attempt = 0; attempt < 100; attempt++) {
      codes = await produce([['a2'], ['b3']]);
      if (codes[0] === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(codes, [0, 0], 'produce resumes once space returns');
    const after = await fetchValues(0);
    assert.equal(after.highWatermark, 3n, 'offsets 0, 1 and then 2: no gap, no failed record');
    const text = after.records!.toString('latin1');
    assert.ok(text.includes('a0') && text.includes('a1') && text.includes('a2'));
    assert.ok(!text.includes('lost-'), 'the failed records are not in the log');
    assert.ok(lines.some((line) => line.includes('ENOSPC')), 'the failure is logged');
  } finally {
    client.close();
    await broker.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a shutdown with a partition still failing records it for recovery; the others close cleanly', async () => {
  const fs = SimulatedFileSystem.create();
  const storage = await openOn(fs);
  const healthy = await storage.openPartition('events', 0, smallSegments);
  const failing = await storage.openPartition('events', 1, smallSegments);
  for (const log of [healthy, failing]) {
    const { batch, info } = makeBatch(1, 10, [1]);
    await log.append(batch, info).durable;
  }
  fs.injectFault({ code: 'EIO', operations: ['write', 'sync', 'truncate'], path: /events-1\// });
  const { batch, info } = makeBatch(1, 10, [2]);
  await assert.rejects(failing.append(batch, info).durable, StorageError);
  // The failure was reported when it happened; closing leaves the partition as it is.
  await storage.close();
  fs.clearFaults();
  assert.equal(fs.contents('/data/.clean-shutdown').toString(), 'events-1\n', 'the marker names the partition to recover');
  const lines: string[] = [];
  const reopened = await openOn(fs.powerLoss(), lines);
  const [zero, one] = [await reopened.openPartition('events', 0, smallSegments), await reopened.openPartition('events', 1, smallSegments)];
  assert.equal((zero as DiskPartitionLog).loadReport.recovered, false);
  assert.equal((one as DiskPartitionLog).loadReport.recovered, true);
  assert.equal(one.logEndOffset, 1);
  assert.ok(lines.some((line) => line.startsWith('recovered events-1')), lines.join(' | '));
  await reopened.close();
});
