/**
 * Idempotent producers, broker-wide: producer ids and epochs for InitProducerId, and the producer
 * state of each partition for Produce.
 *
 * A partition's state is loaded the first time an idempotent batch arrives for it: from its newest
 * usable snapshot, then by replaying the batch headers of the log after the snapshot (all of the
 * log when there is none). At start-up, before any request, snapshots ahead of their partition's
 * recovered log end are deleted: they counted batches that a crash took back. Snapshots are
 * written for the partitions whose state changed, every `snapshotIntervalMs` and at shutdown.
 * Producers idle for `expirationMs` (producer.id.expiration.ms) are forgotten, checked every
 * `expirationCheckIntervalMs`, and each partition tracks at most `producersPerPartitionMax`.
 * A memory broker keeps all of this in memory only.
 */
import type { Topic, TopicManager } from '../topics.js';
import { EpochTable } from './epoch-table.js';
import { ProducerIdAllocator } from './id-allocator.js';
import { epochExhausted, noProducerEpoch, noProducerId } from './limits.js';
import { replayLog } from './log-replay.js';
import { PartitionProducers } from './partition-producers.js';
import { SnapshotStore, partitionKey, type PartitionKey } from './snapshot-store.js';

export interface ProducerSettings {
  /** The data directory, or null for a memory broker. */
  readonly dataDir: string | null;
  /** producer.id.expiration.ms */
  readonly expirationMs: number;
  /** producer.id.expiration.check.interval.ms */
  readonly expirationCheckIntervalMs: number;
  /** inkwell.producer.state.snapshot.interval.ms */
  readonly snapshotIntervalMs: number;
  /** inkwell.producer.ids.per.partition.max */
  readonly producersPerPartitionMax: number;
}

export type InitProducerIdResult =
  | { readonly producerId: bigint; readonly producerEpoch: number }
  | { readonly error: 'INVALID_REQUEST' | 'COORDINATOR_LOAD_IN_PROGRESS'; readonly reason: string };

interface Tracked {
  readonly topicName: string;
  readonly key: PartitionKey;
  state: PartitionProducers | null;
  loading: Promise<PartitionProducers> | null;
  /** Offset of the snapshot last written for it in this run, or -1. */
  writtenOffset: number;
}

export class Producers {
  private readonly tracked = new Map<string, Tracked>();
  private readonly epochs = new EpochTable();
  private readonly timers: NodeJS.Timeout[] = [];
  private snapshotting: Promise<void> | null = null;
  private closed = false;

  private constructor(
    private readonly settings: ProducerSettings,
    private readonly topics: TopicManager,
    private readonly allocator: ProducerIdAllocator,
    private readonly store: SnapshotStore | null,
    private readonly log: (line: string) => void,
  ) {}

  /** Reads the id reservation, drops snapshots that cannot be used, and starts the timers. */
  static async open(settings: ProducerSettings, topics: TopicManager, log: (line: string) => void): Promise<Producers> {
    const allocator = await ProducerIdAllocator.open(settings.dataDir);
    const store = settings.dataDir === null ? null : await SnapshotStore.open(settings.dataDir);
    const producers = new Producers(settings, topics, allocator, store, log);
    await producers.pruneSnapshots();
    producers.timers.push(setInterval(() => producers.expire(Date.now()), settings.expirationCheckIntervalMs).unref());
    if (store !== null) producers.timers.push(setInterval(() => void producers.snapshotAll(), settings.snapshotIntervalMs).unref());
    return producers;
  }

  /**
   * InitProducerId for a producer without a transactional id: a fresh id with epoch 0, or, when
   * the producer sends an id this broker issued with its epoch, the same id with a higher epoch.
   */
  async initProducerId(producerId: bigint, producerEpoch: number): Promise<InitProducerIdResult> {
    if (producerId === noProducerId && producerEpoch === noProducerEpoch) return this.freshId();
    if (producerId === noProducerId || producerEpoch === noProducerEpoch) {
      return { error: 'INVALID_REQUEST', reason: `producer id ${producerId} and epoch ${producerEpoch} must both be -1 or both be given` };
    }
    if (!this.allocator.issued(producerId) || producerEpoch < 0) return this.freshId();
    const base = Math.max(producerEpoch, this.epochs.highest(producerId) ?? noProducerEpoch);
    if (base >= epochExhausted) return this.freshId();
    this.epochs.observe(producerId, base + 1, Date.now());
    return { producerId, producerEpoch: base + 1 };
  }

  /** The producer state of a partition, at once when loaded, else once loaded (rejects on I/O errors). */
  stateOf(topic: Topic, partition: number): PartitionProducers | Promise<PartitionProducers> {
    const key: PartitionKey = { topicId: topic.id.toString('hex'), partition };
    const id = partitionKey(key);
    let tracked = this.tracked.get(id);
    if (tracked === undefined) {
      tracked = { topicName: topic.name, key, state: null, loading: null, writtenOffset: -1 };
      this.tracked.set(id, tracked);
    }
    if (tracked.state !== null) return tracked.state;
    if (tracked.loading !== null) return tracked.loading;
    const log = topic.partitions[partition]?.log;
    if (log === undefined) throw new Error(`${topic.name} has no partition ${partition}`);
    if (this.store === null) {
      tracked.state = this.newState(log.logEndOffset);
      return tracked.state;
    }
    const entry = tracked;
    entry.loading = this.load(topic, partition, key).then(
      (state) => {
        entry.state = state;
        entry.loading = null;
        return state;
      },
      (error: unknown) => {
        entry.loading = null;
        throw error;
      },
    );
    return entry.loading;
  }

  /** Stops the timers, waits for loads and snapshots under way, and snapshots what changed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled([...this.tracked.values()].map((t) => t.loading));
    await this.snapshotting;
    await this.writeSnapshots();
  }

  /** Forgets idle producers everywhere, and the state of deleted topics (called by the expiration timer). */
  expire(nowMs: number): void {
    void this.forgetDeletedTopics();
    this.epochs.expire(nowMs, this.settings.expirationMs);
    for (const tracked of this.tracked.values()) {
      const expired = tracked.state?.expire(nowMs, this.settings.expirationMs) ?? 0;
      if (expired > 0) this.log(`producer state of ${tracked.topicName}-${tracked.key.partition}: ${expired} producers idle for ${this.settings.expirationMs} ms expired`);
    }
  }

  /** Writes a snapshot of every partition whose state changed; one pass at a time. */
  snapshotAll(): Promise<void> {
    this.snapshotting ??= this.writeSnapshots().finally(() => (this.snapshotting = null));
    return this.snapshotting;
  }

  private async freshId(): Promise<InitProducerIdResult> {
    try {
      const producerId = await this.allocator.allocate();
      this.epochs.observe(producerId, 0, Date.now());
      return { producerId, producerEpoch: 0 };
    } catch (error) {
      this.log(`cannot reserve producer ids: ${(error as Error).message}`);
      return { error: 'COORDINATOR_LOAD_IN_PROGRESS', reason: 'no producer id block could be reserved' };
    }
  }

  private newState(appliedEndOffset: number): PartitionProducers {
    return new PartitionProducers(this.settings.producersPerPartitionMax, appliedEndOffset, (id, epoch) => this.epochs.observe(id, epoch, Date.now()));
  }

  private async load(topic: Topic, partition: number, key: PartitionKey): Promise<PartitionProducers> {
    const log = topic.partitions[partition]!.log;
    const state = this.newState(0);
    let from = log.logStartOffset;
    let source = 'no snapshot';
    for (const offset of this.store!.offsetsOf(key)) {
      if (offset > log.logEndOffset) continue;
      if (offset < log.logStartOffset) {
        // Records after the snapshot were deleted unseen, so it may be stale: start from the log alone.
        source = `snapshot at ${offset} is below the log start offset ${log.logStartOffset}`;
        break;
      }
      try {
        const snapshot = await this.store!.read(key, offset);
        state.restore(snapshot.producers);
        state.appliedEndOffset = offset;
        from = offset;
        source = `snapshot at ${offset}`;
        break;
      } catch (error) {
        this.log(`producer state of ${topic.name}-${partition}: snapshot at ${offset} unusable: ${(error as Error).message}`);
      }
    }
    const nowMs = Date.now();
    const replayed = await replayLog(log, from, state, nowMs);
    state.expire(nowMs, this.settings.expirationMs);
    if (replayed.batches > 0 || state.size > 0) {
      this.log(
        `producer state of ${topic.name}-${partition}: ${state.size} producers (${source}, ${replayed.idempotentBatches} idempotent of ${replayed.batches} batches replayed up to ${replayed.endOffset})`,
      );
    }
    return state;
  }

  /** Drops snapshots of partitions that no longer exist, and those ahead of their partition's log end. */
  private async pruneSnapshots(): Promise<void> {
    if (this.store === null) return;
    const byId = new Map(this.topics.list().map((topic) => [topic.id.toString('hex'), topic]));
    for (const id of this.store.keys()) {
      const dash = id.lastIndexOf('-');
      const key: PartitionKey = { topicId: id.slice(0, dash), partition: Number(id.slice(dash + 1)) };
      const topic = byId.get(key.topicId);
      const log = topic?.partitions[key.partition]?.log;
      if (topic === undefined || log === undefined) {
        await this.store.discard(key);
        continue;
      }
      const end = log.logEndOffset;
      const dropped = await this.store.discard(key, (offset) => offset <= end);
      if (dropped.length > 0) {
        this.log(`producer state of ${topic.name}-${key.partition}: snapshot at ${dropped.join(', ')} is ahead of the recovered log end ${end} and was dropped`);
      }
    }
  }

  /** The log of a tracked partition, or undefined when its topic was deleted (or deleted and created again, with a new id). */
  private logOf(tracked: Tracked) {
    const topic = this.topics.get(tracked.topicName);
    return topic !== undefined && topic.id.toString('hex') === tracked.key.topicId ? topic.partitions[tracked.key.partition]?.log : undefined;
  }

  /** Drops the state (and snapshots) of partitions whose topic is gone. */
  private async forgetDeletedTopics(): Promise<void> {
    for (const [id, tracked] of [...this.tracked]) {
      if (tracked.loading !== null || this.logOf(tracked) !== undefined) continue;
      this.tracked.delete(id);
      await this.store?.discard(tracked.key).catch(() => {});
    }
  }

  private async writeSnapshots(): Promise<void> {
    if (this.store === null) return;
    await this.forgetDeletedTopics();
    for (const tracked of [...this.tracked.values()]) {
      const log = this.logOf(tracked);
      const state = tracked.state;
      if (log === undefined || state === null) continue;
      const offset = Math.max(state.appliedEndOffset, log.logEndOffset);
      if (!state.dirty && offset === tracked.writtenOffset) continue;
      // Taken in one synchronous step, so the snapshot and its offset agree.
      const producers = state.toSnapshot();
      state.dirty = false;
      try {
        await this.store.write(tracked.key, { offset, producers });
        tracked.writtenOffset = offset;
      } catch (error) {
        state.dirty = true;
        this.log(`producer state of ${tracked.topicName}-${tracked.key.partition}: snapshot failed: ${(error as Error).message}`);
      }
    }
  }
}
