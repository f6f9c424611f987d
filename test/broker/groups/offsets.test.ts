/**
 * OffsetCommit and OffsetFetch: commits with and without group management, per-partition
 * errors, generation checks, every version's fields, and durability across a restart on the
 * same data directory (including a rewrite of the offset log).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Broker } from '../../../src/index.js';
import type { Message } from '../../../src/protocol/codec.js';
import { TestMember, assertError, connect, createTopics, formGroup, name, sleep, startGroupBroker } from './group-client.js';
import type { RawClient } from '../../helpers/raw-client.js';

let broker: Broker;
let client: RawClient;

before(async () => {
  broker = await startGroupBroker();
  await createTopics(broker, 'orders', 'payments');
  client = await connect(broker);
});

after(async () => {
  client?.close();
  await broker?.close();
});

interface Commit {
  topic: string;
  partition: number;
  offset: number;
  metadata?: string | null;
  leaderEpoch?: number;
}

function commitBody(groupId: string, commits: Commit[], extra: Message = {}): Message {
  const topics = new Map<string, Message[]>();
  for (const c of commits) {
    const list = topics.get(c.topic) ?? [];
    list.push({ partitionIndex: c.partition, committedOffset: BigInt(c.offset), committedLeaderEpoch: c.leaderEpoch ?? -1, commitTimestamp: -1n, committedMetadata: c.metadata ?? null });
    topics.set(c.topic, list);
  }
  return { groupId, generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n, topics: [...topics].map(([name, partitions]) => ({ name, partitions })), ...extra };
}

/** Error names by "topic-partition". */
function commitErrors(response: Message): Record<string, string> {
  const out: Record<string, string> = {};
  for (const topic of response.topics as { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[]) {
    for (const p of topic.partitions) out[`${topic.name}-${p.partitionIndex}`] = name(p.errorCode);
  }
  return out;
}

/** Committed offset, leader epoch, metadata and error by "topic-partition". */
async function fetchOffsets(c: RawClient, groupId: string, wanted: Record<string, number[]> | null, version = 7): Promise<{ response: Message; offsets: Record<string, [number, number, string | null, string]> }> {
  const topics = wanted === null ? null : Object.entries(wanted).map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
  const response = await c.request('OffsetFetch', version, { groupId, topics, requireStable: true });
  const offsets: Record<string, [number, number, string | null, string]> = {};
  for (const topic of response.topics as { name: string; partitions: Message[] }[]) {
    for (const p of topic.partitions) {
      offsets[`${topic.name}-${p.partitionIndex}`] = [Number(p.committedOffset as bigint), p.committedLeaderEpoch as number, p.metadata as string | null, name(p.errorCode)];
    }
  }
  return { response, offsets };
}

test('a commit without group management (generation -1) to a new group, read back in every OffsetFetch version', async () => {
  const committed = await client.request('OffsetCommit', 2, commitBody('simple', [{ topic: 'orders', partition: 0, offset: 42, metadata: 'm' }, { topic: 'orders', partition: 2, offset: 7 }]));
  assert.deepEqual(commitErrors(committed), { 'orders-0': 'NONE', 'orders-2': 'NONE' });
  for (const version of [0, 1, 2, 3, 4, 5, 6, 7]) {
    const { offsets } = await fetchOffsets(client, 'simple', { orders: [0, 1, 2] }, version);
    assert.deepEqual(offsets['orders-0']!.slice(0, 1), [42], `v${version}`);
    assert.equal(offsets['orders-0']![2], 'm');
    assert.deepEqual(offsets['orders-1'], [-1, -1, '', 'NONE'], `v${version}: no commit is offset -1`);
    assert.equal(offsets['orders-2']![0], 7);
  }
  const all = await fetchOffsets(client, 'simple', null, 6);
  assert.deepEqual(Object.keys(all.offsets).sort(), ['orders-0', 'orders-2'], 'a null topic list returns every committed partition');
  const v0 = await client.request('OffsetCommit', 0, commitBody('simple-v0', [{ topic: 'payments', partition: 1, offset: 3 }]));
  assert.deepEqual(commitErrors(v0), { 'payments-1': 'NONE' });
  assert.equal((await fetchOffsets(client, 'simple-v0', { payments: [1] })).offsets['payments-1']![0], 3);
  const unknownGroup = await fetchOffsets(client, 'nobody', { orders: [0] }, 3);
  assert.deepEqual(unknownGroup.offsets['orders-0'], [-1, -1, '', 'NONE']);
});

test('commits to partitions that do not exist fail alone; the others succeed', async () => {
  const response = await client.request(
    'OffsetCommit',
    8,
    commitBody('mixed', [
      { topic: 'orders', partition: 1, offset: 10 },
      { topic: 'orders', partition: 99, offset: 10 },
      { topic: 'no-such-topic', partition: 0, offset: 10 },
      { topic: 'payments', partition: 0, offset: 11 },
    ]),
  );
  assert.deepEqual(commitErrors(response), { 'orders-1': 'NONE', 'orders-99': 'UNKNOWN_TOPIC_OR_PARTITION', 'no-such-topic-0': 'UNKNOWN_TOPIC_OR_PARTITION', 'payments-0': 'NONE' });
  const { offsets } = await fetchOffsets(client, 'mixed', { orders: [1, 99], payments: [0] });
  assert.equal(offsets['orders-1']![0], 10);
  assert.equal(offsets['orders-99']![0], -1);
  assert.equal(offsets['payments-0']![0], 11);
});

test('leader epoch (v6+) and metadata round-trip; metadata over offset.metadata.max.bytes is refused per partition', async () => {
  const response = await client.request(
    'OffsetCommit',
    7,
    commitBody('epochs', [
      { topic: 'orders', partition: 0, offset: 5, leaderEpoch: 3, metadata: 'x'.repeat(4096) },
      { topic: 'orders', partition: 1, offset: 6, metadata: 'y'.repeat(4097) },
    ]),
  );
  assert.deepEqual(commitErrors(response), { 'orders-0': 'NONE', 'orders-1': 'OFFSET_METADATA_TOO_LARGE' });
  const { offsets } = await fetchOffsets(client, 'epochs', { orders: [0, 1] });
  assert.deepEqual(offsets['orders-0']!.slice(0, 3), [5, 3, 'x'.repeat(4096)]);
  assert.equal(offsets['orders-1']![0], -1);
  const v4 = await fetchOffsets(client, 'epochs', { orders: [0] }, 4);
  assert.equal(v4.offsets['orders-0']![1], -1, 'leader epochs are not in v4 responses');
});

test('group members commit with their generation; stale generations, strangers and rebalances are refused', async () => {
  const own = await startGroupBroker({ 'group.initial.rebalance.delay.ms': 100 });
  await createTopics(own, 'orders');
  const [a, b] = [await TestMember.connect(own, 'members'), await TestMember.connect(own, 'members')];
  const admin = await connect(own);
  try {
    await formGroup([a, b]);
    const generation = a.generationId;
    assert.deepEqual(commitErrors(await a.commit('orders', 0, 100)), { 'orders-0': 'NONE' });
    assert.deepEqual(commitErrors(await a.commit('orders', 0, 101, 7, { generationId: generation - 1 })), { 'orders-0': 'ILLEGAL_GENERATION' });
    assert.deepEqual(commitErrors(await a.commit('orders', 0, 102, 7, { memberId: 'stranger' })), { 'orders-0': 'UNKNOWN_MEMBER_ID' });
    assert.deepEqual(
      commitErrors(await admin.request('OffsetCommit', 2, commitBody('members', [{ topic: 'orders', partition: 0, offset: 103 }]))),
      { 'orders-0': 'UNKNOWN_MEMBER_ID' },
      'a commit without a member id is refused while the group has members',
    );
    assert.deepEqual(commitErrors(await a.commit('orders', 0, 104, 2, { retentionTimeMs: 60_000n })), { 'orders-0': 'NONE' }, 'v2 with a retention time');
    // b leaves: a's generation is now stale once it rejoins alone.
    assertError(await b.leave(), 'NONE');
    assert.deepEqual(commitErrors(await a.commit('orders', 1, 1)), { 'orders-1': 'NONE' }, 'commits are still taken while rebalancing');
    const oldGeneration = a.generationId;
    assertError(await a.join(), 'NONE');
    assert.deepEqual(
      commitErrors(await a.commit('orders', 1, 2, 7, { generationId: oldGeneration })),
      { 'orders-1': 'ILLEGAL_GENERATION' },
      'a commit from the previous generation is refused',
    );
    assert.deepEqual(commitErrors(await a.commit('orders', 1, 3)), { 'orders-1': 'REBALANCE_IN_PROGRESS' }, 'not before SyncGroup');
    assertError(await a.sync([{ memberId: a.memberId, assignment: Buffer.alloc(0) }]), 'NONE');
    assert.deepEqual(commitErrors(await a.commit('orders', 1, 4)), { 'orders-1': 'NONE' });
    const { offsets } = await fetchOffsets(admin, 'members', { orders: [0, 1] });
    assert.equal(offsets['orders-0']![0], 104);
    assert.equal(offsets['orders-1']![0], 4);
    assert.deepEqual(
      commitErrors(await admin.request('OffsetCommit', 2, commitBody('unknown-group', [{ topic: 'orders', partition: 0, offset: 1 }], { generationId: 3, memberId: 'm' }))),
      { 'orders-0': 'ILLEGAL_GENERATION' },
      'a commit with a generation to a group that does not exist',
    );
  } finally {
    a.close();
    b.close();
    admin.close();
    await own.close();
  }
});

test('OffsetFetch: group-level errors in the top-level error code from v2, in every partition before', async () => {
  const long = 'g'.repeat(2000);
  const v1 = await fetchOffsets(client, long, { orders: [0] }, 1);
  assert.equal(v1.offsets['orders-0']![3], 'INVALID_GROUP_ID');
  const v2 = await fetchOffsets(client, long, { orders: [0] }, 2);
  assertError(v2.response, 'INVALID_GROUP_ID');
  assert.deepEqual(v2.response.topics, []);
});

test('committed offsets and group membership survive a restart on the same data directory', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'inkwell-groups-'));
  try {
    let disk = await startGroupBroker({}, { dataDir, storage: 'disk' });
    await createTopics(disk, 'orders');
    const member = await TestMember.connect(disk, 'durable');
    let admin = await connect(disk);
    await formGroup([member], { sessionTimeoutMs: 10_000 });
    assert.deepEqual(commitErrors(await member.commit('orders', 0, 1234)), { 'orders-0': 'NONE' });
    assert.deepEqual(commitErrors(await admin.request('OffsetCommit', 2, commitBody('durable-simple', [{ topic: 'orders', partition: 2, offset: 9, metadata: 'kept' }]))), { 'orders-2': 'NONE' });
    // A deleted group must stay deleted.
    assert.deepEqual(commitErrors(await admin.request('OffsetCommit', 2, commitBody('doomed', [{ topic: 'orders', partition: 1, offset: 5 }]))), { 'orders-1': 'NONE' });
    assert.equal(name(((await admin.request('DeleteGroups', 1, { groupsNames: ['doomed'] })).results as Message[])[0]!.errorCode), 'NONE');
    const generation = member.generationId;
    member.close();
    admin.close();
    await disk.close();

    disk = await startGroupBroker({}, { dataDir, storage: 'disk' });
    admin = await connect(disk);
    try {
      assert.equal((await fetchOffsets(admin, 'durable', { orders: [0] })).offsets['orders-0']![0], 1234);
      assert.deepEqual((await fetchOffsets(admin, 'durable-simple', { orders: [2] })).offsets['orders-2']!.slice(0, 3), [9, -1, 'kept']);
      assert.equal((await fetchOffsets(admin, 'doomed', { orders: [1] })).offsets['orders-1']![0], -1);
      const described = ((await admin.request('DescribeGroups', 4, { groups: ['durable'] })).groups as Message[])[0]!;
      assert.equal(described.groupState, 'Stable');
      assert.deepEqual((described.members as Message[]).map((m) => m.memberId), [member.memberId]);
      const heartbeat = await admin.request('Heartbeat', 3, { groupId: 'durable', generationId: generation, memberId: member.memberId, groupInstanceId: null });
      assertError(heartbeat, 'NONE', 'the member is still known after the restart');
    } finally {
      admin.close();
      await disk.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('the offset log is rewritten when it grows, and a restart reads the rewritten one', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'inkwell-groups-'));
  try {
    let disk = await startGroupBroker({ 'offsets.topic.segment.bytes': 1024 }, { dataDir, storage: 'disk' });
    await createTopics(disk, 'orders');
    let admin = await connect(disk);
    for (let i = 0; i < 200; i++) {
      const response = await admin.request('OffsetCommit', 2, commitBody(`g${i % 5}`, [{ topic: 'orders', partition: i % 3, offset: i }]));
      assert.deepEqual(Object.values(commitErrors(response)), ['NONE']);
    }
    await sleep(100);
    admin.close();
    await disk.close();
    // About 20 KB of commits went in; the log holds one slot, about the size of the live state.
    const slots = readdirSync(dataDir).filter((entry) => entry.startsWith('__consumer_offsets.'));
    assert.equal(slots.length, 1, `one offset log slot, found ${slots.join(', ')}`);
    const slotBytes = readdirSync(join(dataDir, slots[0]!))
      .filter((file) => file.endsWith('.log'))
      .reduce((sum, file) => sum + statSync(join(dataDir, slots[0]!, file)).size, 0);
    assert.ok(slotBytes < 8 * 1024, `the offset log was rewritten (${slotBytes} bytes)`);
    disk = await startGroupBroker({ 'offsets.topic.segment.bytes': 1024 }, { dataDir, storage: 'disk' });
    admin = await connect(disk);
    try {
      // The last commit of g{k} to partition p was the largest i with i % 5 == k and i % 3 == p.
      for (let k = 0; k < 5; k++) {
        const { offsets } = await fetchOffsets(admin, `g${k}`, { orders: [0, 1, 2] });
        for (let p = 0; p < 3; p++) {
          let expected = -1;
          for (let i = 0; i < 200; i++) if (i % 5 === k && i % 3 === p) expected = i;
          assert.equal(offsets[`orders-${p}`]![0], expected, `g${k} orders-${p}`);
        }
      }
    } finally {
      admin.close();
      await disk.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
