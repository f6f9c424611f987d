/**
 * Fetching for a consumer: the position of every assigned partition, one long-poll Fetch at a
 * time per leader broker (on its own connection, so group traffic never queues behind it), and
 * a bounded queue of fetched chunks (one partition's records from one response) waiting to be
 * handed to the application. Seeking, pausing or revoking a partition bumps its epoch, so
 * chunks fetched before are dropped instead of delivered. Partitions whose position is unknown
 * or out of range are resolved with ListOffsets per the reset policy.
 */
import { decodeRecords, type ConsumerRecord } from './batch-reader.js';
import type { Cluster } from './cluster.js';
import { errorMeansStaleMetadata } from './cluster.js';
import { KafkaError, errorFromCode } from './errors.js';
import { listOffsets, earliestTimestamp, latestTimestamp } from './offsets.js';
import { backoffMs } from './options.js';
import type { FetchResponse, FetchResponsePartition } from './wire.js';

export type OffsetResetPolicy = 'earliest' | 'latest' | 'none';

/** Where to start: an offset, or the earliest or latest one. */
export type StartOffset = number | 'earliest' | 'latest';

export interface FetchConfig {
  readonly maxWaitMs: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly partitionMaxBytes: number;
  /** Bytes of fetched records held for the application before fetching pauses. */
  readonly bufferBytesMax: number;
  readonly readCommitted: boolean;
  readonly autoOffsetReset: OffsetResetPolicy;
  readonly checkCrc: boolean;
}

export class PartitionState {
  /** The next offset to fetch. */
  fetchOffset = -1;
  /** The next offset to hand to the application (what a commit records). */
  position = -1;
  paused = false;
  /** Bumped on seek, pause and revoke: fetched data of an older epoch is dropped. */
  epoch = 0;
  highWatermark = -1;
  /** A position to find with ListOffsets before fetching. */
  pendingReset: 'earliest' | 'latest' | null = null;
  fetching = false;
  /** No fetch before this time (after a retriable error). */
  retryAtMs = 0;
  failures = 0;
  removed = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
}

export interface FetchedChunk {
  readonly state: PartitionState;
  readonly epoch: number;
  readonly records: ConsumerRecord[];
  /** The position after this chunk (past skipped control batches too). */
  readonly nextOffset: number;
  readonly highWatermark: number;
  readonly bytes: number;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class Fetcher {
  readonly partitions = new Map<string, PartitionState>();
  private readonly chunks: FetchedChunk[] = [];
  private chunksHead = 0;
  private bufferedBytes = 0;
  private readonly busyLeaders = new Set<number>();
  private readonly chunkWaiters: (() => void)[] = [];
  private failure: Error | null = null;
  private resetting = false;
  private scheduleTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly config: FetchConfig,
  ) {}

  add(topic: string, partition: number, start: StartOffset): PartitionState {
    const key = partitionKey(topic, partition);
    let state = this.partitions.get(key);
    if (state === undefined) {
      state = new PartitionState(topic, partition);
      this.partitions.set(key, state);
    }
    this.seekState(state, start);
    return state;
  }

  private scheduled = false;

  /** schedule() once the current synchronous work is done, so partitions added in a loop go out together. */
  private scheduleSoon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.schedule();
    });
  }

  remove(topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    const state = this.partitions.get(key);
    if (state === undefined) return;
    state.removed = true;
    state.epoch++;
    this.partitions.delete(key);
  }

  get(topic: string, partition: number): PartitionState | undefined {
    return this.partitions.get(partitionKey(topic, partition));
  }

  seek(topic: string, partition: number, start: StartOffset): void {
    const state = this.get(topic, partition);
    if (state === undefined) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}[${partition}] is not assigned to this consumer`, { topic, partition, retriable: false });
    this.seekState(state, start);
  }

  private seekState(state: PartitionState, start: StartOffset): void {
    state.epoch++;
    state.failures = 0;
    state.retryAtMs = 0;
    if (typeof start === 'number') {
      if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`offset must be a whole number of at least 0, or 'earliest' or 'latest', got ${start}`);
      state.fetchOffset = start;
      state.position = start;
      state.pendingReset = null;
    } else {
      state.fetchOffset = -1;
      state.position = -1;
      state.pendingReset = start;
    }
    this.scheduleSoon();
  }

  pause(topic: string, partition: number): void {
    const state = this.get(topic, partition);
    if (state === undefined || state.paused) return;
    state.paused = true;
    // Drop what was fetched ahead; fetching resumes from the delivered position.
    state.epoch++;
    if (state.position >= 0) state.fetchOffset = state.position;
  }

  resume(topic: string, partition: number): void {
    const state = this.get(topic, partition);
    if (state === undefined || !state.paused) return;
    state.paused = false;
    this.scheduleSoon();
  }

  stop(): void {
    this.stopped = true;
    if (this.scheduleTimer !== null) clearTimeout(this.scheduleTimer);
    this.wake();
  }

  /** The next chunk to deliver; waits for one. Throws a fetch failure (once) if one happened. */
  async next(signal?: { stopped: boolean }): Promise<FetchedChunk | null> {
    for (;;) {
      if (this.failure !== null) {
        const failure = this.failure;
        this.failure = null;
        throw failure;
      }
      if (this.stopped || signal?.stopped) return null;
      while (this.chunksHead < this.chunks.length) {
        const chunk = this.chunks[this.chunksHead]!;
        this.chunks[this.chunksHead] = undefined as unknown as FetchedChunk;
        this.chunksHead++;
        this.bufferedBytes -= chunk.bytes;
        if (this.chunksHead > 256 && this.chunksHead * 2 > this.chunks.length) {
          this.chunks.splice(0, this.chunksHead);
          this.chunksHead = 0;
        }
        this.schedule();
        const state = chunk.state;
        if (state.removed || state.paused || chunk.epoch !== state.epoch) continue;
        return chunk;
      }
      this.schedule();
      await new Promise<void>((resolve) => this.chunkWaiters.push(resolve));
    }
  }

  /** Makes the next (or a waiting) next() throw `error` once. */
  interrupt(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  /** Wakes whoever waits in next() (after stop(), or when a run is being stopped). */
  wake(): void {
    for (const wake of this.chunkWaiters.splice(0)) wake();
  }

  /** Starts fetches for every leader with fetchable partitions and no fetch on the wire. */
  schedule(): void {
    if (this.stopped) return;
    const now = Date.now();
    const needsReset: PartitionState[] = [];
    const byLeader = new Map<number, PartitionState[]>();
    let nextRetryMs = Infinity;
    let leaderMissing = false;
    for (const state of this.partitions.values()) {
      if (state.paused || state.fetching) continue;
      if (state.retryAtMs > now) {
        nextRetryMs = Math.min(nextRetryMs, state.retryAtMs);
        continue;
      }
      if (state.pendingReset !== null) {
        needsReset.push(state);
        continue;
      }
      const leader = this.cluster.leaderOf(state.topic, state.partition);
      if (leader < 0) {
        leaderMissing = true;
        continue;
      }
      if (this.busyLeaders.has(leader)) continue;
      let list = byLeader.get(leader);
      if (list === undefined) {
        list = [];
        byLeader.set(leader, list);
      }
      list.push(state);
    }
    if (needsReset.length > 0) void this.resolveResets(needsReset);
    if (this.bufferedBytes < this.config.bufferBytesMax) {
      for (const [leader, states] of byLeader) void this.fetchFrom(leader, states);
    }
    if (leaderMissing) nextRetryMs = Math.min(nextRetryMs, now + this.cluster.options.retryBackoffMs);
    if (leaderMissing || this.cluster.stale) void this.cluster.refreshMetadata([...new Set([...this.partitions.values()].map((s) => s.topic))]).catch(() => {});
    if (nextRetryMs !== Infinity && this.scheduleTimer === null) {
      this.scheduleTimer = setTimeout(
        () => {
          this.scheduleTimer = null;
          this.schedule();
        },
        Math.max(1, nextRetryMs - now),
      );
    }
  }

  private async resolveResets(states: PartitionState[]): Promise<void> {
    if (this.resetting) return;
    this.resetting = true;
    const epochs = states.map((state) => state.epoch);
    try {
      for (const state of states) {
        if (state.pendingReset === null) continue;
        await this.cluster.topic(state.topic);
      }
      const answers = await listOffsets(
        this.cluster,
        states.map((state) => ({ topic: state.topic, partition: state.partition, timestamp: state.pendingReset === 'earliest' ? earliestTimestamp : latestTimestamp })),
        this.config.readCommitted ? 1 : 0,
      );
      answers.forEach((answer, i) => {
        const state = states[i]!;
        if (state.epoch !== epochs[i] || state.removed) return;
        state.fetchOffset = answer.offset;
        state.position = answer.offset;
        state.pendingReset = null;
      });
    } catch (error) {
      if (error instanceof KafkaError && error.retriable) {
        for (const state of states) state.retryAtMs = Date.now() + backoffMs(++state.failures, this.cluster.options.retryBackoffMs, this.cluster.options.retryBackoffMsMax);
      } else {
        this.fail(error);
      }
    } finally {
      this.resetting = false;
      this.schedule();
    }
  }

  private fail(error: unknown): void {
    this.failure = error instanceof Error ? error : new Error(String(error));
    this.wake();
  }

  private async fetchFrom(leader: number, states: PartitionState[]): Promise<void> {
    this.busyLeaders.add(leader);
    const epochs = states.map((state) => state.epoch);
    const offsets = states.map((state) => state.fetchOffset);
    for (const state of states) state.fetching = true;
    let response: FetchResponse | null = null;
    try {
      const connection = await this.cluster.connectionTo(leader, 'fetch');
      const topics = new Map<string, { partition: number; currentLeaderEpoch: number; fetchOffset: bigint; logStartOffset: bigint; partitionMaxBytes: number }[]>();
      for (const state of states) {
        let partitions = topics.get(state.topic);
        if (partitions === undefined) {
          partitions = [];
          topics.set(state.topic, partitions);
        }
        partitions.push({ partition: state.partition, currentLeaderEpoch: -1, fetchOffset: BigInt(state.fetchOffset), logStartOffset: -1n, partitionMaxBytes: this.config.partitionMaxBytes });
      }
      response = await connection.request<FetchResponse>(
        'Fetch',
        {
          replicaId: -1,
          maxWaitMs: this.config.maxWaitMs,
          minBytes: this.config.minBytes,
          maxBytes: this.config.maxBytes,
          isolationLevel: this.config.readCommitted ? 1 : 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
          forgottenTopicsData: [],
          rackId: '',
        },
        { timeoutMs: this.cluster.options.requestTimeoutMs + this.config.maxWaitMs },
      );
      const top = errorFromCode(response.errorCode, `Fetch from broker ${leader}`);
      if (top !== null) throw top;
      const results = new Map<string, FetchResponsePartition>();
      for (const topic of response.responses) for (const p of topic.partitions) results.set(partitionKey(topic.topic, p.partitionIndex), p);
      for (let i = 0; i < states.length; i++) {
        const state = states[i]!;
        state.fetching = false;
        if (state.removed || state.epoch !== epochs[i]) continue;
        const result = results.get(partitionKey(state.topic, state.partition));
        if (result === undefined) continue;
        await this.handlePartition(state, epochs[i]!, offsets[i]!, result);
      }
    } catch (error) {
      if (error instanceof KafkaError && error.retriable) {
        for (const state of states) state.retryAtMs = Date.now() + backoffMs(++state.failures, this.cluster.options.retryBackoffMs, this.cluster.options.retryBackoffMsMax);
        if (errorMeansStaleMetadata(error)) void this.cluster.refreshMetadata().catch(() => {});
      } else if (!this.stopped && !(error instanceof KafkaError && error.errorName === 'CLIENT_CLOSED')) {
        this.fail(error);
      }
    } finally {
      for (const state of states) state.fetching = false;
      this.busyLeaders.delete(leader);
      this.schedule();
    }
  }

  private async handlePartition(state: PartitionState, epoch: number, fetchOffset: number, result: FetchResponsePartition): Promise<void> {
    const where = `${state.topic}[${state.partition}]`;
    const error = errorFromCode(result.errorCode, `fetch ${where} at offset ${fetchOffset}`, { topic: state.topic, partition: state.partition });
    if (error !== null) {
      if (error.errorName === 'OFFSET_OUT_OF_RANGE' && this.config.autoOffsetReset !== 'none') {
        state.pendingReset = this.config.autoOffsetReset;
        state.epoch++;
        return;
      }
      if (error.retriable) {
        state.retryAtMs = Date.now() + backoffMs(++state.failures, this.cluster.options.retryBackoffMs, this.cluster.options.retryBackoffMsMax);
        if (errorMeansStaleMetadata(error)) void this.cluster.refreshMetadata([state.topic]).catch(() => {});
        return;
      }
      throw error;
    }
    state.failures = 0;
    state.highWatermark = Number(result.highWatermark);
    const data = result.records;
    if (data === null || data.length === 0) return;
    const decoded = await decodeRecords(data, {
      topic: state.topic,
      partition: state.partition,
      fetchOffset,
      aborted: this.config.readCommitted ? (result.abortedTransactions ?? []) : null,
      checkCrc: this.config.checkCrc,
    });
    if (state.removed || state.epoch !== epoch) return;
    state.fetchOffset = decoded.nextOffset;
    if (decoded.records.length === 0) {
      // Only control batches or aborted data: move the position past them too.
      if (state.position === fetchOffset) state.position = decoded.nextOffset;
      return;
    }
    this.chunks.push({ state, epoch, records: decoded.records, nextOffset: decoded.nextOffset, highWatermark: state.highWatermark, bytes: data.length });
    this.bufferedBytes += data.length;
    this.wake();
  }
}
