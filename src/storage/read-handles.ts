/**
 * The file handle a partition reads old batches through. One handle is kept, for the segment
 * read last (a consumer catching up reads one segment many times in a row); reading another
 * segment retires it, and a retired handle closes when its last read finishes. So a partition
 * holds at most one read handle beyond the reads under way.
 */
import type { FileSystem, StorageFile } from './file-system.js';
import type { Segment } from './segment.js';

interface CachedHandle {
  readonly segment: Segment;
  readonly handle: Promise<StorageFile>;
  users: number;
  retired: boolean;
}

export class ReadHandles {
  private cached: CachedHandle | null = null;

  constructor(private readonly fs: FileSystem) {}

  async use<T>(segment: Segment, read: (handle: StorageFile) => Promise<T>): Promise<T> {
    let entry = this.cached;
    if (!entry || entry.segment !== segment) {
      if (entry) this.retire(entry);
      const opened: CachedHandle = { segment, handle: this.fs.open(segment.logPath, 'r'), users: 0, retired: false };
      opened.handle.catch(() => {
        if (this.cached === opened) this.cached = null;
      });
      this.cached = entry = opened;
    }
    entry.users++;
    try {
      return await read(await entry.handle);
    } finally {
      entry.users--;
      if (entry.retired && entry.users === 0) await closeQuietly(entry);
    }
  }

  /** Closes the cached handle (now, or when its reads finish). */
  async close(): Promise<void> {
    const entry = this.cached;
    this.cached = null;
    if (entry) {
      entry.retired = true;
      if (entry.users === 0) await closeQuietly(entry);
    }
  }

  private retire(entry: CachedHandle): void {
    entry.retired = true;
    if (entry.users === 0) void closeQuietly(entry);
  }
}

async function closeQuietly(entry: CachedHandle): Promise<void> {
  await entry.handle.then(
    (handle) => handle.close(),
    () => {},
  );
}
