/**
 * A sticky-error reader over one frame. Reading past the end, or reading a length that is
 * negative or larger than the bytes remaining, sets `failed` and returns a zero value; the
 * caller checks `complete()` once at the end instead of wrapping every field in try/catch.
 * Every length read from the wire is checked against the bytes remaining before anything is
 * allocated, so a hostile length can never make us allocate more than the frame itself.
 */
export class Reader {
  offset: number;
  failed = false;
  /** Why the reader failed first; kept for error messages. */
  failure = '';

  constructor(
    readonly buffer: Buffer,
    offset = 0,
    readonly end = buffer.length,
  ) {
    this.offset = offset;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  fail(reason: string): void {
    if (!this.failed) {
      this.failed = true;
      this.failure = reason;
    }
    this.offset = this.end;
  }

  /** True when nothing failed; when `exact`, also requires every byte to have been consumed. */
  complete(exact = false): boolean {
    return !this.failed && (!exact || this.offset === this.end);
  }

  private take(bytes: number): number {
    const at = this.offset;
    if (bytes > this.end - at) {
      this.fail(`needed ${bytes} bytes at offset ${at}, ${this.end - at} remain`);
      return -1;
    }
    this.offset = at + bytes;
    return at;
  }

  int8(): number {
    const at = this.take(1);
    return at < 0 ? 0 : this.buffer.readInt8(at);
  }

  uint8(): number {
    const at = this.take(1);
    return at < 0 ? 0 : this.buffer[at]!;
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    const at = this.take(2);
    return at < 0 ? 0 : this.buffer.readInt16BE(at);
  }

  uint16(): number {
    const at = this.take(2);
    return at < 0 ? 0 : this.buffer.readUInt16BE(at);
  }

  int32(): number {
    const at = this.take(4);
    return at < 0 ? 0 : this.buffer.readInt32BE(at);
  }

  uint32(): number {
    const at = this.take(4);
    return at < 0 ? 0 : this.buffer.readUInt32BE(at);
  }

  int64(): bigint {
    const at = this.take(8);
    return at < 0 ? 0n : this.buffer.readBigInt64BE(at);
  }

  float64(): number {
    const at = this.take(8);
    return at < 0 ? 0 : this.buffer.readDoubleBE(at);
  }

  /** Unsigned LEB128 varint of at most 5 bytes (32 bits). */
  uvarint(): number {
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 5; i++) {
      const at = this.take(1);
      if (at < 0) return 0;
      const byte = this.buffer[at]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        if (result > 0xffffffff) break;
        return result;
      }
      shift += 7;
    }
    this.fail('unsigned varint longer than 32 bits');
    return 0;
  }

  /** Zig-zag signed varint of 32 bits. */
  varint(): number {
    const raw = this.uvarint();
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }

  /** Zig-zag signed varint of 64 bits (at most 10 bytes). */
  varlong(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const at = this.take(1);
      if (at < 0) return 0n;
      const byte = this.buffer[at]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        return (result >> 1n) ^ -(result & 1n);
      }
      shift += 7n;
    }
    this.fail('varlong longer than 10 bytes');
    return 0n;
  }

  uuid(): Buffer {
    const at = this.take(16);
    return at < 0 ? Buffer.alloc(16) : this.buffer.subarray(at, at + 16);
  }

  /** A view of the next `length` bytes (no copy); null and a failure when they are not there. */
  bytesOf(length: number): Buffer | null {
    if (length < 0) {
      this.fail(`negative length ${length}`);
      return null;
    }
    const at = this.take(length);
    return at < 0 ? null : this.buffer.subarray(at, at + length);
  }

  private stringOf(length: number): string {
    if (length < 0) {
      this.fail(`negative string length ${length}`);
      return '';
    }
    const at = this.take(length);
    return at < 0 ? '' : this.buffer.toString('utf8', at, at + length);
  }

  /** int16 length then UTF-8; length -1 is null. */
  nullableString(): string | null {
    const length = this.int16();
    return length === -1 ? null : this.stringOf(length);
  }

  string(): string {
    const length = this.int16();
    if (length === -1) {
      this.fail('null where a string is required');
      return '';
    }
    return this.stringOf(length);
  }

  /** unsigned varint of length+1 then UTF-8; 0 is null. */
  compactNullableString(): string | null {
    const lengthPlusOne = this.uvarint();
    return lengthPlusOne === 0 ? null : this.stringOf(lengthPlusOne - 1);
  }

  compactString(): string {
    const lengthPlusOne = this.uvarint();
    if (lengthPlusOne === 0) {
      this.fail('null where a compact string is required');
      return '';
    }
    return this.stringOf(lengthPlusOne - 1);
  }

  nullableBytes(): Buffer | null {
    const length = this.int32();
    return length === -1 ? null : this.bytesOf(length);
  }

  compactNullableBytes(): Buffer | null {
    const lengthPlusOne = this.uvarint();
    return lengthPlusOne === 0 ? null : this.bytesOf(lengthPlusOne - 1);
  }

  /**
   * Reads an array length (int32, or compact uvarint length+1). Returns -1 for null.
   * `elementBytesMin` is the fewest bytes one element can take on the wire: a count that could
   * not fit in the bytes remaining fails here, before the caller allocates anything for it.
   */
  arrayLength(compact: boolean, elementBytesMin: number): number {
    let count: number;
    if (compact) {
      const plusOne = this.uvarint();
      count = plusOne - 1;
    } else {
      count = this.int32();
    }
    if (count < -1) {
      this.fail(`negative array length ${count}`);
      return -1;
    }
    if (count > 0 && count * Math.max(1, elementBytesMin) > this.remaining) {
      this.fail(`array of ${count} elements cannot fit in ${this.remaining} bytes`);
      return -1;
    }
    return count;
  }
}
