/**
 * Splits a byte stream into Kafka frames (an int32 size, then that many bytes).
 *
 * A frame that arrives whole inside one socket chunk is handed out as a view of that chunk (no
 * copy). A frame spread over several chunks is kept as the list of its pieces (views of the
 * chunks, which the socket allocated for us anyway) and copied once, into one buffer of exactly
 * its size, when its last byte arrives. Small pieces (a client dribbling bytes) are copied into
 * a staging buffer instead, so that a view's overhead cannot outweigh the byte it holds. Memory
 * thus follows the bytes received, never the length claimed, and every byte is copied at most
 * once or twice (the old doubling buffer copied a 1 MiB frame about twice over). The claimed
 * length is checked against `frameBytesMax` before anything is allocated for it.
 *
 * Frames handed out are never reused or overwritten: handlers (and the storage ring buffer) may
 * keep views of them.
 */
export class FrameError extends Error {}

/** Largest staging buffer for small pieces of a frame that spans chunks. */
export const assemblyBytesInitial = 64 * 1024;
/** Pieces smaller than this are copied into the staging buffer rather than kept as views. */
const pieceBytesMin = 2048;

export class FrameDecoder {
  /** Bytes of a partial size prefix (a chunk boundary can split the 4-byte prefix). */
  private readonly sizeBytes = Buffer.alloc(4);
  private sizeFilled = 0;
  /** The pieces of the frame being assembled, its claimed size and how much has arrived. */
  private pieces: Buffer[] = [];
  private frameSize = -1;
  private filled = 0;
  /** Staging buffer for small pieces; bytes from stagedFrom to stagedTo are not yet in `pieces`. */
  private staging: Buffer | null = null;
  private stagedFrom = 0;
  private stagedTo = 0;

  constructor(readonly frameBytesMax: number) {}

  /** Bytes currently held for an incomplete frame (for tests and metrics). */
  get bufferedBytes(): number {
    return this.filled - (this.stagedTo - this.stagedFrom) + (this.staging?.length ?? 0) + this.sizeFilled;
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
      }
      const take = Math.min(this.frameSize - this.filled, end - at);
      this.add(chunk, at, take);
      at += take;
      if (this.filled === this.frameSize) onFrame(this.complete());
    }
  }

  private add(chunk: Buffer, at: number, take: number): void {
    if (take >= pieceBytesMin) {
      this.unstage();
      this.pieces.push(chunk.subarray(at, at + take));
    } else {
      if (this.staging === null || this.stagedTo + take > this.staging.length) {
        this.unstage();
        this.staging = Buffer.allocUnsafe(Math.max(take, Math.min(this.frameSize - this.filled, assemblyBytesInitial)));
        this.stagedFrom = 0;
        this.stagedTo = 0;
      }
      chunk.copy(this.staging, this.stagedTo, at, at + take);
      this.stagedTo += take;
    }
    this.filled += take;
  }

  /** Moves the staged bytes into `pieces` (the staging buffer's free space stays usable). */
  private unstage(): void {
    if (this.staging !== null && this.stagedTo > this.stagedFrom) {
      this.pieces.push(this.staging.subarray(this.stagedFrom, this.stagedTo));
      this.stagedFrom = this.stagedTo;
    }
  }

  private complete(): Buffer {
    this.unstage();
    const pieces = this.pieces;
    const frame = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, this.frameSize);
    this.pieces = [];
    this.staging = null;
    this.stagedFrom = 0;
    this.stagedTo = 0;
    this.frameSize = -1;
    this.filled = 0;
    return frame;
  }

  private checkSize(size: number): void {
    if (size < 0) throw new FrameError(`negative frame size ${size}`);
    if (size > this.frameBytesMax) throw new FrameError(`frame of ${size} bytes exceeds the limit of ${this.frameBytesMax} bytes`);
  }
}
