/**
 * Helpers for the group coordinator tests: an in-process broker with short group timeouts,
 * members that each have their own connection (a held JoinGroup blocks its connection's later
 * responses, as with real clients), and the consumer protocol's subscription encoding.
 */
import assert from 'node:assert/strict';
import { startBroker, type Broker, type StartBrokerOptions } from '../../../src/index.js';
import { RawClient } from '../../helpers/raw-client.js';
import { Writer } from '../../../src/protocol/writer.js';
import { errorCode, errorName } from '../../../src/protocol/errors.js';
import type { Message } from '../../../src/protocol/codec.js';

export const defaultGroupConfig = {
  'group.min.session.timeout.ms': 50,
  'num.partitions': 3,
};

export async function startGroupBroker(config: Record<string, string | number | boolean> = {}, options: StartBrokerOptions = {}): Promise<Broker> {
  return startBroker({ storage: 'memory', log: () => {}, ...options, config: { ...defaultGroupConfig, ...config } });
}

export function port(broker: Broker): number {
  return broker.listeners.find((l) => l.securityProtocol === 'PLAINTEXT')!.port;
}

export async function connect(broker: Broker): Promise<RawClient> {
  return RawClient.connect({ port: port(broker) });
}

/** Creates topics by asking Metadata for them (auto-creation, num.partitions each). */
export async function createTopics(broker: Broker, ...names: string[]): Promise<void> {
  const client = await connect(broker);
  try {
    const response = await client.request('Metadata', 4, { topics: names.map((name) => ({ name })), allowAutoTopicCreation: true });
    for (const topic of response.topics as { errorCode: number; name: string }[]) assert.equal(topic.errorCode, 0, `creating ${topic.name}`);
  } finally {
    client.close();
  }
}

/** ConsumerProtocolSubscription v0: version, topics, userData. */
export function subscription(topics: string[], version = 0): Buffer {
  const writer = new Writer().int16(version).int32(topics.length);
  for (const topic of topics) writer.string(topic);
  writer.nullableBytes(null);
  if (version >= 1) writer.int32(0);
  if (version >= 2) writer.int32(-1);
  if (version >= 3) writer.nullableString(null);
  return writer.toBuffer();
}

export function name(code: unknown): string {
  return errorName(code as number) ?? String(code);
}

export function assertError(response: Message, expected: string, what = ''): void {
  assert.equal(name(response.errorCode), expected, what);
}

export function code(errorNameText: string): number {
  return errorCode(errorNameText);
}

export interface JoinOptions {
  version?: number;
  groupId?: string;
  memberId?: string;
  groupInstanceId?: string | null;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  protocolType?: string;
  protocols?: { name: string; metadata: Buffer }[];
  topics?: string[];
}

/** One group member on its own connection. */
export class TestMember {
  memberId = '';
  generationId = -1;
  leaderId = '';
  protocolName: string | null = null;
  lastJoin: Message | null = null;

  private constructor(
    readonly client: RawClient,
    readonly groupId: string,
    readonly groupInstanceId: string | null,
  ) {}

  static async connect(broker: Broker, groupId: string, groupInstanceId: string | null = null): Promise<TestMember> {
    return new TestMember(await connect(broker), groupId, groupInstanceId);
  }

  get isLeader(): boolean {
    return this.memberId === this.leaderId;
  }

  /** One JoinGroup request; records the member id, generation and leader it returns. */
  async joinOnce(options: JoinOptions = {}): Promise<Message> {
    const version = options.version ?? 5;
    const response = await this.client.request('JoinGroup', version, {
      groupId: options.groupId ?? this.groupId,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 2000,
      rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 2000,
      memberId: options.memberId ?? this.memberId,
      groupInstanceId: options.groupInstanceId !== undefined ? options.groupInstanceId : this.groupInstanceId,
      protocolType: options.protocolType ?? 'consumer',
      protocols: options.protocols ?? [{ name: 'range', metadata: subscription(options.topics ?? ['orders']) }],
    });
    this.lastJoin = response;
    if (response.memberId !== '') this.memberId = response.memberId as string;
    if (response.errorCode === 0) {
      this.generationId = response.generationId as number;
      this.leaderId = response.leader as string;
      this.protocolName = response.protocolName as string | null;
    }
    return response;
  }

  /** JoinGroup, answering MEMBER_ID_REQUIRED with a second join, as clients do. */
  async join(options: JoinOptions = {}): Promise<Message> {
    const first = await this.joinOnce(options);
    if (first.errorCode !== code('MEMBER_ID_REQUIRED')) return first;
    return this.joinOnce({ ...options, memberId: first.memberId as string });
  }

  async sync(assignments: { memberId: string; assignment: Buffer }[] = [], version = 3, overrides: Message = {}): Promise<Message> {
    return this.client.request('SyncGroup', version, {
      groupId: this.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: this.groupInstanceId,
      protocolType: 'consumer',
      protocolName: this.protocolName,
      assignments,
      ...overrides,
    });
  }

  async heartbeat(version = 3, overrides: Message = {}): Promise<Message> {
    return this.client.request('Heartbeat', version, {
      groupId: this.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: this.groupInstanceId,
      ...overrides,
    });
  }

  async leave(version = 3): Promise<Message> {
    if (version >= 3) return this.client.request('LeaveGroup', version, { groupId: this.groupId, members: [{ memberId: this.memberId, groupInstanceId: this.groupInstanceId }] });
    return this.client.request('LeaveGroup', version, { groupId: this.groupId, memberId: this.memberId });
  }

  async commit(topic: string, partition: number, offset: number, version = 7, overrides: Message = {}): Promise<Message> {
    return this.client.request('OffsetCommit', version, {
      groupId: this.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: this.groupInstanceId,
      retentionTimeMs: -1n,
      topics: [{ name: topic, partitions: [{ partitionIndex: partition, committedOffset: BigInt(offset), committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: null }] }],
      ...overrides,
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Joins every member (concurrently) and returns their JoinGroup responses, in order. */
export async function joinAll(members: TestMember[], options: JoinOptions = {}): Promise<Message[]> {
  return Promise.all(members.map((m) => m.join(options)));
}

/** The leader syncs with one assignment per member (its member id as bytes); the others sync too. Returns SyncGroup responses in order. */
export async function syncAll(members: TestMember[]): Promise<Message[]> {
  const leader = members.find((m) => m.isLeader);
  assert.ok(leader, 'one member leads');
  const assignments = members.map((m) => ({ memberId: m.memberId, assignment: Buffer.from(`assigned:${m.memberId}`) }));
  return Promise.all(members.map((m) => (m === leader ? m.sync(assignments) : m.sync())));
}

/** Joins and syncs until every member is in the same stable generation. */
export async function formGroup(members: TestMember[], options: JoinOptions = {}): Promise<void> {
  const joins = await joinAll(members, options);
  for (const join of joins) assertError(join, 'NONE', 'join');
  const generations = new Set(members.map((m) => m.generationId));
  assert.equal(generations.size, 1, `one generation, got ${[...generations].join(', ')}`);
  const syncs = await syncAll(members);
  for (const sync of syncs) assertError(sync, 'NONE', 'sync');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
