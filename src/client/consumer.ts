/**
 * Consumer: reads assigned partitions (`assign`) or, with a groupId, the partitions a consumer
 * group gives it (`subscribe`). Records come from `for await (const record of consumer)` or
 * from `run({ eachBatch })` / `run({ eachRecord })`. Positions advance as records are handed
 * out; with a group they are committed every autoCommitIntervalMs, on rebalance and on close
 * (or by `commit()` when autoCommit is off). read_committed by default.
 *
 * With a groupInstanceId the consumer is a static member (KIP-345): close() does not leave the
 * group (as the Java client), so a restart with the same id within sessionTimeoutMs gets its
 * partitions back without a rebalance. `onRebalance` reports every change of assignment.
 */
import type { AssignorName } from './assignors.js';
import type { ConsumerRecord } from './batch-reader.js';
import { Cluster } from './cluster.js';
import { KafkaError } from './errors.js';
import { Fetcher, partitionKey, type FetchedChunk, type OffsetResetPolicy, type StartOffset } from './fetcher.js';
import { GroupMember, type OffsetToCommit, type TopicPartition } from './group-member.js';
import { earliestTimestamp, latestTimestamp, listOffsets } from './offsets.js';
import { resolveClientOptions, type ClientOptions } from './options.js';

export type { ConsumerRecord, ReceivedHeader } from './batch-reader.js';
export type { StartOffset, OffsetResetPolicy } from './fetcher.js';
export type { TopicPartition, OffsetToCommit } from './group-member.js';

export interface ConsumerOptions extends ClientOptions {
  /** A consumer group: needed for subscribe() and for committing offsets. */
  readonly groupId?: string;
  /** Default 'read_committed': records of aborted transactions are never returned. */
  readonly isolationLevel?: 'read_committed' | 'read_uncommitted';
  /** Where to start when there is no committed offset, or the offset is out of range; default 'latest'. */
  readonly autoOffsetReset?: OffsetResetPolicy;
  /** How long the broker may hold a Fetch for data to arrive; default 500 ms. */
  readonly maxWaitMs?: number;
  readonly minBytes?: number;
  /** Bytes per Fetch response; default 50 MiB. */
  readonly maxBytes?: number;
  /** Bytes per partition per Fetch; default 1 MiB. */
  readonly partitionMaxBytes?: number;
  /** Fetched bytes held before fetching pauses; default 64 MiB. */
  readonly bufferBytesMax?: number;
  /** Check each batch's CRC-32C; default true. */
  readonly checkCrc?: boolean;
  readonly sessionTimeoutMs?: number;
  readonly rebalanceTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** In order of preference; default ['cooperative-sticky', 'range']. */
  readonly assignors?: readonly AssignorName[];
  /** Default true (with a group). */
  readonly autoCommit?: boolean;
  readonly autoCommitIntervalMs?: number;
  /**
   * group.instance.id: makes this consumer a static member of the group (JoinGroup v5+). It
   * keeps its member id across restarts: close() sends no LeaveGroup (unless
   * `close({ leaveGroup: true })`), and a consumer started again with the same id within
   * sessionTimeoutMs takes the same partitions back without a rebalance. Two live consumers
   * with the same id fence each other: the older one fails with FENCED_INSTANCE_ID.
   */
  readonly groupInstanceId?: string;
  /**
   * Called on every change of this member's partitions, before records of assigned partitions
   * are fetched and (for revoked ones) after the automatic commit and before they are dropped.
   * With cooperative-sticky only the partitions that move are revoked. 'lost' means the
   * membership ended (session expired, fenced): the partitions may already have a new owner and
   * nothing was committed. Errors thrown here are logged and otherwise ignored.
   */
  readonly onRebalance?: (event: RebalanceEvent) => Promise<void> | void;
}

export interface RebalanceEvent {
  readonly type: 'assigned' | 'revoked' | 'lost';
  readonly partitions: readonly TopicPartition[];
  /** The generation the change belongs to (for 'assigned', the new one). */
  readonly generationId: number;
  readonly memberId: string;
}

/** This consumer's place in its group, as the Java client's groupMetadata(). */
export interface ConsumerGroupMetadata {
  readonly groupId: string;
  /** -1 while not a member. */
  readonly generationId: number;
  /** '' while not a member. */
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export interface PartitionAssignment {
  readonly topic: string;
  readonly partition: number;
  /** Default: the group's committed offset, else autoOffsetReset. */
  readonly offset?: StartOffset;
}

export interface RecordBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly ConsumerRecord[];
  /** The partition's high watermark when fetched (its end offset). */
  readonly highWatermark: number;
  /** The position after this batch. */
  readonly nextOffset: number;
}

export interface RunHandlers {
  readonly eachBatch?: (batch: RecordBatch) => Promise<void> | void;
  readonly eachRecord?: (record: ConsumerRecord) => Promise<void> | void;
}

interface LoopToken {
  stopped: boolean;
}

function bounded(name: string, value: number | undefined, fallback: number, min: number): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result < min) throw new RangeError(`${name} must be at least ${min}, got ${result}`);
  return result;
}

export class Consumer {
  private readonly cluster: Cluster;
  private readonly fetcher: Fetcher;
  private readonly member: GroupMember | null;
  private readonly autoCommit: boolean;
  private readonly autoCommitIntervalMs: number;
  private readonly autoOffsetReset: OffsetResetPolicy;
  private readonly isolationLevel: number;
  private readonly groupId: string | null;
  private readonly onRebalance: ((event: RebalanceEvent) => Promise<void> | void) | null;
  private autoCommitTimer: NodeJS.Timeout | null = null;
  private readonly committedPositions = new Map<string, number>();
  private loop: LoopToken | null = null;
  private connected: Promise<void> | null = null;
  private subscribed = false;
  private closed = false;

  constructor(options: ConsumerOptions) {
    const client = resolveClientOptions(options);
    this.cluster = new Cluster(client, { allowAutoTopicCreation: false });
    this.autoOffsetReset = options.autoOffsetReset ?? 'latest';
    if (!['earliest', 'latest', 'none'].includes(this.autoOffsetReset)) throw new RangeError(`autoOffsetReset must be earliest, latest or none, got ${String(this.autoOffsetReset)}`);
    const isolation = options.isolationLevel ?? 'read_committed';
    if (isolation !== 'read_committed' && isolation !== 'read_uncommitted') throw new RangeError(`isolationLevel must be read_committed or read_uncommitted, got ${String(isolation)}`);
    this.isolationLevel = isolation === 'read_committed' ? 1 : 0;
    this.fetcher = new Fetcher(this.cluster, {
      maxWaitMs: bounded('maxWaitMs', options.maxWaitMs, 500, 0),
      minBytes: bounded('minBytes', options.minBytes, 1, 0),
      maxBytes: bounded('maxBytes', options.maxBytes, 50 * 1024 * 1024, 1024),
      partitionMaxBytes: bounded('partitionMaxBytes', options.partitionMaxBytes, 1024 * 1024, 1024),
      bufferBytesMax: bounded('bufferBytesMax', options.bufferBytesMax, 64 * 1024 * 1024, 1024),
      readCommitted: isolation === 'read_committed',
      autoOffsetReset: this.autoOffsetReset,
      checkCrc: options.checkCrc ?? true,
    });
    this.autoCommit = options.autoCommit ?? true;
    this.autoCommitIntervalMs = bounded('autoCommitIntervalMs', options.autoCommitIntervalMs, 5000, 1);
    this.groupId = options.groupId ?? null;
    this.onRebalance = options.onRebalance ?? null;
    if (options.groupInstanceId !== undefined && options.groupId === undefined) throw new RangeError('groupInstanceId needs a groupId');
    if (options.groupInstanceId !== undefined && (typeof options.groupInstanceId !== 'string' || options.groupInstanceId.length === 0 || options.groupInstanceId.length > 249 || !/^[A-Za-z0-9._-]+$/.test(options.groupInstanceId))) {
      throw new RangeError(`groupInstanceId must be 1 to 249 of the characters A-Z a-z 0-9 . _ -, got ${JSON.stringify(options.groupInstanceId)}`);
    }
    if (options.groupId !== undefined) {
      if (options.groupId.length === 0) throw new RangeError('groupId may not be empty');
      const sessionTimeoutMs = bounded('sessionTimeoutMs', options.sessionTimeoutMs, 45_000, 1);
      this.member = new GroupMember(
        this.cluster,
        {
          groupId: options.groupId,
          sessionTimeoutMs,
          rebalanceTimeoutMs: bounded('rebalanceTimeoutMs', options.rebalanceTimeoutMs, 60_000, 1),
          heartbeatIntervalMs: bounded('heartbeatIntervalMs', options.heartbeatIntervalMs, Math.min(3000, Math.floor(sessionTimeoutMs / 3)), 1),
          assignors: options.assignors ?? ['cooperative-sticky', 'range'],
          groupInstanceId: options.groupInstanceId ?? null,
        },
        {
          onAssigned: (partitions) => this.onAssigned(partitions),
          onRevoked: (partitions) => this.onRevoked(partitions),
          onLost: (partitions) => this.onLost(partitions),
          // Wake a reader waiting for records: it rethrows the member's failure.
          onFailed: (error) => this.fetcher.interrupt(error),
        },
      );
    } else {
      this.member = null;
    }
  }

  connect(): Promise<void> {
    this.connected ??= this.cluster.connect().catch((error: unknown) => {
      this.connected = null;
      throw error;
    });
    return this.connected;
  }

  /** Reads exactly these partitions (no group membership). */
  async assign(partitions: readonly PartitionAssignment[]): Promise<void> {
    if (this.subscribed) throw new KafkaError('INVALID_REQUEST', 'this consumer is subscribed; assign() and subscribe() do not mix', { retriable: false });
    await this.connect();
    for (const topic of new Set(partitions.map((p) => p.topic))) await this.cluster.topic(topic);
    const wanted = new Set(partitions.map((p) => partitionKey(p.topic, p.partition)));
    for (const state of [...this.fetcher.partitions.values()]) if (!wanted.has(partitionKey(state.topic, state.partition))) this.fetcher.remove(state.topic, state.partition);
    const needCommitted = partitions.filter((p) => p.offset === undefined);
    const committed = this.member !== null ? await this.member.committed(needCommitted) : new Map<string, number>();
    for (const p of partitions) {
      const info = this.cluster.topics.get(p.topic);
      if (info === undefined || p.partition < 0 || p.partition >= info.partitions.length) {
        throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `${p.topic}[${p.partition}] does not exist`, { topic: p.topic, partition: p.partition, retriable: false });
      }
      const start = p.offset ?? this.startFor(committed.get(partitionKey(p.topic, p.partition)) ?? -1, p);
      this.fetcher.add(p.topic, p.partition, start);
    }
    this.startAutoCommit();
  }

  private startFor(committed: number, tp: TopicPartition): StartOffset {
    if (committed >= 0) return committed;
    if (this.autoOffsetReset === 'none') throw new KafkaError('OFFSET_OUT_OF_RANGE', `${tp.topic}[${tp.partition}] has no committed offset and autoOffsetReset is none`, { topic: tp.topic, partition: tp.partition, retriable: false });
    return this.autoOffsetReset;
  }

  /** Joins the group and reads what it assigns; rebalances follow the group. */
  async subscribe(topics: readonly string[]): Promise<void> {
    if (this.member === null) throw new KafkaError('INVALID_GROUP_ID', 'subscribe() needs a groupId', { retriable: false });
    if (topics.length === 0) throw new RangeError('subscribe to at least one topic');
    await this.connect();
    this.subscribed = true;
    await this.member.subscribe(topics);
    this.startAutoCommit();
  }

  private async onAssigned(partitions: TopicPartition[]): Promise<void> {
    const committed = await this.member!.committed(partitions);
    for (const tp of partitions) {
      const offset = committed.get(partitionKey(tp.topic, tp.partition)) ?? -1;
      this.fetcher.add(tp.topic, tp.partition, this.startFor(offset, tp));
      if (offset >= 0) this.committedPositions.set(partitionKey(tp.topic, tp.partition), offset);
    }
    await this.notify('assigned', partitions);
  }

  private async onRevoked(partitions: TopicPartition[]): Promise<void> {
    if (this.autoCommit) await this.commitPositions(partitions).catch((error: unknown) => this.cluster.options.log('warn', `commit on revoke failed: ${(error as Error).message}`));
    await this.notify('revoked', partitions);
    this.drop(partitions);
  }

  private async onLost(partitions: TopicPartition[]): Promise<void> {
    this.drop(partitions);
    await this.notify('lost', partitions);
  }

  private drop(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) {
      this.fetcher.remove(tp.topic, tp.partition);
      this.committedPositions.delete(partitionKey(tp.topic, tp.partition));
    }
  }

  private async notify(type: RebalanceEvent['type'], partitions: readonly TopicPartition[]): Promise<void> {
    if (this.onRebalance === null || partitions.length === 0) return;
    const event: RebalanceEvent = { type, partitions: partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition })), generationId: this.member?.generationId ?? -1, memberId: this.member?.memberId ?? '' };
    try {
      await this.onRebalance(event);
    } catch (error) {
      this.cluster.options.log('warn', `onRebalance (${type}) threw: ${(error as Error).message}`);
    }
  }

  /** The group, generation and member id this consumer has now (null without a groupId). */
  groupMetadata(): ConsumerGroupMetadata | null {
    if (this.member === null || this.groupId === null) return null;
    return { groupId: this.groupId, generationId: this.member.generationId, memberId: this.member.memberId, groupInstanceId: this.member.groupInstanceId };
  }

  /** The partitions this consumer reads now. */
  assignment(): TopicPartition[] {
    return [...this.fetcher.partitions.values()].map((state) => ({ topic: state.topic, partition: state.partition }));
  }

  /** The next offset to be handed out for a partition (-1 while being looked up). */
  position(topic: string, partition: number): number {
    const state = this.fetcher.get(topic, partition);
    if (state === undefined) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}[${partition}] is not assigned to this consumer`, { retriable: false });
    return state.position;
  }

  /** The current end offsets (offset after the last record; the last stable offset under read_committed) of partitions. */
  async endOffsets(partitions: readonly TopicPartition[]): Promise<{ topic: string; partition: number; offset: number }[]> {
    await this.connect();
    return listOffsets(
      this.cluster,
      partitions.map((tp) => ({ ...tp, timestamp: latestTimestamp })),
      this.isolationLevel,
    );
  }

  /** The earliest offsets still in the log. */
  async beginningOffsets(partitions: readonly TopicPartition[]): Promise<{ topic: string; partition: number; offset: number }[]> {
    await this.connect();
    return listOffsets(
      this.cluster,
      partitions.map((tp) => ({ ...tp, timestamp: earliestTimestamp })),
      this.isolationLevel,
    );
  }

  /** Number of partitions of a topic (from metadata). */
  async partitionCount(topic: string): Promise<number> {
    await this.connect();
    return (await this.cluster.topic(topic)).partitions.length;
  }

  seek(topic: string, partition: number, offset: StartOffset): void {
    this.fetcher.seek(topic, partition, offset);
  }

  pause(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.fetcher.pause(tp.topic, tp.partition);
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const tp of partitions) this.fetcher.resume(tp.topic, tp.partition);
  }

  private startLoop(): LoopToken {
    if (this.closed) throw new KafkaError('CLIENT_CLOSED', 'the consumer is closed');
    if (this.loop !== null) throw new KafkaError('INVALID_REQUEST', 'the consumer is already being read (one run() or iterator at a time)', { retriable: false });
    this.loop = { stopped: false };
    return this.loop;
  }

  private endLoop(token: LoopToken): void {
    token.stopped = true;
    if (this.loop === token) this.loop = null;
  }

  private async nextChunk(token: LoopToken): Promise<FetchedChunk | null> {
    if (this.member !== null) {
      if (this.member.failure !== null) throw this.member.failure;
      if (this.subscribed && this.member.needsRejoin) await this.member.ensureJoined();
    }
    return this.fetcher.next(token);
  }

  /** Hands records to `eachBatch` (one partition's fetched records at a time) or `eachRecord`, until stop() or close(). */
  async run(handlers: RunHandlers): Promise<void> {
    if (handlers.eachBatch === undefined && handlers.eachRecord === undefined) throw new TypeError('run() needs eachBatch or eachRecord');
    const token = this.startLoop();
    try {
      while (!token.stopped) {
        const chunk = await this.nextChunk(token);
        if (chunk === null) break;
        const state = chunk.state;
        let handledAll = true;
        if (handlers.eachBatch !== undefined) {
          await handlers.eachBatch({ topic: state.topic, partition: state.partition, records: chunk.records, highWatermark: chunk.highWatermark, nextOffset: chunk.nextOffset });
        } else {
          for (const record of chunk.records) {
            if (chunk.epoch !== state.epoch || token.stopped) {
              handledAll = false;
              break;
            }
            await handlers.eachRecord!(record);
            if (chunk.epoch === state.epoch) state.position = record.offset + 1;
          }
        }
        // A seek, pause or revoke during the handler moved the position itself.
        if (handledAll && chunk.epoch === state.epoch) state.position = chunk.nextOffset;
      }
    } finally {
      this.endLoop(token);
    }
  }

  /** Records one at a time; breaking out of the loop stops reading (the consumer stays open). */
  async *[Symbol.asyncIterator](): AsyncGenerator<ConsumerRecord, void, undefined> {
    const token = this.startLoop();
    try {
      while (!token.stopped) {
        const chunk = await this.nextChunk(token);
        if (chunk === null) return;
        const state = chunk.state;
        for (const record of chunk.records) {
          if (chunk.epoch !== state.epoch) break;
          state.position = record.offset + 1;
          yield record;
          if (token.stopped) return;
        }
        if (chunk.epoch === state.epoch) state.position = chunk.nextOffset;
      }
    } finally {
      this.endLoop(token);
    }
  }

  /** Ends run() or the iterator after the current batch or record. */
  stop(): void {
    if (this.loop !== null) this.loop.stopped = true;
    this.fetcher.wake();
  }

  /** Commits the given offsets, or the current position of every assigned partition. */
  async commit(offsets?: readonly OffsetToCommit[]): Promise<void> {
    if (this.member === null) throw new KafkaError('INVALID_GROUP_ID', 'commit() needs a groupId', { retriable: false });
    if (offsets !== undefined) {
      await this.member.commit(offsets);
      for (const o of offsets) this.committedPositions.set(partitionKey(o.topic, o.partition), o.offset);
      return;
    }
    await this.commitPositions(this.assignment());
  }

  private async commitPositions(partitions: readonly TopicPartition[]): Promise<void> {
    if (this.member === null) return;
    const offsets: OffsetToCommit[] = [];
    for (const tp of partitions) {
      const state = this.fetcher.get(tp.topic, tp.partition);
      if (state === undefined || state.position < 0) continue;
      if (this.committedPositions.get(partitionKey(tp.topic, tp.partition)) === state.position) continue;
      offsets.push({ topic: tp.topic, partition: tp.partition, offset: state.position });
    }
    if (offsets.length === 0) return;
    await this.member.commit(offsets);
    for (const o of offsets) this.committedPositions.set(partitionKey(o.topic, o.partition), o.offset);
  }

  private startAutoCommit(): void {
    if (this.member === null || !this.autoCommit || this.autoCommitTimer !== null) return;
    const tick = (): void => {
      this.autoCommitTimer = setTimeout(() => {
        this.commitPositions(this.assignment())
          .catch((error: unknown) => this.cluster.options.log('warn', `auto commit failed: ${(error as Error).message}`))
          .finally(() => {
            if (!this.closed) tick();
          });
      }, this.autoCommitIntervalMs);
    };
    tick();
  }

  /**
   * Stops reading, commits (auto commit), leaves the group and closes the connections. A static
   * member (groupInstanceId) does not leave unless `leaveGroup` is true: its partitions wait for
   * it to come back until its session times out. `leaveGroup: false` keeps a dynamic member in
   * the group until its session times out too.
   */
  async close(options: { leaveGroup?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    if (this.autoCommitTimer !== null) clearTimeout(this.autoCommitTimer);
    if (this.member !== null) {
      if (this.autoCommit && this.member.failure === null) await this.commitPositions(this.assignment()).catch(() => {});
      const leave = options.leaveGroup ?? this.member.groupInstanceId === null;
      if (this.subscribed) {
        if (leave) await this.member.leave(true);
        else await this.member.stop();
      }
    }
    this.fetcher.stop();
    this.cluster.close();
  }
}
