/**
 * Kafka's four compression codecs, as RecordBatch v2 uses them (attributes bits 0-2):
 *
 *   1 gzip    RFC 1952 members (node:zlib).
 *   2 snappy  raw snappy blocks (librdkafka, and what we write) or the xerial framing the Java
 *             client writes: the 16-byte header 0x82 'SNAPPY' 0x00, int32 version, int32
 *             compatible version, then chunks of an int32 length and a raw snappy block.
 *   3 lz4     the LZ4 frame format (not bare blocks). Magic 0/1 message sets had a broken
 *             header checksum in old Kafka; v2 batches do not, so frames are plain.
 *   4 zstd    standard zstd frames.
 *
 * The broker stores batches as they come and decompresses only where something must read
 * records. Decompressed output is bounded by `bytesMax` (decompressedBytesMax unless the caller
 * says otherwise), so a small batch that expands without end (a zip bomb) fails instead of
 * exhausting memory. For snappy, lz4 and zstd the bound is checked before any decoding, from
 * the sizes the format declares and its decoder enforces: the snappy length preamble, exact;
 * the LZ4 and zstd block headers, exact for stored (and RLE) blocks and a block maximum for
 * compressed ones. Encoders fill every compressed block but a frame's last, so one block
 * maximum of slack (at most 4 MiB for LZ4, 128 KiB for zstd) is allowed before decoding, and
 * the exact length is checked after. gzip declares nothing trustworthy, so zlib stops when its
 * output passes the bound.
 *
 * The work runs on libuv's thread pool (zlib, and the napi-rs libraries' async tasks), so the
 * event loop is free while a batch is opened.
 */
import { constants as bufferConstants } from 'node:buffer';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import snappy from 'snappy';
import lz4 from 'lz4-napi';
import zstd from '@mongodb-js/zstd';

export const codecGzip = 1;
export const codecSnappy = 2;
export const codecLz4 = 3;
export const codecZstd = 4;
export type CompressionCodec = typeof codecGzip | typeof codecSnappy | typeof codecLz4 | typeof codecZstd;

/** Kafka's names for the codecs (compression.type). */
export const codecNames: Readonly<Record<CompressionCodec, string>> = { 1: 'gzip', 2: 'snappy', 3: 'lz4', 4: 'zstd' };

/**
 * The most bytes one decompression may produce. message.max.bytes defaults to about 1 MiB, so
 * this allows a 64-fold expansion of a default-sized batch; anything larger is refused.
 */
export const decompressedBytesMax = 64 * 1024 * 1024;

export type DecompressionFailure = 'corrupt' | 'too-large';

export class DecompressionError extends Error {
  constructor(
    readonly codec: CompressionCodec,
    readonly failure: DecompressionFailure,
    message: string,
  ) {
    super(`${codecNames[codec]}: ${message}`);
    this.name = 'DecompressionError';
  }
}

export function isCompressionCodec(value: number): value is CompressionCodec {
  return value === codecGzip || value === codecSnappy || value === codecLz4 || value === codecZstd;
}

function checkCodec(codec: number): asserts codec is CompressionCodec {
  if (!isCompressionCodec(codec)) throw new RangeError(`compression codec ${codec} is not one of 1 (gzip), 2 (snappy), 3 (lz4), 4 (zstd)`);
}

const gzipAsync = promisify(zlib.gzip);
const gunzipAsync = promisify(zlib.gunzip);

export interface CompressOptions {
  /** gzip's level, 0-9 (default 6). The other codecs use their library's default (zstd's is 3, as Kafka's). */
  readonly level?: number;
}

/**
 * Compresses `data` as Kafka producers do: gzip, raw snappy (as librdkafka; every Kafka reader
 * accepts it), an LZ4 frame with independent blocks, a zstd frame.
 */
export async function compress(codec: CompressionCodec, data: Buffer, options: CompressOptions = {}): Promise<Buffer> {
  checkCodec(codec);
  switch (codec) {
    case codecGzip:
      return gzipAsync(data, options.level === undefined ? {} : { level: options.level });
    case codecSnappy:
      return snappy.compress(data);
    case codecLz4:
      return lz4.compressFrame(data);
    case codecZstd:
      // @mongodb-js/zstd 1.x takes no level: it compresses at zstd's default, 3.
      return zstd.compress(data);
  }
}

/**
 * Decompresses `data` (the records section of a compressed batch); throws DecompressionError
 * when the data is not valid for the codec or would decompress to more than `bytesMax` bytes.
 */
export async function decompress(codec: CompressionCodec, data: Buffer, bytesMax = decompressedBytesMax): Promise<Buffer> {
  checkCodec(codec);
  if (!Number.isSafeInteger(bytesMax) || bytesMax < 0) throw new RangeError(`bytesMax ${bytesMax} is not a non-negative integer`);
  let out: Buffer;
  switch (codec) {
    case codecGzip:
      out = await gunzip(data, bytesMax);
      break;
    case codecSnappy:
      out = await unsnappy(data, bytesMax);
      break;
    case codecLz4:
      out = await unlz4(data, bytesMax);
      break;
    case codecZstd:
      out = await unzstd(data, bytesMax);
      break;
  }
  // gzip and snappy stop at bytesMax already; lz4 and zstd may be one block over.
  if (out.length > bytesMax) throw tooLarge(codec, out.length, bytesMax);
  return out;
}

function corrupt(codec: CompressionCodec, message: string): DecompressionError {
  return new DecompressionError(codec, 'corrupt', message);
}

function tooLarge(codec: CompressionCodec, bytes: number, bytesMax: number, declared = false): DecompressionError {
  const what = declared ? `its headers allow ${bytes} decompressed bytes` : `decompresses to ${bytes} bytes or more`;
  return new DecompressionError(codec, 'too-large', `${what}, more than the limit of ${bytesMax}`);
}

/** Library errors become DecompressionError (corrupt); ours pass through. */
async function decoding(codec: CompressionCodec, work: () => Promise<Buffer>): Promise<Buffer> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DecompressionError) throw error;
    throw corrupt(codec, error instanceof Error ? error.message : String(error));
  }
}

// ---------------------------------------------------------------------------------------------
// gzip
// ---------------------------------------------------------------------------------------------

async function gunzip(data: Buffer, bytesMax: number): Promise<Buffer> {
  try {
    // zlib takes 1 to buffer.constants.MAX_LENGTH; the final length check covers bytesMax 0.
    return await gunzipAsync(data, { maxOutputLength: Math.min(Math.max(1, bytesMax), bufferConstants.MAX_LENGTH) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(codecGzip, bytesMax + 1, bytesMax);
    throw corrupt(codecGzip, error instanceof Error ? error.message : String(error));
  }
}

// ---------------------------------------------------------------------------------------------
// snappy: raw blocks, or xerial chunks of raw blocks
// ---------------------------------------------------------------------------------------------

const xerialMagic = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
/** Magic, int32 version, int32 compatible version. */
export const xerialHeaderBytes = 16;

/** True when `data` starts with the xerial snappy header the Java client writes. */
export function isXerialSnappy(data: Buffer): boolean {
  return data.length >= xerialHeaderBytes && data.subarray(0, xerialMagic.length).equals(xerialMagic);
}

/** The raw snappy blocks of `data`: itself, or the chunks of a xerial stream. */
function snappyBlocks(data: Buffer): Buffer[] {
  if (!isXerialSnappy(data)) return [data];
  const blocks: Buffer[] = [];
  let at = xerialHeaderBytes;
  while (at < data.length) {
    if (data.length - at < 4) throw corrupt(codecSnappy, `xerial chunk length at ${at} is cut short`);
    const length = data.readInt32BE(at);
    at += 4;
    if (length < 0 || length > data.length - at) throw corrupt(codecSnappy, `xerial chunk at ${at - 4} claims ${length} bytes but ${data.length - at} remain`);
    blocks.push(data.subarray(at, at + length));
    at += length;
  }
  return blocks;
}

/** The uncompressed length a raw snappy block declares (its varint preamble, below 2^32). */
function snappyDeclaredLength(block: Buffer): number {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= block.length) break;
    const byte = block[i]!;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (value > 0xffff_ffff) break;
      return value;
    }
  }
  throw corrupt(codecSnappy, 'malformed length preamble');
}

async function unsnappy(data: Buffer, bytesMax: number): Promise<Buffer> {
  const blocks = snappyBlocks(data);
  const declared = blocks.reduce((sum, block) => sum + snappyDeclaredLength(block), 0);
  if (declared > bytesMax) throw tooLarge(codecSnappy, declared, bytesMax, true);
  const parts: Buffer[] = [];
  for (const block of blocks) {
    const part = await decoding(codecSnappy, async () => {
      const out = await snappy.uncompress(block, { asBuffer: true });
      if (!Buffer.isBuffer(out)) throw corrupt(codecSnappy, 'the library answered a string');
      return out;
    });
    parts.push(part);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, declared);
}

// ---------------------------------------------------------------------------------------------
// LZ4 frames
// ---------------------------------------------------------------------------------------------

const lz4FrameMagic = 0x184d2204;
/** Skippable frames (LZ4 and zstd share them): magic 0x184D2A50 to 0x184D2A5F, uint32 size, data. */
const skippableMagicMask = 0xfffffff0;
const skippableMagic = 0x184d2a50;

/** What the headers of a compressed input say it may decompress to. */
interface Bound {
  /** At most this many bytes. */
  readonly bound: number;
  /**
   * The largest block maximum among compressed blocks: an encoder fills all blocks of a frame but
   * the last, so bound - slack is about what a sound single-frame input really holds.
   */
  readonly slack: number;
}

/** Refuses before decoding an input whose headers allow more than bytesMax plus one block's slack. */
function checkBound(codec: CompressionCodec, { bound, slack }: Bound, bytesMax: number): void {
  if (bound - slack > bytesMax) throw tooLarge(codec, bound, bytesMax, true);
}

interface Lz4Scan extends Bound {
  /** The LZ4 frames of the input (skippable frames dropped). */
  readonly frames: Buffer[];
}

/**
 * Walks LZ4 frames without decoding them. A block whose size has the high bit set is stored
 * uncompressed (that many bytes); any other block decodes to at most the frame's block maximum
 * (64 KiB, 256 KiB, 1 MiB or 4 MiB), which the decoder enforces.
 */
function scanLz4(data: Buffer): Lz4Scan {
  const frames: Buffer[] = [];
  let bound = 0;
  let slack = 0;
  let at = 0;
  const need = (bytes: number, what: string): void => {
    if (data.length - at < bytes) throw corrupt(codecLz4, `${what} at ${at} is cut short`);
  };
  if (data.length === 0) throw corrupt(codecLz4, 'no frame');
  while (at < data.length) {
    const start = at;
    need(4, 'frame magic');
    const magic = data.readUInt32LE(at);
    if (((magic & skippableMagicMask) >>> 0) === skippableMagic) {
      need(8, 'skippable frame');
      const size = data.readUInt32LE(at + 4);
      at += 8;
      need(size, 'skippable frame');
      at += size;
      continue;
    }
    if (magic !== lz4FrameMagic) throw corrupt(codecLz4, `no LZ4 frame magic at ${at} (0x${magic.toString(16)})`);
    need(7, 'frame descriptor');
    const flags = data[at + 4]!;
    const blockDescriptor = data[at + 5]!;
    if (flags >> 6 !== 1) throw corrupt(codecLz4, `frame version ${flags >> 6}, not 1`);
    const blockChecksums = (flags & 0x10) !== 0;
    const contentSize = (flags & 0x08) !== 0;
    const contentChecksum = (flags & 0x04) !== 0;
    const dictionaryId = (flags & 0x01) !== 0;
    const blockMaxId = (blockDescriptor >> 4) & 0x07;
    if (blockMaxId < 4) throw corrupt(codecLz4, `block maximum size id ${blockMaxId} is not 4 to 7`);
    const blockMax = 1 << (8 + 2 * blockMaxId);
    at += 6 + (contentSize ? 8 : 0) + (dictionaryId ? 4 : 0) + 1;
    for (;;) {
      need(4, 'block size');
      const word = data.readUInt32LE(at);
      at += 4;
      if (word === 0) break;
      const stored = word >>> 31 === 1;
      const size = word & 0x7fff_ffff;
      if (size > blockMax) throw corrupt(codecLz4, `a block of ${size} bytes exceeds the frame's block maximum of ${blockMax}`);
      need(size + (blockChecksums ? 4 : 0), 'block');
      at += size + (blockChecksums ? 4 : 0);
      if (stored) {
        bound += size;
      } else {
        bound += blockMax;
        slack = Math.max(slack, blockMax);
      }
    }
    if (contentChecksum) {
      need(4, 'content checksum');
      at += 4;
    }
    frames.push(data.subarray(start, at));
  }
  return { frames, bound, slack };
}

async function unlz4(data: Buffer, bytesMax: number): Promise<Buffer> {
  const scan = scanLz4(data);
  checkBound(codecLz4, scan, bytesMax);
  const { frames } = scan;
  // lz4-napi decodes one frame per call (it stops after the first), so each is given alone.
  const parts: Buffer[] = [];
  for (const frame of frames) parts.push(await decoding(codecLz4, () => lz4.decompressFrame(frame)));
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// zstd frames
// ---------------------------------------------------------------------------------------------

const zstdFrameMagic = 0xfd2fb528;
/** Block_Maximum_Size is the smaller of the window and 128 KiB. */
const zstdBlockBytesMax = 128 * 1024;

/**
 * At most how many bytes the zstd frames of `data` decompress to, read from the frame and block
 * headers without decoding: raw and RLE blocks declare their size, a compressed block yields
 * at most Block_Maximum_Size. Skippable frames yield nothing.
 */
function zstdBound(data: Buffer): Bound {
  let bound = 0;
  let slack = 0;
  let at = 0;
  const need = (bytes: number, what: string): void => {
    if (data.length - at < bytes) throw corrupt(codecZstd, `${what} at ${at} is cut short`);
  };
  if (data.length === 0) throw corrupt(codecZstd, 'no frame');
  while (at < data.length) {
    need(4, 'frame magic');
    const magic = data.readUInt32LE(at);
    if (((magic & skippableMagicMask) >>> 0) === skippableMagic) {
      need(8, 'skippable frame');
      const size = data.readUInt32LE(at + 4);
      at += 8;
      need(size, 'skippable frame');
      at += size;
      continue;
    }
    if (magic !== zstdFrameMagic) throw corrupt(codecZstd, `no zstd frame magic at ${at} (0x${magic.toString(16)})`);
    at += 4;
    need(1, 'frame header');
    const descriptor = data[at++]!;
    const contentSizeFlag = descriptor >> 6;
    const singleSegment = (descriptor & 0x20) !== 0;
    const checksum = (descriptor & 0x04) !== 0;
    if ((descriptor & 0x08) !== 0) throw corrupt(codecZstd, 'reserved frame header bit set');
    let window = Infinity;
    if (!singleSegment) {
      need(1, 'window descriptor');
      const windowDescriptor = data[at++]!;
      const base = 2 ** (10 + (windowDescriptor >> 3));
      window = base + (base / 8) * (windowDescriptor & 0x07);
    }
    at += [0, 1, 2, 4][descriptor & 0x03]!;
    const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][contentSizeFlag]!;
    need(contentSizeBytes, 'frame content size');
    if (singleSegment) {
      // The window is the content size, so no block can be larger.
      if (contentSizeBytes === 1) window = data[at]!;
      else if (contentSizeBytes === 2) window = data.readUInt16LE(at) + 256;
      else if (contentSizeBytes === 4) window = data.readUInt32LE(at);
      else window = Number(data.readBigUInt64LE(at));
    }
    at += contentSizeBytes;
    const blockMax = Math.min(window, zstdBlockBytesMax);
    for (let last = false; !last; ) {
      need(3, 'block header');
      const header = data.readUIntLE(at, 3);
      at += 3;
      last = (header & 1) === 1;
      const type = (header >> 1) & 0x03;
      const size = header >>> 3;
      if (type === 0) {
        need(size, 'raw block');
        at += size;
        bound += size;
      } else if (type === 1) {
        need(1, 'RLE block');
        at += 1;
        bound += size;
      } else if (type === 2) {
        need(size, 'compressed block');
        at += size;
        bound += blockMax;
        slack = Math.max(slack, blockMax);
      } else {
        throw corrupt(codecZstd, `reserved block type at ${at - 3}`);
      }
    }
    if (checksum) {
      need(4, 'content checksum');
      at += 4;
    }
  }
  return { bound, slack };
}

async function unzstd(data: Buffer, bytesMax: number): Promise<Buffer> {
  checkBound(codecZstd, zstdBound(data), bytesMax);
  return decoding(codecZstd, () => zstd.decompress(data));
}
