/**
 * Partition assignors, run by the group leader over every member's subscription. Names and
 * results match the Java client's, so members of other clients can share a group with ours:
 *
 *   range               per topic, members in id order take consecutive runs, the first ones
 *                       one partition more when it does not divide evenly.
 *   roundrobin          all partitions in (topic, partition) order dealt to members in id
 *                       order, skipping members not subscribed to the topic.
 *   cooperative-sticky  keeps each member's owned partitions where balance allows, moves as
 *                       few as possible, and (the cooperative rule) leaves a partition that
 *                       changes owner unassigned for one round, so its old owner can give it up
 *                       before the new one takes it.
 */
import type { Subscription, TopicPartitions } from './group-protocol.js';

export type AssignorName = 'range' | 'roundrobin' | 'cooperative-sticky';

export interface GroupMemberSubscription {
  readonly memberId: string;
  readonly subscription: Subscription;
}

/** Member id → its partitions. */
export type Assignment = Map<string, TopicPartitions[]>;

export interface Assignor {
  readonly name: AssignorName;
  /** Whether members keep their partitions through a rebalance (incremental, KIP-429). */
  readonly cooperative: boolean;
  assign(members: readonly GroupMemberSubscription[], partitionCounts: ReadonlyMap<string, number>): Assignment;
}

interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toTopicPartitions(list: readonly TopicPartition[]): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of list) {
    const partitions = byTopic.get(topic) ?? [];
    partitions.push(partition);
    byTopic.set(topic, partitions);
  }
  return [...byTopic.keys()].sort().map((topic) => ({ topic, partitions: byTopic.get(topic)!.sort((a, b) => a - b) }));
}

function emptyAssignment(members: readonly GroupMemberSubscription[]): Map<string, TopicPartition[]> {
  return new Map(members.map((member) => [member.memberId, []]));
}

function finish(lists: Map<string, TopicPartition[]>): Assignment {
  const out: Assignment = new Map();
  for (const [memberId, list] of lists) out.set(memberId, toTopicPartitions(list));
  return out;
}

export const rangeAssignor: Assignor = {
  name: 'range',
  cooperative: false,
  assign(members, partitionCounts) {
    const lists = emptyAssignment(members);
    const topics = new Set(members.flatMap((member) => member.subscription.topics));
    for (const topic of [...topics].sort()) {
      const count = partitionCounts.get(topic) ?? 0;
      const subscribed = members
        .filter((member) => member.subscription.topics.includes(topic))
        .map((member) => member.memberId)
        .sort(compareIds);
      if (subscribed.length === 0 || count === 0) continue;
      const each = Math.floor(count / subscribed.length);
      const extra = count % subscribed.length;
      let next = 0;
      subscribed.forEach((memberId, i) => {
        const take = each + (i < extra ? 1 : 0);
        for (let p = 0; p < take; p++) lists.get(memberId)!.push({ topic, partition: next++ });
      });
    }
    return finish(lists);
  },
};

export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  cooperative: false,
  assign(members, partitionCounts) {
    const lists = emptyAssignment(members);
    const sorted = [...members].sort((a, b) => compareIds(a.memberId, b.memberId));
    const topics = [...new Set(members.flatMap((member) => member.subscription.topics))].sort();
    let turn = 0;
    for (const topic of topics) {
      const count = partitionCounts.get(topic) ?? 0;
      for (let partition = 0; partition < count; partition++) {
        for (let tries = 0; tries < sorted.length; tries++) {
          const member = sorted[turn % sorted.length]!;
          turn++;
          if (member.subscription.topics.includes(topic)) {
            lists.get(member.memberId)!.push({ topic, partition });
            break;
          }
        }
      }
    }
    return finish(lists);
  },
};

export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  cooperative: true,
  assign(members, partitionCounts) {
    const sorted = [...members].sort((a, b) => compareIds(a.memberId, b.memberId));
    const subscribed = new Map(sorted.map((member) => [member.memberId, new Set(member.subscription.topics)]));
    const all: TopicPartition[] = [];
    for (const topic of [...new Set(sorted.flatMap((member) => member.subscription.topics))].sort()) {
      const count = partitionCounts.get(topic) ?? 0;
      for (let partition = 0; partition < count; partition++) all.push({ topic, partition });
    }
    // 1. Keep what members own, where it still exists, they still want it, and nobody else claimed it first.
    const owner = new Map<string, string>();
    const previousOwner = new Map<string, string>();
    const lists = emptyAssignment(sorted);
    const exists = new Set(all.map((tp) => tpKey(tp.topic, tp.partition)));
    for (const member of sorted) {
      for (const { topic, partitions } of member.subscription.ownedPartitions) {
        for (const partition of partitions) {
          const key = tpKey(topic, partition);
          if (!previousOwner.has(key)) previousOwner.set(key, member.memberId);
          if (!exists.has(key) || owner.has(key) || !subscribed.get(member.memberId)!.has(topic)) continue;
          owner.set(key, member.memberId);
          lists.get(member.memberId)!.push({ topic, partition });
        }
      }
    }
    // 2. Quotas: every member floor(P/M) partitions, the first P%M of them (most loaded first, to move least) one more.
    const memberCount = sorted.length;
    const base = Math.floor(all.length / memberCount);
    let extras = all.length % memberCount;
    const quota = new Map<string, number>();
    for (const member of [...sorted].sort((a, b) => lists.get(b.memberId)!.length - lists.get(a.memberId)!.length || compareIds(a.memberId, b.memberId))) {
      quota.set(member.memberId, base + (extras > 0 ? 1 : 0));
      if (extras > 0) extras--;
    }
    // 3. Members over quota give up their last partitions.
    for (const member of sorted) {
      const list = lists.get(member.memberId)!;
      list.sort((a, b) => compareIds(a.topic, b.topic) || a.partition - b.partition);
      while (list.length > quota.get(member.memberId)!) {
        const released = list.pop()!;
        owner.delete(tpKey(released.topic, released.partition));
      }
    }
    // 4. Unowned partitions go to the least loaded subscribed member (below quota when possible).
    for (const tp of all) {
      const key = tpKey(tp.topic, tp.partition);
      if (owner.has(key)) continue;
      let best: string | null = null;
      let bestBelowQuota = false;
      for (const member of sorted) {
        if (!subscribed.get(member.memberId)!.has(tp.topic)) continue;
        const load = lists.get(member.memberId)!.length;
        const below = load < quota.get(member.memberId)!;
        if (best === null || (below && !bestBelowQuota) || (below === bestBelowQuota && load < lists.get(best)!.length)) {
          best = member.memberId;
          bestBelowQuota = below;
        }
      }
      if (best === null) continue;
      owner.set(key, best);
      lists.get(best)!.push(tp);
    }
    // 5. Cooperative rule: a partition another member still owns is held back this round.
    for (const [memberId, list] of lists) {
      lists.set(
        memberId,
        list.filter((tp) => {
          const before = previousOwner.get(tpKey(tp.topic, tp.partition));
          return before === undefined || before === memberId;
        }),
      );
    }
    return finish(lists);
  },
};

export const assignors: Readonly<Record<AssignorName, Assignor>> = {
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
};
