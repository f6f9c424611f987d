/**
 * A producer's unit of work: records for one partition, built into one batch, sent in one
 * Produce request (and again on a retriable failure), and acknowledged together. Each record
 * keeps its own delivery callbacks, resolved with the offset the broker gave it.
 */
import { BatchBuilder } from './batch-builder.js';
import type { KafkaError } from './errors.js';

export interface RecordMetadata {
  readonly topic: string;
  readonly partition: number;
  /** The record's offset; -1 with acks=0, or when a retry found the batch already written. */
  readonly offset: number;
}

export type Resolve = (metadata: RecordMetadata) => void;
export type Reject = (error: Error) => void;

export class ProducerBatch {
  readonly builder: BatchBuilder;
  private readonly resolvers: Resolve[] = [];
  private readonly rejecters: Reject[] = [];
  /** The sealed bytes (header written, compressed when configured); null until sealed. */
  bytes: Buffer | null = null;
  /** Sends so far. */
  attempts = 0;
  /** Not to be sent again before this time (after a retriable failure). */
  retryAtMs = 0;
  /** The idempotent sequence of the first record; -1 until assigned at the first send. */
  baseSequence = -1;
  /** Bytes of the producer's buffer this batch holds until it completes. */
  accountedBytes = 0;
  lastError: KafkaError | null = null;
  done = false;
  /** Its bytes have left the producer's buffer. */
  released = false;
  /** The producer id, epoch and sequence (or -1s) and the CRC are written into `bytes`. */
  stamped = false;
  private doneWaiters: (() => void)[] | null = null;
  /** Split: the batch whose records this one carries (it is done when all its parts are). */
  private parent: ProducerBatch | null = null;
  private partsPending = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
    limitBytes: number,
    readonly createdAtMs: number,
  ) {
    this.builder = new BatchBuilder(limitBytes);
  }

  get recordCount(): number {
    return this.builder.count;
  }

  addCallbacks(resolve: Resolve, reject: Reject): void {
    this.resolvers.push(resolve);
    this.rejecters.push(reject);
  }

  /** Resolves when the batch is acknowledged or has failed for good. */
  whenDone(): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((resolve) => (this.doneWaiters ??= []).push(resolve));
  }

  private settle(): void {
    this.done = true;
    for (const waiter of this.doneWaiters ?? []) waiter();
    this.doneWaiters = null;
    const parent = this.parent;
    if (parent !== null && --parent.partsPending === 0) parent.settle();
  }

  /**
   * Splitting: hands the callbacks of records [from, to) to `part`, which carries those
   * records from now on. This batch settles (for whenDone) once every part has.
   */
  delegate(part: ProducerBatch, from: number, to: number): void {
    for (let i = from; i < to; i++) part.addCallbacks(this.resolvers[i]!, this.rejecters[i]!);
    part.parent = this;
    this.partsPending++;
  }

  succeed(baseOffset: number): void {
    if (this.done) return;
    this.settle();
    const { topic, partition } = this;
    const resolvers = this.resolvers;
    for (let i = 0; i < resolvers.length; i++) resolvers[i]!({ topic, partition, offset: baseOffset < 0 ? -1 : baseOffset + i });
  }

  fail(error: Error): void {
    if (this.done) return;
    this.settle();
    for (const reject of this.rejecters) reject(error);
  }
}

/** The batches of one partition: the one being filled, the closed ones waiting, and how many are on the wire. */
export class PartitionQueue {
  open: ProducerBatch | null = null;
  /** The batch created last (open, queued, in flight or done): flush waits for it. */
  last: ProducerBatch | null = null;
  /** Closed batches in send order (by sequence when idempotent). */
  readonly ready: ProducerBatch[] = [];
  inflight = 0;
  /** The next idempotent sequence to assign. */
  nextSequence = 0;
  /**
   * A batch with the current producer id was acknowledged here, so the broker knows the
   * producer's sequence. Until then one batch at a time: a broker with no state for a producer
   * accepts any sequence, so a later batch could land before a first one that failed.
   */
  sequenceConfirmed = false;
  /** A batch failed and is being retried: one batch at a time until it is through, to keep order. */
  retrying = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  get empty(): boolean {
    return this.open === null && this.ready.length === 0 && this.inflight === 0;
  }

  /** Puts a batch back for another attempt, in sequence order ahead of batches never sent. */
  requeue(batch: ProducerBatch): void {
    let at = 0;
    while (at < this.ready.length) {
      const other = this.ready[at]!;
      if (other.attempts === 0) break;
      if (batch.baseSequence >= 0 && other.baseSequence > batch.baseSequence) break;
      at++;
    }
    this.ready.splice(at, 0, batch);
    this.retrying = true;
  }
}
