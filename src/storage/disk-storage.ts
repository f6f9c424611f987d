/**
 * The disk engine: a data directory holding the topic catalog (topics.json), Kafka's two offset
 * checkpoints, the clean-shutdown marker, and one folder per partition (`<topic>-<partition>`)
 * of segment files. See docs/storage-format.md.
 *
 * Crash safety at this level:
 * - `.clean-shutdown` is written last by a clean close and removed (durably) at open, before
 *   anything else changes; without it, each partition folder is recovered from its recovery
 *   point when it is opened. It lists, one per line, the partition folders that still needed
 *   recovery at close (left by an earlier crash and not opened since, or closed after an I/O
 *   error), so that they are recovered when they are next opened.
 * - recovery-point-offset-checkpoint is written every recoveryCheckpointIntervalMs and at close,
 *   with, per partition, an offset below which its log and indexes are synced.
 * - log-start-offset-checkpoint is written whenever a log start offset moves (retention,
 *   DeleteRecords) and at close.
 */
import { join } from 'node:path';
import { readCatalog, writeCatalog } from './catalog.js';
import { DiskPartitionLog, checkPartitionOptions, type DiskLogContext } from './disk-partition-log.js';
import { nodeFileSystem, type FileSystem } from './file-system.js';
import { isNotFound, makeDirDurable, writeNewFile } from './file-io.js';
import { cleanShutdownFileName, logStartOffsetCheckpointFileName, parsePartitionDirName, partitionDirName, partitionDirPattern, recoveryPointCheckpointFileName } from './file-names.js';
import { LogRegistry } from './log-registry.js';
import { CheckpointFile, readCheckpoint, type CheckpointEntry, type OffsetsByPartition } from './offset-checkpoint.js';
import { claimPartitionDir } from './partition-metadata.js';
import { recoveryCheckpointIntervalMsDefault } from './limits.js';
import type { PartitionLog, PartitionOptions, RetentionReport, Storage, TopicRecord } from './types.js';

export interface DiskStorageOptions {
  /** The file layer; default the real file system. Tests pass a SimulatedFileSystem. */
  readonly fileSystem?: FileSystem;
  /** Where the engine reports recoveries, cuts and I/O errors; default nowhere. */
  readonly log?: (line: string) => void;
  /** How often the recovery-point checkpoint is written (log.flush.offset.checkpoint.interval.ms); 0: only at close. */
  readonly recoveryCheckpointIntervalMs?: number;
  /** The clock (ms since the epoch) for segment.ms; default Date.now. */
  readonly now?: () => number;
}

function copyTopic(topic: TopicRecord): TopicRecord {
  return { name: topic.name, id: Buffer.from(topic.id), partitions: topic.partitions, configs: { ...topic.configs } };
}

interface StartState {
  readonly topics: Map<string, TopicRecord>;
  readonly recoveryPoints: OffsetsByPartition;
  readonly logStartOffsets: OffsetsByPartition;
  /** Partition folders that a crash left unrecovered. */
  readonly needsRecovery: Set<string>;
}

export class DiskStorage implements Storage {
  readonly kind = 'disk';
  readonly fs: FileSystem;
  private readonly logs = new LogRegistry<DiskPartitionLog>();
  private readonly topics: Map<string, TopicRecord>;
  /** Catalog writes, one after another, each of the whole catalog as it was when asked. */
  private catalogWrites: Promise<void> = Promise.resolve();
  private closed = false;
  /** Checkpointed offsets of partitions not open now (open ones answer for themselves). */
  private readonly recoveryPoints: OffsetsByPartition;
  private readonly logStartOffsets: OffsetsByPartition;
  /** Partition folders to recover when opened: left by a crash, or closed uncleanly in this run. */
  private readonly needsRecovery: Set<string>;
  private readonly recoveryCheckpoint: CheckpointFile;
  private readonly logStartCheckpoint: CheckpointFile;
  private readonly timer: NodeJS.Timeout | null = null;
  private readonly logLine: (line: string) => void;
  private readonly now: () => number;

  constructor(
    readonly dataDir: string,
    state: StartState,
    options: DiskStorageOptions,
  ) {
    this.fs = options.fileSystem ?? nodeFileSystem;
    this.topics = state.topics;
    this.recoveryPoints = state.recoveryPoints;
    this.logStartOffsets = state.logStartOffsets;
    this.needsRecovery = state.needsRecovery;
    this.logLine = options.log ?? (() => {});
    this.now = options.now ?? Date.now;
    this.recoveryCheckpoint = new CheckpointFile(this.fs, dataDir, recoveryPointCheckpointFileName, () => this.collect(this.recoveryPoints, (log) => log.checkpointRecoveryPoint()));
    this.logStartCheckpoint = new CheckpointFile(this.fs, dataDir, logStartOffsetCheckpointFileName, () => this.collect(this.logStartOffsets, async (log) => log.logStartOffset));
    const intervalMs = options.recoveryCheckpointIntervalMs ?? recoveryCheckpointIntervalMsDefault;
    if (intervalMs > 0) {
      this.timer = setInterval(() => {
        this.recoveryCheckpoint.write().catch((error: unknown) => this.logLine(`writing ${recoveryPointCheckpointFileName} failed: ${(error as Error).message}`));
      }, intervalMs);
      this.timer.unref();
    }
  }

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
    for (const map of [this.recoveryPoints, this.logStartOffsets]) for (const key of [...map.keys()]) if (pattern.test(key)) map.delete(key);
    for (const key of [...this.needsRecovery]) if (pattern.test(key)) this.needsRecovery.delete(key);
    const folders = (await this.fs.readdir(this.dataDir)).filter((entry) => pattern.test(entry));
    for (const folder of folders) await this.fs.removeTree(join(this.dataDir, folder));
    if (folders.length > 0) await this.fs.syncDir(this.dataDir);
  }

  async openPartition(topic: string, partition: number, options: PartitionOptions): Promise<PartitionLog> {
    this.checkOpen();
    checkPartitionOptions(options);
    const name = partitionDirName(topic, partition);
    const dir = join(this.dataDir, name);
    return this.logs.get(topic, partition, async () => {
      await claimPartitionDir(this.fs, dir, this.topics.get(topic)?.id ?? null);
      const recoveryPoint = this.needsRecovery.has(name) ? (this.recoveryPoints.get(name)?.offset ?? 0) : null;
      const log = await DiskPartitionLog.open(topic, partition, dir, options, this.logContext(), {
        recoveryPoint,
        logStartOffset: this.logStartOffsets.get(name)?.offset ?? null,
      });
      this.needsRecovery.delete(name);
      return log;
    });
  }

  /** One retention pass over the open partitions; a partition's failure is logged, and the others go on. */
  async enforceRetention(nowMs: number): Promise<RetentionReport> {
    let deletedSegments = 0;
    let deletedBytes = 0;
    for (const log of this.logs.openLogs()) {
      try {
        const report = await log.enforceRetention(nowMs);
        deletedSegments += report.deletedSegments;
        deletedBytes += report.deletedBytes;
        if (report.deletedSegments > 0) {
          this.logLine(`retention deleted ${report.deletedSegments} segment(s), ${report.deletedBytes} bytes, of ${log.topic}-${log.partition}; log start offset ${log.logStartOffset}`);
        }
      } catch (error) {
        this.logLine(`retention of ${log.topic}-${log.partition} failed: ${(error as Error).message}`);
      }
    }
    return { deletedSegments, deletedBytes };
  }

  /** Writes the recovery-point checkpoint now (tests; the timer does it every recoveryCheckpointIntervalMs). */
  checkpointRecoveryPoints(): Promise<void> {
    return this.recoveryCheckpoint.write();
  }

  /**
   * Flushes, syncs and closes every open partition, writes both checkpoints, then the
   * clean-shutdown marker listing the partitions that still need recovery.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    // A partition that fails to close (an I/O error) is left marked for recovery; the others
    // are still recorded as closed cleanly, and the failure is thrown at the end.
    let failure: unknown = null;
    await this.logs.closeAll().catch((error: unknown) => (failure = error));
    await this.catalogWrites.catch(() => {});
    await this.recoveryCheckpoint.write();
    await this.logStartCheckpoint.write();
    const unrecovered = [...this.needsRecovery].sort();
    if (unrecovered.length > 0) this.logLine(`${unrecovered.length} partition(s) still need recovery at their next open: ${unrecovered.slice(0, 5).join(', ')}`);
    await writeNewFile(this.fs, join(this.dataDir, cleanShutdownFileName), Buffer.from(unrecovered.map((name) => `${name}\n`).join('')));
    await this.fs.syncDir(this.dataDir);
    if (failure !== null) throw failure;
  }

  private logContext(): DiskLogContext {
    return {
      fs: this.fs,
      now: this.now,
      log: this.logLine,
      persistLogStartOffset: () => this.logStartCheckpoint.write(),
      onClose: (log) => {
        const name = partitionDirName(log.topic, log.partition);
        this.logs.forget(log.topic, log.partition, log);
        this.recoveryPoints.set(name, { topic: log.topic, partition: log.partition, offset: log.recoveryPoint });
        this.logStartOffsets.set(name, { topic: log.topic, partition: log.partition, offset: log.logStartOffset });
        if (!log.isClosedCleanly) this.needsRecovery.add(name);
      },
    };
  }

  /** Checkpoint entries: those of partitions not open, overlaid with what the open logs answer. */
  private async collect(closed: OffsetsByPartition, ask: (log: DiskPartitionLog) => Promise<number>): Promise<CheckpointEntry[]> {
    const entries = new Map(closed);
    for (const log of this.logs.openLogs()) {
      entries.set(partitionDirName(log.topic, log.partition), { topic: log.topic, partition: log.partition, offset: await ask(log) });
    }
    return [...entries.values()].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  private writeCatalog(): Promise<void> {
    const snapshot = [...this.topics.values()];
    const write = this.catalogWrites.then(() => writeCatalog(this.fs, this.dataDir, snapshot));
    this.catalogWrites = write.catch(() => {});
    return write;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`storage in ${this.dataDir} is closed`);
  }
}

/**
 * Opens (creating when needed) the data directory: reads the catalog and the checkpoints, and
 * removes the clean-shutdown marker durably, so that a crash from now on is seen as one.
 */
export async function openDiskStorage(dataDir: string, options: DiskStorageOptions = {}): Promise<DiskStorage> {
  const fs = options.fileSystem ?? nodeFileSystem;
  const warn = options.log ?? (() => {});
  await makeDirDurable(fs, dataDir);
  const markerPath = join(dataDir, cleanShutdownFileName);
  let marker: string | null = null;
  try {
    marker = (await fs.readFile(markerPath)).toString('utf8');
    await fs.unlink(markerPath);
    await fs.syncDir(dataDir);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const topics = new Map((await readCatalog(fs, dataDir)).map((topic) => [topic.name, topic]));
  const recoveryPoints = await readCheckpoint(fs, join(dataDir, recoveryPointCheckpointFileName), warn);
  const logStartOffsets = await readCheckpoint(fs, join(dataDir, logStartOffsetCheckpointFileName), warn);
  await fs.removeTree(join(dataDir, `${recoveryPointCheckpointFileName}.tmp`));
  await fs.removeTree(join(dataDir, `${logStartOffsetCheckpointFileName}.tmp`));
  const folders = (await fs.readdir(dataDir)).filter((name) => parsePartitionDirName(name) !== null);
  const needsRecovery = new Set(marker === null ? folders : marker.split('\n').filter((name) => folders.includes(name)));
  if (marker === null && needsRecovery.size > 0) warn(`${dataDir}: no clean-shutdown marker; ${needsRecovery.size} partition(s) will be recovered from their recovery points as they open`);
  return new DiskStorage(dataDir, { topics, recoveryPoints, logStartOffsets, needsRecovery }, options);
}
