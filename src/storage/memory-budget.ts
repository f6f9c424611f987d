/**
 * The memory engine's broker-wide bound (inkwell.memory.bytes.max): the bytes held by every
 * partition's ring together. When an append takes the total past the bound, the oldest batches
 * across all partitions go first, by broker-wide append order, until it fits again.
 *
 * A heap holds each non-empty partition once, keyed by the append sequence of its oldest batch.
 * A key only grows (a partition loses batches from its front), so a stale key is smaller than
 * the true one: it comes out early, is corrected and goes back. The heap is bounded by the
 * partitions the broker holds.
 */
import { Heap } from 'mnemonist';

/** What the budget needs of a partition. */
export interface BudgetedLog {
  /** The append sequence of its oldest batch, or null when it holds none (or is closed). */
  oldestSequence(): number | null;
  /** Drops its oldest batch (for the broker-wide bound); returns the bytes freed, which the budget then stops counting. */
  evictOldest(): number;
}

interface HeapEntry {
  readonly log: BudgetedLog;
  readonly key: number;
}

export class MemoryBudget {
  private heldBytes = 0;
  private sequence = 0;
  private readonly heap = new Heap<HeapEntry>((a, b) => a.key - b.key);
  private readonly inHeap = new Set<BudgetedLog>();

  constructor(readonly bytesMax: number) {
    if (!Number.isSafeInteger(bytesMax) || bytesMax < 0) throw new RangeError(`memory bound ${bytesMax} is not a non-negative integer`);
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** The sequence for a batch being appended. */
  nextSequence(): number {
    return this.sequence++;
  }

  /** Counts bytes a partition took on; evicts across partitions while the total is over the bound. */
  added(log: BudgetedLog, bytes: number): void {
    this.heldBytes += bytes;
    this.track(log);
    while (this.heldBytes > this.bytesMax) {
      const entry = this.heap.pop();
      if (!entry) break;
      this.inHeap.delete(entry.log);
      const oldest = entry.log.oldestSequence();
      if (oldest === null) continue;
      if (oldest === entry.key) this.heldBytes -= entry.log.evictOldest();
      this.track(entry.log);
    }
  }

  /** Counts bytes a partition let go of by itself (its own bound, retention, close). */
  released(bytes: number): void {
    this.heldBytes -= bytes;
  }

  private track(log: BudgetedLog): void {
    if (this.inHeap.has(log)) return;
    const key = log.oldestSequence();
    if (key === null) return;
    this.heap.push({ log, key });
    this.inHeap.add(log);
  }
}
