/**
 * A partition as the broker sees it: the storage log plus the fetches waiting for new data.
 * Waiters are woken by appends, so long-polling fetches need no timers per partition.
 */
import type { AppendResult, BatchInfo, PartitionLog } from '../storage/types.js';

export type Waiter = () => void;

export class Partition {
  private readonly waiters = new Set<Waiter>();

  constructor(
    readonly topic: string,
    readonly index: number,
    readonly log: PartitionLog,
  ) {}

  append(batch: Buffer, info: BatchInfo): AppendResult {
    const result = this.log.append(batch, info);
    if (this.waiters.size > 0) {
      // Copy first: a woken waiter removes itself while we iterate.
      for (const wake of [...this.waiters]) wake();
    }
    return result;
  }

  /** Registers a callback for the next append; returns a function that unregisters it. */
  onAppend(wake: Waiter): () => void {
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }

  /** Wakes every waiter (used when the partition goes away). */
  wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
