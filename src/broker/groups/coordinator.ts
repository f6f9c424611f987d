/**
 * The group coordinator: the entry points the group handlers call, each validating a request as
 * Kafka's GroupCoordinator does and then handing it to the rebalance engine (rebalance.ts) or
 * the offset store (group-store.ts). This broker coordinates every group itself.
 *
 * Requests that must wait (a JoinGroup until the rebalance ends, a follower's SyncGroup until
 * the leader's assignment arrives, an OffsetCommit until it is written) return promises; every
 * such wait ends by a deadline of the single scheduler or when the coordinator closes.
 */
import { randomUUID } from 'node:crypto';
import type { ErrorName } from '../../protocol/errors.js';
import type { Storage } from '../../storage/types.js';
import { partitionKey, type CommittedOffset, type Group } from './group.js';
import { GroupStore } from './group-store.js';
import { joinError, noBytes, protocolBytes, syncError, type JoinResult, type Member, type Protocol, type SyncResult } from './member.js';
import { OffsetLog } from './offset-log.js';
import { Rebalancer, type JoinRequest } from './rebalance.js';
import { Deadline, Scheduler } from './scheduler.js';
import { checkGroupSettings, type GroupSettings } from './settings.js';
import type { CommitRequest, FetchedOffset, FetchResult, GroupDescription, GroupOverview, LeaveResult, MemberIdentity, SyncRequest } from './requests.js';
import { assignmentBytesMax, groupIdBytesMax, groupStateBytesMax, memberIdPrefixCharsMax, memberMetadataBytesMax, protocolsPerMemberMax } from './limits.js';

export type { JoinRequest } from './rebalance.js';
export type { JoinResult, SyncResult, Protocol } from './member.js';
export type * from './requests.js';

export interface CoordinatorOptions {
  readonly storage: Storage;
  readonly settings: GroupSettings;
  /** Whether a topic partition exists (offsets of partitions that no longer exist are dropped at retention checks). */
  readonly partitionExists: (topic: string, partition: number) => boolean;
  readonly log: (line: string) => void;
  /** Wall clock for commit and state timestamps (tests replace it). */
  readonly wallClock?: () => number;
  /** Monotonic clock for deadlines (tests replace it). */
  readonly monotonicClock?: () => number;
}

export class GroupCoordinator {
  private closed = false;
  private offsetLog: OffsetLog | null = null;
  private readonly retentionDeadline: Deadline;

  private constructor(
    private readonly options: CoordinatorOptions,
    private readonly scheduler: Scheduler,
    readonly store: GroupStore,
    private readonly rebalancer: Rebalancer,
  ) {
    this.retentionDeadline = new Deadline(() => this.onRetentionCheck());
  }

  /** Replays the offset log, restores groups and starts the retention checks. */
  static async open(options: CoordinatorOptions): Promise<GroupCoordinator> {
    checkGroupSettings(options.settings);
    const wallClock = options.wallClock ?? Date.now;
    const scheduler = new Scheduler((error) => options.log(`group coordinator timer failed: ${(error as Error)?.stack ?? error}`), options.monotonicClock);
    let rebalancer: Rebalancer | null = null;
    const store = new GroupStore(scheduler, (groupId) => rebalancer!.makeGroup(groupId));
    rebalancer = new Rebalancer(store, scheduler, options.settings, wallClock, options.log);
    const coordinator = new GroupCoordinator(options, scheduler, store, rebalancer);
    const offsetLog = await OffsetLog.open(
      options.storage,
      { segmentBytes: options.settings.offsetsTopicSegmentBytes, log: options.log },
      (record) => store.apply(record),
      () => store.snapshot(),
    );
    store.attach(offsetLog);
    coordinator.offsetLog = offsetLog;
    coordinator.restoreGroups();
    scheduler.arm(coordinator.retentionDeadline, options.settings.offsetsRetentionCheckIntervalMs);
    return coordinator;
  }

  private get settings(): GroupSettings {
    return this.options.settings;
  }

  private now(): number {
    return (this.options.wallClock ?? Date.now)();
  }

  /** Answers every held request and stops the timers; later requests get COORDINATOR_NOT_AVAILABLE. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.scheduler.stop();
    for (const group of this.store.groups.values()) {
      for (const member of group.members.values()) {
        member.answerJoin(joinError(member.memberId, 'COORDINATOR_NOT_AVAILABLE'));
        member.answerSync(syncError('COORDINATOR_NOT_AVAILABLE'));
      }
    }
    await this.offsetLog?.close();
  }

  /** Groups restored from the log with members come back Stable; their sessions start now. */
  private restoreGroups(): void {
    for (const group of [...this.store.groups.values()]) {
      const stored = group.stored;
      if (stored === null) {
        if (!group.hasOffsets) this.store.groups.delete(group.groupId);
        continue;
      }
      group.protocolType = stored.protocolType;
      group.generationId = stored.generationId;
      group.stateTimestamp = stored.stateTimestamp;
      const protocolName = stored.protocolName;
      if (protocolName === null || stored.members.length === 0) continue;
      group.protocolName = protocolName;
      for (const m of stored.members) {
        const member = this.rebalancer.makeMember(group, m.memberId, {
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          rebalanceTimeoutMs: m.rebalanceTimeoutMs,
          sessionTimeoutMs: m.sessionTimeoutMs,
          protocolType: stored.protocolType ?? '',
          protocols: [{ name: protocolName, metadata: m.subscription }],
        });
        member.assignment = m.assignment;
        group.add(member, null);
        this.rebalancer.armSession(member);
      }
      if (stored.leaderId !== null && group.members.has(stored.leaderId)) group.leaderId = stored.leaderId;
      group.state = 'Stable';
      group.subscribed = group.computeSubscribedTopics();
      if (group.size > this.settings.maxSize) this.rebalancer.prepareRebalance(group);
    }
  }

  /** Kafka's validateGroupStatus: an acceptable group id, and a coordinator that is running. */
  private groupStatus(groupId: string, allowEmpty: boolean): ErrorName | null {
    if ((!allowEmpty && groupId.length === 0) || Buffer.byteLength(groupId) > groupIdBytesMax) return 'INVALID_GROUP_ID';
    if (this.closed) return 'COORDINATOR_NOT_AVAILABLE';
    return null;
  }

  /** The member must exist, and a static member must hold its current member id. */
  private currentMemberError(group: Group, memberId: string, groupInstanceId: string | null): ErrorName | null {
    if (groupInstanceId !== null) {
      const current = group.staticMembers.get(groupInstanceId);
      if (current === undefined) return 'UNKNOWN_MEMBER_ID';
      if (current !== memberId) return 'FENCED_INSTANCE_ID';
    }
    return group.members.has(memberId) ? null : 'UNKNOWN_MEMBER_ID';
  }

  // --- JoinGroup ---------------------------------------------------------------------------

  join(request: JoinRequest): Promise<JoinResult> | JoinResult {
    const status = this.groupStatus(request.groupId, false);
    if (status !== null) return joinError(request.memberId, status);
    const { sessionTimeoutMs } = request;
    if (sessionTimeoutMs < this.settings.minSessionTimeoutMs || sessionTimeoutMs > this.settings.maxSessionTimeoutMs) {
      return joinError(request.memberId, 'INVALID_SESSION_TIMEOUT');
    }
    const protocols = uniqueProtocols(request.protocols);
    if (protocols.length > protocolsPerMemberMax || protocolBytes(protocols) > memberMetadataBytesMax) {
      this.options.log(`group ${request.groupId}: refusing a JoinGroup offering ${protocols.length} protocols of ${protocolBytes(protocols)} bytes`);
      return joinError(request.memberId, 'INVALID_REQUEST');
    }
    const joining: JoinRequest = { ...request, protocols, rebalanceTimeoutMs: Math.max(0, request.rebalanceTimeoutMs) };
    const isUnknown = request.memberId === '';
    let group = this.store.get(request.groupId);
    if (!group) {
      if (!isUnknown) return joinError(request.memberId, 'UNKNOWN_MEMBER_ID');
      if (this.store.isFull) return joinError('', 'GROUP_MAX_SIZE_REACHED');
      group = this.store.getOrCreate(request.groupId);
    }
    let answer!: (result: JoinResult) => void;
    const result = new Promise<JoinResult>((resolve) => (answer = resolve));
    if (!this.acceptJoiningMember(group, request.memberId, protocolBytes(protocols))) {
      const member = group.members.get(request.memberId);
      if (member) {
        this.scheduler.disarm(member.session);
        group.remove(member.memberId);
      }
      answer(joinError('', 'GROUP_MAX_SIZE_REACHED'));
    } else if (isUnknown) {
      this.joinNewMember(group, joining, answer);
    } else {
      this.joinCurrentMember(group, joining, answer);
    }
    this.rebalancer.tryCompleteJoin(group);
    this.rebalancer.dropIfIdle(group);
    return result;
  }

  /** Room for the member: group.max.size (counting, while rebalancing, the members that rejoined) and the group's state bytes. */
  private acceptJoiningMember(group: Group, memberId: string, metadataBytes: number): boolean {
    const existing = group.members.get(memberId);
    if (group.stateBytes - (existing ? protocolBytes(existing.protocols) : 0) + metadataBytes > groupStateBytesMax) return false;
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        return existing?.isAwaitingJoin === true || group.awaitingJoinCount < this.settings.maxSize;
      default:
        return existing !== undefined || group.size < this.settings.maxSize;
    }
  }

  private joinNewMember(group: Group, request: JoinRequest, answer: (result: JoinResult) => void): void {
    if (group.is('Dead')) return answer(joinError('', 'COORDINATOR_NOT_AVAILABLE'));
    if (!group.supportsProtocols(request.protocolType, request.protocols.map((p) => p.name))) return answer(joinError('', 'INCONSISTENT_GROUP_PROTOCOL'));
    const newMemberId = `${(request.groupInstanceId ?? request.clientId).slice(0, memberIdPrefixCharsMax)}-${randomUUID()}`;
    if (request.groupInstanceId !== null) {
      const oldMemberId = group.staticMembers.get(request.groupInstanceId);
      if (oldMemberId !== undefined) this.rebalancer.replaceStaticMember(group, request.groupInstanceId, oldMemberId, newMemberId, request, answer);
      else this.rebalancer.addMemberAndRebalance(group, newMemberId, request, answer);
      return;
    }
    if (request.requireKnownMemberId) {
      if (group.pendingMembers.size >= this.settings.maxSize) return answer(joinError('', 'GROUP_MAX_SIZE_REACHED'));
      this.rebalancer.addPendingMember(group, newMemberId, request.sessionTimeoutMs);
      return answer(joinError(newMemberId, 'MEMBER_ID_REQUIRED'));
    }
    this.rebalancer.addMemberAndRebalance(group, newMemberId, request, answer);
  }

  private joinCurrentMember(group: Group, request: JoinRequest, answer: (result: JoinResult) => void): void {
    const memberId = request.memberId;
    if (group.is('Dead')) return answer(joinError(memberId, 'COORDINATOR_NOT_AVAILABLE'));
    if (!group.supportsProtocols(request.protocolType, request.protocols.map((p) => p.name))) return answer(joinError(memberId, 'INCONSISTENT_GROUP_PROTOCOL'));
    if (group.pendingMembers.has(memberId)) {
      // Pending ids are only handed to dynamic members.
      if (request.groupInstanceId !== null) return answer(joinError(memberId, 'UNKNOWN_MEMBER_ID'));
      return this.rebalancer.addMemberAndRebalance(group, memberId, request, answer);
    }
    const error = this.currentMemberError(group, memberId, request.groupInstanceId);
    if (error !== null) return answer(joinError(memberId, error));
    const member = group.members.get(memberId)!;
    const current = (members: JoinResult['members']): JoinResult => ({
      error: 'NONE',
      memberId,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leaderId: group.leaderId ?? '',
      members,
    });
    switch (group.state) {
      case 'PreparingRebalance':
        return this.rebalancer.updateMemberAndRebalance(group, member, request, answer);
      case 'CompletingRebalance':
        // The same metadata again (the member missed our response): the current generation, unchanged.
        if (member.matches(request.protocols)) return answer(current(group.isLeader(memberId) ? group.currentMemberMetadata() : []));
        return this.rebalancer.updateMemberAndRebalance(group, member, request, answer);
      case 'Stable':
        // The leader rejoining starts a rebalance (it may have seen a change the metadata does not show).
        if (group.isLeader(memberId) || !member.matches(request.protocols)) return this.rebalancer.updateMemberAndRebalance(group, member, request, answer);
        return answer(current([]));
      default:
        return answer(joinError(memberId, 'UNKNOWN_MEMBER_ID'));
    }
  }

  // --- SyncGroup ---------------------------------------------------------------------------

  sync(request: SyncRequest): Promise<SyncResult> | SyncResult {
    const status = this.groupStatus(request.groupId, false);
    if (status !== null) return syncError(status);
    const group = this.store.get(request.groupId);
    if (!group) return syncError('UNKNOWN_MEMBER_ID');
    if (group.is('Dead')) return syncError('COORDINATOR_NOT_AVAILABLE');
    const memberError = this.currentMemberError(group, request.memberId, request.groupInstanceId);
    if (memberError !== null) return syncError(memberError);
    if (request.generationId !== group.generationId) return syncError('ILLEGAL_GENERATION');
    if (request.protocolType !== null && request.protocolType !== group.protocolType) return syncError('INCONSISTENT_GROUP_PROTOCOL');
    if (request.protocolName !== null && request.protocolName !== group.protocolName) return syncError('INCONSISTENT_GROUP_PROTOCOL');
    const member = group.members.get(request.memberId)!;
    switch (group.state) {
      case 'Empty':
        return syncError('UNKNOWN_MEMBER_ID');
      case 'PreparingRebalance':
        return syncError('REBALANCE_IN_PROGRESS');
      case 'Stable':
        this.rebalancer.removePendingSync(group, member.memberId);
        this.rebalancer.armSession(member);
        return { error: 'NONE', protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment };
      case 'CompletingRebalance':
        return this.syncDuringRebalance(group, member, request);
      default:
        return syncError('COORDINATOR_NOT_AVAILABLE');
    }
  }

  /** Holds the SyncGroup until the leader's assignment is stored, then answers every member. */
  private syncDuringRebalance(group: Group, member: Member, request: SyncRequest): Promise<SyncResult> {
    member.answerSync(syncError('REBALANCE_IN_PROGRESS'));
    const result = new Promise<SyncResult>((resolve) => (member.syncWaiter = resolve));
    this.rebalancer.removePendingSync(group, member.memberId);
    if (!group.isLeader(member.memberId)) return result;
    const assignments = new Map<string, Buffer>();
    let bytes = 0;
    let oversized = false;
    for (const { memberId, assignment } of request.assignments) {
      if (!group.members.has(memberId)) continue;
      if (assignment.length > assignmentBytesMax) oversized = true;
      bytes += assignment.length - (assignments.get(memberId)?.length ?? 0);
      assignments.set(memberId, Buffer.from(assignment));
    }
    let metadataBytes = 0;
    for (const m of group.members.values()) metadataBytes += protocolBytes(m.protocols);
    if (oversized || metadataBytes + bytes > groupStateBytesMax) {
      this.options.log(`group ${group.groupId}: the leader's assignments (${bytes} bytes) exceed the limits; rebalancing`);
      this.rebalancer.resetAndPropagateAssignmentError(group, 'INVALID_REQUEST');
      this.rebalancer.maybePrepareRebalance(group);
      return result;
    }
    for (const memberId of group.members.keys()) if (!assignments.has(memberId)) assignments.set(memberId, noBytes);
    const generationId = group.generationId;
    void this.store.storeGroup(group, assignments).then((error) => {
      // Another member may have joined meanwhile: only the same generation, still waiting, goes on.
      if (!group.is('CompletingRebalance') || group.generationId !== generationId) return;
      if (error !== 'NONE') {
        this.rebalancer.resetAndPropagateAssignmentError(group, error);
        this.rebalancer.maybePrepareRebalance(group);
        return;
      }
      this.rebalancer.setAndPropagateAssignment(group, assignments);
      group.transitionTo('Stable', this.now());
    });
    return result;
  }

  // --- Heartbeat and LeaveGroup -----------------------------------------------------------

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): ErrorName {
    const status = this.groupStatus(groupId, false);
    if (status !== null) return status;
    const group = this.store.get(groupId);
    if (!group) return 'UNKNOWN_MEMBER_ID';
    if (group.is('Dead')) return 'COORDINATOR_NOT_AVAILABLE';
    const memberError = this.currentMemberError(group, memberId, groupInstanceId);
    if (memberError !== null) return memberError;
    if (generationId !== group.generationId) return 'ILLEGAL_GENERATION';
    const member = group.members.get(memberId)!;
    switch (group.state) {
      case 'Empty':
        return 'UNKNOWN_MEMBER_ID';
      case 'PreparingRebalance':
        this.rebalancer.armSession(member);
        return 'REBALANCE_IN_PROGRESS';
      default:
        this.rebalancer.armSession(member);
        return 'NONE';
    }
  }

  leave(groupId: string, leaving: readonly MemberIdentity[]): LeaveResult {
    const status = this.groupStatus(groupId, false);
    if (status !== null) return { error: status, members: [] };
    const group = this.store.get(groupId);
    if (!group) return { error: 'NONE', members: leaving.map((m) => ({ ...m, error: 'UNKNOWN_MEMBER_ID' })) };
    if (group.is('Dead')) return { error: 'COORDINATOR_NOT_AVAILABLE', members: [] };
    const members = leaving.map((identity): MemberIdentity & { error: ErrorName } => {
      const { memberId, groupInstanceId } = identity;
      let error: ErrorName | null;
      if (memberId === '') {
        // Removal by group instance id alone (an administrator removing a static member).
        const current = groupInstanceId === null ? undefined : group.staticMembers.get(groupInstanceId);
        error = current === undefined ? 'UNKNOWN_MEMBER_ID' : this.removeMember(group, current);
      } else if (group.pendingMembers.has(memberId)) {
        this.rebalancer.removePendingMember(group, memberId);
        error = null;
      } else {
        error = this.currentMemberError(group, memberId, groupInstanceId) ?? this.removeMember(group, memberId);
      }
      return { memberId, groupInstanceId, error: error ?? 'NONE' };
    });
    return { error: 'NONE', members };
  }

  private removeMember(group: Group, memberId: string): null {
    const member = group.members.get(memberId);
    if (member) this.rebalancer.removeMemberAndUpdateGroup(group, member);
    return null;
  }

  // --- Offsets ------------------------------------------------------------------------------

  /** Kafka's validateOffsetCommit: who may commit to the group in its current state. */
  private offsetCommitError(group: Group, request: CommitRequest): ErrorName | null {
    if (group.is('Dead')) return 'COORDINATOR_NOT_AVAILABLE';
    // Generation -1: a client without group management (or an admin client); allowed while the group is Empty.
    if (request.generationId < 0 && group.is('Empty')) return null;
    if (request.generationId >= 0 || request.memberId !== '' || request.groupInstanceId !== null) {
      const memberError = this.currentMemberError(group, request.memberId, request.groupInstanceId);
      if (memberError !== null) return memberError;
      return request.generationId !== group.generationId ? 'ILLEGAL_GENERATION' : null;
    }
    return group.is('Empty') ? null : 'UNKNOWN_MEMBER_ID';
  }

  /** Commits offsets of partitions that exist (the handler answers the others); one error per entry. */
  async commitOffsets(request: CommitRequest): Promise<ErrorName[]> {
    const all = (error: ErrorName) => request.entries.map(() => error);
    const status = this.groupStatus(request.groupId, true);
    if (status !== null) return all(status);
    let group = this.store.get(request.groupId);
    if (!group) {
      // No such group: a commit from an old generation, or the first commit of a client that manages its own partitions.
      if (request.generationId >= 0) return all('ILLEGAL_GENERATION');
      if (this.store.isFull) return all('INVALID_COMMIT_OFFSET_SIZE');
      group = this.store.getOrCreate(request.groupId);
    }
    const error = this.offsetCommitError(group, request);
    if (error !== null) return all(error);
    if (group.is('CompletingRebalance')) return all('REBALANCE_IN_PROGRESS');
    if (!group.is('Empty')) {
      const member = group.members.get(request.memberId);
      if (member) this.rebalancer.armSession(member);
    }
    const now = this.now();
    const results: ErrorName[] = all('NONE');
    const accepted: { index: number; offset: CommittedOffset }[] = [];
    request.entries.forEach((entry, index) => {
      const metadata = entry.metadata ?? '';
      if (metadata.length > this.settings.offsetMetadataMaxBytes) {
        results[index] = 'OFFSET_METADATA_TOO_LARGE';
        return;
      }
      accepted.push({
        index,
        offset: {
          topic: entry.topic,
          partition: entry.partition,
          offset: entry.offset,
          leaderEpoch: entry.leaderEpoch,
          metadata,
          commitTimestamp: entry.commitTimestamp === -1 ? now : entry.commitTimestamp,
          expireTimestamp: request.retentionTimeMs === -1 ? -1 : now + request.retentionTimeMs,
        },
      });
    });
    const stored = await this.store.commit(
      group,
      accepted.map((a) => a.offset),
    );
    accepted.forEach((a, i) => (results[a.index] = stored[i]!));
    this.rebalancer.dropIfIdle(group);
    return results;
  }

  /** Committed offsets of the partitions asked for, or of every partition when `topics` is null. */
  fetchOffsets(groupId: string, topics: readonly { name: string; partitions: readonly number[] }[] | null, requireStable: boolean): FetchResult {
    const status = this.groupStatus(groupId, true);
    if (status !== null) return { error: status, topics: [] };
    const group = this.store.get(groupId);
    const fetched = (topic: string, partition: number): FetchedOffset => {
      const key = partitionKey(topic, partition);
      if (requireStable && group?.pendingCommits.has(key)) return { partition, offset: -1, leaderEpoch: -1, metadata: '', error: 'UNSTABLE_OFFSET_COMMIT' };
      const offset = group?.offsets.get(key);
      return offset
        ? { partition, offset: offset.offset, leaderEpoch: offset.leaderEpoch, metadata: offset.metadata, error: 'NONE' }
        : { partition, offset: -1, leaderEpoch: -1, metadata: '', error: 'NONE' };
    };
    if (topics !== null) return { error: 'NONE', topics: topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => fetched(t.name, p)) })) };
    const byTopic = new Map<string, number[]>();
    for (const offset of group?.offsets.values() ?? []) {
      const partitions = byTopic.get(offset.topic) ?? [];
      partitions.push(offset.partition);
      byTopic.set(offset.topic, partitions);
    }
    return {
      error: 'NONE',
      topics: [...byTopic.keys()].sort().map((name) => ({ name, partitions: byTopic.get(name)!.sort((a, b) => a - b).map((p) => fetched(name, p)) })),
    };
  }

  /**
   * OffsetDelete: drops offsets of an Empty group, or of topics a consumer group does not
   * subscribe to. `partitions` holds only partitions that exist.
   */
  async deleteOffsets(groupId: string, partitions: readonly { topic: string; partition: number }[]): Promise<{ error: ErrorName; results: ErrorName[] }> {
    const status = this.groupStatus(groupId, false);
    if (status !== null) return { error: status, results: [] };
    const group = this.store.get(groupId);
    if (!group || group.is('Dead')) return { error: 'GROUP_ID_NOT_FOUND', results: [] };
    let results: ErrorName[];
    if (group.is('Empty')) results = partitions.map(() => 'NONE');
    else if (group.isConsumerGroup) results = partitions.map((p) => (group.isSubscribedToTopic(p.topic) ? 'GROUP_SUBSCRIBED_TO_TOPIC' : 'NONE'));
    else return { error: 'NON_EMPTY_GROUP', results: [] };
    const eligible = partitions.filter((_, i) => results[i] === 'NONE').map((p) => partitionKey(p.topic, p.partition));
    if (eligible.length === 0) return { error: 'NONE', results };
    const removal = this.store.removeOffsets(group, eligible);
    const dropped = group.is('Empty') && !group.hasOffsets ? this.store.removeGroup(group, this.now()) : Promise.resolve<ErrorName>('NONE');
    const [removed, groupRemoved] = await Promise.all([removal, dropped]);
    const error = removed !== 'NONE' ? removed : groupRemoved;
    return { error: 'NONE', results: results.map((r) => (r === 'NONE' ? error : r)) };
  }

  // --- Groups -------------------------------------------------------------------------------

  describeGroup(groupId: string): GroupDescription {
    const status = this.groupStatus(groupId, true);
    if (status !== null) return { error: status, groupId, state: '', protocolType: '', protocolData: '', members: [] };
    const group = this.store.get(groupId);
    if (!group) return { error: 'NONE', groupId, state: 'Dead', protocolType: '', protocolData: '', members: [] };
    const stable = group.is('Stable') && group.protocolName !== null;
    return {
      error: 'NONE',
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: stable ? group.protocolName! : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? m.metadataFor(group.protocolName!) : noBytes,
        assignment: stable ? m.assignment : noBytes,
      })),
    };
  }

  /** Every group, optionally only those in the given states (compared without regard to case). */
  listGroups(statesFilter: readonly string[]): { error: ErrorName; groups: GroupOverview[] } {
    if (this.closed) return { error: 'COORDINATOR_NOT_AVAILABLE', groups: [] };
    const wanted = new Set(statesFilter.map((s) => s.toLowerCase()));
    const groups: GroupOverview[] = [];
    for (const group of this.store.groups.values()) {
      if (wanted.size > 0 && !wanted.has(group.state.toLowerCase())) continue;
      groups.push({ groupId: group.groupId, protocolType: group.protocolType ?? '', state: group.state });
    }
    return { error: 'NONE', groups };
  }

  /** DeleteGroups: only Empty groups go, with their offsets. One result per distinct group id, in request order. */
  async deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; error: ErrorName }[]> {
    const results: Promise<{ groupId: string; error: ErrorName }>[] = [];
    for (const groupId of new Set(groupIds)) {
      const status = this.groupStatus(groupId, true);
      const group = this.store.get(groupId);
      let error: ErrorName | Promise<ErrorName>;
      if (status !== null) error = status;
      else if (!group || group.is('Dead')) error = 'GROUP_ID_NOT_FOUND';
      else if (!group.is('Empty')) error = 'NON_EMPTY_GROUP';
      else error = this.store.removeGroup(group, this.now()).then((e) => (e === 'NONE' ? e : 'COORDINATOR_NOT_AVAILABLE'));
      results.push(Promise.resolve(error).then((e) => ({ groupId, error: e })));
    }
    return Promise.all(results);
  }

  // --- Retention ------------------------------------------------------------------------------

  private onRetentionCheck(): void {
    void this.removeExpired().finally(() => {
      if (!this.closed) this.scheduler.arm(this.retentionDeadline, this.settings.offsetsRetentionCheckIntervalMs);
    });
  }

  /**
   * Drops offsets past their retention and offsets of partitions that no longer exist, then
   * groups left Empty with nothing. Returns how many offsets went.
   */
  async removeExpired(): Promise<number> {
    if (this.closed) return 0;
    const now = this.now();
    let removed = 0;
    const writes: Promise<ErrorName>[] = [];
    for (const group of [...this.store.groups.values()]) {
      const expired = new Set(this.store.expiredOffsets(group, now, this.settings.offsetsRetentionMs));
      for (const [key, offset] of group.offsets) {
        if (!this.options.partitionExists(offset.topic, offset.partition)) expired.add(key);
      }
      if (expired.size > 0) {
        removed += expired.size;
        writes.push(this.store.removeOffsets(group, expired));
      }
      if (group.isIdle) writes.push(this.store.removeGroup(group, now));
    }
    const failures = (await Promise.all(writes)).filter((e) => e !== 'NONE');
    if (failures.length > 0) this.options.log(`group coordinator: ${failures.length} retention writes failed`);
    return removed;
  }
}

/** Keeps the first of protocols offered twice under one name. */
function uniqueProtocols(protocols: readonly Protocol[]): Protocol[] {
  const seen = new Set<string>();
  const out: Protocol[] = [];
  for (const p of protocols) {
    if (seen.has(p.name)) continue;
    seen.add(p.name);
    out.push(p);
  }
  return out;
}
