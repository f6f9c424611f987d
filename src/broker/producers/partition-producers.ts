/**
 * The idempotent producers of one partition: for each producer id, its epoch and its last few
 * batches (sequence range and offsets). A produce request is checked against this state before
 * anything is appended, in Kafka's order (ProducerStateEntry / ProducerAppendInfo):
 *
 *   1. a batch with the current epoch and exactly the sequence range of a remembered batch is a
 *      retry: nothing is appended and the original offsets are answered, with no error;
 *   2. an epoch older than the producer's is INVALID_PRODUCER_EPOCH;
 *   3. a newer epoch must start at sequence 0, and within an epoch each batch must follow the last
 *      one without a gap, else OUT_OF_ORDER_SEQUENCE_NUMBER;
 *   4. a producer id the partition has no state for may start at any sequence (Kafka since 2.5,
 *      KIP-360: state can be gone after expiry, and UNKNOWN_PRODUCER_ID is no longer returned).
 *
 * Checking, appending and committing happen in one synchronous run on the event loop, so no
 * other request can come in between.
 */
import { batchesRetained } from './limits.js';
import { followsSequence, lastSequenceOf } from './sequence.js';

/** A batch remembered for a producer. */
export interface RememberedBatch {
  readonly firstSequence: number;
  readonly lastSequence: number;
  firstOffset: number;
  lastOffset: number;
  /**
   * Settles when the original append may be acknowledged; a retry answered from this batch waits
   * for it too. Absent for batches loaded from a snapshot or the log (they are on disk already).
   */
  settled?: Promise<void>;
}

export interface ProducerEntry {
  readonly producerId: bigint;
  epoch: number;
  /** Oldest first, at most batchesRetained, all of `epoch`. */
  batches: RememberedBatch[];
  /** Broker time of the producer's last append here (for producer.id.expiration.ms). */
  lastSeenMs: number;
}

/** What the broker needs to know of an incoming batch (read from its header). */
export interface IncomingBatch {
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly recordCount: number;
}

/** Where a batch landed in the log. */
export interface AppendedBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly settled: Promise<void>;
}

export type RefusalError = 'OUT_OF_ORDER_SEQUENCE_NUMBER' | 'INVALID_PRODUCER_EPOCH' | 'INVALID_RECORD';

export type ProducePlan =
  | { readonly kind: 'append'; readonly commit: (appended: readonly (AppendedBatch | null)[]) => void }
  | { readonly kind: 'duplicate'; readonly batch: RememberedBatch }
  | { readonly kind: 'refused'; readonly error: RefusalError; readonly reason: string };

/** Called when a producer's epoch becomes known or changes here (the broker-wide epoch table listens). */
export type EpochObserver = (producerId: bigint, epoch: number) => void;

export interface SnapshotProducer {
  readonly id: string;
  readonly epoch: number;
  readonly lastSeenMs: number;
  /** [firstSequence, lastSequence, firstOffset, lastOffset] per remembered batch, oldest first. */
  readonly batches: readonly (readonly [number, number, number, number])[];
}

export class PartitionProducers {
  /** By producer id, least recently active first (an append moves the entry to the end). */
  private readonly entries = new Map<bigint, ProducerEntry>();
  /** The offset after the last batch this state accounts for (snapshots are named by it). */
  appliedEndOffset: number;
  /** Changed since the last snapshot. */
  dirty = false;

  constructor(
    readonly producersMax: number,
    appliedEndOffset: number,
    private readonly onEpoch: EpochObserver = () => {},
  ) {
    this.appliedEndOffset = appliedEndOffset;
  }

  get size(): number {
    return this.entries.size;
  }

  entry(producerId: bigint): Readonly<ProducerEntry> | undefined {
    return this.entries.get(producerId);
  }

  /**
   * Checks the batches of one produce request (non-idempotent ones, producer id -1, are passed
   * over) and says what to do: append them and then commit, answer a retry, or refuse.
   */
  plan(batches: readonly IncomingBatch[], nowMs: number): ProducePlan {
    const working = new Map<bigint, ProducerEntry>();
    const pending: { entry: ProducerEntry; batch: RememberedBatch; index: number }[] = [];
    for (let index = 0; index < batches.length; index++) {
      const incoming = batches[index]!;
      if (incoming.producerId < 0n) continue;
      if (incoming.baseSequence < 0) {
        return refuse('INVALID_RECORD', `batch ${index} has producer id ${incoming.producerId} but no sequence number (${incoming.baseSequence})`);
      }
      const current = working.get(incoming.producerId) ?? this.entries.get(incoming.producerId);
      const lastSequence = lastSequenceOf(incoming.baseSequence, incoming.recordCount);
      if (current !== undefined && current.epoch === incoming.producerEpoch) {
        const original = current.batches.find((b) => b.firstSequence === incoming.baseSequence && b.lastSequence === lastSequence);
        if (original !== undefined && original.firstOffset >= 0) return { kind: 'duplicate', batch: original };
      }
      const problem = sequenceProblem(current, incoming);
      if (problem !== null) return problem;
      const next: ProducerEntry = current === undefined
        ? { producerId: incoming.producerId, epoch: incoming.producerEpoch, batches: [], lastSeenMs: nowMs }
        : working.has(incoming.producerId)
          ? current
          : { ...current, batches: [...current.batches] };
      if (next.epoch !== incoming.producerEpoch) {
        next.epoch = incoming.producerEpoch;
        next.batches = [];
      }
      const batch: RememberedBatch = { firstSequence: incoming.baseSequence, lastSequence, firstOffset: -1, lastOffset: -1 };
      next.batches.push(batch);
      if (next.batches.length > batchesRetained) next.batches.splice(0, next.batches.length - batchesRetained);
      working.set(incoming.producerId, next);
      pending.push({ entry: next, batch, index });
    }
    return {
      kind: 'append',
      commit: (appended) => {
        for (const { entry, batch, index } of pending) {
          const where = appended[index];
          if (!where) throw new Error(`batch ${index} was planned but not appended`);
          batch.firstOffset = where.baseOffset;
          batch.lastOffset = where.lastOffset;
          batch.settled = where.settled;
          // A batch that never became durable was cut from the log again: what this state says of
          // its producer is then wrong, so the producer is forgotten (its next batch is accepted
          // whatever its sequence, as after expiry) rather than answered with offsets that are gone.
          where.settled.catch(() => this.forget(entry.producerId, batch));
          this.appliedEndOffset = Math.max(this.appliedEndOffset, where.lastOffset + 1);
        }
        for (const entry of working.values()) {
          entry.lastSeenMs = nowMs;
          const before = this.entries.get(entry.producerId);
          this.install(entry);
          if (before === undefined || before.epoch !== entry.epoch) this.onEpoch(entry.producerId, entry.epoch);
        }
        if (working.size > 0) this.dirty = true;
      },
    };
  }

  /**
   * Applies a batch read back from the log (rebuilding state after a restart): no checks, a
   * newer epoch starts the producer's batches afresh, an older one is passed over.
   */
  replay(incoming: IncomingBatch, baseOffset: number, lastOffset: number, timestampMs: number): void {
    this.appliedEndOffset = Math.max(this.appliedEndOffset, lastOffset + 1);
    if (incoming.producerId < 0n) return;
    let entry = this.entries.get(incoming.producerId);
    if (entry !== undefined && incoming.producerEpoch < entry.epoch) return;
    if (entry === undefined) {
      entry = { producerId: incoming.producerId, epoch: incoming.producerEpoch, batches: [], lastSeenMs: timestampMs };
      this.onEpoch(entry.producerId, entry.epoch);
    } else if (incoming.producerEpoch > entry.epoch) {
      entry.epoch = incoming.producerEpoch;
      entry.batches = [];
      this.onEpoch(entry.producerId, entry.epoch);
    }
    entry.batches.push({ firstSequence: incoming.baseSequence, lastSequence: lastSequenceOf(incoming.baseSequence, incoming.recordCount), firstOffset: baseOffset, lastOffset });
    if (entry.batches.length > batchesRetained) entry.batches.shift();
    entry.lastSeenMs = Math.max(entry.lastSeenMs, timestampMs);
    this.install(entry);
    this.dirty = true;
  }

  /** Forgets a producer whose remembered batches include `batch`. */
  private forget(producerId: bigint, batch: RememberedBatch): void {
    if (!this.entries.get(producerId)?.batches.includes(batch)) return;
    this.entries.delete(producerId);
    this.dirty = true;
  }

  /** Forgets producers idle for `expirationMs` or longer; returns how many. */
  expire(nowMs: number, expirationMs: number): number {
    let expired = 0;
    for (const [id, entry] of this.entries) {
      if (nowMs - entry.lastSeenMs >= expirationMs) {
        this.entries.delete(id);
        expired++;
      }
    }
    if (expired > 0) this.dirty = true;
    return expired;
  }

  toSnapshot(): SnapshotProducer[] {
    return [...this.entries.values()].map((entry) => ({
      id: entry.producerId.toString(),
      epoch: entry.epoch,
      lastSeenMs: entry.lastSeenMs,
      batches: entry.batches.map((b) => [b.firstSequence, b.lastSequence, b.firstOffset, b.lastOffset] as const),
    }));
  }

  /** Restores producers from a snapshot (before any replay or produce). */
  restore(producers: readonly SnapshotProducer[]): void {
    for (const saved of producers) {
      const entry: ProducerEntry = {
        producerId: BigInt(saved.id),
        epoch: saved.epoch,
        lastSeenMs: saved.lastSeenMs,
        batches: saved.batches.slice(-batchesRetained).map(([firstSequence, lastSequence, firstOffset, lastOffset]) => ({ firstSequence, lastSequence, firstOffset, lastOffset })),
      };
      this.install(entry);
      this.onEpoch(entry.producerId, entry.epoch);
    }
  }

  /** Puts the entry last (most recently active) and evicts the least recently active beyond the bound. */
  private install(entry: ProducerEntry): void {
    this.entries.delete(entry.producerId);
    this.entries.set(entry.producerId, entry);
    while (this.entries.size > this.producersMax) {
      const oldest = this.entries.keys().next().value as bigint;
      this.entries.delete(oldest);
      this.dirty = true;
    }
  }
}

function refuse(error: RefusalError, reason: string): ProducePlan {
  return { kind: 'refused', error, reason };
}

/** Kafka's epoch and sequence checks for a batch that is not a retry; null when it may be appended. */
function sequenceProblem(current: ProducerEntry | undefined, incoming: IncomingBatch): ProducePlan | null {
  if (current === undefined) return null;
  const producer = `producer ${incoming.producerId}`;
  if (incoming.producerEpoch < current.epoch) {
    return refuse('INVALID_PRODUCER_EPOCH', `${producer} sent epoch ${incoming.producerEpoch}, older than its current epoch ${current.epoch}`);
  }
  if (incoming.producerEpoch !== current.epoch) {
    if (incoming.baseSequence !== 0 && current.epoch >= 0) {
      return refuse('OUT_OF_ORDER_SEQUENCE_NUMBER', `${producer} started epoch ${incoming.producerEpoch} at sequence ${incoming.baseSequence}; a new epoch starts at 0`);
    }
    return null;
  }
  const last = current.batches.at(-1)?.lastSequence ?? -1;
  if (!followsSequence(last, incoming.baseSequence)) {
    return refuse('OUT_OF_ORDER_SEQUENCE_NUMBER', `${producer} epoch ${incoming.producerEpoch} sent sequence ${incoming.baseSequence}, expected ${last === -1 ? 0 : followingSequence(last)}`);
  }
  return null;
}

function followingSequence(last: number): number {
  return followsSequence(last, 0) ? 0 : last + 1;
}
