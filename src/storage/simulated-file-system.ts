/**
 * A file system in memory that models what survives a power loss, for the durability tests:
 * the disk engine runs on it unchanged (it implements FileSystem), and a test can, on command,
 *
 * - lose power: every file goes back to what its last sync made durable (bytes written since
 *   are dropped), every folder goes back to the entries its last folder sync made durable
 *   (files created, renamed or removed since come back or vanish), and optionally the last
 *   unsynced write to one file is torn: only its first bytes land;
 * - fail writes, syncs, file creations, ... with ENOSPC or EIO (optionally after writing part of
 *   the data, as a short write would);
 * - make syncs slow;
 *
 * and it counts syncs, so that tests can check that group commit shares them.
 *
 * The model is stricter than ext4 (which makes a new file's folder entry durable with the
 * file's own fsync): anything POSIX does not promise is taken away. Power loss returns a new view
 * of the same disk; the old view (and every file opened through it) fails every call with EIO,
 * so a "dead" broker still running in the test process cannot touch the recovered disk.
 */
import { dirname, posix } from 'node:path';
import type { FileStat, FileSystem, OpenFlags, StorageFile } from './file-system.js';

export type FaultCode = 'ENOSPC' | 'EIO';
export type FaultOperation = 'write' | 'sync' | 'create' | 'truncate' | 'rename' | 'unlink' | 'read' | 'mkdir';

export interface Fault {
  readonly code: FaultCode;
  readonly operations: readonly FaultOperation[];
  /** Only files whose path matches (all when absent). */
  readonly path?: RegExp;
  /** A failing write first writes this many bytes of its data (a short write), then fails. */
  readonly bytesBeforeFailure?: number;
}

export interface PowerLossOptions {
  /**
   * Tear the last unsynced write to this file (or, with `path` absent, to the file written
   * last): the first `keepBytes` bytes of it land on top of the durable content (a gap before it
   * reads as zeros, as a sparse block would).
   */
  readonly tear?: { readonly path?: string; readonly keepBytes: number };
}

export interface FileSystemCounters {
  /** datasync and sync calls on files that completed. */
  syncs: number;
  /** syncDir calls that completed. */
  dirSyncs: number;
  /** writev calls. */
  writes: number;
}

type PendingChange = { readonly kind: 'write'; readonly position: number; readonly bytes: Buffer } | { readonly kind: 'truncate'; readonly size: number };

/** One file's bytes: what reads see, and what a power loss would leave. */
class Inode {
  data = Buffer.alloc(0);
  size = 0;
  durable = Buffer.alloc(0);
  durableSize = 0;
  /** Changes since the last sync, oldest first. */
  pending: PendingChange[] = [];
  mtimeMs = Date.now();

  write(position: number, bytes: Buffer): void {
    applyChange(this, { kind: 'write', position, bytes });
    this.pending.push({ kind: 'write', position, bytes: Buffer.from(bytes) });
    this.mtimeMs = Date.now();
  }

  truncate(size: number): void {
    applyChange(this, { kind: 'truncate', size });
    this.pending.push({ kind: 'truncate', size });
    this.mtimeMs = Date.now();
  }

  /** Makes the first `count` pending changes durable. */
  persist(count: number): void {
    const target = { data: this.durable, size: this.durableSize };
    for (const change of this.pending.slice(0, count)) applyChange(target, change);
    this.durable = target.data;
    this.durableSize = target.size;
    this.pending = this.pending.slice(count);
  }

  /** Back to the durable content, plus optionally the first bytes of the last pending write. */
  revert(keepBytes: number | null): void {
    const last = [...this.pending].reverse().find((change) => change.kind === 'write');
    this.data = Buffer.from(this.durable.subarray(0, this.durableSize));
    this.size = this.durableSize;
    this.pending = [];
    if (keepBytes !== null && last?.kind === 'write' && keepBytes > 0) {
      applyChange(this, { kind: 'write', position: last.position, bytes: last.bytes.subarray(0, Math.min(keepBytes, last.bytes.length)) });
      // What the tear left is what is on the platter now.
      this.durable = Buffer.from(this.data.subarray(0, this.size));
      this.durableSize = this.size;
    }
  }
}

function applyChange(target: { data: Buffer; size: number }, change: PendingChange): void {
  if (change.kind === 'truncate') {
    if (change.size > target.data.length) target.data = grow(target.data, change.size);
    if (change.size > target.size) target.data.fill(0, target.size, change.size);
    target.size = change.size;
    return;
  }
  const end = change.position + change.bytes.length;
  if (end > target.data.length) target.data = grow(target.data, end);
  if (change.position > target.size) target.data.fill(0, target.size, change.position);
  change.bytes.copy(target.data, change.position);
  target.size = Math.max(target.size, end);
}

function grow(data: Buffer, atLeast: number): Buffer {
  const grown = Buffer.alloc(Math.max(atLeast, data.length * 2, 4096));
  data.copy(grown);
  return grown;
}

function ioError(code: string, message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: ${message}`);
  error.code = code;
  return error;
}

/** The disk: current and durable folder entries, shared by every view. */
class Disk {
  files = new Map<string, Inode>();
  dirs = new Set<string>(['/']);
  durableFiles = new Map<string, Inode>();
  durableDirs = new Set<string>(['/']);
  /** The current view's generation; older views are dead. */
  generation = 0;
  faults: Fault[] = [];
  syncDelayMs = 0;
  counters: FileSystemCounters = { syncs: 0, dirSyncs: 0, writes: 0 };
  /** The file written last (for a tear with no path). */
  lastWritten: Inode | null = null;
}

function normal(path: string): string {
  const normalized = posix.normalize(path.replace(/\\/g, '/'));
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

export class SimulatedFileSystem implements FileSystem {
  private constructor(
    private readonly disk: Disk,
    private readonly generation: number,
  ) {}

  static create(): SimulatedFileSystem {
    return new SimulatedFileSystem(new Disk(), 0);
  }

  /** Sync counts since the disk was made (shared by all views). */
  get counters(): FileSystemCounters {
    return this.disk.counters;
  }

  /** Makes each file sync take this long (the data is captured when the sync starts). */
  set syncDelayMs(value: number) {
    this.disk.syncDelayMs = value;
  }

  injectFault(fault: Fault): void {
    this.disk.faults.push(fault);
  }

  clearFaults(): void {
    this.disk.faults = [];
  }

  /**
   * Cuts the power: returns a new view of the disk as a reboot would find it, and kills this
   * view and every file opened through it.
   */
  powerLoss(options: PowerLossOptions = {}): SimulatedFileSystem {
    const disk = this.disk;
    const tornInode = options.tear === undefined ? null : options.tear.path !== undefined ? (disk.files.get(normal(options.tear.path)) ?? null) : disk.lastWritten;
    const inodes = new Set([...disk.files.values(), ...disk.durableFiles.values()]);
    for (const inode of inodes) inode.revert(inode === tornInode ? options.tear!.keepBytes : null);
    const reachable = (path: string): boolean => {
      for (let dir = dirname(path); ; dir = dirname(dir)) {
        if (!disk.durableDirs.has(dir)) return false;
        if (dir === '/') return true;
      }
    };
    disk.dirs = new Set([...disk.durableDirs].filter((dir) => dir === '/' || reachable(dir)));
    disk.durableDirs = new Set(disk.dirs);
    disk.files = new Map([...disk.durableFiles].filter(([path]) => reachable(path)));
    disk.durableFiles = new Map(disk.files);
    disk.faults = [];
    disk.syncDelayMs = 0;
    disk.lastWritten = null;
    disk.generation++;
    return new SimulatedFileSystem(disk, disk.generation);
  }

  /**
   * An independent copy of the disk as this view sees it now, every file and folder durable
   * (so that a test can try many damages on the same starting files).
   */
  clone(): SimulatedFileSystem {
    this.checkAlive();
    const disk = new Disk();
    for (const [path, inode] of this.disk.files) {
      const copy = new Inode();
      copy.data = Buffer.from(inode.data.subarray(0, inode.size));
      copy.size = inode.size;
      copy.durable = Buffer.from(copy.data);
      copy.durableSize = inode.size;
      copy.mtimeMs = inode.mtimeMs;
      disk.files.set(path, copy);
    }
    disk.dirs = new Set(this.disk.dirs);
    disk.durableFiles = new Map(disk.files);
    disk.durableDirs = new Set(disk.dirs);
    return new SimulatedFileSystem(disk, 0);
  }

  /** The current bytes of a file (for tests that damage or inspect files). */
  contents(path: string): Buffer {
    const inode = this.inode(path);
    return Buffer.from(inode.data.subarray(0, inode.size));
  }

  /** Replaces a file's bytes, durably (for tests that damage files "on disk"). */
  setContents(path: string, data: Buffer): void {
    const inode = this.inode(path);
    inode.data = Buffer.from(data);
    inode.size = data.length;
    inode.durable = Buffer.from(data);
    inode.durableSize = data.length;
    inode.pending = [];
  }

  async open(path: string, flags: OpenFlags): Promise<StorageFile> {
    this.checkAlive();
    const name = normal(path);
    let inode = this.disk.files.get(name);
    if (flags === 'wx+' || flags === 'w') {
      if (inode && flags === 'wx+') throw ioError('EEXIST', `${name} exists`);
      this.checkFault('create', name);
      if (!this.disk.dirs.has(dirname(name))) throw ioError('ENOENT', `no folder ${dirname(name)}`);
      if (!inode) {
        inode = new Inode();
        this.disk.files.set(name, inode);
      } else {
        inode.truncate(0);
      }
    }
    if (!inode) throw ioError('ENOENT', `no file ${name}`);
    return new SimulatedFile(this, name, inode, flags !== 'r');
  }

  async readFile(path: string): Promise<Buffer> {
    this.checkAlive();
    const name = normal(path);
    this.checkFault('read', name);
    if (this.disk.dirs.has(name)) throw ioError('EISDIR', `${name} is a folder`);
    const inode = this.inode(name);
    return Buffer.from(inode.data.subarray(0, inode.size));
  }

  async stat(path: string): Promise<FileStat> {
    this.checkAlive();
    const name = normal(path);
    if (this.disk.dirs.has(name)) return { size: 0, mtimeMs: 0 };
    const inode = this.inode(name);
    return { size: inode.size, mtimeMs: inode.mtimeMs };
  }

  async readdir(path: string): Promise<string[]> {
    this.checkAlive();
    const dir = normal(path);
    if (!this.disk.dirs.has(dir)) throw ioError('ENOENT', `no folder ${dir}`);
    const names: string[] = [];
    for (const entry of [...this.disk.files.keys(), ...this.disk.dirs]) {
      if (entry !== dir && dirname(entry) === dir) names.push(posix.basename(entry));
    }
    return names.sort();
  }

  async mkdir(path: string): Promise<void> {
    this.checkAlive();
    const dir = normal(path);
    if (this.disk.dirs.has(dir)) return;
    if (this.disk.files.has(dir)) throw ioError('EEXIST', `${dir} is a file`);
    this.checkFault('mkdir', dir);
    await this.mkdir(dirname(dir));
    this.disk.dirs.add(dir);
  }

  async rename(from: string, to: string): Promise<void> {
    this.checkAlive();
    const source = normal(from);
    const target = normal(to);
    this.checkFault('rename', target);
    const inode = this.inode(source);
    if (!this.disk.dirs.has(dirname(target))) throw ioError('ENOENT', `no folder ${dirname(target)}`);
    this.disk.files.delete(source);
    this.disk.files.set(target, inode);
  }

  async unlink(path: string): Promise<void> {
    this.checkAlive();
    const name = normal(path);
    this.checkFault('unlink', name);
    this.inode(name);
    this.disk.files.delete(name);
  }

  async removeTree(path: string): Promise<void> {
    this.checkAlive();
    const root = normal(path);
    this.checkFault('unlink', root);
    const inside = (entry: string) => entry === root || entry.startsWith(`${root}/`);
    for (const name of [...this.disk.files.keys()]) if (inside(name)) this.disk.files.delete(name);
    for (const dir of [...this.disk.dirs]) if (dir !== '/' && inside(dir)) this.disk.dirs.delete(dir);
  }

  async syncDir(path: string): Promise<void> {
    this.checkAlive();
    const dir = normal(path);
    if (!this.disk.dirs.has(dir)) throw ioError('ENOENT', `no folder ${dir}`);
    this.checkFault('sync', dir);
    const disk = this.disk;
    for (const name of [...disk.durableFiles.keys()]) if (dirname(name) === dir && !disk.files.has(name)) disk.durableFiles.delete(name);
    for (const [name, inode] of disk.files) if (dirname(name) === dir) disk.durableFiles.set(name, inode);
    for (const sub of [...disk.durableDirs]) if (sub !== '/' && dirname(sub) === dir && !disk.dirs.has(sub)) disk.durableDirs.delete(sub);
    for (const sub of disk.dirs) if (sub !== '/' && dirname(sub) === dir) disk.durableDirs.add(sub);
    disk.counters.dirSyncs++;
  }

  /** @internal used by SimulatedFile */
  checkAlive(): void {
    if (this.generation !== this.disk.generation) throw ioError('EIO', 'the simulated machine lost power; this view of the disk is dead');
  }

  /** @internal used by SimulatedFile: throws the first matching fault, after its short write. */
  checkFault(operation: FaultOperation, path: string, shortWrite?: (bytes: number) => void): void {
    const fault = this.disk.faults.find((f) => f.operations.includes(operation) && (f.path === undefined || f.path.test(path)));
    if (!fault) return;
    if (shortWrite && fault.bytesBeforeFailure !== undefined && fault.bytesBeforeFailure > 0) shortWrite(fault.bytesBeforeFailure);
    throw ioError(fault.code, `simulated ${fault.code} on ${operation} of ${path}`);
  }

  /** @internal */
  get diskState(): Disk {
    return this.disk;
  }

  private inode(path: string): Inode {
    const inode = this.disk.files.get(normal(path));
    if (!inode) throw ioError('ENOENT', `no file ${normal(path)}`);
    return inode;
  }
}

class SimulatedFile implements StorageFile {
  private closed = false;

  constructor(
    private readonly fs: SimulatedFileSystem,
    private readonly path: string,
    private readonly inode: Inode,
    private readonly writable: boolean,
  ) {}

  async read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    this.check();
    this.fs.checkFault('read', this.path);
    const available = Math.max(0, Math.min(length, this.inode.size - position));
    this.inode.data.copy(buffer, offset, position, position + available);
    return { bytesRead: available };
  }

  async writev(buffers: Buffer[], position: number): Promise<{ bytesWritten: number }> {
    this.check();
    if (!this.writable) throw ioError('EBADF', `${this.path} is open read only`);
    const data = Buffer.concat(buffers);
    const disk = this.fs.diskState;
    disk.counters.writes++;
    this.fs.checkFault('write', this.path, (bytes) => {
      this.inode.write(position, data.subarray(0, Math.min(bytes, data.length)));
      disk.lastWritten = this.inode;
    });
    this.inode.write(position, data);
    disk.lastWritten = this.inode;
    return { bytesWritten: data.length };
  }

  async datasync(): Promise<void> {
    await this.syncNow();
  }

  async sync(): Promise<void> {
    await this.syncNow();
  }

  async truncate(length: number): Promise<void> {
    this.check();
    if (!this.writable) throw ioError('EBADF', `${this.path} is open read only`);
    this.fs.checkFault('truncate', this.path);
    this.inode.truncate(length);
  }

  async stat(): Promise<FileStat> {
    this.check();
    return { size: this.inode.size, mtimeMs: this.inode.mtimeMs };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async syncNow(): Promise<void> {
    this.check();
    this.fs.checkFault('sync', this.path);
    const captured = this.inode.pending.length;
    const disk = this.fs.diskState;
    if (disk.syncDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, disk.syncDelayMs));
    this.check();
    this.inode.persist(captured);
    disk.counters.syncs++;
  }

  private check(): void {
    this.fs.checkAlive();
    if (this.closed) throw ioError('EBADF', `${this.path} is closed`);
  }
}
