/**
 * The disk engine: a data directory holding the topic catalog (topics.json) and one folder per
 * partition (`<topic>-<partition>`) of segment files. See docs/storage-format.md.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readCatalog, writeCatalog } from './catalog.js';
import { DiskPartitionLog, checkPartitionOptions } from './disk-partition-log.js';
import { partitionDirName, partitionDirPattern } from './file-names.js';
import { LogRegistry } from './log-registry.js';
import { claimPartitionDir } from './partition-metadata.js';
import type { PartitionLog, PartitionOptions, Storage, TopicRecord } from './types.js';

function copyTopic(topic: TopicRecord): TopicRecord {
  return { name: topic.name, id: Buffer.from(topic.id), partitions: topic.partitions, configs: { ...topic.configs } };
}

export class DiskStorage implements Storage {
  readonly kind = 'disk';
  private readonly logs = new LogRegistry<DiskPartitionLog>();
  /** Catalog writes, one after another, each of the whole catalog as it was when asked. */
  private catalogWrites: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    readonly dataDir: string,
    private readonly topics: Map<string, TopicRecord>,
  ) {}

  listTopics(): TopicRecord[] {
    return [...this.topics.values()].map(copyTopic);
  }

  async saveTopic(topic: TopicRecord): Promise<void> {
    this.checkOpen();
    this.topics.set(topic.name, copyTopic(topic));
    await this.writeCatalog();
  }

  /** Closes the topic's open logs, removes it from the catalog, then removes its folders. */
  async deleteTopic(name: string): Promise<void> {
    this.checkOpen();
    await this.logs.closeTopic(name);
    if (this.topics.delete(name)) await this.writeCatalog();
    const pattern = partitionDirPattern(name);
    const folders = (await readdir(this.dataDir)).filter((entry) => pattern.test(entry));
    await Promise.all(folders.map((folder) => rm(join(this.dataDir, folder), { recursive: true, force: true })));
  }

  async openPartition(topic: string, partition: number, options: PartitionOptions): Promise<PartitionLog> {
    this.checkOpen();
    checkPartitionOptions(options);
    const dir = join(this.dataDir, partitionDirName(topic, partition));
    return this.logs.get(topic, partition, async () => {
      await claimPartitionDir(dir, this.topics.get(topic)?.id ?? null);
      return DiskPartitionLog.open(topic, partition, dir, options, (log) => this.logs.forget(topic, partition, log));
    });
  }

  /** Flushes and closes every open partition, then waits for catalog writes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.logs.closeAll();
    await this.catalogWrites;
  }

  private writeCatalog(): Promise<void> {
    const snapshot = [...this.topics.values()];
    const write = this.catalogWrites.then(() => writeCatalog(this.dataDir, snapshot));
    this.catalogWrites = write.catch(() => {});
    return write;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`storage in ${this.dataDir} is closed`);
  }
}

/** Opens (creating when needed) the data directory and reads the topic catalog. */
export async function openDiskStorage(dataDir: string): Promise<Storage> {
  await mkdir(dataDir, { recursive: true });
  const topics = new Map((await readCatalog(dataDir)).map((topic) => [topic.name, topic]));
  return new DiskStorage(dataDir, topics);
}
