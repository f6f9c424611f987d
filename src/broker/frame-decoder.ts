/**
 * Splits a byte stream into Kafka frames (an int32 size, then that many bytes).
 *
 * A frame that arrives whole inside one socket chunk is handed out as a view of that chunk (no
 * copy). A frame spread over several chunks is assembled in one buffer that starts small and
 * doubles as bytes arrive, so memory follows the bytes received, never the length claimed. The
 * claimed length is checked against `frameBytesMax` before anything is allocated for it.
 *
 * Frames handed out are never reused or overwritten: handlers (and the storage ring buffer) may
 * keep views of them.
 */
export class FrameError extends Error {}

/** First allocation for a frame that spans chunks; grows by doubling up to the frame's size. */
export const assemblyBytesInitial = 64 * 1024;

export class FrameDecoder {
  /** Bytes of a partial size prefix (a chunk boundary can split the 4-byte prefix). */
  private readonly sizeBytes = Buffer.alloc(4);
  private sizeFilled = 0;
  /** The frame being assembled, its claimed size and how much has arrived. */
  private assembly: Buffer | null = null;
  private frameSize = -1;
  private filled = 0;

  constructor(readonly frameBytesMax: number) {}

  /** Bytes currently held for an incomplete frame (for tests and metrics). */
  get bufferedBytes(): number {
    return (this.assembly?.length ?? 0) + this.sizeFilled;
  }

  /** True while part of a frame has been received. */
  get midFrame(): boolean {
    return this.sizeFilled > 0 || this.frameSize >= 0;
  }

  /**
   * Feeds one chunk; calls `onFrame` for each complete frame body (without the size prefix).
   * Throws FrameError on a negative size or one over the limit.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let at = 0;
    const end = chunk.length;
    while (at < end) {
      if (this.frameSize < 0) {
        // Fast path: a whole prefix in this chunk and nothing partial pending.
        let size: number;
        if (this.sizeFilled === 0 && end - at >= 4) {
          size = chunk.readInt32BE(at);
          at += 4;
        } else {
          const take = Math.min(4 - this.sizeFilled, end - at);
          chunk.copy(this.sizeBytes, this.sizeFilled, at, at + take);
          this.sizeFilled += take;
          at += take;
          if (this.sizeFilled < 4) return;
          size = this.sizeBytes.readInt32BE(0);
          this.sizeFilled = 0;
        }
        this.checkSize(size);
        if (end - at >= size) {
          // The whole frame is in this chunk: hand out a view.
          onFrame(chunk.subarray(at, at + size));
          at += size;
          continue;
        }
        this.frameSize = size;
        this.filled = 0;
        this.assembly = Buffer.allocUnsafe(Math.min(size, assemblyBytesInitial));
      }
      const want = this.frameSize - this.filled;
      const take = Math.min(want, end - at);
      this.reserve(this.filled + take);
      chunk.copy(this.assembly!, this.filled, at, at + take);
      this.filled += take;
      at += take;
      if (this.filled === this.frameSize) {
        const frame = this.assembly!.subarray(0, this.frameSize);
        this.assembly = null;
        this.frameSize = -1;
        this.filled = 0;
        onFrame(frame);
      }
    }
  }

  private checkSize(size: number): void {
    if (size < 0) throw new FrameError(`negative frame size ${size}`);
    if (size > this.frameBytesMax) throw new FrameError(`frame of ${size} bytes exceeds the limit of ${this.frameBytesMax} bytes`);
  }

  private reserve(bytes: number): void {
    const current = this.assembly!;
    if (bytes <= current.length) return;
    let size = current.length;
    while (size < bytes) size *= 2;
    const grown = Buffer.allocUnsafe(Math.min(size, this.frameSize));
    current.copy(grown, 0, 0, this.filled);
    this.assembly = grown;
  }
}
