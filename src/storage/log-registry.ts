/**
 * The partition logs a storage object has open, by partition folder name, so that a second
 * open returns the same log, deleteTopic can close a topic's logs first and close() can close
 * them all. Bounded by the partitions the broker opens (partitionsTotalMax in broker/topics.ts).
 */
import type { PartitionLog } from './types.js';
import { partitionDirName, partitionDirPattern } from './file-names.js';
import { mapLimited } from './limited.js';

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
    const closing: Entry<Log>[] = [];
    for (const [key, entry] of this.entries) {
      if (!pattern.test(key)) continue;
      this.entries.delete(key);
      closing.push(entry);
    }
    await closeEntries(closing);
  }

  /**
   * Closes every open log; when some fail, the others still close, and the first failure is
   * thrown after. At most `closeConcurrency` close at once: sealing a segment opens its index
   * files, and 10,000 partitions sealing together would need three descriptors each at once.
   */
  async closeAll(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await closeEntries(entries);
  }
}

/** Logs closed at once by closeAll and closeTopic. */
const closeConcurrency = 64;

/** Closes the logs, `closeConcurrency` at a time; every one is tried, and the first failure is thrown. */
async function closeEntries<Log extends PartitionLog>(entries: readonly Entry<Log>[]): Promise<void> {
  await mapLimited(entries, closeConcurrency, (entry) => entry.opening.then((log) => log.close(), () => {}));
}
