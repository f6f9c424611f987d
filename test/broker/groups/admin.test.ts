/**
 * The group administration APIs: ListGroups (with its states filter), DescribeGroups,
 * DeleteGroups and OffsetDelete, against groups in each state.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Broker } from '../../../src/index.js';
import type { Message } from '../../../src/protocol/codec.js';
import type { RawClient } from '../../helpers/raw-client.js';
import { TestMember, assertError, connect, createTopics, formGroup, name, startGroupBroker, subscription } from './group-client.js';

let broker: Broker;
let admin: RawClient;
const members: TestMember[] = [];

before(async () => {
  broker = await startGroupBroker();
  await createTopics(broker, 'orders', 'payments');
  admin = await connect(broker);
});

after(async () => {
  for (const m of members) m.close();
  admin?.close();
  await broker?.close();
});

async function member(groupId: string): Promise<TestMember> {
  const m = await TestMember.connect(broker, groupId);
  members.push(m);
  return m;
}

async function simpleCommit(groupId: string, topic: string, partition: number, offset: number): Promise<void> {
  const response = await admin.request('OffsetCommit', 2, {
    groupId,
    generationId: -1,
    memberId: '',
    retentionTimeMs: -1n,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, committedOffset: BigInt(offset), committedMetadata: null }] }],
  });
  assert.equal(name(((response.topics as Message[])[0]!.partitions as Message[])[0]!.errorCode), 'NONE');
}

async function committed(groupId: string, topic: string, partition: number): Promise<number> {
  const response = await admin.request('OffsetFetch', 5, { groupId, topics: [{ name: topic, partitionIndexes: [partition] }] });
  return Number(((response.topics as Message[])[0]!.partitions as Message[])[0]!.committedOffset as bigint);
}

async function describe(groupId: string, version = 5, includeAuthorizedOperations = false): Promise<Message> {
  const response = await admin.request('DescribeGroups', version, { groups: [groupId], includeAuthorizedOperations });
  return (response.groups as Message[])[0]!;
}

test('DescribeGroups: a stable group with its members, metadata and assignments; an unknown group is Dead', async () => {
  const m = await member('described');
  await formGroup([m], { topics: ['orders'] });
  const group = await describe('described', 5, true);
  assertError(group, 'NONE');
  assert.equal(group.groupState, 'Stable');
  assert.equal(group.protocolType, 'consumer');
  assert.equal(group.protocolData, 'range');
  const [only] = group.members as Message[];
  assert.equal(only!.memberId, m.memberId);
  assert.equal(only!.clientId, 'inkwell-test');
  assert.equal(only!.clientHost, '/127.0.0.1');
  assert.deepEqual(only!.memberMetadata, subscription(['orders']));
  assert.deepEqual(only!.memberAssignment, Buffer.from(`assigned:${m.memberId}`));
  assert.equal(group.authorizedOperations, (1 << 3) | (1 << 6) | (1 << 8));
  assert.equal((await describe('described', 2)).groupState, 'Stable');
  const unknown = await describe('nobody-here', 0);
  assertError(unknown, 'NONE');
  assert.equal(unknown.groupState, 'Dead');
  assert.deepEqual(unknown.members, []);
});

test('ListGroups lists every group with its protocol type, and v4 filters by state', async () => {
  const m = await member('listed');
  await formGroup([m]);
  await simpleCommit('listed-simple', 'orders', 0, 1);
  const v0 = await admin.request('ListGroups', 0, {});
  assertError(v0, 'NONE');
  const all = new Map((v0.groups as Message[]).map((g) => [g.groupId, g.protocolType]));
  assert.equal(all.get('listed'), 'consumer');
  assert.equal(all.get('listed-simple'), '', 'a group that only holds offsets has no protocol type');
  const stable = await admin.request('ListGroups', 4, { statesFilter: ['stable'] });
  const stableIds = (stable.groups as Message[]).map((g) => g.groupId);
  assert.ok(stableIds.includes('listed'));
  assert.ok(!stableIds.includes('listed-simple'));
  assert.ok((stable.groups as Message[]).every((g) => g.groupState === 'Stable'));
  const empty = await admin.request('ListGroups', 4, { statesFilter: ['Empty'] });
  assert.ok((empty.groups as Message[]).some((g) => g.groupId === 'listed-simple' && g.groupState === 'Empty'));
});

test('DeleteGroups: an Empty group goes with its offsets; a group with members and an unknown group do not', async () => {
  const m = await member('busy');
  await formGroup([m]);
  await simpleCommit('idle', 'orders', 1, 50);
  const response = await admin.request('DeleteGroups', 2, { groupsNames: ['idle', 'busy', 'ghost', 'idle', ''] });
  const results = new Map((response.results as Message[]).map((r) => [r.groupId, name(r.errorCode)]));
  assert.equal((response.results as Message[]).length, 4, 'a group named twice is answered once');
  assert.equal(results.get('idle'), 'NONE');
  assert.equal(results.get('busy'), 'NON_EMPTY_GROUP');
  assert.equal(results.get('ghost'), 'GROUP_ID_NOT_FOUND');
  assert.equal(results.get(''), 'GROUP_ID_NOT_FOUND');
  assert.equal(await committed('idle', 'orders', 1), -1, 'the offsets went with the group');
  assert.equal((await describe('idle')).groupState, 'Dead');
  // Once its member leaves, the group is Empty and can go.
  assertError(await m.leave(), 'NONE');
  assert.equal((await describe('busy')).groupState, 'Empty');
  const second = await admin.request('DeleteGroups', 0, { groupsNames: ['busy'] });
  assert.equal(name((second.results as Message[])[0]!.errorCode), 'NONE');
});

test('OffsetDelete: an Empty group loses the offsets asked for, and the group goes when none are left', async () => {
  await simpleCommit('pruned', 'orders', 0, 5);
  await simpleCommit('pruned', 'orders', 1, 6);
  const response = await admin.request('OffsetDelete', 0, {
    groupId: 'pruned',
    topics: [
      { name: 'orders', partitions: [{ partitionIndex: 0 }, { partitionIndex: 77 }] },
      { name: 'missing', partitions: [{ partitionIndex: 0 }] },
    ],
  });
  assertError(response, 'NONE');
  const errors = (response.topics as Message[]).flatMap((t) => (t.partitions as Message[]).map((p) => `${t.name}-${p.partitionIndex}:${name(p.errorCode)}`));
  assert.deepEqual(errors, ['orders-0:NONE', 'orders-77:UNKNOWN_TOPIC_OR_PARTITION', 'missing-0:UNKNOWN_TOPIC_OR_PARTITION']);
  assert.equal(await committed('pruned', 'orders', 0), -1);
  assert.equal(await committed('pruned', 'orders', 1), 6);
  assert.equal((await describe('pruned')).groupState, 'Empty');
  await admin.request('OffsetDelete', 0, { groupId: 'pruned', topics: [{ name: 'orders', partitions: [{ partitionIndex: 1 }] }] });
  assert.equal((await describe('pruned')).groupState, 'Dead', 'an Empty group without offsets is removed');
});

test('OffsetDelete on a consumer group with members: subscribed topics are refused, others deleted', async () => {
  const m = await member('subscriber');
  await formGroup([m], { topics: ['orders'] });
  for (const [topic, offset] of [['orders', 1], ['payments', 2]] as const) {
    const response = await m.commit(topic, 0, offset);
    assert.equal(name(((response.topics as Message[])[0]!.partitions as Message[])[0]!.errorCode), 'NONE');
  }
  const response = await admin.request('OffsetDelete', 0, {
    groupId: 'subscriber',
    topics: [
      { name: 'orders', partitions: [{ partitionIndex: 0 }] },
      { name: 'payments', partitions: [{ partitionIndex: 0 }] },
    ],
  });
  assertError(response, 'NONE');
  const errors = (response.topics as Message[]).map((t) => name((t.partitions as Message[])[0]!.errorCode));
  assert.deepEqual(errors, ['GROUP_SUBSCRIBED_TO_TOPIC', 'NONE']);
  assert.equal(await committed('subscriber', 'orders', 0), 1);
  assert.equal(await committed('subscriber', 'payments', 0), -1);
});

test('OffsetDelete: unreadable subscriptions count as subscribed to everything; other protocol types are NON_EMPTY_GROUP', async () => {
  const garbled = await member('garbled');
  await formGroup([garbled], { protocols: [{ name: 'range', metadata: Buffer.from([1, 2, 3]) }] });
  const refused = await admin.request('OffsetDelete', 0, { groupId: 'garbled', topics: [{ name: 'payments', partitions: [{ partitionIndex: 0 }] }] });
  assert.equal(name(((refused.topics as Message[])[0]!.partitions as Message[])[0]!.errorCode), 'GROUP_SUBSCRIBED_TO_TOPIC');

  const connectGroup = await member('connect-workers');
  await formGroup([connectGroup], { protocolType: 'connect', protocols: [{ name: 'sessioned', metadata: Buffer.from('x') }] });
  const nonEmpty = await admin.request('OffsetDelete', 0, { groupId: 'connect-workers', topics: [{ name: 'orders', partitions: [{ partitionIndex: 0 }] }] });
  assertError(nonEmpty, 'NON_EMPTY_GROUP');
  assert.deepEqual(nonEmpty.topics, []);
  assertError(await admin.request('OffsetDelete', 0, { groupId: 'ghost', topics: [] }), 'GROUP_ID_NOT_FOUND');
  assertError(await admin.request('OffsetDelete', 0, { groupId: '', topics: [] }), 'INVALID_GROUP_ID');
});
