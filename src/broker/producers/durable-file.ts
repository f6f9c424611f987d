/**
 * Replacing a small file so that a crash at any instant leaves either the old contents or the new:
 * write a temp file, fsync it, rename it over the target, fsync the folder. (Our own copy: the
 * storage engine's file layer is its own business.)
 */
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function replaceFileDurably(path: string, tempPath: string, text: string): Promise<void> {
  const file = await open(tempPath, 'w');
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tempPath, path);
  const folder = await open(dirname(path), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
