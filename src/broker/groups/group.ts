/**
 * One group's state, as Kafka's classic group protocol defines it:
 *
 *   Empty ──join──> PreparingRebalance ──all joined / timeout──> CompletingRebalance
 *     ^                 ^      │                                  │  leader's SyncGroup
 *     └──no members─────┘      │                                  v
 *                              └──────────member change────────── Stable
 *
 * Dead is where a group goes when it is deleted or expires; a Dead group is no longer in the
 * coordinator's table, but requests already holding it see the state.
 *
 * This class keeps the data and the rules that need nothing else (which protocol to choose,
 * who leads, who has rejoined); the coordinator drives transitions, timers and responses.
 */
import { Member, type JoinMember } from './member.js';
import type { Deadline } from './scheduler.js';
import { consumerProtocolType, subscribedTopics } from './consumer-protocol.js';
import type { StoredGroup } from './offset-log-format.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

/** The states each state may be entered from (Kafka's GroupState.validPreviousStates). */
const validPrevious: Readonly<Record<GroupState, readonly GroupState[]>> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  /** Wall-clock ms. */
  readonly commitTimestamp: number;
  /** Wall-clock ms, or -1: only commits of OffsetCommit v2-v4 with a retention time carry one. */
  readonly expireTimestamp: number;
}

/** Commits appended to the log and not yet written (they become visible when written). */
interface PendingCommit {
  count: number;
  latest: CommittedOffset;
}

export function partitionKey(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

/** How the rebalance under way ends: the initial delay (a new group) or waiting for members to rejoin. */
export interface JoinPhase {
  readonly initial: boolean;
  /** For the initial delay: the configured delay and the rebalance time left after this step. */
  readonly delayMs: number;
  readonly remainingMs: number;
}

export class Group {
  state: GroupState = 'Empty';
  /** Wall-clock ms of the last transition (Kafka's currentStateTimestamp); offsets of an Empty group expire from it. */
  stateTimestamp: number;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, Member>();
  /** Member ids handed out with MEMBER_ID_REQUIRED and not yet used, each with its expiry. */
  readonly pendingMembers = new Map<string, Deadline>();
  /** group.instance.id → member id. */
  readonly staticMembers = new Map<string, string>();
  /** How many members offer each protocol. */
  private readonly protocolCounts = new Map<string, number>();
  /** Members of this generation that have not sent SyncGroup yet. */
  readonly pendingSync = new Set<string>();
  /** A member joined during the initial delay, which may then be extended. */
  newMemberAdded = false;
  /** Topics the members of a consumer group subscribe to; null when unknown (not a consumer group, or unreadable). */
  subscribed: Set<string> | null = null;
  joinPhase: JoinPhase = { initial: false, delayMs: 0, remainingMs: 0 };
  /** The generation the pending-sync deadline was set for. */
  syncGeneration = -1;
  /** The group metadata last written to the offset log (a snapshot repeats it; deleting the group writes a tombstone). */
  stored: StoredGroup | null = null;

  readonly offsets = new Map<string, CommittedOffset>();
  readonly pendingCommits = new Map<string, PendingCommit>();

  constructor(
    readonly groupId: string,
    now: number,
    /** Ends the rebalance under way (rebalance timeout or initial delay). */
    readonly joinDeadline: Deadline,
    /** Ends the wait for every member's SyncGroup. */
    readonly syncDeadline: Deadline,
  ) {
    this.stateTimestamp = now;
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  transitionTo(state: GroupState, now: number): void {
    if (!validPrevious[state].includes(this.state)) throw new Error(`group ${this.groupId} cannot go from ${this.state} to ${state}`);
    this.state = state;
    this.stateTimestamp = now;
  }

  get canRebalance(): boolean {
    return validPrevious.PreparingRebalance.includes(this.state);
  }

  get size(): number {
    return this.members.size;
  }

  get isConsumerGroup(): boolean {
    return this.protocolType === consumerProtocolType;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  get awaitingJoinCount(): number {
    let count = 0;
    for (const member of this.members.values()) if (member.isAwaitingJoin) count++;
    return count;
  }

  get hasAllMembersJoined(): boolean {
    return this.awaitingJoinCount === this.members.size && this.pendingMembers.size === 0;
  }

  /** The largest rebalance timeout of the members: how long a rebalance may wait for them. */
  get rebalanceTimeoutMs(): number {
    let timeout = 0;
    for (const member of this.members.values()) timeout = Math.max(timeout, member.rebalanceTimeoutMs);
    return timeout;
  }

  get stateBytes(): number {
    let bytes = 0;
    for (const member of this.members.values()) bytes += member.stateBytes;
    return bytes;
  }

  add(member: Member, waiter: Member['joinWaiter']): void {
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) throw new Error(`static member ${member.groupInstanceId} is already in group ${this.groupId}`);
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.leaderId ??= member.memberId;
    this.members.set(member.memberId, member);
    this.countProtocols(member, 1);
    member.joinWaiter = waiter;
    this.pendingMembers.delete(member.memberId);
  }

  /** Removes a member (or a pending member id); the caller answers anything it was waiting for first. */
  remove(memberId: string): Member | undefined {
    const member = this.members.get(memberId);
    if (member) {
      this.members.delete(memberId);
      this.countProtocols(member, -1);
      if (member.groupInstanceId !== null) this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? null;
    this.pendingMembers.delete(memberId);
    this.pendingSync.delete(memberId);
    return member;
  }

  /** Gives a static member a new member id, keeping everything else (the old id is fenced). */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): Member {
    const member = this.members.get(oldMemberId);
    if (!member) throw new Error(`cannot replace member ${oldMemberId}: not in group ${this.groupId}`);
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    if (this.pendingSync.delete(oldMemberId)) this.pendingSync.add(newMemberId);
    this.staticMembers.set(groupInstanceId, newMemberId);
    return member;
  }

  updateMember(member: Member, protocols: Member['protocols'], rebalanceTimeoutMs: number, sessionTimeoutMs: number, waiter: Member['joinWaiter']): void {
    this.countProtocols(member, -1);
    member.protocols = protocols;
    this.countProtocols(member, 1);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    member.joinWaiter = waiter;
  }

  private countProtocols(member: Member, delta: number): void {
    for (const { name } of member.protocols) {
      const count = (this.protocolCounts.get(name) ?? 0) + delta;
      if (count === 0) this.protocolCounts.delete(name);
      else this.protocolCounts.set(name, count);
    }
  }

  /** Whether a member offering these protocols may join: the type must match and one protocol must be offered by every member. */
  supportsProtocols(protocolType: string, protocolNames: readonly string[]): boolean {
    if (this.is('Empty')) return protocolType.length > 0 && protocolNames.length > 0;
    return this.protocolType === protocolType && protocolNames.some((name) => this.protocolCounts.get(name) === this.members.size);
  }

  private candidateProtocols(): Set<string> {
    const candidates = new Set<string>();
    for (const [name, count] of this.protocolCounts) if (count === this.members.size) candidates.add(name);
    return candidates;
  }

  /**
   * The protocol for the next generation: among those every member offers, each member votes
   * for its most preferred, and the most votes win (a tie goes to the leader's preference).
   */
  selectProtocol(): string {
    if (this.members.size === 0) throw new Error(`cannot select a protocol for empty group ${this.groupId}`);
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>();
    for (const member of this.members.values()) {
      const choice = member.vote(candidates);
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    const leader = this.leaderId !== null ? this.members.get(this.leaderId) : undefined;
    const order = leader ? leader.protocols.map((p) => p.name) : [...votes.keys()];
    let best: string | null = null;
    for (const name of order) {
      const count = votes.get(name) ?? 0;
      if (count > 0 && (best === null || count > votes.get(best)!)) best = name;
    }
    return best ?? votes.keys().next().value!;
  }

  /** Keeps the leader if it rejoined, else picks a member that did; false when no member rejoined. */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    if (this.members.get(this.leaderId)?.isAwaitingJoin) return true;
    for (const member of this.members.values()) {
      if (member.isAwaitingJoin) {
        this.leaderId = member.memberId;
        return true;
      }
    }
    return false;
  }

  initNextGeneration(now: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribed = this.computeSubscribedTopics();
      this.transitionTo('CompletingRebalance', now);
    } else {
      this.protocolName = null;
      this.subscribed = this.computeSubscribedTopics();
      this.transitionTo('Empty', now);
    }
    this.pendingSync.clear();
  }

  /** Every member's metadata for the group's protocol, as the leader receives it. */
  currentMemberMetadata(): JoinMember[] {
    const protocol = this.protocolName;
    if (protocol === null) throw new Error(`group ${this.groupId} has no protocol`);
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadataFor(protocol) }));
  }

  computeSubscribedTopics(): Set<string> | null {
    if (!this.isConsumerGroup) return null;
    if (this.members.size === 0) return new Set();
    const protocol = this.protocolName;
    if (protocol === null) return null;
    return subscribedTopics([...this.members.values()].map((m) => m.metadataFor(protocol)));
  }

  /** Whether the group consumes the topic; true when that is not known. */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscribed === null || this.subscribed.has(topic);
  }

  /** Offsets or commits in flight: a group with either is kept when it has no members. */
  get hasOffsets(): boolean {
    return this.offsets.size > 0 || this.pendingCommits.size > 0;
  }

  /** Whether nothing keeps the group: no members, no member ids handed out, no offsets. */
  get isIdle(): boolean {
    return this.is('Empty') && this.members.size === 0 && this.pendingMembers.size === 0 && !this.hasOffsets;
  }
}
