/**
 * The few file operations the disk engine uses, behind one interface, so that the same storage
 * code runs on the real file system (nodeFileSystem, over node:fs) and on the simulated one the
 * durability tests use to lose power, tear writes and fail with ENOSPC or EIO
 * (simulated-file-system.ts).
 *
 * The contract is POSIX's, including what is durable: bytes written to a file survive a power
 * loss only once the file is synced (datasync or sync), and a file's creation, rename or removal
 * only once its folder is synced (syncDir).
 */
import { fdatasync, writev as fsWritev } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';

/** How a file is opened: read only, read and write, or created (failing when it exists: `wx+`; truncating: `w`). */
export type OpenFlags = 'r' | 'r+' | 'wx+' | 'w';

export interface FileStat {
  readonly size: number;
  /** Last modification, ms since the epoch (retention falls back to it for segments without timestamps). */
  readonly mtimeMs: number;
}

/** An open file. Positions are byte offsets; writes at a position never move a file pointer. */
export interface StorageFile {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  /** Writes the buffers in order from `position`; may write fewer bytes than given (the caller goes on). */
  writev(buffers: Buffer[], position: number): Promise<{ bytesWritten: number }>;
  /** Makes the file's data and size durable (fdatasync). */
  datasync(): Promise<void>;
  /** Makes the file's data and all its metadata durable (fsync). */
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  stat(): Promise<FileStat>;
  close(): Promise<void>;
}

export interface FileSystem {
  open(path: string, flags: OpenFlags): Promise<StorageFile>;
  readFile(path: string): Promise<Buffer>;
  stat(path: string): Promise<FileStat>;
  /** Names of the entries of a folder. */
  readdir(path: string): Promise<string[]>;
  /** Creates the folder and any missing parents; nothing when it exists. */
  mkdir(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Removes a file or a folder with everything in it; nothing when it does not exist. */
  removeTree(path: string): Promise<void>;
  /** Makes the creations, renames and removals of a folder's entries durable (fsync of the folder). */
  syncDir(path: string): Promise<void>;
}

/**
 * A real open file: a FileHandle, whose syncs and writes go through node:fs's callback API on
 * its descriptor (the promise API costs a few microseconds more per call on the event loop, and
 * a broker with 1,000 partitions makes one sync per partition per produce round).
 */
class NodeFile implements StorageFile {
  readonly fd: number;

  constructor(private readonly handle: FileHandle) {
    this.fd = handle.fd;
  }

  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return this.handle.read(buffer, offset, length, position);
  }

  writev(buffers: Buffer[], position: number): Promise<{ bytesWritten: number }> {
    return new Promise((resolve, reject) => fsWritev(this.fd, buffers, position, (error, bytesWritten) => (error ? reject(error) : resolve({ bytesWritten }))));
  }

  datasync(): Promise<void> {
    return new Promise((resolve, reject) => fdatasync(this.fd, (error) => (error ? reject(error) : resolve())));
  }

  sync(): Promise<void> {
    return this.handle.sync();
  }

  truncate(length: number): Promise<void> {
    return this.handle.truncate(length);
  }

  stat(): Promise<FileStat> {
    return this.handle.stat();
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** The real file system, through node:fs/promises. */
export const nodeFileSystem: FileSystem = {
  async open(path, flags) {
    return new NodeFile(await open(path, flags));
  },
  readFile: (path) => readFile(path),
  stat: (path) => stat(path),
  readdir: (path) => readdir(path),
  async mkdir(path) {
    await mkdir(path, { recursive: true });
  },
  rename,
  unlink,
  removeTree: (path) => rm(path, { recursive: true, force: true }),
  async syncDir(path) {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

export function isNotFound(error: unknown): boolean {
  return errorCode(error) === 'ENOENT';
}
