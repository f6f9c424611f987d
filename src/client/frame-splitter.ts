/**
 * Cuts the byte stream from a broker into response frames (an int32 size, then that many bytes).
 * A frame inside one socket chunk is handed out as a view of it; a frame spread over chunks is
 * copied into one buffer allocated at its full size once its size prefix is known (the size was
 * checked against `frameBytesMax` first, so a bad prefix cannot make us allocate much).
 */
export class FrameSplitter {
  private readonly prefix = Buffer.alloc(4);
  private prefixFilled = 0;
  private frame: Buffer | null = null;
  private frameFilled = 0;

  constructor(private readonly frameBytesMax: number) {}

  /** Feeds a chunk; calls `onFrame` per complete frame. Throws on an impossible size. */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let at = 0;
    const end = chunk.length;
    while (at < end) {
      if (this.frame === null) {
        let size: number;
        if (this.prefixFilled === 0 && end - at >= 4) {
          size = chunk.readInt32BE(at);
          at += 4;
        } else {
          const take = Math.min(4 - this.prefixFilled, end - at);
          chunk.copy(this.prefix, this.prefixFilled, at, at + take);
          this.prefixFilled += take;
          at += take;
          if (this.prefixFilled < 4) return;
          this.prefixFilled = 0;
          size = this.prefix.readInt32BE(0);
        }
        if (size < 0 || size > this.frameBytesMax) throw new Error(`response frame of ${size} bytes is outside 0..${this.frameBytesMax}`);
        if (end - at >= size) {
          onFrame(chunk.subarray(at, at + size));
          at += size;
          continue;
        }
        this.frame = Buffer.allocUnsafe(size);
        this.frameFilled = 0;
      }
      const take = Math.min(this.frame.length - this.frameFilled, end - at);
      chunk.copy(this.frame, this.frameFilled, at, at + take);
      this.frameFilled += take;
      at += take;
      if (this.frameFilled === this.frame.length) {
        const frame = this.frame;
        this.frame = null;
        onFrame(frame);
      }
    }
  }
}
