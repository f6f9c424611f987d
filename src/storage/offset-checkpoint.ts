/**
 * Offset checkpoint files, in Kafka's format (recovery-point-offset-checkpoint and
 * log-start-offset-checkpoint in the data directory):
 *
 *   0                  version
 *   2                  number of entries
 *   orders 0 4711      topic, partition, offset
 *   orders 1 42
 *
 * Written whole and atomically (temp file, fsync, rename, fsync folder), so a crash leaves the
 * old file or the new one. Writes are serialised and coalesced: a write asked for while one is
 * under way waits for it, and all the writes asked for meanwhile become one.
 */
import { join } from 'node:path';
import type { FileSystem } from './file-system.js';
import { isNotFound, replaceFileAtomically } from './file-io.js';
import { partitionDirName } from './file-names.js';
import { catalogBytesMax } from './limits.js';

export const checkpointVersion = 0;

export interface CheckpointEntry {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** Entries by partition folder name (`<topic>-<partition>`). */
export type OffsetsByPartition = Map<string, CheckpointEntry>;

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

/** Parses a checkpoint file; throws CheckpointError when it is not one. */
export function parseCheckpoint(text: string, source: string): OffsetsByPartition {
  const lines = text.split('\n').filter((line) => line.length > 0);
  if (lines[0] !== String(checkpointVersion)) throw new CheckpointError(`${source}: not a version ${checkpointVersion} offset checkpoint`);
  const count = Number(lines[1]);
  if (!Number.isSafeInteger(count) || count < 0 || lines.length !== count + 2) throw new CheckpointError(`${source}: the entry count does not match the lines`);
  const offsets: OffsetsByPartition = new Map();
  for (const line of lines.slice(2)) {
    const match = /^(\S+) (\d+) (\d+)$/.exec(line);
    const offset = Number(match?.[3]);
    if (!match || !Number.isSafeInteger(offset)) throw new CheckpointError(`${source}: bad entry ${JSON.stringify(line)}`);
    const entry = { topic: match[1]!, partition: Number(match[2]), offset };
    offsets.set(partitionDirName(entry.topic, entry.partition), entry);
  }
  return offsets;
}

export function formatCheckpoint(entries: readonly CheckpointEntry[]): string {
  const lines = [String(checkpointVersion), String(entries.length), ...entries.map((e) => `${e.topic} ${e.partition} ${e.offset}`)];
  return `${lines.join('\n')}\n`;
}

/**
 * Reads a checkpoint; a missing file is empty. A damaged one is reported through `warn` and read
 * as empty: every use of a checkpoint falls back safely without it (recovery scans more, a log
 * starts at its first segment).
 */
export async function readCheckpoint(fs: FileSystem, path: string, warn: (line: string) => void): Promise<OffsetsByPartition> {
  try {
    const size = (await fs.stat(path)).size;
    if (size > catalogBytesMax) throw new CheckpointError(`${path} is ${size} bytes, more than ${catalogBytesMax}`);
    return parseCheckpoint((await fs.readFile(path)).toString('utf8'), path);
  } catch (error) {
    if (isNotFound(error)) return new Map();
    if (!(error instanceof CheckpointError)) throw error;
    warn(`${error.message}; ignoring it`);
    return new Map();
  }
}

/**
 * One checkpoint file of a data directory, written on request with the entries `collect` gives
 * when the write starts. At most one write runs and one waits; a request made while one waits
 * shares it (it will collect the state as it is after the request).
 */
export class CheckpointFile {
  readonly path: string;
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(
    private readonly fs: FileSystem,
    dataDir: string,
    readonly name: string,
    /** The entries to write (may wait, e.g. for index syncs). */
    private readonly collect: () => Promise<CheckpointEntry[]>,
  ) {
    this.path = join(dataDir, name);
  }

  write(): Promise<void> {
    if (this.queued) return this.queued;
    const previous = this.running;
    const handle: { job: Promise<void> | null } = { job: null };
    const job = (async () => {
      // Always yields first, so `handle.job` is set before it is used below.
      await previous?.catch(() => {});
      this.queued = null;
      this.running = handle.job;
      try {
        const entries = await this.collect();
        await replaceFileAtomically(this.fs, this.path, `${this.path}.tmp`, formatCheckpoint(entries));
      } finally {
        if (this.running === handle.job) this.running = null;
      }
    })();
    handle.job = job;
    this.queued = job;
    return job;
  }
}
