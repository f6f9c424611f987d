/**
 * A partition's file writer. Appends are placed in memory at once and queued here; one loop
 * works through the queue in order:
 *
 * - a write round writes the batches queued when the round began, consecutive batches of one
 *   segment in one writev, then the index entries they complete;
 * - then, when the flush policy asks, one fdatasync of the segment file makes every batch of the
 *   round durable. Batches appended while a round or a sync runs wait for the next round, so one
 *   sync covers everything that arrived during the previous one (group commit);
 * - a roll seals the old segment (index entries written, all three files synced, closed) and
 *   creates the new one's files, then syncs the folder so that their entries are durable;
 * - a checkpoint request syncs the active segment's index files and answers the offset below
 *   which everything is durable, indexes included (the recovery point).
 *
 * The flush policy (Kafka's flush.messages / flush.ms): with flushIntervalMessages 1 a batch is
 * durable when synced, and a round always ends in a sync. With more, a batch counts as durable
 * once written (Kafka's page-cache behaviour) and the loop syncs when that many records are
 * unsynced or flushIntervalMs after the first unsynced write.
 *
 * After an I/O error the writer stops: every queued write fails, every write not yet durable
 * fails, and the owner is told the offset the log must be cut back to (the synced end, or under
 * the page-cache policy after a failed write, the written end). The owner repairs the files and
 * starts a new writer.
 *
 * The queue holds the batches not yet on the file. Producers with acks=1/all wait for them, so
 * the broker's in-flight request limit per connection bounds their part; acks=0 producers wait
 * for `written` before their request slot is freed, which bounds theirs the same way.
 */
import { dirname } from 'node:path';
import { Queue } from 'mnemonist';
import type { Segment } from './segment.js';
import { StorageError } from './storage-error.js';
import { writevBuffersMax, writevBytesMax } from './limits.js';
import type { PartitionOptions } from './types.js';

export interface FlushPolicy {
  /** Sync before a batch counts as durable (flushIntervalMessages <= 1). */
  readonly syncBeforeAck: boolean;
  /** Page-cache policy: sync once this many records are unsynced. */
  readonly messagesMax: number;
  /** Page-cache policy: sync this long after the first unsynced write at the latest; null: no bound. */
  readonly intervalMs: number | null;
}

export function flushPolicyOf(options: PartitionOptions): FlushPolicy {
  const messages = options.flushIntervalMessages ?? 1;
  const interval = options.flushIntervalMs ?? -1;
  return { syncBeforeAck: messages <= 1, messagesMax: Math.max(1, messages), intervalMs: interval >= 0 ? interval : null };
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (error: Error) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const ignore = () => {};

/**
 * Rejects a deferred. Rejections are for whoever listens; an unobserved one must not crash the
 * process, so a no-op handler is attached first (here rather than in deferred(): two batches'
 * worth of extra promises on every append, for the rare failure).
 */
function rejectQuietly(d: { readonly promise: Promise<unknown>; readonly reject: (error: Error) => void }, error: Error): void {
  d.promise.catch(ignore);
  d.reject(error);
}

interface WriteOp {
  readonly kind: 'write';
  readonly segment: Segment;
  readonly batch: Buffer;
  readonly position: number;
  /** The offset after this batch. */
  readonly endOffset: number;
  readonly records: number;
  readonly written: Deferred<void>;
  readonly durable: Deferred<void>;
}

interface RollOp {
  readonly kind: 'roll';
  readonly segment: Segment;
  readonly done: Deferred<void>;
}

interface CheckpointOp {
  readonly kind: 'checkpoint';
  readonly done: Deferred<number>;
}

type Op = WriteOp | RollOp | CheckpointOp;

export interface WriterEvents {
  /** Everything below endOffset is on the file. */
  written(endOffset: number): void;
  /** Everything below endOffset is synced. */
  synced(endOffset: number): void;
  /** The writer stopped; the log must be cut back to goodEndOffset. */
  failed(error: StorageError, goodEndOffset: number): void;
}

export class LogWriter {
  private readonly queue = new Queue<Op>();
  /** Written batches waiting for a sync (sync-before-ack policy only). */
  private readonly awaitingSync = new Queue<WriteOp>();
  private queuedBytes = 0;
  /** The writes taken off the queue and being written now. */
  private inFlight: WriteOp[] = [];
  private running: Promise<void> | null = null;
  private failedWith: StorageError | null = null;
  private writtenEnd: number;
  private syncedEnd: number;
  private unsyncedRecords: number;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = false;
  /** Wakes syncWhileWriting when a write is queued (or the sync ends). */
  private writeArrived: (() => void) | null = null;

  constructor(
    /** The segment whose files are open for appending. */
    private current: Segment,
    /** Everything below this is on the file when the writer starts. */
    writtenEndOffset: number,
    /** Everything below this is synced when the writer starts. */
    syncedEndOffset: number,
    private policy: FlushPolicy,
    private readonly events: WriterEvents,
  ) {
    this.writtenEnd = writtenEndOffset;
    this.syncedEnd = syncedEndOffset;
    this.unsyncedRecords = writtenEndOffset - syncedEndOffset;
    if (this.unsyncedRecords > 0) this.kick();
  }

  get pendingBytes(): number {
    return this.queuedBytes;
  }

  get failure(): StorageError | null {
    return this.failedWith;
  }

  get syncedEndOffset(): number {
    return this.syncedEnd;
  }

  /** Queues a batch placed at `position` of `segment` (the active segment, or one a queued roll makes active). */
  enqueueWrite(segment: Segment, batch: Buffer, position: number, endOffset: number, records: number): { written: Promise<void>; durable: Promise<void> } {
    const op: WriteOp = { kind: 'write', segment, batch, position, endOffset, records, written: deferred(), durable: deferred() };
    if (this.failedWith) {
      rejectQuietly(op.written, this.failedWith);
      rejectQuietly(op.durable, this.failedWith);
    } else {
      this.queue.enqueue(op);
      this.queuedBytes += batch.length;
      this.kick();
      this.wakeWriter();
    }
    return { written: op.written.promise, durable: op.durable.promise };
  }

  /** Queues a roll to `segment`, which later writes go to; resolves once its files exist durably. */
  enqueueRoll(segment: Segment): Promise<void> {
    const op: RollOp = { kind: 'roll', segment, done: deferred() };
    return this.enqueue(op, op.done);
  }

  /** The recovery point: resolves with an offset below which the log and its indexes are synced. */
  checkpoint(): Promise<number> {
    const op: CheckpointOp = { kind: 'checkpoint', done: deferred() };
    return this.enqueue(op, op.done);
  }

  setPolicy(policy: FlushPolicy): void {
    this.policy = policy;
    if (!policy.syncBeforeAck) {
      // Written batches no longer wait for a sync.
      this.events.written(this.writtenEnd);
      for (let op = this.awaitingSync.dequeue(); op !== undefined; op = this.awaitingSync.dequeue()) op.durable.resolve();
    }
    this.kick();
  }

  /** Resolves when everything queued so far has been written and synced as the policy asks (or has failed). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Flushes, then seals the active segment (everything becomes durable) and closes its files. */
  async close(): Promise<void> {
    await this.flush();
    this.clearTimer();
    if (this.failedWith) {
      await this.current.closeFilesQuietly();
      throw this.failedWith;
    }
    try {
      await this.current.seal();
    } catch (error) {
      this.fail(error, 'sync');
      throw this.failedWith!;
    }
    this.markSynced(this.writtenEnd);
  }

  private enqueue<T>(op: Op, done: Deferred<T>): Promise<T> {
    if (this.failedWith) rejectQuietly(done, this.failedWith);
    else {
      this.queue.enqueue(op);
      this.kick();
    }
    return done.promise;
  }

  private kick(): void {
    if (this.running || this.failedWith) return;
    this.running = this.run().finally(() => {
      this.running = null;
      // Work queued between the loop's last look and now starts a new loop.
      if (this.queue.size > 0 || this.syncDue()) this.kick();
    });
  }

  private async run(): Promise<void> {
    let phase: 'write' | 'sync' = 'write';
    try {
      while (!this.failedWith) {
        const op = this.queue.peek();
        if (op?.kind === 'roll') {
          phase = 'sync';
          this.queue.dequeue();
          await this.roll(op.segment);
          op.done.resolve();
          continue;
        }
        if (op?.kind === 'checkpoint') {
          phase = 'sync';
          this.queue.dequeue();
          const recoveryPoint = this.syncedEnd;
          if (this.current.isOpen) await this.current.syncIndexes();
          op.done.resolve(recoveryPoint);
          continue;
        }
        if (op?.kind === 'write') {
          phase = 'write';
          await this.writeRound();
        }
        if (this.syncDue()) {
          phase = 'sync';
          await this.syncWhileWriting();
          continue;
        }
        if (this.queue.size === 0) return;
      }
    } catch (error) {
      this.fail(error, phase);
    }
  }

  /** Writes the write ops queued when the round began (up to the first non-write op). */
  private async writeRound(): Promise<void> {
    let budget = this.queue.size;
    while (budget > 0 && this.queue.peek()?.kind === 'write') {
      const group = this.takeGroup(budget);
      this.inFlight = group;
      budget -= group.length;
      const first = group[0]!;
      const last = group[group.length - 1]!;
      if (first.segment !== this.current) throw new Error(`segment ${first.segment.baseOffset} gets a write before the roll to it`);
      const bytes = last.position + last.batch.length - first.position;
      await this.current.write(
        group.map((write) => write.batch),
        first.position,
        bytes,
        last.endOffset,
      );
      this.inFlight = [];
      this.queuedBytes -= bytes;
      this.writtenEnd = last.endOffset;
      for (const write of group) this.unsyncedRecords += write.records;
      this.events.written(this.writtenEnd);
      for (const write of group) {
        write.written.resolve();
        if (this.policy.syncBeforeAck) this.awaitingSync.enqueue(write);
        else write.durable.resolve();
      }
      this.armTimer();
    }
  }

  /** Consecutive queued writes of one segment, within the writev bounds and `budget` (at least one). */
  private takeGroup(budget: number): WriteOp[] {
    const first = this.queue.dequeue() as WriteOp;
    const group = [first];
    let bytes = first.batch.length;
    for (let next = this.queue.peek(); next !== undefined; next = this.queue.peek()) {
      if (next.kind !== 'write' || next.segment !== first.segment || group.length >= Math.min(budget, writevBuffersMax) || bytes + next.batch.length > writevBytesMax) break;
      group.push(this.queue.dequeue() as WriteOp);
      bytes += next.batch.length;
    }
    return group;
  }

  private syncDue(): boolean {
    if (this.failedWith || this.writtenEnd <= this.syncedEnd) return false;
    return this.policy.syncBeforeAck || this.unsyncedRecords >= this.policy.messagesMax || this.timerDue;
  }

  /**
   * Syncs what is written, and meanwhile writes the batches that arrive during the sync (the
   * next group): a sync makes durable only what was written before it began, and only that is
   * marked synced, so writing during it is safe, and the next round's write is then off its
   * requests' critical path (which was: wait for the sync under way, write, sync).
   */
  private async syncWhileWriting(): Promise<void> {
    let settled = false;
    const syncing = this.sync().finally(() => {
      settled = true;
      this.wakeWriter();
    });
    syncing.catch(() => {});
    while (!settled && !this.failedWith) {
      if (this.queue.peek()?.kind === 'write') {
        try {
          await this.writeRound();
        } catch (error) {
          // A failed write is a write failure (the cut-back point depends on it), whatever the sync does.
          this.fail(error, 'write');
          return;
        }
        continue;
      }
      await new Promise<void>((resolve) => (this.writeArrived = resolve));
    }
    await syncing;
  }

  private wakeWriter(): void {
    const wake = this.writeArrived;
    this.writeArrived = null;
    wake?.();
  }

  private async sync(): Promise<void> {
    const target = this.writtenEnd;
    await this.current.syncLog();
    if (this.failedWith) return;
    this.markSynced(target);
  }

  private markSynced(target: number): void {
    if (target <= this.syncedEnd) return;
    this.syncedEnd = target;
    this.unsyncedRecords = 0;
    this.clearTimer();
    this.events.synced(target);
    for (let op = this.awaitingSync.peek(); op !== undefined && op.endOffset <= target; op = this.awaitingSync.peek()) {
      this.awaitingSync.dequeue();
      op.durable.resolve();
    }
  }

  /** Seals the active segment (so all its batches are durable), then creates `next`'s files durably. */
  private async roll(next: Segment): Promise<void> {
    await this.current.seal();
    this.markSynced(this.writtenEnd);
    await next.openFiles(true);
    this.current = next;
    await next.fs.syncDir(dirname(next.logPath));
  }

  private armTimer(): void {
    if (this.policy.syncBeforeAck || this.policy.intervalMs === null || this.timer || this.writtenEnd <= this.syncedEnd) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerDue = true;
      this.kick();
    }, this.policy.intervalMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    this.timerDue = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private fail(error: unknown, phase: 'write' | 'sync'): void {
    if (this.failedWith) return;
    const failure = StorageError.from(error, `${phase === 'write' ? 'writing' : 'syncing'} ${this.current.logPath}`);
    this.failedWith = failure;
    this.clearTimer();
    const goodEnd = this.policy.syncBeforeAck || phase === 'sync' ? this.syncedEnd : this.writtenEnd;
    for (let op = this.awaitingSync.dequeue(); op !== undefined; op = this.awaitingSync.dequeue()) rejectQuietly(op.durable, failure);
    for (const op of this.inFlight) {
      rejectQuietly(op.written, failure);
      rejectQuietly(op.durable, failure);
    }
    this.inFlight = [];
    for (let op = this.queue.dequeue(); op !== undefined; op = this.queue.dequeue()) {
      if (op.kind === 'write') {
        rejectQuietly(op.written, failure);
        rejectQuietly(op.durable, failure);
      } else {
        rejectQuietly(op.done, failure);
      }
    }
    this.queuedBytes = 0;
    void this.current.closeFilesQuietly();
    this.events.failed(failure, goodEnd);
  }
}
