/**
 * The producer-state pieces on their own: sequence arithmetic, a partition's producer state
 * (plan, commit, replay, snapshot round trip, a batch that never became durable), the epoch
 * table's bound and the snapshot parser's checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { followsSequence, lastSequenceOf } from '../../src/broker/producers/sequence.js';
import { PartitionProducers, type IncomingBatch } from '../../src/broker/producers/partition-producers.js';
import { EpochTable } from '../../src/broker/producers/epoch-table.js';
import { parseSnapshot } from '../../src/broker/producers/snapshot-store.js';
import { sequenceMax } from '../../src/broker/producers/limits.js';

function batch(producerId: number, producerEpoch: number, baseSequence: number, recordCount = 1): IncomingBatch {
  return { producerId: BigInt(producerId), producerEpoch, baseSequence, recordCount };
}

const durable = Promise.resolve();

test('sequences wrap from Int32 max to 0', () => {
  assert.equal(lastSequenceOf(0, 1), 0);
  assert.equal(lastSequenceOf(10, 5), 14);
  assert.equal(lastSequenceOf(sequenceMax, 1), sequenceMax);
  assert.equal(lastSequenceOf(sequenceMax, 2), 0);
  assert.equal(lastSequenceOf(sequenceMax - 1, 4), 1);
  assert.ok(followsSequence(4, 5));
  assert.ok(followsSequence(sequenceMax, 0));
  assert.ok(!followsSequence(sequenceMax, 1));
  assert.ok(!followsSequence(4, 6));
});

test('plan, commit, retry and refusal without the wire', () => {
  const state = new PartitionProducers(10, 0);
  const first = state.plan([batch(7, 0, 0, 3)], 1000);
  assert.equal(first.kind, 'append');
  if (first.kind === 'append') first.commit([{ baseOffset: 0, lastOffset: 2, settled: durable }]);
  assert.equal(state.appliedEndOffset, 3);
  assert.equal(state.dirty, true);
  const retry = state.plan([batch(7, 0, 0, 3)], 1001);
  assert.equal(retry.kind, 'duplicate');
  if (retry.kind === 'duplicate') assert.deepEqual([retry.batch.firstOffset, retry.batch.lastOffset], [0, 2]);
  const gap = state.plan([batch(7, 0, 4)], 1002);
  assert.deepEqual(gap.kind === 'refused' && gap.error, 'OUT_OF_ORDER_SEQUENCE_NUMBER');
  // A plan that is not committed changes nothing.
  assert.equal(state.plan([batch(7, 0, 3)], 1003).kind, 'append');
  assert.equal(state.entry(7n)!.batches.length, 1);
  const stale = new PartitionProducers(10, 0);
  const bumped = stale.plan([batch(7, 2, 0)], 0);
  if (bumped.kind === 'append') bumped.commit([{ baseOffset: 0, lastOffset: 0, settled: durable }]);
  const old = stale.plan([batch(7, 1, 1)], 0);
  assert.deepEqual(old.kind === 'refused' && old.error, 'INVALID_PRODUCER_EPOCH');
});

test('a batch that never becomes durable makes the state forget its producer', async () => {
  const state = new PartitionProducers(10, 0);
  let fail!: (error: Error) => void;
  const settled = new Promise<void>((_, reject) => (fail = reject));
  const plan = state.plan([batch(3, 0, 0)], 0);
  assert.equal(plan.kind, 'append');
  if (plan.kind === 'append') plan.commit([{ baseOffset: 0, lastOffset: 0, settled }]);
  const next = state.plan([batch(3, 0, 1)], 0);
  if (next.kind === 'append') next.commit([{ baseOffset: 1, lastOffset: 1, settled: durable }]);
  assert.equal(state.entry(3n)!.batches.length, 2);
  fail(new Error('disk full'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(state.entry(3n), undefined, 'forgotten: its next batch is accepted whatever its sequence');
  assert.equal(state.plan([batch(3, 0, 0)], 0).kind, 'append');
});

test('replay and snapshot round trip give the same state', () => {
  const replayed = new PartitionProducers(10, 0);
  for (let i = 0; i < 8; i++) replayed.replay(batch(5, 0, i * 2, 2), i * 2, i * 2 + 1, 1000 + i);
  replayed.replay(batch(6, 1, 0), 16, 16, 2000);
  replayed.replay(batch(6, 0, 1), 17, 17, 2001); // an older epoch in the log is passed over
  assert.equal(replayed.entry(5n)!.batches.length, 5, 'only the last five batches are kept');
  assert.equal(replayed.entry(6n)!.batches.length, 1);
  assert.equal(replayed.appliedEndOffset, 18);
  const text = JSON.stringify({ version: 1, offset: 18, producers: replayed.toSnapshot() });
  const restored = new PartitionProducers(10, 18);
  restored.restore(parseSnapshot(text, 18, 'test').producers);
  assert.deepEqual(restored.toSnapshot(), replayed.toSnapshot());
  const retry = restored.plan([batch(5, 0, 14, 2)], 3000);
  assert.equal(retry.kind === 'duplicate' && retry.batch.firstOffset, 14);
});

test('the snapshot parser refuses what it does not understand', () => {
  assert.throws(() => parseSnapshot('{"version":2,"offset":1,"producers":[]}', 1, 's'), /not a version 1/);
  assert.throws(() => parseSnapshot('{"version":1,"offset":2,"producers":[]}', 1, 's'), /at offset 1/);
  assert.throws(() => parseSnapshot('{"version":1,"offset":1,"producers":[{"id":"x","epoch":0,"lastSeenMs":0,"batches":[]}]}', 1, 's'), /producer 0 is malformed/);
  assert.throws(() => parseSnapshot('{"version":1,"offset":1,"producers":[{"id":"1","epoch":0,"lastSeenMs":0,"batches":[[0,0,5,4]]}]}', 1, 's'), /malformed/);
});

test('the epoch table keeps the highest epoch and a bounded number of ids', () => {
  const table = new EpochTable(2);
  table.observe(1n, 3, 0);
  table.observe(1n, 1, 0);
  assert.equal(table.highest(1n), 3);
  table.observe(2n, 0, 0);
  table.observe(3n, 0, 0);
  assert.equal(table.size, 2);
  assert.equal(table.highest(1n), undefined, 'the least recently touched is forgotten');
  table.expire(100, 50);
  assert.equal(table.size, 0);
});
