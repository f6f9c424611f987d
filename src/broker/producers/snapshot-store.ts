/**
 * Producer-state snapshots on disk: `<dataDir>/producer-state/<topic id>-<partition>-<offset>.snapshot`,
 * where the topic id is 32 hex digits (so a topic deleted and created again never inherits the
 * old one's state) and the offset, 20 digits as in segment names, is the log offset the snapshot
 * is complete up to: every batch below it is accounted for, and rebuilding continues from it.
 * The contents are JSON:
 *
 *   { "version": 1, "offset": 1200, "producers": [
 *       { "id": "1000", "epoch": 0, "lastSeenMs": 1700000000000,
 *         "batches": [[firstSequence, lastSequence, firstOffset, lastOffset], ...] } ] }
 *
 * Each snapshot is written atomically (temp file, fsync, rename, fsync folder) under a new name,
 * and the two newest are kept: after a crash the newest can be ahead of the log (it may count
 * batches that were appended but not yet synced), and the one before it is then used instead.
 */
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFileDurably } from './durable-file.js';
import { snapshotBytesMax, snapshotsKeptPerPartition } from './limits.js';
import type { SnapshotProducer } from './partition-producers.js';

export const producerStateDirName = 'producer-state';
const snapshotSuffix = '.snapshot';
const tempSuffix = '.tmp';
const snapshotVersion = 1;
const offsetDigits = 20;
const snapshotName = /^([0-9a-f]{32})-(\d+)-(\d{20})\.snapshot$/;

export interface PartitionKey {
  /** The topic id as 32 hex digits. */
  readonly topicId: string;
  readonly partition: number;
}

export interface Snapshot {
  readonly offset: number;
  readonly producers: SnapshotProducer[];
}

export function partitionKey(key: PartitionKey): string {
  return `${key.topicId}-${key.partition}`;
}

function fileName(key: PartitionKey, offset: number): string {
  return `${partitionKey(key)}-${String(offset).padStart(offsetDigits, '0')}${snapshotSuffix}`;
}

export class SnapshotStore {
  /** Snapshot offsets on disk per partition key, newest first. */
  private readonly offsets = new Map<string, number[]>();

  private constructor(readonly dir: string) {}

  /** Creates the folder when needed, removes leftover temp files and lists the snapshots. */
  static async open(dataDir: string): Promise<SnapshotStore> {
    const store = new SnapshotStore(join(dataDir, producerStateDirName));
    await mkdir(store.dir, { recursive: true });
    for (const name of await readdir(store.dir)) {
      if (name.endsWith(tempSuffix)) {
        await rm(join(store.dir, name), { force: true });
        continue;
      }
      const match = snapshotName.exec(name);
      if (!match) continue;
      const key = `${match[1]}-${Number(match[2])}`;
      const list = store.offsets.get(key) ?? [];
      list.push(Number(match[3]));
      store.offsets.set(key, list);
    }
    for (const list of store.offsets.values()) list.sort((a, b) => b - a);
    return store;
  }

  /** Every partition key with snapshots, as "<topic id>-<partition>". */
  keys(): string[] {
    return [...this.offsets.keys()];
  }

  /** Snapshot offsets of a partition, newest first. */
  offsetsOf(key: PartitionKey): readonly number[] {
    return this.offsets.get(partitionKey(key)) ?? [];
  }

  /** Deletes the snapshots of a partition that `keep` refuses (all of them when `keep` is omitted). */
  async discard(key: PartitionKey, keep: (offset: number) => boolean = () => false): Promise<number[]> {
    const id = partitionKey(key);
    const list = this.offsets.get(id) ?? [];
    const kept = list.filter(keep);
    const dropped = list.filter((offset) => !keep(offset));
    for (const offset of dropped) await rm(join(this.dir, fileName(key, offset)), { force: true });
    if (kept.length > 0) this.offsets.set(id, kept);
    else this.offsets.delete(id);
    return dropped;
  }

  /** Deletes every snapshot of a partition key given as "<topic id>-<partition>". */
  async discardKey(id: string): Promise<void> {
    const dash = id.lastIndexOf('-');
    await this.discard({ topicId: id.slice(0, dash), partition: Number(id.slice(dash + 1)) });
  }

  async read(key: PartitionKey, offset: number): Promise<Snapshot> {
    const path = join(this.dir, fileName(key, offset));
    const size = (await stat(path)).size;
    if (size > snapshotBytesMax) throw new Error(`${path} is ${size} bytes, more than the ${snapshotBytesMax} a snapshot may have`);
    return parseSnapshot(await readFile(path, 'utf8'), offset, path);
  }

  /** Writes a snapshot, then deletes all but the newest snapshotsKeptPerPartition of the partition. */
  async write(key: PartitionKey, snapshot: Snapshot): Promise<void> {
    const name = fileName(key, snapshot.offset);
    const text = `${JSON.stringify({ version: snapshotVersion, offset: snapshot.offset, producers: snapshot.producers })}\n`;
    await replaceFileDurably(join(this.dir, name), join(this.dir, name + tempSuffix), text);
    const id = partitionKey(key);
    const list = [snapshot.offset, ...(this.offsets.get(id) ?? []).filter((o) => o !== snapshot.offset)].sort((a, b) => b - a);
    this.offsets.set(id, list);
    const surplus = list.slice(snapshotsKeptPerPartition);
    if (surplus.length > 0) await this.discard(key, (offset) => !surplus.includes(offset));
  }
}

function isInteger(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

export function parseSnapshot(text: string, offset: number, source: string): Snapshot {
  const data = JSON.parse(text) as { version?: unknown; offset?: unknown; producers?: unknown };
  if (data.version !== snapshotVersion || data.offset !== offset || !Array.isArray(data.producers)) {
    throw new Error(`${source}: not a version ${snapshotVersion} producer-state snapshot at offset ${offset}`);
  }
  const producers = data.producers.map((raw: unknown, i: number): SnapshotProducer => {
    const p = raw as Partial<SnapshotProducer>;
    const batchesOk =
      Array.isArray(p.batches) &&
      p.batches.every((b) => Array.isArray(b) && b.length === 4 && isInteger(b[0], 0) && isInteger(b[1], 0) && isInteger(b[2], 0) && isInteger(b[3], b[2]));
    if (typeof p.id !== 'string' || !/^\d{1,19}$/.test(p.id) || !isInteger(p.epoch, -1) || !isInteger(p.lastSeenMs, 0) || !batchesOk) {
      throw new Error(`${source}: producer ${i} is malformed`);
    }
    return { id: p.id, epoch: p.epoch, lastSeenMs: p.lastSeenMs, batches: p.batches! };
  });
  return { offset, producers };
}
