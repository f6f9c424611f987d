/**
 * The broker's topics: the catalog kept by storage, and the open partitions. Creation and
 * deletion are serialised per name so that a concurrent auto-create and CreateTopics agree.
 */
import { randomBytes } from 'node:crypto';
import type { PartitionOptions, Storage, TopicRecord } from '../storage/types.js';
import { Partition } from './partition.js';
import { mapLimited } from '../storage/limited.js';

/** Partitions of one topic opened (created, or loaded at start-up) at once. */
const partitionOpensInFlightMax = 64;

/** Upper bound on partitions in one topic (Kafka has none; we keep memory bounded). */
export const partitionsPerTopicMax = 100_000;
/** Upper bound on partitions across the broker. */
export const partitionsTotalMax = 200_000;

export class Topic {
  constructor(
    public record: TopicRecord,
    readonly partitions: Partition[],
  ) {}

  get name(): string {
    return this.record.name;
  }

  get id(): Buffer {
    return this.record.id;
  }

  get configs(): Readonly<Record<string, string>> {
    return this.record.configs;
  }
}

export class TopicError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
  }
}

export class TopicManager {
  private readonly topics = new Map<string, Topic>();
  /** Creations under way, so that two requests for the same name share one. */
  private readonly creating = new Map<string, Promise<Topic>>();
  private partitionCount = 0;

  constructor(
    private readonly storage: Storage,
    private readonly partitionOptions: (configs: Readonly<Record<string, string>>) => PartitionOptions,
  ) {}

  /** Opens every topic the storage recovered. */
  async open(): Promise<void> {
    for (const record of this.storage.listTopics()) {
      const partitions = await this.openPartitions(record, 0, record.partitions);
      this.topics.set(record.name, new Topic(record, partitions));
      this.partitionCount += partitions.length;
    }
  }

  get(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  list(): Topic[] {
    return [...this.topics.values()];
  }

  partition(topic: string, index: number): Partition | undefined {
    return this.topics.get(topic)?.partitions[index];
  }

  /** Throws TopicError when a new topic with this many partitions cannot be made. */
  checkCapacity(name: string, partitions: number): void {
    if (this.topics.has(name) || this.creating.has(name)) throw new TopicError('TOPIC_ALREADY_EXISTS', `topic ${name} already exists`);
    if (partitions < 1) throw new TopicError('INVALID_PARTITIONS', `number of partitions must be at least 1, got ${partitions}`);
    if (partitions > partitionsPerTopicMax) throw new TopicError('INVALID_PARTITIONS', `at most ${partitionsPerTopicMax} partitions per topic`);
    if (this.partitionCount + partitions > partitionsTotalMax) {
      throw new TopicError('INVALID_PARTITIONS', `the broker holds at most ${partitionsTotalMax} partitions`);
    }
  }

  async create(name: string, partitions: number, configs: Record<string, string>): Promise<Topic> {
    this.checkCapacity(name, partitions);
    const pending = (async () => {
      const record: TopicRecord = { name, id: randomBytes(16), partitions, configs };
      await this.storage.saveTopic(record);
      const opened = await this.openPartitions(record, 0, partitions);
      const topic = new Topic(record, opened);
      this.topics.set(name, topic);
      this.partitionCount += partitions;
      return topic;
    })();
    this.creating.set(name, pending);
    try {
      return await pending;
    } finally {
      this.creating.delete(name);
    }
  }

  /** The topic, creating it when it does not exist (auto-creation); shares a creation under way. */
  async getOrCreate(name: string, partitions: number, configs: Record<string, string>): Promise<Topic> {
    const existing = this.topics.get(name);
    if (existing) return existing;
    const pending = this.creating.get(name);
    if (pending) return pending;
    return this.create(name, partitions, configs);
  }

  async delete(name: string): Promise<void> {
    const topic = this.topics.get(name);
    if (!topic) throw new TopicError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
    this.topics.delete(name);
    this.partitionCount -= topic.partitions.length;
    for (const partition of topic.partitions) partition.wakeAll();
    await this.storage.deleteTopic(name);
  }

  async addPartitions(name: string, total: number): Promise<void> {
    const topic = this.topics.get(name);
    if (!topic) throw new TopicError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
    const current = topic.partitions.length;
    if (total <= current) {
      throw new TopicError('INVALID_PARTITIONS', `topic ${name} has ${current} partitions; the new count must be larger, got ${total}`);
    }
    if (total > partitionsPerTopicMax) throw new TopicError('INVALID_PARTITIONS', `at most ${partitionsPerTopicMax} partitions per topic`);
    if (this.partitionCount + total - current > partitionsTotalMax) {
      throw new TopicError('INVALID_PARTITIONS', `the broker holds at most ${partitionsTotalMax} partitions`);
    }
    const record: TopicRecord = { ...topic.record, partitions: total };
    await this.storage.saveTopic(record);
    const added = await this.openPartitions(record, current, total);
    topic.partitions.push(...added);
    topic.record = record;
    this.partitionCount += added.length;
  }

  /**
   * Replaces a topic's configs (AlterConfigs, IncrementalAlterConfigs): applies the partition
   * settings they imply to every partition (undone if a partition refuses them), then records
   * them in the catalog. Throws TopicError when the topic does not exist or a partition refuses
   * a value (INVALID_CONFIG).
   */
  async replaceConfigs(name: string, configs: Readonly<Record<string, string>>): Promise<Topic> {
    const topic = this.topics.get(name);
    if (!topic) throw new TopicError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
    const before = this.partitionOptions(topic.record.configs);
    const after = this.partitionOptions(configs);
    const changed: Partition[] = [];
    const undo = () => changed.forEach((partition) => partition.log.reconfigure(before));
    try {
      for (const partition of topic.partitions) {
        partition.log.reconfigure(after);
        changed.push(partition);
      }
      await this.storage.saveTopic({ ...topic.record, configs: { ...configs } });
    } catch (error) {
      undo();
      if (error instanceof RangeError) throw new TopicError('INVALID_CONFIG', error.message);
      throw error;
    }
    topic.record = { ...topic.record, configs: { ...configs } };
    return topic;
  }

  private async openPartitions(record: TopicRecord, from: number, to: number): Promise<Partition[]> {
    const options = this.partitionOptions(record.configs);
    const indexes = Array.from({ length: to - from }, (_, i) => from + i);
    // Opening a partition on disk makes a folder and files and syncs them: many at once, so that
    // a topic of 10,000 partitions does not wait on 10,000 syncs in turn.
    return mapLimited(indexes, partitionOpensInFlightMax, async (index) => new Partition(record.name, index, await this.storage.openPartition(record.name, index, options)));
  }
}
