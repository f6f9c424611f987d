/**
 * The topic catalog, `<dataDir>/topics.json`:
 *
 *   { "version": 1, "topics": [ { "name": "orders", "id": "<32 hex digits>", "partitions": 3,
 *                                 "configs": { "cleanup.policy": "delete" } } ] }
 *
 * Rewritten whole on every change, atomically (temp file, fsync, rename, fsync folder), so a
 * crash leaves the old catalog or the new one.
 */
import { join } from 'node:path';
import type { TopicRecord } from './types.js';
import { catalogFileName, catalogTempFileName } from './file-names.js';
import { isNotFound, replaceFileAtomically } from './file-io.js';
import type { FileSystem } from './file-system.js';
import { catalogBytesMax } from './limits.js';

export const catalogVersion = 1;
const topicIdBytes = 16;

interface CatalogTopic {
  name: string;
  id: string;
  partitions: number;
  configs: Record<string, string>;
}

export async function readCatalog(fs: FileSystem, dataDir: string): Promise<TopicRecord[]> {
  const path = join(dataDir, catalogFileName);
  await fs.removeTree(join(dataDir, catalogTempFileName));
  let size: number;
  try {
    size = (await fs.stat(path)).size;
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  if (size > catalogBytesMax) throw new Error(`${path} is ${size} bytes, more than the ${catalogBytesMax} a catalog may have`);
  return parseCatalog((await fs.readFile(path)).toString('utf8'), path);
}

export function parseCatalog(text: string, source: string): TopicRecord[] {
  const data = JSON.parse(text) as { version?: unknown; topics?: unknown };
  if (data.version !== catalogVersion || !Array.isArray(data.topics)) throw new Error(`${source}: not a version ${catalogVersion} topic catalog`);
  return data.topics.map((entry: unknown, i: number) => {
    const topic = entry as Partial<CatalogTopic>;
    const problem = catalogTopicProblem(topic);
    if (problem !== null) throw new Error(`${source}: topic ${i}: ${problem}`);
    return { name: topic.name!, id: Buffer.from(topic.id!, 'hex'), partitions: topic.partitions!, configs: { ...topic.configs! } };
  });
}

function catalogTopicProblem(topic: Partial<CatalogTopic>): string | null {
  if (typeof topic.name !== 'string' || topic.name.length === 0) return 'name is missing';
  if (typeof topic.id !== 'string' || !new RegExp(`^[0-9a-f]{${2 * topicIdBytes}}$`).test(topic.id)) return 'id is not 32 hex digits';
  if (!Number.isInteger(topic.partitions) || topic.partitions! < 1) return 'partitions is not a positive integer';
  if (typeof topic.configs !== 'object' || topic.configs === null || Object.values(topic.configs).some((v) => typeof v !== 'string')) {
    return 'configs is not an object of strings';
  }
  return null;
}

export function formatCatalog(topics: readonly TopicRecord[]): string {
  const entries: CatalogTopic[] = topics.map((topic) => ({
    name: topic.name,
    id: topic.id.toString('hex'),
    partitions: topic.partitions,
    configs: { ...topic.configs },
  }));
  return `${JSON.stringify({ version: catalogVersion, topics: entries }, null, 2)}\n`;
}

export async function writeCatalog(fs: FileSystem, dataDir: string, topics: readonly TopicRecord[]): Promise<void> {
  await replaceFileAtomically(fs, join(dataDir, catalogFileName), join(dataDir, catalogTempFileName), formatCatalog(topics));
}
