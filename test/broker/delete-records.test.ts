/**
 * DeleteRecords through the wire: the log start offset moves (ListOffsets earliest, Fetch below
 * it is OFFSET_OUT_OF_RANGE), -1 means the high watermark, offsets beyond it or below -1 are
 * OFFSET_OUT_OF_RANGE, offsets below the current start change nothing, unknown partitions,
 * every version, and idempotent producer state surviving the deletion of its records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/raw-client.js';
import { useRawBroker } from '../helpers/shared-broker.js';
import { buildBatch } from '../../src/protocol/record-batch.js';
import { createTopic, fetchOnce, idempotentBatch, listOffset, newProducer, produce, readPartition } from './idempotence-helpers.js';

const OFFSET_OUT_OF_RANGE = 1;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

let client: RawClient;
useRawBroker((started) => ({ client } = started));

async function fill(topic: string, partition: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const result = await produce(client, topic, partition, buildBatch([{ key: null, value: Buffer.from(`${topic}-${partition}-${i}`) }]));
    assert.equal(result.errorCode, 0);
  }
}

type PartitionResult = { partitionIndex: number; lowWatermark: bigint; errorCode: number };

async function deleteRecords(version: number, topics: { name: string; partitions: { partitionIndex: number; offset: bigint }[] }[]): Promise<Map<string, PartitionResult>> {
  const response = await client.request('DeleteRecords', version, { topics, timeoutMs: 5000 });
  const out = new Map<string, PartitionResult>();
  for (const topic of response.topics as { name: string; partitions: PartitionResult[] }[]) {
    for (const p of topic.partitions) out.set(`${topic.name}-${p.partitionIndex}`, p);
  }
  return out;
}

test('DeleteRecords moves the log start offset; reads below it are out of range', async () => {
  await createTopic(client, 'trim', 2);
  await fill('trim', 0, 10);
  await fill('trim', 1, 4);
  const results = await deleteRecords(0, [{ name: 'trim', partitions: [{ partitionIndex: 0, offset: 6n }, { partitionIndex: 1, offset: -1n }] }]);
  assert.deepEqual(results.get('trim-0'), { partitionIndex: 0, lowWatermark: 6n, errorCode: 0 });
  assert.deepEqual(results.get('trim-1'), { partitionIndex: 1, lowWatermark: 4n, errorCode: 0 }, '-1 is the high watermark');
  assert.equal(await listOffset(client, 'trim', 0, -2n), 6n);
  assert.equal(await listOffset(client, 'trim', 0, -1n), 10n);
  assert.equal(await listOffset(client, 'trim', 1, -2n), 4n);
  assert.equal((await fetchOnce(client, 'trim', 0, 5)).errorCode, OFFSET_OUT_OF_RANGE);
  assert.deepEqual(
    (await readPartition(client, 'trim', 0, 6)).map((r) => r.value),
    ['trim-0-6', 'trim-0-7', 'trim-0-8', 'trim-0-9'],
  );
  // Appends carry on at the same offsets.
  assert.equal((await produce(client, 'trim', 1, buildBatch([{ key: null, value: Buffer.from('after') }]))).baseOffset, 4n);
});

test('offsets above the high watermark or below -1 are OFFSET_OUT_OF_RANGE; below the start they change nothing', async () => {
  await createTopic(client, 'bounds', 1);
  await fill('bounds', 0, 5);
  const beyond = await deleteRecords(1, [{ name: 'bounds', partitions: [{ partitionIndex: 0, offset: 6n }] }]);
  assert.deepEqual(beyond.get('bounds-0'), { partitionIndex: 0, lowWatermark: -1n, errorCode: OFFSET_OUT_OF_RANGE });
  const negative = await deleteRecords(1, [{ name: 'bounds', partitions: [{ partitionIndex: 0, offset: -2n }] }]);
  assert.equal(negative.get('bounds-0')!.errorCode, OFFSET_OUT_OF_RANGE);
  const huge = await deleteRecords(1, [{ name: 'bounds', partitions: [{ partitionIndex: 0, offset: 2n ** 62n }] }]);
  assert.equal(huge.get('bounds-0')!.errorCode, OFFSET_OUT_OF_RANGE);
  assert.equal(await listOffset(client, 'bounds', 0, -2n), 0n, 'nothing deleted');
  assert.equal((await deleteRecords(1, [{ name: 'bounds', partitions: [{ partitionIndex: 0, offset: 3n }] }])).get('bounds-0')!.lowWatermark, 3n);
  const lower = await deleteRecords(2, [{ name: 'bounds', partitions: [{ partitionIndex: 0, offset: 1n }] }]);
  assert.deepEqual(lower.get('bounds-0'), { partitionIndex: 0, lowWatermark: 3n, errorCode: 0 }, 'the start never moves back');
  const exactly = await deleteRecords(2, [{ name: 'bounds', partitions: [{ partitionIndex: 0, offset: 5n }] }]);
  assert.deepEqual(exactly.get('bounds-0'), { partitionIndex: 0, lowWatermark: 5n, errorCode: 0 }, 'up to the high watermark itself');
  assert.equal((await fetchOnce(client, 'bounds', 0, 5)).errorCode, 0, 'the end is still readable (empty)');
});

test('unknown topics and partitions are UNKNOWN_TOPIC_OR_PARTITION, each partition on its own', async () => {
  await createTopic(client, 'mixed', 1);
  await fill('mixed', 0, 3);
  const results = await deleteRecords(2, [
    { name: 'mixed', partitions: [{ partitionIndex: 0, offset: 2n }, { partitionIndex: 7, offset: 0n }] },
    { name: 'no-such-topic', partitions: [{ partitionIndex: 0, offset: 0n }] },
  ]);
  assert.deepEqual(results.get('mixed-0'), { partitionIndex: 0, lowWatermark: 2n, errorCode: 0 });
  assert.deepEqual(results.get('mixed-7'), { partitionIndex: 7, lowWatermark: -1n, errorCode: UNKNOWN_TOPIC_OR_PARTITION });
  assert.deepEqual(results.get('no-such-topic-0'), { partitionIndex: 0, lowWatermark: -1n, errorCode: UNKNOWN_TOPIC_OR_PARTITION });
});

test('an idempotent producer whose records were all deleted keeps its state (KIP-360)', async () => {
  const producer = await newProducer(client);
  assert.equal((await produce(client, 'kept', 0, idempotentBatch(['a', 'b'], producer, 0))).errorCode, 0);
  assert.equal((await deleteRecords(2, [{ name: 'kept', partitions: [{ partitionIndex: 0, offset: -1n }] }])).get('kept-0')!.lowWatermark, 2n);
  const retry = await produce(client, 'kept', 0, idempotentBatch(['a', 'b'], producer, 0));
  assert.deepEqual([retry.errorCode, retry.baseOffset], [0, 0n], 'the retry is still recognised');
  assert.equal((await produce(client, 'kept', 0, idempotentBatch(['c'], producer, 5))).errorCode, 45, 'and gaps still refused');
  const next = await produce(client, 'kept', 0, idempotentBatch(['c'], producer, 2));
  assert.deepEqual([next.errorCode, next.baseOffset, next.logStartOffset], [0, 2n, 2n]);
});
