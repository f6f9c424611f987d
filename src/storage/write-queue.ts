/**
 * A partition's file writer. Appends are placed in memory at once and queued here; one drain
 * loop writes them in order, gathering consecutive batches of the same segment into one writev,
 * then the index entries they complete. When the next batch belongs to a newer segment, the
 * loop seals the old one and creates the new one's files, so rolls happen in write order.
 *
 * The queue holds the batches not yet on the file. It is bounded by what producers can append
 * while one write is under way: producers with acks=1/all wait for `written`, so the broker's
 * in-flight request limit per connection bounds them; acks=0 producers do not wait, and the
 * backlog they can build is bounded only by how far the disk lags the network (pendingBytes
 * shows it; the same batches are held by the ring buffer until written).
 *
 * After an I/O error every queued and later write fails with it: a log with a hole in its file
 * cannot take more batches.
 */
import { Queue } from 'mnemonist';
import type { Segment } from './segment.js';
import { writevBuffersMax, writevBytesMax } from './limits.js';

interface PendingWrite {
  readonly segment: Segment;
  readonly batch: Buffer;
  readonly position: number;
  /** The offset after this batch. */
  readonly endOffset: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class WriteQueue {
  private readonly pending = new Queue<PendingWrite>();
  private queuedBytes = 0;
  private draining: Promise<void> | null = null;
  private failed: Error | null = null;

  constructor(
    /** The segment whose files are open for appending. */
    private current: Segment,
    /** Called after each write with the offset below which everything is on the file. */
    private readonly onWritten: (endOffset: number) => void,
  ) {}

  get pendingBytes(): number {
    return this.queuedBytes;
  }

  get failure(): Error | null {
    return this.failed;
  }

  /** Queues a batch placed at `position` of `segment`; resolves once it is on the file. */
  enqueue(segment: Segment, batch: Buffer, position: number, endOffset: number): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const written = new Promise<void>((resolve, reject) => {
      this.pending.enqueue({ segment, batch, position, endOffset, resolve, reject });
    });
    this.queuedBytes += batch.length;
    if (!this.draining) this.draining = this.drain();
    return written;
  }

  /** Resolves when everything queued so far has been written (or has failed). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Flushes, then seals the open segment's indexes and closes its files. */
  async close(): Promise<void> {
    await this.flush();
    if (this.failed) await this.current.closeFiles();
    else await this.current.seal();
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const group = this.takeGroup();
        const first = group[0]!;
        const last = group[group.length - 1]!;
        const bytes = last.position + last.batch.length - first.position;
        try {
          if (first.segment !== this.current) {
            await this.current.seal();
            this.current = first.segment;
            await this.current.openFiles(true);
          }
          await first.segment.write(
            group.map((write) => write.batch),
            first.position,
            bytes,
            last.endOffset,
          );
        } catch (error) {
          this.fail(group, error as Error);
          return;
        }
        this.queuedBytes -= bytes;
        for (const write of group) write.resolve();
        this.onWritten(last.endOffset);
      }
    } finally {
      this.draining = null;
    }
  }

  /** Consecutive queued batches of one segment, within the writev bounds (at least one). */
  private takeGroup(): PendingWrite[] {
    const first = this.pending.dequeue()!;
    const group = [first];
    let bytes = first.batch.length;
    for (let next = this.pending.peek(); next !== undefined; next = this.pending.peek()) {
      if (next.segment !== first.segment || group.length >= writevBuffersMax || bytes + next.batch.length > writevBytesMax) break;
      group.push(this.pending.dequeue()!);
      bytes += next.batch.length;
    }
    return group;
  }

  private fail(group: PendingWrite[], error: Error): void {
    this.failed = error;
    for (const write of group) write.reject(error);
    for (let write = this.pending.dequeue(); write !== undefined; write = this.pending.dequeue()) write.reject(error);
    this.queuedBytes = 0;
  }
}
