/**
 * Membership of a consumer group: JoinGroup and SyncGroup (computing the assignment when this
 * member leads), Heartbeat while a member, LeaveGroup on close, and offset commits and fetches
 * at the coordinator.
 *
 * Static membership (KIP-345): with a group instance id every group request carries it
 * (JoinGroup v5+), and leave() sends no LeaveGroup unless asked, so a member that restarts with
 * the same id within the session timeout takes its old place and assignment without a
 * rebalance. FENCED_INSTANCE_ID (another member took over our instance id) is fatal: the member
 * stops, loses its partitions and reports the error. Group traffic uses its own connection lane, so a long-poll Fetch on the
 * coordinator's data connection never delays a heartbeat.
 *
 * Eager assignors (range, roundrobin) give up every partition before rejoining. The cooperative
 * assignor keeps owned partitions through a rebalance: a member gives up only what its new
 * assignment leaves out, and rejoins once more if it gave anything up, so that partition can
 * go to its new owner.
 */
import { assignors as assignorTable, type AssignorName } from './assignors.js';
import type { Cluster } from './cluster.js';
import type { Connection } from './connection.js';
import { findCoordinator, forgetCoordinator } from './coordinator.js';
import { KafkaError, errorFromCode } from './errors.js';
import { decodeMemberAssignment, decodeSubscription, encodeMemberAssignment, encodeSubscription, type TopicPartitions } from './group-protocol.js';
import { backoffMs, sleep } from './options.js';
import type { ErrorCodeResponse, JoinGroupResponse, LeaveGroupResponse, OffsetCommitResponse, OffsetFetchResponse, SyncGroupResponse } from './wire.js';

export interface GroupConfig {
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly assignors: readonly AssignorName[];
  /** group.instance.id: makes the member static; null for a dynamic member. */
  readonly groupInstanceId: string | null;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface GroupListener {
  /** Partitions this member now owns in addition to what it had. */
  onAssigned(partitions: TopicPartition[]): Promise<void>;
  /** Partitions this member must give up (commit, then stop fetching them). */
  onRevoked(partitions: TopicPartition[]): Promise<void>;
  /** Partitions this member no longer owns because its membership is gone (nothing to commit). */
  onLost(partitions: TopicPartition[]): Promise<void>;
  /** The member stopped for good (for instance FENCED_INSTANCE_ID); `failure` holds the error. */
  onFailed(error: Error): void;
}

export interface OffsetToCommit extends TopicPartition {
  readonly offset: number;
  readonly metadata?: string | null;
}

/** Errors after which the member must join again. */
const rejoinErrors = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);
/** The first JoinGroup version with a group instance id (static membership). */
const staticJoinVersionMin = 5;
const coordinatorErrors = new Set(['NOT_COORDINATOR', 'COORDINATOR_NOT_AVAILABLE', 'COORDINATOR_LOAD_IN_PROGRESS', 'NETWORK_EXCEPTION', 'CONNECTION_FAILED', 'REQUEST_TIMED_OUT']);
/** Rounds of JoinGroup/SyncGroup in one rebalance before giving up. */
const joinAttemptsMax = 50;

function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function flatten(list: readonly TopicPartitions[]): TopicPartition[] {
  return list.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })));
}

function group(list: readonly TopicPartition[]): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of list) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
}

export class GroupMember {
  memberId = '';
  generationId = -1;
  protocolName: string | null = null;
  private owned = new Map<string, TopicPartition>();
  private topics: string[] = [];
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private rejoinNeeded = false;
  private joining: Promise<void> | null = null;
  private stopped = false;
  /** The first fatal error, surfaced to the consumer. */
  failure: Error | null = null;
  /** Completed JoinGroup/SyncGroup rounds (each a generation this member took part in). */
  rebalances = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly config: GroupConfig,
    private readonly listener: GroupListener,
  ) {
    if (config.assignors.length === 0) throw new RangeError('at least one assignor is needed');
    for (const name of config.assignors) if (!(name in assignorTable)) throw new RangeError(`unknown assignor ${name}`);
  }

  /** Partitions owned now. */
  assignment(): TopicPartition[] {
    return [...this.owned.values()];
  }

  get groupInstanceId(): string | null {
    return this.config.groupInstanceId;
  }

  /**
   * Stops the member for good after a fatal error: no more heartbeats or joins, its partitions
   * are lost, and the error is kept in `failure` and reported to the listener.
   */
  private fatal(error: KafkaError): KafkaError {
    if (this.failure instanceof KafkaError) return this.failure;
    const failure = error.retriable ? new KafkaError(error.errorName, error.message, { retriable: false, cause: error }) : error;
    this.failure = failure;
    this.stopped = true;
    this.rejoinNeeded = false;
    this.stopHeartbeats();
    const lost = [...this.owned.values()];
    this.owned.clear();
    this.cluster.options.log('error', `group ${this.config.groupId}: ${failure.message}; this member stops`);
    if (lost.length > 0) this.listener.onLost(lost).catch(() => {});
    this.listener.onFailed(failure);
    return failure;
  }

  get cooperative(): boolean {
    return this.protocolName === 'cooperative-sticky';
  }

  /** Subscribes to `topics` and joins (or rejoins) the group; resolves once partitions are assigned. */
  async subscribe(topics: readonly string[]): Promise<void> {
    this.topics = [...new Set(topics)].sort();
    for (const topic of this.topics) await this.cluster.topic(topic);
    this.rejoinNeeded = true;
    await this.ensureJoined();
  }

  /** Joins if a rebalance is due; concurrent callers share one join. */
  ensureJoined(): Promise<void> {
    if (!this.rejoinNeeded || this.stopped) return this.joining ?? Promise.resolve();
    this.joining ??= this.join().finally(() => (this.joining = null));
    return this.joining;
  }

  get needsRejoin(): boolean {
    return this.rejoinNeeded;
  }

  private coordinator(): Promise<Connection> {
    return findCoordinator(this.cluster, this.config.groupId, 'group');
  }

  private async join(): Promise<void> {
    this.stopHeartbeats();
    for (let attempt = 1; this.rejoinNeeded && !this.stopped; attempt++) {
      if (attempt > joinAttemptsMax) throw new KafkaError('REBALANCE_IN_PROGRESS', `group ${this.config.groupId}: no stable assignment after ${joinAttemptsMax} rounds`);
      if (!this.cooperative && this.owned.size > 0) await this.revoke([...this.owned.values()]);
      try {
        await this.joinOnce();
      } catch (error) {
        if (error instanceof KafkaError && error.errorName === 'FENCED_INSTANCE_ID') throw this.fatal(error);
        if (!(error instanceof KafkaError) || this.stopped) throw error;
        if (coordinatorErrors.has(error.errorName)) forgetCoordinator(this.cluster, this.config.groupId);
        else if (error.errorName === 'UNKNOWN_MEMBER_ID' || error.errorName === 'ILLEGAL_GENERATION') this.resetMember();
        else if (!rejoinErrors.has(error.errorName) && !error.retriable) throw error;
        this.cluster.options.log('debug', `group ${this.config.groupId}: ${error.message}; joining again`);
        if (error.errorName !== 'MEMBER_ID_REQUIRED') await sleep(backoffMs(Math.min(attempt, 5), this.cluster.options.retryBackoffMs, this.cluster.options.retryBackoffMsMax));
      }
    }
    if (!this.stopped) this.startHeartbeats();
  }

  private resetMember(): void {
    this.memberId = '';
    this.generationId = -1;
  }

  private async joinOnce(): Promise<void> {
    const connection = await this.coordinator();
    if (this.config.groupInstanceId !== null && connection.version('JoinGroup') < staticJoinVersionMin) {
      throw this.fatal(
        new KafkaError('UNSUPPORTED_VERSION', `group ${this.config.groupId}: static membership (groupInstanceId) needs JoinGroup v${staticJoinVersionMin}+, and ${connection.describe()} offers v${connection.version('JoinGroup')}`, {
          retriable: false,
        }),
      );
    }
    const owned = group([...this.owned.values()]);
    const request = {
      groupId: this.config.groupId,
      sessionTimeoutMs: this.config.sessionTimeoutMs,
      rebalanceTimeoutMs: this.config.rebalanceTimeoutMs,
      memberId: this.memberId,
      groupInstanceId: this.config.groupInstanceId,
      protocolType: 'consumer',
      protocols: this.config.assignors.map((name) => ({ name, metadata: encodeSubscription(this.topics, owned) })),
    };
    const timeoutMs = this.config.rebalanceTimeoutMs + this.cluster.options.requestTimeoutMs;
    const joined = await connection.request<JoinGroupResponse>('JoinGroup', request, { timeoutMs });
    if (joined.errorCode === 79) {
      // MEMBER_ID_REQUIRED: the coordinator gave us an id to join with.
      this.memberId = joined.memberId;
      throw new KafkaError('MEMBER_ID_REQUIRED', `group ${this.config.groupId}: joining again with member id ${joined.memberId}`, { retriable: true });
    }
    const joinError = errorFromCode(joined.errorCode, `JoinGroup ${this.config.groupId}`);
    if (joinError !== null) throw joinError;
    this.memberId = joined.memberId;
    this.generationId = joined.generationId;
    this.protocolName = joined.protocolName;
    let assignments: { memberId: string; assignment: Buffer }[] = [];
    if (joined.leader === joined.memberId) assignments = await this.lead(joined);
    const synced = await connection
      .request<SyncGroupResponse>(
        'SyncGroup',
        {
          groupId: this.config.groupId,
          generationId: this.generationId,
          memberId: this.memberId,
          groupInstanceId: this.config.groupInstanceId,
          protocolType: 'consumer',
          protocolName: this.protocolName,
          assignments,
        },
        { timeoutMs },
      )
      .catch((error: unknown) => {
        // librdkafka's mock answers a SyncGroup error (a rebalance under way) with a null
        // assignment, which the protocol does not allow: take it as a reason to join again.
        if (error instanceof KafkaError && error.errorName === 'PROTOCOL_VIOLATION') {
          throw new KafkaError('REBALANCE_IN_PROGRESS', `group ${this.config.groupId}: unreadable SyncGroup response (${error.message})`, { retriable: true, cause: error });
        }
        throw error;
      });
    const syncError = errorFromCode(synced.errorCode, `SyncGroup ${this.config.groupId}`);
    if (syncError !== null) throw syncError;
    const assigned = flatten(decodeMemberAssignment(synced.assignment).partitions);
    const assignedKeys = new Set(assigned.map((tp) => tpKey(tp.topic, tp.partition)));
    const revoked = [...this.owned.values()].filter((tp) => !assignedKeys.has(tpKey(tp.topic, tp.partition)));
    const added = assigned.filter((tp) => !this.owned.has(tpKey(tp.topic, tp.partition)));
    this.rejoinNeeded = false;
    this.rebalances++;
    if (revoked.length > 0) {
      await this.revoke(revoked);
      // Cooperative: what we gave up goes to its new owner in the next round.
      if (this.cooperative) this.rejoinNeeded = true;
    }
    for (const tp of added) this.owned.set(tpKey(tp.topic, tp.partition), tp);
    if (added.length > 0) await this.listener.onAssigned(added);
  }

  private async revoke(partitions: TopicPartition[]): Promise<void> {
    for (const tp of partitions) this.owned.delete(tpKey(tp.topic, tp.partition));
    await this.listener.onRevoked(partitions);
  }

  /** As leader: decode every member's subscription and run the chosen assignor. */
  private async lead(joined: JoinGroupResponse): Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor = assignorTable[joined.protocolName as AssignorName];
    if (assignor === undefined) throw new KafkaError('INCONSISTENT_GROUP_PROTOCOL', `group ${this.config.groupId} chose assignor ${joined.protocolName}, which this client does not have`);
    const members = joined.members.map((member) => ({ memberId: member.memberId, subscription: decodeSubscription(member.metadata) }));
    const topics = [...new Set(members.flatMap((member) => member.subscription.topics))];
    await this.cluster.refreshMetadata(topics);
    const counts = new Map<string, number>();
    for (const topic of topics) {
      const info = this.cluster.topics.get(topic);
      if (info !== undefined) counts.set(topic, info.partitions.length);
    }
    const assignment = assignor.assign(members, counts);
    return members.map((member) => ({ memberId: member.memberId, assignment: encodeMemberAssignment(assignment.get(member.memberId) ?? []) }));
  }

  private startHeartbeats(): void {
    this.stopHeartbeats();
    const beat = async (): Promise<void> => {
      this.heartbeatTimer = null;
      if (this.stopped || this.rejoinNeeded) return;
      try {
        const connection = await this.coordinator();
        const response = await connection.request<ErrorCodeResponse>('Heartbeat', {
          groupId: this.config.groupId,
          generationId: this.generationId,
          memberId: this.memberId,
          groupInstanceId: this.config.groupInstanceId,
        });
        const error = errorFromCode(response.errorCode, `Heartbeat ${this.config.groupId}`);
        if (error !== null) throw error;
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof KafkaError && error.errorName === 'FENCED_INSTANCE_ID') {
          this.fatal(error);
          return;
        }
        if (error instanceof KafkaError && (rejoinErrors.has(error.errorName) || coordinatorErrors.has(error.errorName))) {
          if (coordinatorErrors.has(error.errorName)) forgetCoordinator(this.cluster, this.config.groupId);
          if (error.errorName === 'UNKNOWN_MEMBER_ID' || error.errorName === 'ILLEGAL_GENERATION') {
            // Our membership is gone: so are our partitions (lost, not revoked: they may already have a new owner).
            this.resetMember();
            const lost = [...this.owned.values()];
            this.owned.clear();
            if (lost.length > 0) await this.listener.onLost(lost).catch(() => {});
          }
          this.rejoinNeeded = true;
          this.ensureJoined().catch((joinError: unknown) => {
            if (this.failure !== null) return;
            this.failure = joinError instanceof Error ? joinError : new Error(String(joinError));
            this.listener.onFailed(this.failure);
          });
          return;
        }
        this.cluster.options.log('warn', `heartbeat failed: ${(error as Error).message}`);
      }
      if (!this.stopped && !this.rejoinNeeded) this.heartbeatTimer = setTimeout(() => void beat(), this.config.heartbeatIntervalMs);
    };
    this.heartbeatTimer = setTimeout(() => void beat(), this.config.heartbeatIntervalMs);
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  /** Commits offsets for this member's generation; retried when the coordinator moved. */
  async commit(offsets: readonly OffsetToCommit[]): Promise<void> {
    if (offsets.length === 0) return;
    const byTopic = new Map<string, OffsetToCommit[]>();
    for (const offset of offsets) byTopic.set(offset.topic, [...(byTopic.get(offset.topic) ?? []), offset]);
    await this.cluster.withRetries(`OffsetCommit ${this.config.groupId}`, async () => {
      const connection = await this.coordinator();
      const response = await connection.request<OffsetCommitResponse>('OffsetCommit', {
        groupId: this.config.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.config.groupInstanceId,
        retentionTimeMs: -1n,
        topics: [...byTopic].map(([name, list]) => ({
          name,
          partitions: list.map((o) => ({ partitionIndex: o.partition, committedOffset: BigInt(o.offset), committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: o.metadata ?? null })),
        })),
      });
      for (const topic of response.topics) {
        for (const partition of topic.partitions) {
          const error = errorFromCode(partition.errorCode, `commit ${topic.name}[${partition.partitionIndex}] for group ${this.config.groupId}`, { topic: topic.name, partition: partition.partitionIndex });
          if (error === null) continue;
          if (coordinatorErrors.has(error.errorName)) forgetCoordinator(this.cluster, this.config.groupId);
          if (error.errorName === 'FENCED_INSTANCE_ID') throw this.fatal(error);
          if (rejoinErrors.has(error.errorName)) {
            this.rejoinNeeded = true;
            throw new KafkaError(error.errorName, error.message, { retriable: false, topic: topic.name, partition: partition.partitionIndex });
          }
          throw error;
        }
      }
    });
  }

  /** The group's committed offsets (-1 where none). */
  async committed(partitions: readonly TopicPartition[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (partitions.length === 0) return out;
    const response = await this.cluster.withRetries(`OffsetFetch ${this.config.groupId}`, async () => {
      const connection = await this.coordinator();
      const reply = await connection.request<OffsetFetchResponse>('OffsetFetch', {
        groupId: this.config.groupId,
        topics: group(partitions).map(({ topic, partitions: indexes }) => ({ name: topic, partitionIndexes: indexes })),
        requireStable: true,
      });
      const error = errorFromCode(reply.errorCode, `OffsetFetch ${this.config.groupId}`);
      if (error !== null) {
        if (coordinatorErrors.has(error.errorName)) forgetCoordinator(this.cluster, this.config.groupId);
        throw error;
      }
      return reply;
    });
    for (const topic of response.topics) {
      for (const partition of topic.partitions) {
        const error = errorFromCode(partition.errorCode, `committed offset of ${topic.name}[${partition.partitionIndex}]`);
        if (error !== null) throw error;
        out.set(tpKey(topic.name, partition.partitionIndex), Number(partition.committedOffset));
      }
    }
    return out;
  }

  /** Stops heartbeats and joins without leaving: the session timeout ends the membership. */
  stop(): Promise<void> {
    this.stopped = true;
    this.stopHeartbeats();
    return Promise.resolve();
  }

  /**
   * Leaves the group (after the consumer has committed what it wants to). A static member does
   * not send LeaveGroup unless `force` is set: it keeps its place until its session times out,
   * so that a restart with the same instance id gets the same assignment without a rebalance.
   */
  async leave(force = false): Promise<void> {
    this.stopped = true;
    this.stopHeartbeats();
    if (this.memberId === '' || this.failure !== null) return;
    if (this.config.groupInstanceId !== null && !force) return;
    try {
      const connection = await this.coordinator();
      // v3+ names members (with their instance ids); v0-v2 carry only memberId.
      const response = await connection.request<LeaveGroupResponse>('LeaveGroup', {
        groupId: this.config.groupId,
        memberId: this.memberId,
        members: [{ memberId: this.memberId, groupInstanceId: this.config.groupInstanceId }],
      });
      const error = errorFromCode(response.errorCode, `LeaveGroup ${this.config.groupId}`) ?? errorFromCode(response.members?.[0]?.errorCode ?? 0, `LeaveGroup ${this.config.groupId} member ${this.memberId}`);
      if (error !== null) this.cluster.options.log('warn', `${error.message}; the session timeout removes this member instead`);
    } catch {
      // The session timeout removes us anyway.
    }
    this.resetMember();
  }
}
