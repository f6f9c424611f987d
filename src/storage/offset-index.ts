/**
 * A segment's sparse offset index, held in memory and mirrored in its `.index` file.
 * Entry: relative offset uint32 (batch base offset minus the segment's base offset) and file
 * position uint32 of that batch, both big-endian; strictly increasing in both.
 * One entry is added every indexIntervalBytes of log; the first batch (position 0) needs none.
 */
// binary-parser's package exports give TypeScript no types for its ESM entry; its CommonJS build
// has them (and Node exposes its named export to ESM).
import { Parser } from 'binary-parser/dist/binary_parser.js';
import { indexEntriesMax, offsetIndexEntryBytes } from './limits.js';

const entryParser = new Parser().endianness('big').uint32('relativeOffset').uint32('position');
const fileParser = new Parser().array('entries', { type: entryParser, readUntil: 'eof' });

if (entryParser.sizeOf() !== offsetIndexEntryBytes) throw new Error('offset index entry layout disagrees with offsetIndexEntryBytes');

export class OffsetIndex {
  /** Pairs (relative offset, position); grows by doubling up to indexEntriesMax entries. */
  private entries = new Uint32Array(2 * 16);
  private length = 0;
  /** Entries already in the file. */
  persisted = 0;

  get count(): number {
    return this.length;
  }

  get full(): boolean {
    return this.length >= indexEntriesMax;
  }

  relativeOffsetAt(index: number): number {
    return this.entries[2 * index]!;
  }

  positionAt(index: number): number {
    return this.entries[2 * index + 1]!;
  }

  /** Position of the last entry, or -1 when empty. */
  get lastPosition(): number {
    return this.length === 0 ? -1 : this.positionAt(this.length - 1);
  }

  append(relativeOffset: number, position: number): void {
    if (this.full) throw new Error(`offset index is full (${indexEntriesMax} entries)`);
    if (this.length > 0 && (relativeOffset <= this.relativeOffsetAt(this.length - 1) || position <= this.lastPosition)) {
      throw new Error(`offset index entry (${relativeOffset}, ${position}) does not follow the last one`);
    }
    if (2 * this.length === this.entries.length) {
      const grown = new Uint32Array(Math.min(this.entries.length * 2, 2 * indexEntriesMax));
      grown.set(this.entries);
      this.entries = grown;
    }
    this.entries[2 * this.length] = relativeOffset;
    this.entries[2 * this.length + 1] = position;
    this.length++;
  }

  /** Keeps the first `count` entries (and no more than `count` as persisted). */
  truncateTo(count: number): void {
    this.length = Math.min(this.length, count);
    this.persisted = Math.min(this.persisted, this.length);
  }

  /** How many leading entries name a relative offset below `relativeEnd`. */
  countBelow(relativeEnd: number): number {
    let count = this.length;
    while (count > 0 && this.relativeOffsetAt(count - 1) >= relativeEnd) count--;
    return count;
  }

  /** File position from which to scan for `relativeOffset`: the last entry at or below it, else 0. */
  floorPosition(relativeOffset: number): number {
    let low = 0;
    let high = this.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.relativeOffsetAt(middle) <= relativeOffset) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found < 0 ? 0 : this.positionAt(found);
  }

  /** The file bytes of entries [from, to). */
  encode(from: number, to: number): Buffer {
    const out = Buffer.allocUnsafe((to - from) * offsetIndexEntryBytes);
    for (let i = from; i < to; i++) {
      out.writeUInt32BE(this.relativeOffsetAt(i), (i - from) * offsetIndexEntryBytes);
      out.writeUInt32BE(this.positionAt(i), (i - from) * offsetIndexEntryBytes + 4);
    }
    return out;
  }

  /**
   * The index a file holds, or null when the file is not a well-formed index of a log of
   * `logBytes` bytes (size not a whole number of entries, too many, not increasing, past the end).
   */
  static parse(file: Buffer, logBytes: number): OffsetIndex | null {
    if (file.length % offsetIndexEntryBytes !== 0 || file.length / offsetIndexEntryBytes > indexEntriesMax) return null;
    const index = OffsetIndex.parsePrefix(file, logBytes);
    return index.count * offsetIndexEntryBytes === file.length ? index : null;
  }

  /**
   * The longest well-formed leading part of an index file (crash recovery keeps what is good
   * of an index whose tail a crash may have torn): whole entries, increasing, within the log.
   */
  static parsePrefix(file: Buffer, logBytes: number): OffsetIndex {
    const whole = Math.min(Math.floor(file.length / offsetIndexEntryBytes), indexEntriesMax) * offsetIndexEntryBytes;
    const { entries } = fileParser.parse(file.subarray(0, whole)) as { entries: { relativeOffset: number; position: number }[] };
    const index = new OffsetIndex();
    for (const entry of entries) {
      const previous = index.length - 1;
      if (previous >= 0 && (entry.relativeOffset <= index.relativeOffsetAt(previous) || entry.position <= index.positionAt(previous))) break;
      if (entry.position >= logBytes || entry.position === 0) break;
      index.append(entry.relativeOffset, entry.position);
    }
    index.persisted = index.length;
    return index;
  }
}
