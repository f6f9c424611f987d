/**
 * `partition.metadata` in each partition folder names the topic id the data belongs to:
 *
 *   { "version": 1, "topicId": "<32 hex digits>" }
 *
 * A folder left behind by an earlier topic of the same name (its deletion cut short by a crash)
 * carries another id; opening the new topic's partition then clears it instead of serving the
 * old records.
 */
import { join } from 'node:path';
import { partitionMetadataFileName } from './file-names.js';
import { isNotFound, makeDirDurable, replaceFileAtomically } from './file-io.js';
import type { FileSystem } from './file-system.js';

const metadataVersion = 1;

/**
 * Makes sure `dir` exists (durably: its entry in the data directory is synced) and belongs to
 * the topic with this id (null: no id to check).
 */
export async function claimPartitionDir(fs: FileSystem, dir: string, topicId: Buffer | null): Promise<void> {
  await makeDirDurable(fs, dir);
  if (topicId === null) return;
  const path = join(dir, partitionMetadataFileName);
  const id = topicId.toString('hex');
  let text: string | null = null;
  try {
    text = (await fs.readFile(path)).toString('utf8');
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (text !== null) {
    const data = JSON.parse(text) as { version?: unknown; topicId?: unknown };
    if (data.version !== metadataVersion || typeof data.topicId !== 'string') throw new Error(`${path}: not a version ${metadataVersion} partition metadata file`);
    if (data.topicId === id) return;
    await fs.removeTree(dir);
    await makeDirDurable(fs, dir);
  }
  await replaceFileAtomically(fs, path, `${path}.tmp`, `${JSON.stringify({ version: metadataVersion, topicId: id })}\n`);
}
