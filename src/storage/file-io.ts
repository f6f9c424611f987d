/** Small file helpers: whole reads and writes at a position, and atomic replacement. */
import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Reads exactly `length` bytes at `position` into a new buffer; throws when the file ends first. */
export async function readExactly(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) throw new Error(`file ends ${length - filled} bytes short of the ${length} bytes wanted at ${position}`);
    filled += bytesRead;
  }
  return buffer;
}

/** Writes every buffer, in order, from `position`, going on after short writes. */
export async function writeAll(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let remaining = buffers;
  while (remaining.length > 0) {
    const { bytesWritten } = await handle.writev(remaining, position);
    if (bytesWritten === 0) throw new Error(`writev wrote nothing at ${position}`);
    position += bytesWritten;
    let skip = bytesWritten;
    let first = 0;
    while (first < remaining.length && skip >= remaining[first]!.length) skip -= remaining[first++]!.length;
    remaining = remaining.slice(first);
    if (skip > 0) remaining[0] = remaining[0]!.subarray(skip);
  }
}

/** Makes a rename or file creation in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Replaces `path` with `data` so that a crash leaves either the old or the new file: temp file, fsync, rename, fsync folder. */
export async function replaceFileAtomically(path: string, tempPath: string, data: Buffer | string): Promise<void> {
  const handle = await open(tempPath, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tempPath, path);
  await syncDir(dirname(path));
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
