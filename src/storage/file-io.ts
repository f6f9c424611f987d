/** Small file helpers over the FileSystem interface: whole reads and writes at a position, and atomic replacement. */
import { dirname } from 'node:path';
import type { FileSystem, StorageFile } from './file-system.js';

export { isNotFound } from './file-system.js';

/** Reads exactly `length` bytes at `position` into a new buffer; throws when the file ends first. */
export async function readExactly(handle: StorageFile, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  await readInto(handle, buffer, position, length);
  return buffer;
}

/** Reads exactly `length` bytes at `position` into the start of `buffer`; throws when the file ends first. */
export async function readInto(handle: StorageFile, buffer: Buffer, position: number, length: number): Promise<void> {
  if (length > buffer.length) throw new RangeError(`cannot read ${length} bytes into a buffer of ${buffer.length}`);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) throw new Error(`file ends ${length - filled} bytes short of the ${length} bytes wanted at ${position}`);
    filled += bytesRead;
  }
}

/** Writes every buffer, in order, from `position`, going on after short writes. */
export async function writeAll(handle: StorageFile, buffers: Buffer[], position: number): Promise<void> {
  let remaining = buffers.filter((buffer) => buffer.length > 0);
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

/**
 * Replaces `path` with `data` so that a crash at any instant leaves either the old or the new
 * file: write a temp file, fsync it, rename it over `path`, fsync the folder.
 */
export async function replaceFileAtomically(fs: FileSystem, path: string, tempPath: string, data: Buffer | string): Promise<void> {
  const handle = await fs.open(tempPath, 'w');
  try {
    await writeAll(handle, [typeof data === 'string' ? Buffer.from(data) : data], 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tempPath, path);
  await fs.syncDir(dirname(path));
}

/** Writes a whole new file and syncs it (its folder entry is the caller's to sync). */
export async function writeNewFile(fs: FileSystem, path: string, data: Buffer): Promise<void> {
  const handle = await fs.open(path, 'w');
  try {
    await writeAll(handle, [data], 0);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates a folder and makes its entry in the parent durable. */
export async function makeDirDurable(fs: FileSystem, dir: string): Promise<void> {
  await fs.mkdir(dir);
  await fs.syncDir(dirname(dir));
}
