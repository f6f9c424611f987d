/**
 * Offset retention (offsets.retention.minutes) as Kafka applies it, driven through the
 * coordinator directly with a wall clock the test moves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCoordinator, type CommitRequest } from '../../../src/broker/groups/coordinator.js';
import { defaultGroupSettings } from '../../../src/broker/groups/settings.js';
import { createMemoryStorage } from '../../../src/storage/index.js';
import { subscription } from './group-client.js';

const minute = 60_000;
const retentionMs = 10 * minute;

async function open(clock: { now: number }, exists: (topic: string, partition: number) => boolean = () => true): Promise<GroupCoordinator> {
  return GroupCoordinator.open({
    storage: createMemoryStorage(),
    settings: { ...defaultGroupSettings, offsetsRetentionMs: retentionMs },
    partitionExists: exists,
    log: () => {},
    wallClock: () => clock.now,
  });
}

function commit(groupId: string, topic: string, partition: number, offset: number, extra: Partial<CommitRequest> = {}): CommitRequest {
  return {
    groupId,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1,
    entries: [{ topic, partition, offset, leaderEpoch: -1, metadata: null, commitTimestamp: -1 }],
    ...extra,
  };
}

function offsetOf(coordinator: GroupCoordinator, groupId: string, topic: string, partition: number): number {
  return coordinator.fetchOffsets(groupId, [{ name: topic, partitions: [partition] }], false).topics[0]!.partitions[0]!.offset;
}

/** Joins one consumer member subscribed to `topics` and syncs it: the group is Stable. */
async function stableMember(coordinator: GroupCoordinator, groupId: string, topics: string[]): Promise<{ memberId: string; generationId: number }> {
  const joined = await coordinator.join({
    groupId,
    memberId: '',
    groupInstanceId: null,
    requireKnownMemberId: false,
    clientId: 'c',
    clientHost: '/127.0.0.1',
    rebalanceTimeoutMs: 1000,
    sessionTimeoutMs: 30_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription(topics) }],
  });
  assert.equal(joined.error, 'NONE');
  const synced = await coordinator.sync({ groupId, generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  assert.equal(synced.error, 'NONE');
  return { memberId: joined.memberId, generationId: joined.generationId };
}

test('offsets committed without group management expire from their commit time', async () => {
  const clock = { now: 1_000_000 };
  const coordinator = await open(clock);
  try {
    assert.deepEqual(await coordinator.commitOffsets(commit('simple', 'orders', 0, 5)), ['NONE']);
    clock.now += 5 * minute;
    assert.deepEqual(await coordinator.commitOffsets(commit('simple', 'orders', 1, 6)), ['NONE']);
    clock.now += 5 * minute;
    assert.equal(await coordinator.removeExpired(), 1);
    assert.equal(offsetOf(coordinator, 'simple', 'orders', 0), -1);
    assert.equal(offsetOf(coordinator, 'simple', 'orders', 1), 6);
    clock.now += 5 * minute;
    await coordinator.removeExpired();
    assert.equal(coordinator.describeGroup('simple').state, 'Dead', 'a group left with nothing is removed');
  } finally {
    await coordinator.close();
  }
});

test('a commit with its own retention time (OffsetCommit v2-v4) expires then', async () => {
  const clock = { now: 1_000_000 };
  const coordinator = await open(clock);
  try {
    await coordinator.commitOffsets(commit('short', 'orders', 0, 1, { retentionTimeMs: minute }));
    clock.now += 2 * minute;
    assert.equal(await coordinator.removeExpired(), 1);
    assert.equal(offsetOf(coordinator, 'short', 'orders', 0), -1);
  } finally {
    await coordinator.close();
  }
});

test('a consumer group keeps its offsets while it has members; they expire once it has been Empty long enough', async () => {
  const clock = { now: 1_000_000 };
  const coordinator = await open(clock);
  try {
    const { memberId, generationId } = await stableMember(coordinator, 'consumers', ['orders']);
    const request = commit('consumers', 'orders', 0, 9, { generationId, memberId });
    assert.deepEqual(await coordinator.commitOffsets(request), ['NONE']);
    assert.deepEqual(await coordinator.commitOffsets({ ...request, entries: [{ ...request.entries[0]!, topic: 'payments' }] }), ['NONE']);
    clock.now += 2 * retentionMs;
    assert.equal(await coordinator.removeExpired(), 1, 'only the offset of the topic it no longer subscribes to');
    assert.equal(offsetOf(coordinator, 'consumers', 'orders', 0), 9);
    assert.equal(offsetOf(coordinator, 'consumers', 'payments', 0), -1);
    assert.equal(coordinator.leave('consumers', [{ memberId, groupInstanceId: null }]).members[0]!.error, 'NONE');
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(coordinator.describeGroup('consumers').state, 'Empty');
    clock.now += retentionMs - 1;
    assert.equal(await coordinator.removeExpired(), 0, 'counted from when the group became Empty');
    clock.now += 1;
    assert.equal(await coordinator.removeExpired(), 1);
    assert.equal(offsetOf(coordinator, 'consumers', 'orders', 0), -1);
  } finally {
    await coordinator.close();
  }
});

test('offsets of partitions that no longer exist are dropped at the next check', async () => {
  const clock = { now: 1_000_000 };
  const existing = new Set(['orders:0', 'orders:1']);
  const coordinator = await open(clock, (topic, partition) => existing.has(`${topic}:${partition}`));
  try {
    await coordinator.commitOffsets(commit('g', 'orders', 0, 1));
    await coordinator.commitOffsets(commit('g', 'orders', 1, 2));
    existing.delete('orders:1');
    assert.equal(await coordinator.removeExpired(), 1);
    assert.equal(offsetOf(coordinator, 'g', 'orders', 0), 1);
    assert.equal(offsetOf(coordinator, 'g', 'orders', 1), -1);
  } finally {
    await coordinator.close();
  }
});

test('after close every entry point answers COORDINATOR_NOT_AVAILABLE', async () => {
  const coordinator = await open({ now: 0 });
  await coordinator.close();
  assert.deepEqual(await coordinator.commitOffsets(commit('g', 'orders', 0, 1)), ['COORDINATOR_NOT_AVAILABLE']);
  assert.equal(coordinator.fetchOffsets('g', null, false).error, 'COORDINATOR_NOT_AVAILABLE');
  assert.equal(coordinator.heartbeat('g', 'm', null, 1), 'COORDINATOR_NOT_AVAILABLE');
  assert.equal(coordinator.listGroups([]).error, 'COORDINATOR_NOT_AVAILABLE');
  assert.equal((await coordinator.deleteGroups(['g']))[0]!.error, 'COORDINATOR_NOT_AVAILABLE');
});
