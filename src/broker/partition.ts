/**
 * A partition as the broker sees it: the storage log plus the fetches waiting for new data.
 * Waiters are woken when appended batches become visible to readers (the produce handler calls
 * wakeAll once they are durable under the flush policy), so long-polling fetches need no timers
 * per partition. An append alone does not wake them: until its batch is durable a fetch could
 * not see it, and a wake then only made every waiting fetch read nothing and wait again.
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
    return this.log.append(batch, info);
  }

  /** Registers a callback for the next wake (new batches visible); returns a function that unregisters it. */
  onAppend(wake: Waiter): () => void {
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }

  /** Wakes every waiter: appended batches became visible, or the partition goes away. */
  wakeAll(): void {
    if (this.waiters.size === 0) return;
    // Copy first: a woken waiter removes itself while we iterate.
    for (const wake of [...this.waiters]) wake();
  }
}
