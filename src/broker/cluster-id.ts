/**
 * The cluster id, kept in <data dir>/meta.properties as Kafka does (cluster.id and node.id), so
 * that it stays the same across restarts. A memory broker gets a fresh one each start.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Kafka's cluster ids are 16 random bytes in URL-safe base64 without padding (22 characters). */
export function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

export async function loadOrCreateClusterId(dataDir: string, nodeId: number): Promise<string> {
  const path = join(dataDir, 'meta.properties');
  try {
    const text = await readFile(path, 'utf8');
    const match = /^cluster\.id=(.+)$/m.exec(text);
    if (match) return match[1]!.trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const clusterId = newClusterId();
  await mkdir(dataDir, { recursive: true });
  const temporary = `${path}.tmp`;
  await writeFile(temporary, `# Written by Inkwell on first start.\nversion=1\ncluster.id=${clusterId}\nnode.id=${nodeId}\n`);
  await rename(temporary, path);
  return clusterId;
}
