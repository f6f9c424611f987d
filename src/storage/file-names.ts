/** Names of the files and folders the disk engine keeps under its data directory. */
import { join } from 'node:path';
import { segmentFileNameDigits } from './limits.js';

export const catalogFileName = 'topics.json';
export const catalogTempFileName = 'topics.json.tmp';
export const partitionMetadataFileName = 'partition.metadata';
/** Kafka's names for the per-data-directory offset checkpoints. */
export const recoveryPointCheckpointFileName = 'recovery-point-offset-checkpoint';
export const logStartOffsetCheckpointFileName = 'log-start-offset-checkpoint';
/** Written by a clean close, removed at open: its absence at open means the last run crashed. */
export const cleanShutdownFileName = '.clean-shutdown';
export const logSuffix = '.log';
export const offsetIndexSuffix = '.index';
export const timeIndexSuffix = '.timeindex';

const legalTopicName = /^[a-zA-Z0-9._-]+$/;
const segmentLogName = new RegExp(`^(\\d{${segmentFileNameDigits}})\\${logSuffix}$`);

/** The partition folder, `<topic>-<partition>`; refuses names that could escape the data directory. */
export function partitionDirName(topic: string, partition: number): string {
  if (!legalTopicName.test(topic) || topic === '.' || topic === '..') throw new Error(`topic name ${JSON.stringify(topic)} cannot name a folder`);
  if (!Number.isInteger(partition) || partition < 0) throw new Error(`partition ${partition} is not a non-negative integer`);
  return `${topic}-${partition}`;
}

/** Matches the partition folders of one topic: `<topic>-<digits>` (unambiguous, as partitions are numbers). */
export function partitionDirPattern(topic: string): RegExp {
  return new RegExp(`^${topic.replace(/[.]/g, '\\.')}-(\\d+)$`);
}

/** The topic and partition a partition folder name stands for, or null for any other name. */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | null {
  const match = /^([a-zA-Z0-9._-]+)-(\d+)$/.exec(name);
  if (!match || match[1] === '.' || match[1] === '..') return null;
  const partition = Number(match[2]);
  return Number.isSafeInteger(partition) ? { topic: match[1]!, partition } : null;
}

export function segmentFileStem(baseOffset: number): string {
  return String(baseOffset).padStart(segmentFileNameDigits, '0');
}

export function segmentPath(dir: string, baseOffset: number, suffix: string): string {
  return join(dir, segmentFileStem(baseOffset) + suffix);
}

/** The base offset a `.log` file name encodes, or null for any other name. */
export function segmentBaseOffset(fileName: string): number | null {
  const match = segmentLogName.exec(fileName);
  return match ? Number(match[1]) : null;
}
