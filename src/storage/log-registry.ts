/**
 * The partition logs a storage object has open, by partition folder name, so that a second
 * open returns the same log, deleteTopic can close a topic's logs first and close() can close
 * them all. Bounded by the partitions the broker opens (partitionsTotalMax in broker/topics.ts).
 */
import type { PartitionLog } from './types.js';
import { partitionDirName, partitionDirPattern } from './file-names.js';

interface Entry<Log> {
  readonly opening: Promise<Log>;
  log: Log | null;
}

export class LogRegistry<Log extends PartitionLog> {
  private readonly entries = new Map<string, Entry<Log>>();

  /** The open log of this partition, or the one `open` makes (shared by concurrent callers). */
  get(topic: string, partition: number, open: () => Promise<Log>): Promise<Log> {
    const key = partitionDirName(topic, partition);
    const existing = this.entries.get(key);
    if (existing) return existing.opening;
    const entry: Entry<Log> = { opening: open(), log: null };
    this.entries.set(key, entry);
    entry.opening.then(
      (log) => (entry.log = log),
      () => this.entries.get(key) === entry && this.entries.delete(key),
    );
    return entry.opening;
  }

  /** Forgets a log (called by the log itself when it closes). */
  forget(topic: string, partition: number, log: Log): void {
    const key = partitionDirName(topic, partition);
    if (this.entries.get(key)?.log === log) this.entries.delete(key);
  }

  /** The logs open now. */
  openLogs(): Log[] {
    return [...this.entries.values()].flatMap((entry) => (entry.log ? [entry.log] : []));
  }

  /** Closes the open logs of one topic. */
  async closeTopic(topic: string): Promise<void> {
    const pattern = partitionDirPattern(topic);
    const closing: Promise<void>[] = [];
    for (const [key, entry] of this.entries) {
      if (!pattern.test(key)) continue;
      this.entries.delete(key);
      closing.push(entry.opening.then((log) => log.close(), () => {}));
    }
    await Promise.all(closing);
  }

  /** Closes every open log; when some fail, the others still close, and the first failure is thrown after. */
  async closeAll(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    const results = await Promise.allSettled(entries.map((entry) => entry.opening.then((log) => log.close(), () => {})));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
