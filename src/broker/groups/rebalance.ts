/**
 * The rebalance engine: how members enter and leave a group, how a rebalance starts, waits for
 * the members to rejoin and ends in a new generation, how the leader's assignment reaches the
 * members, and what happens when a deadline passes. It follows the classic protocol of Kafka's
 * GroupCoordinator; request validation lives in coordinator.ts.
 */
import type { ErrorName } from '../../protocol/errors.js';
import { Group } from './group.js';
import { Member, joinError, noBytes, syncError, type JoinResult, type Protocol } from './member.js';
import { Deadline, type Scheduler } from './scheduler.js';
import type { GroupStore } from './group-store.js';
import type { GroupSettings } from './settings.js';
import { newMemberJoinTimeoutMs } from './limits.js';

/** What a JoinGroup asks for, after validation. */
export interface JoinRequest {
  readonly groupId: string;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  /** JoinGroup v4+: a member without an id is given one and must join again (MEMBER_ID_REQUIRED). */
  readonly requireKnownMemberId: boolean;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly Protocol[];
}

export type JoinAnswer = (result: JoinResult) => void;

export class Rebalancer {
  constructor(
    private readonly store: GroupStore,
    private readonly scheduler: Scheduler,
    private readonly settings: GroupSettings,
    private readonly wallClock: () => number,
    private readonly log: (line: string) => void,
  ) {}

  /** A new group with its rebalance and pending-sync deadlines wired here. */
  makeGroup(groupId: string): Group {
    const group: Group = new Group(
      groupId,
      this.wallClock(),
      new Deadline(() => this.onJoinDeadline(group)),
      new Deadline(() => this.onSyncDeadline(group)),
    );
    return group;
  }

  makeMember(group: Group, memberId: string, request: Omit<JoinRequest, 'groupId' | 'memberId' | 'requireKnownMemberId'>): Member {
    const member: Member = new Member(
      memberId,
      request.groupInstanceId,
      request.clientId,
      request.clientHost,
      request.rebalanceTimeoutMs,
      request.sessionTimeoutMs,
      request.protocolType,
      request.protocols,
      new Deadline(() => this.onSessionDeadline(group, member)),
    );
    return member;
  }

  /** Expects the member's next heartbeat within its session timeout. */
  armSession(member: Member): void {
    this.scheduler.arm(member.session, member.sessionTimeoutMs);
  }

  addPendingMember(group: Group, memberId: string, sessionTimeoutMs: number): void {
    const deadline = new Deadline(() => this.onPendingMemberDeadline(group, memberId));
    group.pendingMembers.set(memberId, deadline);
    this.scheduler.arm(deadline, sessionTimeoutMs);
  }

  addMemberAndRebalance(group: Group, memberId: string, request: JoinRequest, answer: JoinAnswer): void {
    const member = this.makeMember(group, memberId, request);
    member.isNew = true;
    if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true;
    const pending = group.pendingMembers.get(memberId);
    if (pending) this.scheduler.disarm(pending);
    group.add(member, answer);
    // A joining member cannot heartbeat until it has its generation; it is bounded by this instead.
    this.scheduler.arm(member.session, newMemberJoinTimeoutMs);
    this.maybePrepareRebalance(group);
  }

  updateMemberAndRebalance(group: Group, member: Member, request: JoinRequest, answer: JoinAnswer): void {
    // A JoinGroup that replaces one still held (a client retrying) answers the older one first.
    member.answerJoin(joinError(member.memberId, 'REBALANCE_IN_PROGRESS'));
    group.updateMember(member, request.protocols, request.rebalanceTimeoutMs, request.sessionTimeoutMs, answer);
    this.maybePrepareRebalance(group);
  }

  /**
   * A static member rejoined without its member id: it gets a new id and the old one is fenced.
   * In a Stable group whose protocol would not change, this needs no rebalance (the member gets
   * the current generation, and the old leader id so that it does not run an assignment).
   */
  replaceStaticMember(group: Group, groupInstanceId: string, oldMemberId: string, newMemberId: string, request: JoinRequest, answer: JoinAnswer): void {
    const currentLeader = group.leaderId ?? '';
    const old = group.members.get(oldMemberId)!;
    old.answerJoin(joinError(oldMemberId, 'FENCED_INSTANCE_ID'));
    old.answerSync(syncError('FENCED_INSTANCE_ID'));
    const member = group.replaceStaticMember(groupInstanceId, oldMemberId, newMemberId);
    this.armSession(member);
    const previous = { protocols: member.protocols, rebalanceTimeoutMs: member.rebalanceTimeoutMs, sessionTimeoutMs: member.sessionTimeoutMs };
    group.updateMember(member, request.protocols, request.rebalanceTimeoutMs, request.sessionTimeoutMs, answer);
    switch (group.state) {
      case 'Stable': {
        if (group.selectProtocol() !== group.protocolName) {
          this.maybePrepareRebalance(group);
          return;
        }
        const generationId = group.generationId;
        void this.store.storeGroup(group, null).then((error) => {
          if (error === 'NONE') {
            member.answerJoin({ error, memberId: newMemberId, generationId, protocolType: group.protocolType, protocolName: group.protocolName, leaderId: currentLeader, members: [] });
            return;
          }
          this.log(`group ${group.groupId}: could not store the new member id of static member ${groupInstanceId}: ${error}`);
          if (group.members.get(newMemberId) === member) {
            group.updateMember(member, previous.protocols, previous.rebalanceTimeoutMs, previous.sessionTimeoutMs, null);
            group.replaceStaticMember(groupInstanceId, newMemberId, oldMemberId);
            this.armSession(member);
          }
          answer({ error, memberId: '', generationId, protocolType: group.protocolType, protocolName: group.protocolName, leaderId: currentLeader, members: [] });
        });
        return;
      }
      case 'CompletingRebalance':
        // The leader may already hold the old id for its assignment: rebalance so that it sees the new one.
        this.prepareRebalance(group);
        return;
      case 'PreparingRebalance':
        return;
      default:
        throw new Error(`group ${group.groupId} has static member ${groupInstanceId} in state ${group.state}`);
    }
  }

  maybePrepareRebalance(group: Group): void {
    if (group.canRebalance) this.prepareRebalance(group);
  }

  prepareRebalance(group: Group): void {
    if (group.is('CompletingRebalance')) this.resetAndPropagateAssignmentError(group, 'REBALANCE_IN_PROGRESS');
    group.pendingSync.clear();
    this.scheduler.disarm(group.syncDeadline);
    if (group.is('Empty')) {
      const delayMs = this.settings.initialRebalanceDelayMs;
      group.joinPhase = { initial: true, delayMs, remainingMs: Math.max(group.rebalanceTimeoutMs - delayMs, 0) };
      this.scheduler.arm(group.joinDeadline, delayMs);
    } else {
      group.joinPhase = { initial: false, delayMs: 0, remainingMs: 0 };
      this.scheduler.arm(group.joinDeadline, group.rebalanceTimeoutMs);
    }
    group.transitionTo('PreparingRebalance', this.wallClock());
    this.tryCompleteJoin(group);
  }

  /** Ends the rebalance now when every member has rejoined (not during the initial delay). */
  tryCompleteJoin(group: Group): void {
    if (group.is('PreparingRebalance') && !group.joinPhase.initial && group.hasAllMembersJoined) this.completeJoin(group);
  }

  private onJoinDeadline(group: Group): void {
    if (!group.is('PreparingRebalance')) return;
    const phase = group.joinPhase;
    if (phase.initial && group.newMemberAdded && phase.remainingMs !== 0) {
      // Members keep arriving: wait once more, within the rebalance timeout.
      group.newMemberAdded = false;
      const delayMs = Math.min(this.settings.initialRebalanceDelayMs, phase.remainingMs);
      group.joinPhase = { initial: true, delayMs, remainingMs: Math.max(phase.remainingMs - phase.delayMs, 0) };
      this.scheduler.arm(group.joinDeadline, delayMs);
      return;
    }
    this.completeJoin(group);
  }

  /** The end of the joining phase: drop members that did not rejoin and start the next generation. */
  completeJoin(group: Group): void {
    this.scheduler.disarm(group.joinDeadline);
    for (const member of [...group.members.values()]) {
      // Static members keep their place until their session expires.
      if (member.isAwaitingJoin || member.isStatic) continue;
      group.remove(member.memberId);
      this.scheduler.disarm(member.session);
      member.answerSync(syncError('UNKNOWN_MEMBER_ID'));
    }
    if (group.is('Dead')) return;
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that have not rejoined are left: wait for them (or their sessions) again.
      group.joinPhase = { initial: false, delayMs: 0, remainingMs: 0 };
      this.scheduler.arm(group.joinDeadline, group.rebalanceTimeoutMs);
      return;
    }
    group.initNextGeneration(this.wallClock());
    if (group.is('Empty')) {
      void this.store.storeGroup(group, null).then((error) => {
        if (error !== 'NONE') this.log(`group ${group.groupId}: could not store its empty generation ${group.generationId}: ${error}`);
      });
      return;
    }
    const leaderView = group.currentMemberMetadata();
    for (const member of group.members.values()) {
      member.answerJoin({
        error: 'NONE',
        memberId: member.memberId,
        generationId: group.generationId,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        leaderId: group.leaderId ?? '',
        members: group.isLeader(member.memberId) ? leaderView : [],
      });
      this.armSession(member);
      member.isNew = false;
      group.pendingSync.add(member.memberId);
    }
    group.syncGeneration = group.generationId;
    this.scheduler.arm(group.syncDeadline, group.rebalanceTimeoutMs);
  }

  removePendingSync(group: Group, memberId: string): void {
    group.pendingSync.delete(memberId);
    if (group.pendingSync.size === 0) this.scheduler.disarm(group.syncDeadline);
  }

  /** Members that did not send SyncGroup within the rebalance timeout are removed, and the group rebalances. */
  private onSyncDeadline(group: Group): void {
    if (group.syncGeneration !== group.generationId) return;
    if (!group.is('CompletingRebalance') && !group.is('Stable')) return;
    if (group.pendingSync.size === 0) return;
    const missing = [...group.pendingSync];
    for (const memberId of missing) {
      const member = group.remove(memberId);
      if (member) this.scheduler.disarm(member.session);
    }
    this.log(`group ${group.groupId}: removed members that did not send SyncGroup in time: ${missing.join(', ')}`);
    this.prepareRebalance(group);
  }

  setAndPropagateAssignment(group: Group, assignments: ReadonlyMap<string, Buffer>): void {
    for (const member of group.members.values()) member.assignment = assignments.get(member.memberId) ?? noBytes;
    this.propagateAssignment(group, 'NONE');
  }

  resetAndPropagateAssignmentError(group: Group, error: ErrorName): void {
    for (const member of group.members.values()) member.assignment = noBytes;
    this.propagateAssignment(group, error);
  }

  private propagateAssignment(group: Group, error: ErrorName): void {
    const ok = error === 'NONE';
    for (const member of group.members.values()) {
      const answered = member.answerSync({
        error,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: member.assignment,
      });
      // A session that expired while the member waited was ignored; expect a heartbeat from now.
      if (answered) this.armSession(member);
    }
  }

  /** Removes a member (leave, session expiry) and moves the group on. */
  removeMemberAndUpdateGroup(group: Group, member: Member): void {
    member.answerJoin(joinError('', 'UNKNOWN_MEMBER_ID'));
    member.answerSync(syncError('UNKNOWN_MEMBER_ID'));
    group.remove(member.memberId);
    this.scheduler.disarm(member.session);
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.maybePrepareRebalance(group);
        break;
      case 'PreparingRebalance':
        this.tryCompleteJoin(group);
        break;
      default:
        break;
    }
  }

  removePendingMember(group: Group, memberId: string): void {
    const deadline = group.pendingMembers.get(memberId);
    if (deadline) this.scheduler.disarm(deadline);
    group.remove(memberId);
    this.tryCompleteJoin(group);
    this.dropIfIdle(group);
  }

  private onSessionDeadline(group: Group, member: Member): void {
    if (group.is('Dead') || group.members.get(member.memberId) !== member) return;
    // Members waiting for a rebalance to finish count as alive, except first-time joiners.
    if (!member.isNew && (member.isAwaitingJoin || member.isAwaitingSync)) return;
    this.log(`group ${group.groupId}: member ${member.memberId} ${member.isNew ? 'did not complete its first join' : 'missed its session timeout'}; removing it`);
    this.removeMemberAndUpdateGroup(group, member);
  }

  private onPendingMemberDeadline(group: Group, memberId: string): void {
    if (!group.pendingMembers.has(memberId)) return;
    this.removePendingMember(group, memberId);
  }

  /** A group that never stored anything and has nothing left is forgotten at once. */
  dropIfIdle(group: Group): void {
    if (group.isIdle && group.stored === null && this.store.get(group.groupId) === group) void this.store.removeGroup(group, this.wallClock());
  }
}
