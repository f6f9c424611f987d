/**
 * Retention through the broker: topic configs retention.bytes, segment.bytes and segment.ms are
 * accepted by CreateTopics and take effect; the broker's one retention timer deletes segments;
 * ListOffsets earliest and Fetch's OFFSET_OUT_OF_RANGE agree with the moved log start offset.
 * Also: a Fetch long poll returns as soon as a batch becomes durable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from '../../src/index.js';
import { SimulatedFileSystem } from '../../src/storage/simulated-file-system.js';
import { buildBatch } from '../../src/protocol/record-batch.js';
import { errorCode } from '../../src/protocol/errors.js';
import type { Message } from '../../src/protocol/codec.js';
import { RawClient } from '../helpers/raw-client.js';

function fetchBody(topic: string, offset: bigint, maxWaitMs = 0): Message {
  return {
    replicaId: -1, maxWaitMs, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [], rackId: '',
  };
}

async function earliest(client: RawClient, topic: string): Promise<bigint> {
  const response = await client.request('ListOffsets', 5, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -2n }] }] });
  return (response.topics as { partitions: { offset: bigint }[] }[])[0]!.partitions[0]!.offset;
}

test('retention.bytes and segment.bytes set at CreateTopics take effect; earliest and OFFSET_OUT_OF_RANGE follow the log start offset', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'inkwell-retention-'));
  const broker = await startBroker({ dataDir, fileSystem: SimulatedFileSystem.create(), config: { 'log.retention.check.interval.ms': 50 }, log: () => {} });
  const client = await RawClient.connect({ port: broker.listeners[0]!.port });
  try {
    const created = await client.request('CreateTopics', 4, {
      topics: [{
        name: 'short', numPartitions: 1, replicationFactor: 1, assignments: [],
        configs: [{ name: 'retention.bytes', value: '3000' }, { name: 'segment.bytes', value: '1024' }, { name: 'segment.ms', value: '3600000' }],
      }],
      timeoutMs: 5000, validateOnly: false,
    });
    assert.equal((created.topics as { errorCode: number }[])[0]!.errorCode, 0);
    for (let i = 0; i < 40; i++) {
      const response = await client.request('Produce', 7, {
        transactionalId: null, acks: -1, timeoutMs: 5000,
        topicData: [{ name: 'short', partitionData: [{ index: 0, records: buildBatch([{ key: null, value: Buffer.alloc(200, i) }]) }] }],
      });
      assert.equal(((response.responses as Message[])[0]!.partitionResponses as { errorCode: number }[])[0]!.errorCode, 0);
    }
    let start = 0n;
    for (let waited = 0; start === 0n && waited < 100; waited++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      start = await earliest(client, 'short');
    }
    assert.ok(start > 0n && start < 40n, `the retention timer moved the log start offset (${start})`);
    const below = await client.request('Fetch', 11, fetchBody('short', start - 1n));
    const belowPartition = (below.responses as { partitions: { errorCode: number; logStartOffset: bigint }[] }[])[0]!.partitions[0]!;
    assert.equal(belowPartition.errorCode, errorCode('OFFSET_OUT_OF_RANGE'));
    assert.equal(belowPartition.logStartOffset, start);
    const at = await client.request('Fetch', 11, fetchBody('short', start));
    const atPartition = (at.responses as { partitions: { errorCode: number; records: Buffer | null; highWatermark: bigint }[] }[])[0]!.partitions[0]!;
    assert.equal(atPartition.errorCode, 0);
    assert.ok(atPartition.records !== null && atPartition.records.length > 0);
    assert.equal(atPartition.highWatermark, 40n);
  } finally {
    client.close();
    await broker.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a Fetch long poll returns once the awaited batch is durable, not at its timeout', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'inkwell-retention-'));
  const fs = SimulatedFileSystem.create();
  const broker = await startBroker({ dataDir, fileSystem: fs, log: () => {} });
  const client = await RawClient.connect({ port: broker.listeners[0]!.port });
  const producer = await RawClient.connect({ port: broker.listeners[0]!.port });
  try {
    const produce = (value: string) =>
      producer.request('Produce', 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'poll', partitionData: [{ index: 0, records: buildBatch([{ key: null, value: Buffer.from(value) }]) }] }] });
    await produce('first');
    fs.syncDelayMs = 100;
    const started = Date.now();
    const pending = client.request('Fetch', 11, fetchBody('poll', 1n, 10_000));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await produce('second');
    const response = await pending;
    const elapsed = Date.now() - started;
    const partition = (response.responses as { partitions: { records: Buffer | null }[] }[])[0]!.partitions[0]!;
    assert.ok(partition.records !== null && partition.records.toString('latin1').includes('second'));
    assert.ok(elapsed < 5000, `answered after ${elapsed} ms`);
  } finally {
    fs.syncDelayMs = 0;
    client.close();
    producer.close();
    await broker.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
