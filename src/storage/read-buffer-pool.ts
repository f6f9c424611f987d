/**
 * Buffers for reading batches out of segment files, used again once a reader gives them back.
 *
 * A fetch served from a file reads up to a partition's max bytes (1 MiB by default) into a
 * buffer that lives only until the response is written. A fresh buffer each time means fresh
 * memory (page faults on every 4 KiB page) and external memory that drives V8 into a
 * mark-compact every few tens of MiB. Buffers given back here are kept, by size class (powers of
 * two), up to `readPoolBytesMax` in all, and handed out again.
 *
 * Only the reader that took a buffer may give it back, and only when nothing refers to any view
 * of it any more. A buffer that is never given back is simply collected: forgetting is safe,
 * giving back too early is not.
 */

/** Reads smaller than this are not pooled (the scanner's block reads serve them). */
export const pooledReadBytesMin = 64 * 1024;
/** Reads larger than this get a buffer of their own, never pooled. */
export const pooledReadBytesMax = 16 * 1024 * 1024;
/** Idle pooled buffers kept, in bytes, across all size classes. */
export const readPoolBytesMax = 64 * 1024 * 1024;

function sizeClassOf(length: number): number {
  let size = pooledReadBytesMin;
  while (size < length) size *= 2;
  return size;
}

export class ReadBufferPool {
  private readonly free = new Map<number, Buffer[]>();
  private idleBytes = 0;
  /** Buffers handed out that came from the pool, for tests and metrics. */
  reused = 0;

  constructor(private readonly idleBytesMax = readPoolBytesMax) {}

  /** A buffer of at least `length` bytes (its contents are whatever was there before). */
  take(length: number): Buffer {
    if (length < pooledReadBytesMin || length > pooledReadBytesMax) return Buffer.allocUnsafeSlow(length);
    const size = sizeClassOf(length);
    const list = this.free.get(size);
    const buffer = list?.pop();
    if (buffer) {
      this.idleBytes -= size;
      this.reused++;
      return buffer;
    }
    return Buffer.allocUnsafeSlow(size);
  }

  /** Gives back a buffer from take(); kept when it is a pooled size and the pool has room. */
  give(buffer: Buffer): void {
    const size = buffer.length;
    if (size < pooledReadBytesMin || size > pooledReadBytesMax || sizeClassOf(size) !== size) return;
    if (buffer.byteOffset !== 0 || buffer.buffer.byteLength !== size) return;
    if (this.idleBytes + size > this.idleBytesMax) return;
    const list = this.free.get(size) ?? [];
    list.push(buffer);
    this.free.set(size, list);
    this.idleBytes += size;
  }

  get idle(): number {
    return this.idleBytes;
  }
}

/** The process's pool for segment reads (every broker in the process shares it; leases are exclusive). */
export const segmentReadPool = new ReadBufferPool();
