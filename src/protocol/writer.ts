/**
 * A writer that builds one response (or request) as a list of chunks. Small fields go into a
 * growing scratch buffer; large byte fields (record batches served by Fetch) can be attached as
 * they are, without copying, and are written to the socket in one corked burst.
 */
export class Writer {
  private scratch: Buffer;
  private position = 0;
  /** Bytes of scratch already flushed into `chunks`. */
  private flushedAt = 0;
  private readonly chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** The scratch buffer that holds a reserved prefix, which may be replaced as the writer grows. */
  private prefixBuffer: Buffer | null = null;

  /** Bytes at or above which `attach` keeps a buffer by reference instead of copying it. */
  static readonly attachBytesMin = 4096;

  constructor(initialBytes = 256) {
    this.scratch = Buffer.allocUnsafe(initialBytes);
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.chunkBytes + (this.position - this.flushedAt);
  }

  private ensure(bytes: number): void {
    if (this.position + bytes <= this.scratch.length) return;
    // Keep already-flushed scratch bytes alive in their chunk; start a fresh scratch.
    this.flushScratch();
    const size = Math.max(this.scratch.length * 2, bytes, 256);
    this.scratch = Buffer.allocUnsafe(size);
    this.position = 0;
    this.flushedAt = 0;
  }

  private flushScratch(): void {
    if (this.position > this.flushedAt) {
      const chunk = this.scratch.subarray(this.flushedAt, this.position);
      this.chunks.push(chunk);
      this.chunkBytes += chunk.length;
      this.flushedAt = this.position;
    }
  }

  int8(value: number): this {
    this.ensure(1);
    this.scratch.writeInt8(value, this.position);
    this.position += 1;
    return this;
  }

  bool(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  int16(value: number): this {
    this.ensure(2);
    this.scratch.writeInt16BE(value, this.position);
    this.position += 2;
    return this;
  }

  uint16(value: number): this {
    this.ensure(2);
    this.scratch.writeUInt16BE(value, this.position);
    this.position += 2;
    return this;
  }

  int32(value: number): this {
    this.ensure(4);
    this.scratch.writeInt32BE(value, this.position);
    this.position += 4;
    return this;
  }

  uint32(value: number): this {
    this.ensure(4);
    this.scratch.writeUInt32BE(value, this.position);
    this.position += 4;
    return this;
  }

  int64(value: bigint): this {
    this.ensure(8);
    this.scratch.writeBigInt64BE(value, this.position);
    this.position += 8;
    return this;
  }

  float64(value: number): this {
    this.ensure(8);
    this.scratch.writeDoubleBE(value, this.position);
    this.position += 8;
    return this;
  }

  uvarint(value: number): this {
    this.ensure(5);
    let v = value >>> 0;
    while (v >= 0x80) {
      this.scratch[this.position++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.scratch[this.position++] = v;
    return this;
  }

  varint(value: number): this {
    return this.uvarint(((value << 1) ^ (value >> 31)) >>> 0);
  }

  varlong(value: bigint): this {
    this.ensure(10);
    let v = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
    while (v >= 0x80n) {
      this.scratch[this.position++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.scratch[this.position++] = Number(v);
    return this;
  }

  /** Raw bytes; large buffers are attached by reference. */
  raw(bytes: Buffer): this {
    if (bytes.length >= Writer.attachBytesMin) {
      this.flushScratch();
      this.chunks.push(bytes);
      this.chunkBytes += bytes.length;
      return this;
    }
    this.ensure(bytes.length);
    bytes.copy(this.scratch, this.position);
    this.position += bytes.length;
    return this;
  }

  uuid(value: Buffer): this {
    if (value.length !== 16) throw new Error(`uuid must be 16 bytes, got ${value.length}`);
    return this.raw(value);
  }

  string(value: string): this {
    const bytes = Buffer.byteLength(value);
    if (bytes > 0x7fff) throw new Error(`string of ${bytes} bytes is longer than int16 allows`);
    this.int16(bytes);
    this.ensure(bytes);
    this.position += this.scratch.write(value, this.position, 'utf8');
    return this;
  }

  nullableString(value: string | null): this {
    return value === null ? this.int16(-1) : this.string(value);
  }

  compactString(value: string): this {
    const bytes = Buffer.byteLength(value);
    this.uvarint(bytes + 1);
    this.ensure(bytes);
    this.position += this.scratch.write(value, this.position, 'utf8');
    return this;
  }

  compactNullableString(value: string | null): this {
    return value === null ? this.uvarint(0) : this.compactString(value);
  }

  nullableBytes(value: Buffer | null): this {
    if (value === null) return this.int32(-1);
    this.int32(value.length);
    return this.raw(value);
  }

  compactNullableBytes(value: Buffer | null): this {
    if (value === null) return this.uvarint(0);
    this.uvarint(value.length + 1);
    return this.raw(value);
  }

  /** Reserves an int32 to be filled in later (for example a frame's length prefix). */
  reserveInt32(): number {
    this.ensure(4);
    const at = this.position;
    this.position += 4;
    this.prefixBuffer = this.scratch;
    return at;
  }

  /** Fills an int32 reserved by `reserveInt32`. */
  fillInt32(at: number, value: number): void {
    if (this.prefixBuffer === null) throw new Error('fillInt32 without reserveInt32');
    this.prefixBuffer.writeInt32BE(value, at);
  }

  /** The written bytes as a list of buffers, in order (the first one includes any reserved prefix). */
  finish(): Buffer[] {
    // The reserved prefix lives in the very first scratch buffer; flushed chunks keep a view of it.
    this.flushScratch();
    return this.chunks;
  }

  /** The written bytes as one buffer (copies when there is more than one chunk). */
  toBuffer(): Buffer {
    const chunks = this.finish();
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }
}
