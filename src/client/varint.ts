/**
 * Zig-zag varints as records use them, on plain numbers: varint for int32 fields, varlong for
 * timestamp deltas (exact below 2^53). Sizes are computed without writing, so a record's
 * length prefix can be written before its body.
 */

/** Bytes of the zig-zag varint of a 32-bit signed value. */
export function varintBytes(value: number): number {
  const unsigned = ((value << 1) ^ (value >> 31)) >>> 0;
  if (unsigned < 0x80) return 1;
  if (unsigned < 0x4000) return 2;
  if (unsigned < 0x20_0000) return 3;
  if (unsigned < 0x1000_0000) return 4;
  return 5;
}

export function writeVarint(buffer: Buffer, value: number, at: number): number {
  let unsigned = ((value << 1) ^ (value >> 31)) >>> 0;
  while (unsigned >= 0x80) {
    buffer[at++] = (unsigned & 0x7f) | 0x80;
    unsigned >>>= 7;
  }
  buffer[at++] = unsigned;
  return at;
}

function zigzagLong(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

/** Bytes of the zig-zag varlong of a safe integer. */
export function varlongBytes(value: number): number {
  if (value >= -64 && value < 64) return 1;
  let unsigned = zigzagLong(value);
  let bytes = 1;
  while (unsigned >= 0x80) {
    unsigned = Math.floor(unsigned / 0x80);
    bytes++;
  }
  return bytes;
}

export function writeVarlong(buffer: Buffer, value: number, at: number): number {
  if (value >= -64 && value < 64) {
    buffer[at] = ((value << 1) ^ (value >> 31)) & 0x7f;
    return at + 1;
  }
  let unsigned = zigzagLong(value);
  while (unsigned >= 0x80) {
    buffer[at++] = (unsigned % 0x80) | 0x80;
    unsigned = Math.floor(unsigned / 0x80);
  }
  buffer[at++] = unsigned;
  return at;
}

/** A cursor that reads varints from a buffer; `failed` is set, and zeros returned, past `end` or on an overlong varint. */
export class VarintReader {
  failed = false;

  constructor(
    readonly buffer: Buffer,
    public at: number,
    public end: number,
  ) {}

  varint(): number {
    const buffer = this.buffer;
    let at = this.at;
    if (at < this.end) {
      const first = buffer[at]!;
      if (first < 0x80) {
        this.at = at + 1;
        return (first >>> 1) ^ -(first & 1);
      }
    }
    let value = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      if (at >= this.end) break;
      const byte = buffer[at++]!;
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        this.at = at;
        const unsigned = value >>> 0;
        return (unsigned >>> 1) ^ -(unsigned & 1);
      }
    }
    this.failed = true;
    this.at = this.end;
    return 0;
  }

  varlong(): number {
    const buffer = this.buffer;
    let at = this.at;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (at >= this.end) break;
      const byte = buffer[at++]!;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        this.at = at;
        return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      }
      scale *= 0x80;
    }
    this.failed = true;
    this.at = this.end;
    return 0;
  }

  /** A varint length then that many bytes, as a view; null for length -1. */
  bytes(): Buffer | null {
    const length = this.varint();
    if (length < 0) {
      if (length !== -1) this.failed = true;
      return null;
    }
    const at = this.at;
    if (length > this.end - at) {
      this.failed = true;
      this.at = this.end;
      return null;
    }
    this.at = at + length;
    return this.buffer.subarray(at, at + length);
  }

  /** A varint length then that many bytes as UTF-8. */
  string(): string {
    const length = this.varint();
    const at = this.at;
    if (length < 0 || length > this.end - at) {
      this.failed = true;
      this.at = this.end;
      return '';
    }
    this.at = at + length;
    return this.buffer.toString('utf8', at, at + length);
  }
}
