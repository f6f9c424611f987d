/**
 * The coordinator's table of groups and their committed offsets, kept in step with the offset
 * log: every change that must survive a restart is appended there first, and a commit becomes
 * visible (to OffsetFetch) only once it is written, as in Kafka.
 */
import type { ErrorName } from '../../protocol/errors.js';
import { Group, partitionKey, type CommittedOffset } from './group.js';
import { noBytes } from './member.js';
import type { OffsetLog } from './offset-log.js';
import type { LogRecord, StoredGroup } from './offset-log-format.js';
import { groupsMax, offsetsPerGroupMax, offsetsTotalMax } from './limits.js';
import type { Scheduler } from './scheduler.js';

/** What a failed offset-log write is reported as (Kafka maps storage errors to NOT_COORDINATOR). */
export const storeFailure: ErrorName = 'NOT_COORDINATOR';

export class GroupStore {
  readonly groups = new Map<string, Group>();
  /** Offsets held across groups, committed or in flight (an upper bound for offsetsTotalMax). */
  private offsetEntries = 0;
  private log: OffsetLog | null = null;

  constructor(
    private readonly scheduler: Scheduler,
    /** Makes a group with its deadlines wired to the coordinator. */
    private readonly makeGroup: (groupId: string) => Group,
  ) {}

  attach(log: OffsetLog): void {
    this.log = log;
  }

  private append(records: readonly LogRecord[]): Promise<void> {
    if (this.log === null) return Promise.reject(new Error('the offset log is not open'));
    return this.log.append(records);
  }

  get(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  get isFull(): boolean {
    return this.groups.size >= groupsMax;
  }

  /** The group, created Empty when it does not exist; the caller checks isFull first. */
  getOrCreate(groupId: string): Group {
    let group = this.groups.get(groupId);
    if (!group) {
      group = this.makeGroup(groupId);
      this.groups.set(groupId, group);
    }
    return group;
  }

  /** Whether the group may hold one more partition's offset. */
  private hasRoomFor(group: Group): boolean {
    return group.offsets.size + group.pendingCommits.size < offsetsPerGroupMax && this.offsetEntries < offsetsTotalMax;
  }

  /**
   * Appends the commits and resolves once they are written and visible. Returns one error per
   * entry: NONE, INVALID_COMMIT_OFFSET_SIZE (no room for another partition) or a store failure.
   */
  async commit(group: Group, entries: readonly CommittedOffset[]): Promise<ErrorName[]> {
    const results: ErrorName[] = entries.map(() => 'NONE');
    const accepted: { index: number; key: string; entry: CommittedOffset }[] = [];
    entries.forEach((entry, index) => {
      const key = partitionKey(entry.topic, entry.partition);
      if (!group.offsets.has(key) && !group.pendingCommits.has(key) && !this.hasRoomFor(group)) {
        results[index] = 'INVALID_COMMIT_OFFSET_SIZE';
        return;
      }
      const pending = group.pendingCommits.get(key);
      if (pending) {
        pending.count++;
        pending.latest = entry;
      } else {
        group.pendingCommits.set(key, { count: 1, latest: entry });
        if (!group.offsets.has(key)) this.offsetEntries++;
      }
      accepted.push({ index, key, entry });
    });
    if (accepted.length === 0) return results;
    let written = true;
    try {
      await this.append(accepted.map(({ entry }) => ({ type: 'offset', group: group.groupId, topic: entry.topic, partition: entry.partition, value: entry })));
    } catch {
      written = false;
    }
    for (const { index, key, entry } of accepted) {
      if (!written) results[index] = storeFailure;
      const pending = group.pendingCommits.get(key);
      // Gone when the offsets were deleted meanwhile (DeleteGroups, OffsetDelete): the tombstone came later in the log.
      if (!pending) continue;
      if (--pending.count === 0) group.pendingCommits.delete(key);
      if (written) group.offsets.set(key, entry);
      if (!group.offsets.has(key) && !group.pendingCommits.has(key)) this.offsetEntries--;
    }
    return results;
  }

  /** Drops the offsets of these partitions (committed or in flight) and writes tombstones for those that existed. */
  removeOffsets(group: Group, keys: Iterable<string>): Promise<ErrorName> {
    const records: LogRecord[] = [];
    for (const key of keys) {
      const offset = group.offsets.get(key) ?? group.pendingCommits.get(key)?.latest;
      if (!offset) continue;
      group.offsets.delete(key);
      group.pendingCommits.delete(key);
      this.offsetEntries--;
      records.push({ type: 'offset', group: group.groupId, topic: offset.topic, partition: offset.partition, value: null });
    }
    return this.settle(records);
  }

  /** Takes the group out of the table (it becomes Dead) and writes tombstones for its offsets and metadata. */
  removeGroup(group: Group, now: number): Promise<ErrorName> {
    if (this.groups.get(group.groupId) === group) this.groups.delete(group.groupId);
    group.transitionTo('Dead', now);
    this.scheduler.disarm(group.joinDeadline);
    this.scheduler.disarm(group.syncDeadline);
    for (const member of group.members.values()) this.scheduler.disarm(member.session);
    for (const deadline of group.pendingMembers.values()) this.scheduler.disarm(deadline);
    const removed = this.removeOffsets(group, [...new Set([...group.offsets.keys(), ...group.pendingCommits.keys()])]);
    if (group.stored === null) return removed;
    group.stored = null;
    return Promise.all([removed, this.settle([{ type: 'group', group: group.groupId, value: null }])]).then(([a, b]) => (a !== 'NONE' ? a : b));
  }

  /**
   * Writes the group's metadata (members with their metadata for the chosen protocol, and the
   * assignments given, or each member's current one).
   */
  storeGroup(group: Group, assignments: ReadonlyMap<string, Buffer> | null): Promise<ErrorName> {
    const protocol = group.protocolName;
    const value: StoredGroup = {
      protocolType: group.protocolType,
      generationId: group.generationId,
      protocolName: protocol,
      leaderId: group.leaderId,
      stateTimestamp: group.stateTimestamp,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        subscription: protocol === null ? noBytes : m.metadataFor(protocol),
        assignment: assignments === null ? m.assignment : (assignments.get(m.memberId) ?? noBytes),
      })),
    };
    group.stored = value;
    return this.settle([{ type: 'group', group: group.groupId, value }]);
  }

  private settle(records: LogRecord[]): Promise<ErrorName> {
    if (records.length === 0) return Promise.resolve('NONE');
    return this.append(records).then(
      () => 'NONE',
      () => storeFailure,
    );
  }

  /** Records describing the whole state, for a rewrite of the offset log. */
  snapshot(): LogRecord[] {
    const records: LogRecord[] = [];
    for (const group of this.groups.values()) {
      if (group.stored !== null) records.push({ type: 'group', group: group.groupId, value: group.stored });
      for (const [key, offset] of group.offsets) {
        const latest = group.pendingCommits.get(key)?.latest ?? offset;
        records.push({ type: 'offset', group: group.groupId, topic: latest.topic, partition: latest.partition, value: latest });
      }
      for (const [key, pending] of group.pendingCommits) {
        if (!group.offsets.has(key)) records.push({ type: 'offset', group: group.groupId, topic: pending.latest.topic, partition: pending.latest.partition, value: pending.latest });
      }
    }
    return records;
  }

  /** Applies one record while the log is replayed at start-up. */
  apply(record: LogRecord): void {
    if (record.type === 'offset') {
      const key = partitionKey(record.topic, record.partition);
      const group = record.value === null ? this.groups.get(record.group) : this.getOrCreate(record.group);
      if (!group) return;
      const had = group.offsets.has(key);
      if (record.value === null) {
        if (had) {
          group.offsets.delete(key);
          this.offsetEntries--;
        }
      } else {
        group.offsets.set(key, record.value);
        if (!had) this.offsetEntries++;
      }
    } else if (record.type === 'group') {
      const group = record.value === null ? this.groups.get(record.group) : this.getOrCreate(record.group);
      if (group) group.stored = record.value;
    }
  }

  /**
   * Offsets whose retention has passed (offsets.retention.minutes), as Kafka decides it: in an
   * Empty group with a protocol type, counted from when the group became Empty; in a group
   * without one (offsets committed without group management), from each commit; in a Stable
   * consumer group, only offsets of topics it no longer subscribes to, from each commit. A
   * commit that carried its own expiry time (OffsetCommit v2-v4) expires then instead.
   */
  expiredOffsets(group: Group, now: number, retentionMs: number): string[] {
    let base: ((offset: CommittedOffset) => number) | null = null;
    let keepTopics: Set<string> | null = null;
    if (group.protocolType !== null && group.is('Empty')) {
      base = () => group.stateTimestamp;
    } else if (group.protocolType === null) {
      base = (offset) => offset.commitTimestamp;
    } else if (group.isConsumerGroup && group.subscribed !== null && group.is('Stable')) {
      base = (offset) => offset.commitTimestamp;
      keepTopics = group.subscribed;
    }
    if (base === null) return [];
    const expired: string[] = [];
    for (const [key, offset] of group.offsets) {
      if (group.pendingCommits.has(key) || keepTopics?.has(offset.topic)) continue;
      const due = offset.expireTimestamp !== -1 ? now >= offset.expireTimestamp : now - base(offset) >= retentionMs;
      if (due) expired.push(key);
    }
    return expired;
  }
}
