/**
 * Pooled read buffers: the pool itself (size classes, the idle bound), and a broker serving
 * fetches from segment files (no ring buffer) to several connections at once, where a buffer
 * given back too early would show as a batch with the wrong bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadBufferPool, pooledReadBytesMin, pooledReadBytesMax, segmentReadPool } from '../../src/storage/read-buffer-pool.js';
import { startBroker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { buildBatch, splitBatches, validateBatch } from '../../src/protocol/record-batch.js';
import type { Message } from '../../src/protocol/codec.js';

test('the pool hands out size classes, takes back only whole pooled buffers, and keeps at most its idle bound', () => {
  const pool = new ReadBufferPool(3 * pooledReadBytesMin);
  const small = pool.take(100);
  assert.equal(small.length, 100, 'below the smallest class: a buffer of its own');
  const a = pool.take(pooledReadBytesMin + 1);
  assert.equal(a.length, 2 * pooledReadBytesMin, 'rounded up to the next power of two');
  const huge = pool.take(pooledReadBytesMax + 1);
  assert.equal(huge.length, pooledReadBytesMax + 1);
  pool.give(small);
  pool.give(huge);
  pool.give(a.subarray(0, pooledReadBytesMin));
  assert.equal(pool.idle, 0, 'small, huge and views are not kept');
  pool.give(a);
  assert.equal(pool.idle, 2 * pooledReadBytesMin);
  assert.equal(pool.take(pooledReadBytesMin + 5), a, 'the same buffer comes back');
  assert.equal(pool.reused, 1);
  pool.give(a);
  pool.give(Buffer.allocUnsafeSlow(2 * pooledReadBytesMin));
  assert.equal(pool.idle, 2 * pooledReadBytesMin, 'past the idle bound a buffer is left to the collector');
});

function fetchBody(topic: string, offset: bigint, partitionMaxBytes: number): Message {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 64 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1n, partitionMaxBytes }] }],
    forgottenTopicsData: [],
    rackId: '',
  };
}

test('fetches served from files through pooled buffers return exactly the stored batches, to many readers at once', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'inkwell-read-pool-'));
  const broker = await startBroker({ dataDir, storage: 'disk', config: { 'num.partitions': 1, 'inkwell.ring.buffer.bytes': 0 }, log: () => {} });
  const clients: RawClient[] = [];
  try {
    const port = broker.listeners[0]!.port;
    const producer = await RawClient.connect({ port });
    clients.push(producer);
    // 60 batches of 10 records of 2,000 B, each record's bytes naming its offset.
    const batchesTotal = 60;
    const recordsPerBatch = 10;
    const valueOf = (offset: number) => Buffer.alloc(2000, `offset-${offset};`);
    for (let b = 0; b < batchesTotal; b++) {
      const records = Array.from({ length: recordsPerBatch }, (_, i) => ({ key: null, value: valueOf(b * recordsPerBatch + i) }));
      const response = await producer.request('Produce', 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'pooled', partitionData: [{ index: 0, records: buildBatch(records) }] }] });
      const partition = (response.responses as { partitionResponses: { errorCode: number }[] }[])[0]!.partitionResponses[0]!;
      assert.equal(partition.errorCode, 0);
    }
    const reusedBefore = segmentReadPool.reused;
    const readers = await Promise.all(Array.from({ length: 4 }, () => RawClient.connect({ port })));
    clients.push(...readers);
    const endOffset = batchesTotal * recordsPerBatch;
    // Each reader walks the whole log three times with fetches of about 100 KiB, all four at once.
    await Promise.all(
      readers.map(async (reader, r) => {
        for (let pass = 0; pass < 3; pass++) {
          let offset = (r * 37) % endOffset;
          let fetched = 0;
          for (let round = 0; round < 200 && offset < endOffset; round++) {
            const response = await reader.request('Fetch', 11, fetchBody('pooled', BigInt(offset), 100_000 + r * 10_000));
            const partition = (response.responses as { partitions: { errorCode: number; records: Buffer | null }[] }[])[0]!.partitions[0]!;
            assert.equal(partition.errorCode, 0);
            const records = partition.records ?? Buffer.alloc(0);
            if (records.length === 0) continue;
            const split = splitBatches(records);
            assert.ok('batches' in split, `whole batches at ${offset}`);
            for (const batch of split.batches) {
              const checked = validateBatch(batch, { messageBytesMax: 1 << 30 });
              assert.ok(checked.ok, `a valid batch at ${offset}`);
              const base = Number(batch.readBigInt64BE(0));
              assert.equal(base % recordsPerBatch, 0);
              // The first record's value sits at a fixed place in every batch of this shape: check it names the batch's offset.
              for (const last of [base, base + recordsPerBatch - 1]) {
                const expected = valueOf(last).subarray(0, 24).toString();
                assert.ok(batch.includes(expected), `batch at ${base} holds ${expected}`);
              }
              offset = Math.max(offset, base + recordsPerBatch);
              fetched++;
            }
          }
          assert.equal(offset, endOffset, `reader ${r} reached the end on pass ${pass}`);
          assert.ok(fetched > 0);
        }
      }),
    );
    assert.ok(segmentReadPool.reused > reusedBefore, 'buffers were given back and used again');
  } finally {
    for (const client of clients) client.close();
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
