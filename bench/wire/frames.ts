/**
 * Cuts a byte stream into Kafka frames (int32 size, then that many bytes). Chunks are gathered
 * and joined once per complete frame, so a large Fetch response arriving in many reads is copied
 * once rather than once per read.
 */
export class FrameSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Size of the frame being gathered, or -1 before its size prefix is read. */
  private frameBytes = -1;

  constructor(private readonly frameBytesMax = 256 * 1024 * 1024) {}

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (true) {
      if (this.frameBytes < 0) {
        if (this.buffered < 4) return;
        if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
        this.frameBytes = this.chunks[0]!.readInt32BE(0);
        if (this.frameBytes < 0 || this.frameBytes > this.frameBytesMax) throw new Error(`a frame of ${this.frameBytes} bytes`);
      }
      const end = 4 + this.frameBytes;
      if (this.buffered < end) return;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      const frame = all.subarray(4, end);
      const rest = all.subarray(end);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.frameBytes = -1;
      onFrame(frame);
    }
  }
}
