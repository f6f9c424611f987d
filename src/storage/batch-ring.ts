/**
 * The most recent batches of a partition, oldest first, as views of the bytes that were
 * appended. Both engines read their tail from it; the memory engine has nothing else.
 *
 * Its owner bounds it by bytes (evicting from the front); its count is then bounded by those
 * bytes over the 61-byte minimum batch, plus, in the disk engine, batches not yet written.
 * The deque starts small and doubles when full, so idle partitions cost little.
 */
import { FixedDeque } from 'mnemonist';
import type { ReadResult } from './types.js';
import { ringBatchesInitial } from './limits.js';

export interface RingEntry {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly maxTimestamp: number;
  readonly bytes: Buffer;
  /** The memory engine's broker-wide append order, for evicting the oldest batch across partitions. */
  readonly sequence?: number;
}

export class BatchRing {
  private deque = new FixedDeque<RingEntry>(Array, ringBatchesInitial);
  private heldBytes = 0;

  get bytes(): number {
    return this.heldBytes;
  }

  get size(): number {
    return this.deque.size;
  }

  /** The oldest batch held, if any. */
  oldest(): RingEntry | undefined {
    return this.deque.peekFirst();
  }

  at(index: number): RingEntry | undefined {
    return this.deque.get(index);
  }

  push(entry: RingEntry): void {
    if (this.deque.size === this.deque.capacity) this.grow();
    this.deque.push(entry);
    this.heldBytes += entry.bytes.length;
  }

  private grow(): void {
    const grown = new FixedDeque<RingEntry>(Array, this.deque.capacity * 2);
    for (let i = 0; i < this.deque.size; i++) grown.push(this.deque.get(i)!);
    this.deque = grown;
  }

  shift(): RingEntry | undefined {
    const entry = this.deque.shift();
    if (entry) this.heldBytes -= entry.bytes.length;
    return entry;
  }

  /** The newest batch held, if any. */
  newest(): RingEntry | undefined {
    return this.deque.peekLast();
  }

  /** Drops the newest batches while they start at or after `offset` (a log cut back). */
  dropFrom(offset: number): void {
    for (let last = this.deque.peekLast(); last !== undefined && last.baseOffset >= offset; last = this.deque.peekLast()) {
      this.deque.pop();
      this.heldBytes -= last.bytes.length;
    }
  }

  /** Drops the oldest batches while they end before `offset` (a log start offset moved up). */
  dropBelow(offset: number): void {
    for (let first = this.deque.peekFirst(); first !== undefined && first.lastOffset < offset; first = this.deque.peekFirst()) this.shift();
  }

  clear(): void {
    this.deque.clear();
    this.heldBytes = 0;
  }

  /** Index of the batch holding `offset`, or -1 when the ring does not hold it. */
  indexOf(offset: number): number {
    let low = 0;
    let high = this.deque.size - 1;
    if (high < 0 || offset < this.deque.get(0)!.baseOffset || offset > this.deque.get(high)!.lastOffset) return -1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.deque.get(middle)!.lastOffset < offset) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /**
   * Whole batches from the one holding `offset`, at most `maxBytes` except that the first is
   * always whole, none at or past `endOffset`; null when the ring does not hold `offset`.
   */
  read(offset: number, maxBytes: number, endOffset = Number.POSITIVE_INFINITY): ReadResult | null {
    const first = this.indexOf(offset);
    if (first < 0) return null;
    const chunks: Buffer[] = [];
    let bytes = 0;
    for (let i = first; i < this.deque.size; i++) {
      const entry = this.deque.get(i)!;
      const batch = entry.bytes;
      if (entry.baseOffset >= endOffset || (chunks.length > 0 && bytes + batch.length > maxBytes)) break;
      chunks.push(batch);
      bytes += batch.length;
    }
    return { chunks, bytes };
  }

  /** The first batch at or after the one holding `fromOffset` whose maxTimestamp reaches `timestampMs`. */
  firstReaching(fromOffset: number, timestampMs: number): RingEntry | null {
    const oldest = this.deque.peekFirst();
    if (!oldest) return null;
    const start = fromOffset <= oldest.baseOffset ? 0 : this.indexOf(fromOffset);
    if (start < 0) return null;
    for (let i = start; i < this.deque.size; i++) {
      const entry = this.deque.get(i)!;
      if (entry.maxTimestamp >= timestampMs) return entry;
    }
    return null;
  }
}
