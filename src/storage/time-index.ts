/**
 * A segment's time index, held in memory and mirrored in its `.timeindex` file.
 * Entry: timestamp int64 (ms) and relative offset uint32, big-endian. Each entry records the
 * largest batch maxTimestamp so far in the segment and the relative base offset of the batch that
 * first reached it, so every batch before that offset has a smaller maxTimestamp. Timestamps
 * strictly increase and offsets never decrease. An entry is added with each offset index entry
 * (when the maximum grew) and once more when the segment is sealed or closed, so the last entry
 * holds the segment's largest timestamp.
 */
// binary-parser's package exports give TypeScript no types for its ESM entry; its CommonJS build
// has them (and Node exposes its named export to ESM).
import { Parser } from 'binary-parser/dist/binary_parser.js';
import { timeIndexEntriesMax, timeIndexEntryBytes } from './limits.js';

const entryParser = new Parser().endianness('big').int64('timestamp').uint32('relativeOffset');
const fileParser = new Parser().array('entries', { type: entryParser, readUntil: 'eof' });

if (entryParser.sizeOf() !== timeIndexEntryBytes) throw new Error('time index entry layout disagrees with timeIndexEntryBytes');

/** Largest double below 2^63: an int64 timestamp near the top reads back as 2^63, which int64 cannot hold. */
const timestampMax = 2 ** 63 - 1024;

function int64Of(timestamp: number): bigint {
  return BigInt(Math.max(-(2 ** 63), Math.min(timestamp, timestampMax)));
}

export class TimeIndex {
  private timestamps = new Float64Array(16);
  private offsets = new Uint32Array(16);
  private length = 0;
  /** Entries already in the file. */
  persisted = 0;

  get count(): number {
    return this.length;
  }

  get full(): boolean {
    return this.length >= timeIndexEntriesMax;
  }

  timestampAt(index: number): number {
    return this.timestamps[index]!;
  }

  relativeOffsetAt(index: number): number {
    return this.offsets[index]!;
  }

  /** The last timestamp, or -Infinity when empty. */
  get lastTimestamp(): number {
    return this.length === 0 ? Number.NEGATIVE_INFINITY : this.timestamps[this.length - 1]!;
  }

  /** Adds an entry when `timestamp` is larger than the last one (and there is room). */
  maybeAppend(timestamp: number, relativeOffset: number): void {
    if (timestamp <= this.lastTimestamp || this.full) return;
    if (this.length > 0 && relativeOffset < this.offsets[this.length - 1]!) throw new Error(`time index offset ${relativeOffset} goes backwards`);
    if (this.length === this.timestamps.length) {
      const size = Math.min(this.length * 2, timeIndexEntriesMax);
      const timestamps = new Float64Array(size);
      const offsets = new Uint32Array(size);
      timestamps.set(this.timestamps);
      offsets.set(this.offsets);
      this.timestamps = timestamps;
      this.offsets = offsets;
    }
    this.timestamps[this.length] = timestamp;
    this.offsets[this.length] = relativeOffset;
    this.length++;
  }

  /** Keeps the first `count` entries (and no more than `count` as persisted). */
  truncateTo(count: number): void {
    this.length = Math.min(this.length, count);
    this.persisted = Math.min(this.persisted, this.length);
  }

  /** How many leading entries name a relative offset at or below `relativeOffset`. */
  countAtOrBelow(relativeOffset: number): number {
    let count = this.length;
    while (count > 0 && this.offsets[count - 1]! > relativeOffset) count--;
    return count;
  }

  /** Relative offset from which to scan for `timestampMs`: the last entry at or below it, else 0. */
  floorOffset(timestampMs: number): number {
    let low = 0;
    let high = this.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.timestamps[middle]! <= timestampMs) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found < 0 ? 0 : this.offsets[found]!;
  }

  encode(from: number, to: number): Buffer {
    const out = Buffer.allocUnsafe((to - from) * timeIndexEntryBytes);
    for (let i = from; i < to; i++) {
      out.writeBigInt64BE(int64Of(this.timestamps[i]!), (i - from) * timeIndexEntryBytes);
      out.writeUInt32BE(this.offsets[i]!, (i - from) * timeIndexEntryBytes + 8);
    }
    return out;
  }

  /**
   * The index a file holds, or null when the file is not a well-formed time index for a
   * segment whose offsets are below `relativeEnd` (size, count, order, range).
   */
  static parse(file: Buffer, relativeEnd: number): TimeIndex | null {
    if (file.length % timeIndexEntryBytes !== 0 || file.length / timeIndexEntryBytes > timeIndexEntriesMax) return null;
    const index = TimeIndex.parsePrefix(file, relativeEnd);
    return index.count * timeIndexEntryBytes === file.length ? index : null;
  }

  /** The longest well-formed leading part of a time index file (see OffsetIndex.parsePrefix). */
  static parsePrefix(file: Buffer, relativeEnd: number): TimeIndex {
    const whole = Math.min(Math.floor(file.length / timeIndexEntryBytes), timeIndexEntriesMax) * timeIndexEntryBytes;
    const { entries } = fileParser.parse(file.subarray(0, whole)) as { entries: { timestamp: bigint; relativeOffset: number }[] };
    const index = new TimeIndex();
    for (const entry of entries) {
      const timestamp = Number(entry.timestamp);
      if (timestamp <= index.lastTimestamp || entry.relativeOffset >= relativeEnd) break;
      if (index.length > 0 && entry.relativeOffset < index.offsets[index.length - 1]!) break;
      index.maybeAppend(timestamp, entry.relativeOffset);
    }
    index.persisted = index.length;
    return index;
  }
}
