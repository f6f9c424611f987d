/**
 * The classic group protocol against an in-process broker: FindCoordinator, JoinGroup (with
 * MEMBER_ID_REQUIRED), SyncGroup, Heartbeat and LeaveGroup with one, two and three members,
 * rebalances on join, leave and session expiry, and the errors of each step.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Broker } from '../../../src/index.js';
import { TestMember, assertError, code, connect, formGroup, joinAll, name, port, sleep, startGroupBroker, subscription, syncAll } from './group-client.js';

let broker: Broker;
let groupCount = 0;
const members: TestMember[] = [];

before(async () => {
  broker = await startGroupBroker({ 'group.initial.rebalance.delay.ms': 150 });
});

after(async () => {
  for (const member of members) member.close();
  await broker?.close();
});

/** Heartbeats every 50 ms until told to rejoin (fails after 3 s or on any other error). */
async function untilRebalancing(m: TestMember): Promise<void> {
  const started = Date.now();
  for (;;) {
    const error = name((await m.heartbeat()).errorCode);
    if (error === 'REBALANCE_IN_PROGRESS') return;
    assert.equal(error, 'NONE', 'heartbeats succeed until the rebalance');
    assert.ok(Date.now() - started < 3000, 'no rebalance within 3 s');
    await sleep(50);
  }
}

function freshGroup(): string {
  return `group-${++groupCount}`;
}

async function member(groupId: string, groupInstanceId: string | null = null): Promise<TestMember> {
  const m = await TestMember.connect(broker, groupId, groupInstanceId);
  members.push(m);
  return m;
}

test('FindCoordinator names this broker for groups in every version, and no transaction coordinator', async () => {
  const client = await connect(broker);
  try {
    for (const version of [0, 1, 2, 3]) {
      const response = await client.request('FindCoordinator', version, { key: 'any-group', keyType: 0 });
      assertError(response, 'NONE', `v${version}`);
      assert.equal(response.nodeId, broker.nodeId);
      assert.equal(response.host, '127.0.0.1');
      assert.equal(response.port, port(broker));
    }
    const transaction = await client.request('FindCoordinator', 1, { key: 'txn', keyType: 1 });
    assertError(transaction, 'COORDINATOR_NOT_AVAILABLE');
    assert.equal(transaction.nodeId, -1);
    assertError(await client.request('FindCoordinator', 3, { key: 'x', keyType: 7 }), 'INVALID_REQUEST');
  } finally {
    client.close();
  }
});

test('one member: MEMBER_ID_REQUIRED, then generation 1 as leader, its own assignment, heartbeats, leave', async () => {
  const groupId = freshGroup();
  const a = await member(groupId);
  const first = await a.joinOnce({ version: 4 });
  assertError(first, 'MEMBER_ID_REQUIRED');
  assert.match(first.memberId as string, /^inkwell-test-[0-9a-f-]{36}$/);
  assert.equal(first.generationId, -1);
  const joined = await a.joinOnce({ version: 4, memberId: first.memberId as string });
  assertError(joined, 'NONE');
  assert.equal(joined.generationId, 1);
  assert.equal(joined.leader, a.memberId);
  assert.equal(joined.protocolName, 'range');
  const leaderView = joined.members as { memberId: string; metadata: Buffer }[];
  assert.deepEqual(leaderView.map((m) => m.memberId), [a.memberId]);
  assert.deepEqual(leaderView[0]!.metadata, subscription(['orders']));
  const synced = await a.sync([{ memberId: a.memberId, assignment: Buffer.from('mine') }]);
  assertError(synced, 'NONE');
  assert.deepEqual(synced.assignment, Buffer.from('mine'));
  assertError(await a.heartbeat(), 'NONE');
  assertError(await a.leave(1), 'NONE');
  assertError(await a.heartbeat(), 'UNKNOWN_MEMBER_ID', 'after leaving');
});

test('JoinGroup before v4 adds a member without a second round', async () => {
  const a = await member(freshGroup());
  const joined = await a.joinOnce({ version: 2 });
  assertError(joined, 'NONE');
  assert.equal(joined.generationId, 1);
  assert.equal(joined.leader, a.memberId);
});

test('two members joining together: one generation, the leader gets both, the follower waits for the assignment', async () => {
  const groupId = freshGroup();
  const [a, b] = [await member(groupId), await member(groupId)];
  const joins = await joinAll([a, b]);
  for (const join of joins) assertError(join, 'NONE');
  assert.equal(a.generationId, b.generationId);
  assert.equal(a.leaderId, b.leaderId);
  const leader = a.isLeader ? a : b;
  const follower = leader === a ? b : a;
  const leaderJoin = joins[leader === a ? 0 : 1]!;
  const followerJoin = joins[leader === a ? 1 : 0]!;
  assert.deepEqual((leaderJoin.members as { memberId: string }[]).map((m) => m.memberId).sort(), [a.memberId, b.memberId].sort());
  assert.deepEqual(followerJoin.members, []);
  // The follower's SyncGroup is held until the leader's arrives.
  let followerDone = false;
  const followerSync = follower.sync().then((response) => {
    followerDone = true;
    return response;
  });
  await sleep(100);
  assert.equal(followerDone, false, 'the follower waits for the leader');
  const leaderSync = await leader.sync([
    { memberId: leader.memberId, assignment: Buffer.from('L') },
    { memberId: follower.memberId, assignment: Buffer.from('F') },
  ]);
  assert.deepEqual(leaderSync.assignment, Buffer.from('L'));
  const synced = await followerSync;
  assertError(synced, 'NONE');
  assert.deepEqual(synced.assignment, Buffer.from('F'));
  assertError(await follower.heartbeat(), 'NONE');
});

test('a third member joining a stable group: the others get REBALANCE_IN_PROGRESS and all three form the next generation', async () => {
  const groupId = freshGroup();
  const [a, b, c] = [await member(groupId), await member(groupId), await member(groupId)];
  await formGroup([a, b]);
  const generation = a.generationId;
  const cJoin = c.join();
  await untilRebalancing(a);
  assertError(await b.heartbeat(), 'REBALANCE_IN_PROGRESS');
  const [aJoin, bJoin] = await joinAll([a, b]);
  assertError(await cJoin, 'NONE');
  assertError(aJoin!, 'NONE');
  assertError(bJoin!, 'NONE');
  assert.equal(c.generationId, generation + 1);
  assert.deepEqual(new Set([a.generationId, b.generationId, c.generationId]).size, 1);
  const leader = [a, b, c].find((m) => m.isLeader)!;
  assert.equal((leader.lastJoin!.members as unknown[]).length, 3);
  const syncs = await syncAll([a, b, c]);
  syncs.forEach((s, i) => assert.deepEqual(s.assignment, Buffer.from(`assigned:${[a, b, c][i]!.memberId}`)));
  assertError(await c.heartbeat(), 'NONE');
});

test('a member leaving makes the others rebalance into a new generation without it', async () => {
  const groupId = freshGroup();
  const [a, b] = [await member(groupId), await member(groupId)];
  await formGroup([a, b]);
  const generation = a.generationId;
  const left = await b.leave(3);
  assertError(left, 'NONE');
  assert.deepEqual((left.members as { errorCode: number }[]).map((m) => m.errorCode), [0]);
  assertError(await a.heartbeat(), 'REBALANCE_IN_PROGRESS');
  const rejoined = await a.join();
  assertError(rejoined, 'NONE');
  assert.equal(a.generationId, generation + 1);
  assert.deepEqual((rejoined.members as { memberId: string }[]).map((m) => m.memberId), [a.memberId]);
});

test('a silent member is removed when its session expires; the other rebalances without it', async () => {
  const groupId = freshGroup();
  const [a, b] = [await member(groupId), await member(groupId)];
  await formGroup([a, b], { sessionTimeoutMs: 400 });
  const generation = a.generationId;
  await untilRebalancing(a);
  const rejoined = await a.join({ sessionTimeoutMs: 400 });
  assertError(rejoined, 'NONE');
  assert.equal(a.generationId, generation + 1);
  assert.deepEqual((rejoined.members as { memberId: string }[]).map((m) => m.memberId), [a.memberId]);
  assertError(await b.heartbeat(), 'UNKNOWN_MEMBER_ID', 'the expired member is gone');
});

test('a member that does not rejoin within the rebalance timeout is dropped from the next generation', async () => {
  const groupId = freshGroup();
  const [a, b, c] = [await member(groupId), await member(groupId), await member(groupId)];
  await formGroup([a, b], { rebalanceTimeoutMs: 300, sessionTimeoutMs: 5000 });
  const started = Date.now();
  const [cJoin, aJoin] = await Promise.all([c.join({ rebalanceTimeoutMs: 300 }), sleep(30).then(() => a.join({ rebalanceTimeoutMs: 300 }))]);
  assertError(cJoin, 'NONE');
  assertError(aJoin, 'NONE');
  assert.ok(Date.now() - started >= 250, 'the rebalance waited for the missing member');
  const leader = a.isLeader ? a : c;
  assert.deepEqual((leader.lastJoin!.members as { memberId: string }[]).map((m) => m.memberId).sort(), [a.memberId, c.memberId].sort());
  assertError(await b.heartbeat(), 'UNKNOWN_MEMBER_ID');
});

test('members that never send SyncGroup are removed after the rebalance timeout', async () => {
  const groupId = freshGroup();
  const [a, b] = [await member(groupId), await member(groupId)];
  const joins = await joinAll([a, b], { rebalanceTimeoutMs: 300, sessionTimeoutMs: 5000 });
  for (const join of joins) assertError(join, 'NONE');
  const follower = a.isLeader ? b : a;
  const leader = a.isLeader ? a : b;
  // Only the follower syncs; the leader never does, so nobody gets an assignment and the leader is dropped.
  const held = await follower.sync();
  assertError(held, 'REBALANCE_IN_PROGRESS', 'the waiting follower is sent back to join');
  assertError(await leader.heartbeat(), 'UNKNOWN_MEMBER_ID');
});

test('the protocol chosen is one every member supports, by the members\' preferences', async () => {
  const groupId = freshGroup();
  const [a, b] = [await member(groupId), await member(groupId)];
  const metadata = subscription(['orders']);
  const [aJoin, bJoin] = await Promise.all([
    a.join({ protocols: [{ name: 'range', metadata }, { name: 'roundrobin', metadata }] }),
    b.join({ protocols: [{ name: 'roundrobin', metadata }] }),
  ]);
  assert.equal(aJoin.protocolName, 'roundrobin');
  assert.equal(bJoin.protocolName, 'roundrobin');
  const c = await member(groupId);
  assertError(await c.join({ protocols: [{ name: 'sticky', metadata }] }), 'INCONSISTENT_GROUP_PROTOCOL');
  assertError(await c.join({ protocolType: 'connect', protocols: [{ name: 'roundrobin', metadata }] }), 'INCONSISTENT_GROUP_PROTOCOL');
});

test('JoinGroup refusals: empty group id, session timeout out of range, unknown member id, group.max.size', async () => {
  const a = await member('');
  assertError(await a.joinOnce(), 'INVALID_GROUP_ID');
  const b = await member(freshGroup());
  assertError(await b.joinOnce({ sessionTimeoutMs: 10 }), 'INVALID_SESSION_TIMEOUT');
  assertError(await b.joinOnce({ sessionTimeoutMs: 1_800_001 }), 'INVALID_SESSION_TIMEOUT');
  assertError(await b.joinOnce({ memberId: 'made-up' }), 'UNKNOWN_MEMBER_ID');
  assertError(await b.joinOnce({ memberId: '', protocols: [] }), 'INCONSISTENT_GROUP_PROTOCOL');

  const small = await startGroupBroker({ 'group.max.size': 1 });
  try {
    const first = await TestMember.connect(small, 'capped');
    const second = await TestMember.connect(small, 'capped');
    try {
      assertError(await first.join(), 'NONE');
      assertError(await first.sync([{ memberId: first.memberId, assignment: Buffer.alloc(0) }]), 'NONE');
      const refused = await second.join();
      assertError(refused, 'GROUP_MAX_SIZE_REACHED');
      assertError(await first.heartbeat(), 'NONE', 'the member already in is untouched');
    } finally {
      first.close();
      second.close();
    }
  } finally {
    await small.close();
  }
});

test('Heartbeat errors: wrong generation, unknown member, unknown group, empty group id', async () => {
  const groupId = freshGroup();
  const a = await member(groupId);
  await formGroup([a]);
  assertError(await a.heartbeat(3, { generationId: a.generationId + 1 }), 'ILLEGAL_GENERATION');
  assertError(await a.heartbeat(3, { generationId: a.generationId - 1 }), 'ILLEGAL_GENERATION');
  assertError(await a.heartbeat(3, { memberId: 'someone-else' }), 'UNKNOWN_MEMBER_ID');
  assertError(await a.heartbeat(4, { groupId: 'no-such-group' }), 'UNKNOWN_MEMBER_ID');
  assertError(await a.heartbeat(0, { groupId: '' }), 'INVALID_GROUP_ID');
  assertError(await a.heartbeat(), 'NONE');
});

test('SyncGroup errors: a non-member, a wrong generation, an unknown group, protocol mismatch (v5)', async () => {
  const groupId = freshGroup();
  const a = await member(groupId);
  await formGroup([a]);
  assertError(await a.sync([], 3, { memberId: 'not-a-member' }), 'UNKNOWN_MEMBER_ID');
  assertError(await a.sync([], 3, { generationId: a.generationId + 5 }), 'ILLEGAL_GENERATION');
  assertError(await a.sync([], 3, { groupId: 'no-such-group' }), 'UNKNOWN_MEMBER_ID');
  assertError(await a.sync([], 5, { protocolName: 'roundrobin' }), 'INCONSISTENT_GROUP_PROTOCOL');
  assertError(await a.sync([], 5, { protocolType: null }), 'INCONSISTENT_GROUP_PROTOCOL');
  const stable = await a.sync([], 5);
  assertError(stable, 'NONE', 'a stable group answers with the current assignment');
  assert.equal(stable.protocolType, 'consumer');
  assert.equal(stable.protocolName, 'range');
  assert.deepEqual(stable.assignment, Buffer.from(`assigned:${a.memberId}`));
});

test('huge protocol metadata is refused; malformed metadata is passed to the leader untouched', async () => {
  const a = await member(freshGroup());
  const huge = await a.joinOnce({ protocols: [{ name: 'range', metadata: Buffer.alloc(1024 * 1024 + 1) }] });
  assertError(huge, 'INVALID_REQUEST');
  const tooMany = await a.joinOnce({ protocols: Array.from({ length: 65 }, (_, i) => ({ name: `p${i}`, metadata: Buffer.alloc(1) })) });
  assertError(tooMany, 'INVALID_REQUEST');
  const garbage = Buffer.from([0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 1, 2]);
  const joined = await a.join({ protocols: [{ name: 'range', metadata: garbage }] });
  assertError(joined, 'NONE');
  assert.deepEqual((joined.members as { metadata: Buffer }[])[0]!.metadata, garbage);
});

test('flexible JoinGroup v6 and v7: v7 adds the protocol type, and errors carry a null protocol name', async () => {
  const groupId = freshGroup();
  const a = await member(groupId);
  const v7 = await a.join({ version: 7 });
  assertError(v7, 'NONE');
  assert.equal(v7.protocolType, 'consumer');
  assert.equal(v7.protocolName, 'range');
  const refused = await a.joinOnce({ version: 7, memberId: 'unknown-member' });
  assertError(refused, 'UNKNOWN_MEMBER_ID');
  assert.equal(refused.protocolName, null);
  assert.equal(refused.protocolType, null);
  const v6 = await a.joinOnce({ version: 6, memberId: '', groupId: 'x'.repeat(1025) });
  assertError(v6, 'INVALID_GROUP_ID', 'group ids are bounded');
  assert.equal(v6.protocolName, '', 'before v7 a missing protocol name is empty');
});

test('an assignment over the size limit fails the SyncGroup of every member and starts a rebalance', async () => {
  const groupId = freshGroup();
  const a = await member(groupId);
  assertError(await a.join(), 'NONE');
  const synced = await a.sync([{ memberId: a.memberId, assignment: Buffer.alloc(1024 * 1024 + 1) }]);
  assertError(synced, 'INVALID_REQUEST');
  assertError(await a.heartbeat(), 'REBALANCE_IN_PROGRESS');
});

test('static membership: a restarted member takes over its instance id without a rebalance; the old id is fenced', async () => {
  const groupId = freshGroup();
  const [a, b] = [await member(groupId, 'instance-a'), await member(groupId)];
  await formGroup([a, b]);
  assert.match(a.memberId, /^instance-a-/);
  const generation = a.generationId;
  const oldId = a.memberId;
  const leaderBefore = a.leaderId;
  const restarted = await member(groupId, 'instance-a');
  const rejoin = await restarted.joinOnce({ version: 5 });
  assertError(rejoin, 'NONE');
  assert.notEqual(restarted.memberId, oldId);
  assert.equal(rejoin.generationId, generation, 'no new generation');
  assert.equal(rejoin.leader, leaderBefore, 'the leader id of the current generation');
  assert.deepEqual(rejoin.members, []);
  assertError(await b.heartbeat(), 'NONE', 'the other member is not disturbed');
  assertError(await a.heartbeat(), 'FENCED_INSTANCE_ID', 'the old member id is fenced');
  const synced = await restarted.sync();
  assertError(synced, 'NONE');
  assert.deepEqual(synced.assignment, Buffer.from(`assigned:${oldId}`), 'the assignment carries over');
  // Removal by instance id alone, as an administrator would.
  const admin = await connect(broker);
  try {
    const removed = await admin.request('LeaveGroup', 3, { groupId, members: [{ memberId: '', groupInstanceId: 'instance-a' }] });
    assert.deepEqual((removed.members as { errorCode: number }[]).map((m) => m.errorCode), [0]);
  } finally {
    admin.close();
  }
  assertError(await b.heartbeat(), 'REBALANCE_IN_PROGRESS');
});

test('LeaveGroup of unknown members and groups', async () => {
  const client = await connect(broker);
  try {
    const unknownGroup = await client.request('LeaveGroup', 3, { groupId: 'never-was', members: [{ memberId: 'x', groupInstanceId: null }] });
    assertError(unknownGroup, 'NONE');
    assert.deepEqual((unknownGroup.members as { errorCode: number }[]).map((m) => name(m.errorCode)), ['UNKNOWN_MEMBER_ID']);
    assertError(await client.request('LeaveGroup', 1, { groupId: 'never-was', memberId: 'x' }), 'UNKNOWN_MEMBER_ID');
    assertError(await client.request('LeaveGroup', 4, { groupId: '', members: [] }), 'INVALID_GROUP_ID');
  } finally {
    client.close();
  }
});

test('closing the broker answers a held JoinGroup', async () => {
  const own = await startGroupBroker();
  const [a, b] = [await TestMember.connect(own, 'held'), await TestMember.connect(own, 'held')];
  try {
    await formGroup([a]);
    const held = b.join().catch((error: Error) => error);
    await sleep(100);
    const started = Date.now();
    await own.close();
    assert.ok(Date.now() - started < 2000, 'close does not wait for the rebalance');
    const outcome = await held;
    // Either the response (COORDINATOR_NOT_AVAILABLE) or the connection closing ends the wait.
    if (!(outcome instanceof Error)) assert.equal(outcome.errorCode, code('COORDINATOR_NOT_AVAILABLE'));
  } finally {
    a.close();
    b.close();
  }
});
