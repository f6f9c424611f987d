/**
 * Admin: topics (create, delete, list, describe, add partitions), configs, the cluster, and
 * consumer groups (list, describe, delete, committed offsets and resetting them). Topic changes
 * go to the controller; group operations go to the group's coordinator.
 */
import { Cluster, type PartitionInfo } from './cluster.js';
import { KafkaError, errorFromCode, throwIfError } from './errors.js';
import { resolveClientOptions, type ClientOptions } from './options.js';
import { findCoordinator, forgetCoordinator } from './coordinator.js';
import { earliestTimestamp, latestTimestamp, listOffsets } from './offsets.js';
import { decodeMemberAssignment, decodeSubscription } from './group-protocol.js';
import type { Connection } from './connection.js';
import type {
  CreatePartitionsResponse,
  CreateTopicsResponse,
  DeleteGroupsResponse,
  DeleteRecordsResponse,
  IncrementalAlterConfigsResponse,
  DeleteTopicsResponse,
  DescribeConfigsResponse,
  DescribeGroupsResponse,
  ListGroupsResponse,
  OffsetCommitResponse,
  OffsetFetchResponse,
  TopicErrorResult,
} from './wire.js';

export interface NewTopic {
  readonly topic: string;
  /** Default: the broker's num.partitions (-1). */
  readonly numPartitions?: number;
  /** Default: the broker's default.replication.factor (-1). */
  readonly replicationFactor?: number;
  readonly configs?: Readonly<Record<string, string>>;
}

export interface CreateTopicsOptions {
  readonly validateOnly?: boolean;
  /** Do not fail for topics that exist already. */
  readonly ifNotExists?: boolean;
  /** How long the broker may take; default 30 s. */
  readonly timeoutMs?: number;
}

export interface TopicDescription {
  readonly name: string;
  readonly internal: boolean;
  readonly partitions: readonly PartitionInfo[];
}

export type ConfigResourceType = 'topic' | 'broker';

export interface ConfigEntry {
  readonly name: string;
  readonly value: string | null;
  readonly readOnly: boolean;
  readonly isDefault: boolean;
  /** Kafka's config source number (v1+): 1 topic, 4 static broker, 5 default, ...; -1 unknown. */
  readonly source: number;
  readonly sensitive: boolean;
}

export interface ClusterDescription {
  readonly clusterId: string | null;
  readonly controllerId: number;
  readonly brokers: readonly { nodeId: number; host: string; port: number; rack: string | null }[];
}

export interface GroupListing {
  readonly groupId: string;
  readonly protocolType: string;
  readonly state: string;
}

export interface GroupMemberDescription {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  /** Subscribed topics, when the group uses the consumer protocol. */
  readonly topics: readonly string[];
  readonly assignment: readonly { topic: string; partitions: number[] }[];
}

export interface GroupDescription {
  readonly groupId: string;
  readonly state: string;
  readonly protocolType: string;
  readonly protocol: string;
  readonly members: readonly GroupMemberDescription[];
}

export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  /** -1 when the group has committed nothing for the partition. */
  readonly offset: number;
  readonly metadata: string | null;
}

export type OffsetReset = 'earliest' | 'latest' | number;

/** Which offset listOffsets asks for: the log start, the log end, or the first record at or after a time (ms since the epoch). */
export type OffsetSpec = 'earliest' | 'latest' | { readonly timestamp: number };

export interface ListedOffset {
  readonly topic: string;
  readonly partition: number;
  /** -1 for a timestamp after every record of the partition. */
  readonly offset: number;
}

export interface OffsetToAlter {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

const resourceTypes: Record<ConfigResourceType, number> = { topic: 2, broker: 4 };
/** IncrementalAlterConfigs operations. */
const configSet = 0;
const configDelete = 1;

export class Admin {
  private readonly cluster: Cluster;

  constructor(options: ClientOptions) {
    this.cluster = new Cluster(resolveClientOptions(options), { allowAutoTopicCreation: false });
  }

  async connect(): Promise<void> {
    await this.cluster.connect();
  }

  async close(): Promise<void> {
    this.cluster.close();
  }

  async createTopics(topics: readonly NewTopic[], options: CreateTopicsOptions = {}): Promise<void> {
    if (topics.length === 0) return;
    const timeoutMs = options.timeoutMs ?? 30_000;
    const response = await this.cluster.withRetries('CreateTopics', async () => {
      const connection = await this.cluster.controllerConnection();
      const reply = await connection.request<CreateTopicsResponse>(
        'CreateTopics',
        {
          topics: topics.map((topic) => ({
            name: topic.topic,
            numPartitions: topic.numPartitions ?? -1,
            replicationFactor: topic.replicationFactor ?? -1,
            assignments: [],
            configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
          })),
          timeoutMs,
          validateOnly: options.validateOnly ?? false,
        },
        { timeoutMs: timeoutMs + this.cluster.options.requestTimeoutMs },
      );
      throwIfRetriable(reply.topics, 'create topic');
      return reply;
    });
    checkTopicResults(response.topics, 'create topic', options.ifNotExists ? 'TOPIC_ALREADY_EXISTS' : undefined);
    if (!options.validateOnly) await this.cluster.refreshMetadata(topics.map((topic) => topic.topic)).catch(() => {});
  }

  async deleteTopics(names: readonly string[], options: { ifExists?: boolean; timeoutMs?: number } = {}): Promise<void> {
    if (names.length === 0) return;
    const timeoutMs = options.timeoutMs ?? 30_000;
    const response = await this.cluster.withRetries('DeleteTopics', async () => {
      const connection = await this.cluster.controllerConnection();
      const reply = await connection.request<DeleteTopicsResponse>('DeleteTopics', { topicNames: [...names], timeoutMs }, { timeoutMs: timeoutMs + this.cluster.options.requestTimeoutMs });
      throwIfRetriable(reply.responses, 'delete topic', options.ifExists ? 'UNKNOWN_TOPIC_OR_PARTITION' : undefined);
      return reply;
    });
    checkTopicResults(response.responses, 'delete topic', options.ifExists ? 'UNKNOWN_TOPIC_OR_PARTITION' : undefined);
    for (const name of names) this.cluster.forget(name);
  }

  /** Names of the topics, sorted; internal topics only when asked. */
  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    await this.cluster.refreshMetadata('all');
    return [...this.cluster.topics.values()]
      .filter((topic) => options.includeInternal || !topic.internal)
      .map((topic) => topic.name)
      .sort();
  }

  /** Partitions, leaders and replicas of each topic; UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist. */
  async describeTopics(names: readonly string[]): Promise<TopicDescription[]> {
    await this.cluster.refreshMetadata(names);
    return names.map((name) => {
      const code = this.cluster.lastTopicErrors.get(name) ?? 0;
      const topic = this.cluster.topics.get(name);
      if (topic === undefined) {
        throw errorFromCode(code || 3, `describe topic ${name}`, { topic: name }) ?? new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
      }
      return { name, internal: topic.internal, partitions: topic.partitions.filter((p) => p !== undefined) };
    });
  }

  /** Raises each topic's partition count to `count`. */
  async createPartitions(changes: readonly { topic: string; count: number }[], options: { validateOnly?: boolean; timeoutMs?: number } = {}): Promise<void> {
    if (changes.length === 0) return;
    const timeoutMs = options.timeoutMs ?? 30_000;
    const response = await this.cluster.withRetries('CreatePartitions', async () => {
      const connection = await this.cluster.controllerConnection();
      const reply = await connection.request<CreatePartitionsResponse>(
        'CreatePartitions',
        { topics: changes.map((change) => ({ name: change.topic, count: change.count, assignments: null })), timeoutMs, validateOnly: options.validateOnly ?? false },
        { timeoutMs: timeoutMs + this.cluster.options.requestTimeoutMs },
      );
      throwIfRetriable(reply.results, 'create partitions');
      return reply;
    });
    checkTopicResults(response.results, 'create partitions');
    await this.cluster.refreshMetadata(changes.map((change) => change.topic)).catch(() => {});
  }

  /** The configuration of a topic or broker (by node id); all entries, or only `keys`. */
  async describeConfigs(resource: { type: ConfigResourceType; name: string; keys?: readonly string[] }): Promise<ConfigEntry[]> {
    const response = await this.cluster.withRetries('DescribeConfigs', async () => {
      const connection = resource.type === 'broker' ? await this.cluster.connectionTo(Number(resource.name)) : await this.cluster.anyConnection();
      return connection.request<DescribeConfigsResponse>('DescribeConfigs', {
        resources: [{ resourceType: resourceTypes[resource.type], resourceName: resource.name, configurationKeys: resource.keys ? [...resource.keys] : null }],
        includeSynonyms: false,
      });
    });
    const result = response.results[0];
    if (result === undefined) throw new KafkaError('PROTOCOL_VIOLATION', 'DescribeConfigs returned no result');
    throwIfError(result.errorCode, `describe configs of ${resource.type} ${resource.name}`, { message: result.errorMessage });
    return result.configs.map((config) => ({
      name: config.name,
      value: config.value,
      readOnly: config.readOnly,
      isDefault: config.isDefault || config.configSource === 5,
      source: config.configSource,
      sensitive: config.isSensitive,
    }));
  }

  /**
   * Changes configuration entries of a topic or broker (IncrementalAlterConfigs): a string sets
   * the entry, null deletes it (back to its default). Other entries are left as they are.
   */
  async alterConfigs(resource: { type: ConfigResourceType; name: string }, changes: Readonly<Record<string, string | null>>, options: { validateOnly?: boolean } = {}): Promise<void> {
    const entries = Object.entries(changes);
    if (entries.length === 0) return;
    const response = await this.cluster.withRetries('IncrementalAlterConfigs', async () => {
      const connection = resource.type === 'broker' ? await this.cluster.connectionTo(Number(resource.name)) : await this.cluster.controllerConnection();
      return connection.request<IncrementalAlterConfigsResponse>('IncrementalAlterConfigs', {
        resources: [
          {
            resourceType: resourceTypes[resource.type],
            resourceName: resource.name,
            configs: entries.map(([name, value]) => ({ name, configOperation: value === null ? configDelete : configSet, value })),
          },
        ],
        validateOnly: options.validateOnly ?? false,
      });
    });
    for (const result of response.responses) throwIfError(result.errorCode, `alter configs of ${resource.type} ${resource.name}`, { message: result.errorMessage });
  }

  /** Deletes records before `offset` in each partition (DeleteRecords); resolves with the new log start offsets. */
  async deleteRecords(topic: string, offsets: readonly { partition: number; offset: number }[], options: { timeoutMs?: number } = {}): Promise<{ partition: number; lowWatermark: number }[]> {
    await this.cluster.topic(topic);
    const byLeader = new Map<number, { partitionIndex: number; offset: bigint }[]>();
    for (const { partition, offset } of offsets) {
      const leader = this.cluster.leaderOf(topic, partition);
      if (leader < 0) throw new KafkaError('LEADER_NOT_AVAILABLE', `${topic}[${partition}] has no leader`, { topic, partition });
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), { partitionIndex: partition, offset: BigInt(offset) }]);
    }
    const timeoutMs = options.timeoutMs ?? 30_000;
    const out: { partition: number; lowWatermark: number }[] = [];
    for (const [leader, partitions] of byLeader) {
      const connection = await this.cluster.connectionTo(leader);
      const response = await connection.request<DeleteRecordsResponse>('DeleteRecords', { topics: [{ name: topic, partitions }], timeoutMs }, { timeoutMs: timeoutMs + this.cluster.options.requestTimeoutMs });
      for (const t of response.topics) {
        for (const p of t.partitions) {
          throwIfError(p.errorCode, `delete records of ${t.name}[${p.partitionIndex}]`, { topic: t.name, partition: p.partitionIndex });
          out.push({ partition: p.partitionIndex, lowWatermark: Number(p.lowWatermark) });
        }
      }
    }
    return out.sort((a, b) => a.partition - b.partition);
  }

  async describeCluster(): Promise<ClusterDescription> {
    await this.cluster.refreshMetadata();
    return {
      clusterId: this.cluster.clusterId,
      controllerId: this.cluster.controllerId,
      brokers: [...this.cluster.brokers.values()].sort((a, b) => a.nodeId - b.nodeId),
    };
  }

  /** Groups known to every broker (ListGroups is answered per broker). */
  async listGroups(): Promise<GroupListing[]> {
    await this.cluster.refreshMetadata();
    const groups: GroupListing[] = [];
    for (const nodeId of this.cluster.brokers.keys()) {
      const response = await this.cluster.withRetries('ListGroups', async () => {
        const connection = await this.cluster.connectionTo(nodeId);
        return connection.request<ListGroupsResponse>('ListGroups', { statesFilter: [] });
      });
      throwIfError(response.errorCode, `list groups on broker ${nodeId}`);
      for (const group of response.groups) groups.push({ groupId: group.groupId, protocolType: group.protocolType, state: group.groupState });
    }
    return groups.sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  async describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    const out: GroupDescription[] = [];
    for (const groupId of groupIds) {
      const response = await this.withCoordinator(groupId, (connection) => connection.request<DescribeGroupsResponse>('DescribeGroups', { groups: [groupId] }), (r) => r.groups[0]?.errorCode ?? 0);
      const group = response.groups[0];
      if (group === undefined) throw new KafkaError('PROTOCOL_VIOLATION', `DescribeGroups returned nothing for ${groupId}`);
      throwIfError(group.errorCode, `describe group ${groupId}`);
      const consumer = group.protocolType === 'consumer';
      out.push({
        groupId: group.groupId,
        state: group.groupState,
        protocolType: group.protocolType,
        protocol: group.protocolData,
        members: group.members.map((member) => ({
          memberId: member.memberId,
          groupInstanceId: member.groupInstanceId,
          clientId: member.clientId,
          clientHost: member.clientHost,
          topics: consumer && member.memberMetadata.length > 0 ? safely(() => decodeSubscription(member.memberMetadata).topics, []) : [],
          assignment: consumer && member.memberAssignment.length > 0 ? safely(() => decodeMemberAssignment(member.memberAssignment).partitions, []) : [],
        })),
      });
    }
    return out;
  }

  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    for (const groupId of groupIds) {
      const response = await this.withCoordinator(groupId, (connection) => connection.request<DeleteGroupsResponse>('DeleteGroups', { groupsNames: [groupId] }), (r) => r.results[0]?.errorCode ?? 0);
      const result = response.results[0];
      if (result !== undefined) throwIfError(result.errorCode, `delete group ${groupId}`);
    }
  }

  /** The group's committed offsets: of `topics` (every partition), or of everything it committed. */
  async fetchOffsets(groupId: string, topics?: readonly string[]): Promise<CommittedOffset[]> {
    let request: { name: string; partitionIndexes: number[] }[] | null = null;
    if (topics !== undefined) {
      request = [];
      for (const topic of topics) {
        const info = await this.cluster.topic(topic);
        request.push({ name: topic, partitionIndexes: info.partitions.filter((p) => p !== undefined).map((p) => p.partition) });
      }
    }
    const response = await this.withCoordinator(groupId, (connection) => connection.request<OffsetFetchResponse>('OffsetFetch', { groupId, topics: request, requireStable: false }), (r) => r.errorCode);
    throwIfError(response.errorCode, `fetch offsets of group ${groupId}`);
    const out: CommittedOffset[] = [];
    for (const topic of response.topics) {
      for (const partition of topic.partitions) {
        throwIfError(partition.errorCode, `fetch offset of group ${groupId} for ${topic.name}[${partition.partitionIndex}]`, { topic: topic.name, partition: partition.partitionIndex });
        out.push({ topic: topic.name, partition: partition.partitionIndex, offset: Number(partition.committedOffset), metadata: partition.metadata });
      }
    }
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  /**
   * Sets the group's committed offsets for every partition of `topic` to the earliest or latest
   * offset, or to a given offset. The group must have no active members (the coordinator refuses
   * commits from outside a live generation otherwise).
   */
  async resetOffsets(groupId: string, topic: string, to: OffsetReset): Promise<CommittedOffset[]> {
    const info = await this.cluster.topic(topic);
    const partitions = info.partitions.filter((p) => p !== undefined).map((p) => p.partition);
    let offsets: Map<number, number>;
    if (typeof to === 'number') offsets = new Map(partitions.map((p) => [p, to]));
    else {
      const listed = await this.listOffsets(partitions.map((partition) => ({ topic, partition })), to);
      offsets = new Map(listed.map((entry) => [entry.partition, entry.offset]));
    }
    await this.alterOffsets(groupId, [...offsets].map(([partition, offset]) => ({ topic, partition, offset })));
    return partitions.map((partition) => ({ topic, partition, offset: offsets.get(partition)!, metadata: null }));
  }

  /** The earliest or latest offset of each partition, or the first at or after a timestamp (ListOffsets at each leader). */
  async listOffsets(partitions: readonly { topic: string; partition: number }[], spec: OffsetSpec): Promise<ListedOffset[]> {
    if (partitions.length === 0) return [];
    const timestamp = spec === 'earliest' ? earliestTimestamp : spec === 'latest' ? latestTimestamp : spec.timestamp;
    if (!Number.isSafeInteger(timestamp) || timestamp < -2) throw new RangeError(`listOffsets: a timestamp must be milliseconds since the epoch, got ${timestamp}`);
    return listOffsets(this.cluster, partitions.map(({ topic, partition }) => ({ topic, partition, timestamp })));
  }

  /**
   * Sets the group's committed offsets (OffsetCommit outside any generation, as Kafka's
   * alterConsumerGroupOffsets does). The coordinator accepts it only while the group has no
   * members (UNKNOWN_MEMBER_ID otherwise); partitions not named keep their offsets.
   */
  async alterOffsets(groupId: string, offsets: readonly OffsetToAlter[]): Promise<void> {
    if (offsets.length === 0) return;
    const byTopic = new Map<string, { partitionIndex: number; committedOffset: bigint; committedLeaderEpoch: number; commitTimestamp: bigint; committedMetadata: null }[]>();
    for (const { topic, partition, offset } of offsets) {
      if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`alterOffsets: offset of ${topic}[${partition}] must be a whole number, got ${offset}`);
      const list = byTopic.get(topic) ?? [];
      list.push({ partitionIndex: partition, committedOffset: BigInt(offset), committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: null });
      byTopic.set(topic, list);
    }
    const response = await this.withCoordinator(
      groupId,
      (connection) =>
        connection.request<OffsetCommitResponse>('OffsetCommit', {
          groupId,
          generationId: -1,
          memberId: '',
          groupInstanceId: null,
          retentionTimeMs: -1n,
          topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
        }),
      (r) => r.topics.flatMap((t) => t.partitions).find((p) => p.errorCode !== 0)?.errorCode ?? 0,
    );
    for (const t of response.topics) for (const p of t.partitions) throwIfError(p.errorCode, `alter offset of group ${groupId} for ${t.name}[${p.partitionIndex}]`, { topic: t.name, partition: p.partitionIndex });
  }

  /** Runs a request at the group's coordinator, finding it again when it moved. */
  private withCoordinator<T>(groupId: string, send: (connection: Connection) => Promise<T>, errorCodeOf: (response: T) => number): Promise<T> {
    return this.cluster.withRetries(`group ${groupId}`, async () => {
      const connection = await findCoordinator(this.cluster, groupId);
      const response = await send(connection);
      const code = errorCodeOf(response);
      const error = errorFromCode(code, `group ${groupId}`);
      if (error !== null && error.retriable) {
        if (error.errorName === 'NOT_COORDINATOR' || error.errorName === 'COORDINATOR_NOT_AVAILABLE') forgetCoordinator(this.cluster, groupId);
        throw error;
      }
      return response;
    });
  }
}

function throwIfRetriable(results: readonly TopicErrorResult[], what: string, ignored?: string): void {
  for (const result of results) {
    const error = errorFromCode(result.errorCode, `${what} ${result.name}`, { topic: result.name, message: result.errorMessage ?? null });
    // An unknown topic is retriable in Kafka's table (metadata can lag), but not for a topic admin call.
    if (error !== null && error.retriable && error.errorName !== ignored && error.errorName !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
  }
}

function checkTopicResults(results: readonly TopicErrorResult[], what: string, ignored?: string): void {
  for (const result of results) {
    const error = errorFromCode(result.errorCode, `${what} ${result.name}`, { topic: result.name, message: result.errorMessage ?? null });
    if (error !== null && error.errorName !== ignored) throw error;
  }
}

function safely<T>(decode: () => T, fallback: T): T {
  try {
    return decode();
  } catch {
    return fallback;
  }
}
