/** Assignors (range, roundrobin, cooperative-sticky) and the consumer protocol's byte layouts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cooperativeStickyAssignor, rangeAssignor, roundRobinAssignor, type GroupMemberSubscription } from '../../src/client/assignors.js';
import { decodeMemberAssignment, decodeSubscription, encodeMemberAssignment, encodeSubscription, type TopicPartitions } from '../../src/client/group-protocol.js';
import { Writer } from '../../src/protocol/writer.js';

function member(memberId: string, topics: string[], owned: TopicPartitions[] = []): GroupMemberSubscription {
  return { memberId, subscription: { version: 1, topics, userData: null, ownedPartitions: owned } };
}

function plain(assignment: Map<string, TopicPartitions[]>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [memberId, list] of [...assignment].sort(([a], [b]) => (a < b ? -1 : 1))) out[memberId] = list.flatMap((tp) => tp.partitions.map((p) => `${tp.topic}-${p}`));
  return out;
}

test('range: consecutive runs per topic, the first members one more', () => {
  const result = rangeAssignor.assign([member('b', ['t', 'u']), member('a', ['t', 'u']), member('c', ['t'])], new Map([['t', 7], ['u', 2]]));
  assert.deepEqual(plain(result), { a: ['t-0', 't-1', 't-2', 'u-0'], b: ['t-3', 't-4', 'u-1'], c: ['t-5', 't-6'] });
});

test('roundrobin: partitions dealt in order, skipping unsubscribed members', () => {
  const result = roundRobinAssignor.assign([member('a', ['t']), member('b', ['t', 'u'])], new Map([['t', 3], ['u', 3]]));
  assert.deepEqual(plain(result), { a: ['t-0', 't-2'], b: ['t-1', 'u-0', 'u-1', 'u-2'] });
});

function count(assignment: Map<string, TopicPartitions[]>): Map<string, number> {
  return new Map([...assignment].map(([id, list]) => [id, list.reduce((n, tp) => n + tp.partitions.length, 0)]));
}

test('cooperative-sticky: a first assignment is balanced', () => {
  const result = cooperativeStickyAssignor.assign([member('a', ['t']), member('b', ['t']), member('c', ['t'])], new Map([['t', 8]]));
  assert.deepEqual([...count(result).values()].sort(), [2, 3, 3]);
  const all = [...result.values()].flatMap((list) => list.flatMap((tp) => tp.partitions)).sort((x, y) => x - y);
  assert.deepEqual(all, [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('cooperative-sticky: a joining member takes partitions only after their owner gave them up', () => {
  const owned = [{ topic: 't', partitions: [0, 1, 2, 3] }];
  const round1 = cooperativeStickyAssignor.assign([member('a', ['t'], owned), member('b', ['t'])], new Map([['t', 4]]));
  const a1 = plain(round1).a!;
  assert.equal(a1.length, 2, 'a keeps two of its four');
  assert.deepEqual(plain(round1).b, [], 'b gets nothing while a still owns them');
  const keep = a1.map((name) => Number(name.split('-')[1]));
  const round2 = cooperativeStickyAssignor.assign([member('a', ['t'], [{ topic: 't', partitions: keep }]), member('b', ['t'])], new Map([['t', 4]]));
  assert.deepEqual(plain(round2).a, a1, 'a keeps exactly what it kept');
  assert.equal(plain(round2).b!.length, 2);
});

test('cooperative-sticky: owned partitions stay put when membership does not change', () => {
  const members = [member('a', ['t'], [{ topic: 't', partitions: [1, 3] }]), member('b', ['t'], [{ topic: 't', partitions: [0, 2] }])];
  assert.deepEqual(plain(cooperativeStickyAssignor.assign(members, new Map([['t', 4]]))), { a: ['t-1', 't-3'], b: ['t-0', 't-2'] });
});

test('subscription and assignment round-trip; a v0 subscription (no owned partitions) decodes', () => {
  const bytes = encodeSubscription(['a', 'b'], [{ topic: 'a', partitions: [1, 2] }], Buffer.from('ud'));
  assert.deepEqual(decodeSubscription(bytes), { version: 1, topics: ['a', 'b'], userData: Buffer.from('ud'), ownedPartitions: [{ topic: 'a', partitions: [1, 2] }] });
  const v0 = new Writer().int16(0).int32(1).string('x').nullableBytes(null).toBuffer();
  assert.deepEqual(decodeSubscription(v0), { version: 0, topics: ['x'], userData: null, ownedPartitions: [] });
  const assignment = encodeMemberAssignment([{ topic: 't', partitions: [0, 5] }]);
  assert.deepEqual(decodeMemberAssignment(assignment).partitions, [{ topic: 't', partitions: [0, 5] }]);
  assert.deepEqual(decodeMemberAssignment(Buffer.alloc(0)).partitions, []);
});
