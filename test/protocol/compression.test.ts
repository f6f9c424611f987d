/**
 * The four Kafka codecs (src/protocol/compression.ts): round trips, the xerial snappy framing
 * the Java client writes, multi-frame and skippable-frame inputs, damaged inputs, the
 * decompressed size limit (encoder-made and hand-made bombs), batches that kcat (librdkafka)
 * compressed, and findRecordAtOrAfterAsync on compressed batches.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import {
  codecGzip,
  codecLz4,
  codecNames,
  codecSnappy,
  codecZstd,
  compress,
  decompress,
  decompressedBytesMax,
  DecompressionError,
  isXerialSnappy,
  type CompressionCodec,
  type DecompressionFailure,
} from '../../src/protocol/compression.js';
import {
  attributesAt,
  batchHeaderBytes,
  batchLengthAt,
  batchPrefixBytes,
  buildBatch,
  compressionMask,
  crcAt,
  findRecordAtOrAfter,
  findRecordAtOrAfterAsync,
  setLogAppendTime,
  splitBatches,
  validateBatch,
} from '../../src/protocol/record-batch.js';
import { crc32c } from '../../src/protocol/crc32c.js';
import { startBroker, type Broker } from '../../src/index.js';
import { createMemoryStorage, openDiskStorage } from '../../src/storage/index.js';
import { run } from '../helpers/run.js';
import { requireTool } from '../helpers/interop.js';
import { RawClient } from '../helpers/raw-client.js';

const codecs: CompressionCodec[] = [codecGzip, codecSnappy, codecLz4, codecZstd];

/** Text-like bytes that compress some but not trivially (deterministic). */
function textish(bytes: number, seed = 1): Buffer {
  const words = ['kafka', 'record', 'batch', 'offset', 'timestamp', 'inkwell', 'broker', 'partition', 'leader', 'epoch'];
  const parts: string[] = [];
  let state = seed;
  let length = 0;
  while (length < bytes) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const word = `${words[state % words.length]}-${state % 997} `;
    parts.push(word);
    length += word.length;
  }
  return Buffer.from(parts.join('')).subarray(0, bytes);
}

async function rejects(promise: Promise<unknown>, failure: DecompressionFailure, codec: CompressionCodec): Promise<DecompressionError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof DecompressionError, `expected a DecompressionError (${failure}), got ${String(caught)}`);
  assert.equal(caught.failure, failure, caught.message);
  assert.equal(caught.codec, codec);
  return caught;
}

// ---------------------------------------------------------------------------------------------
// Round trips and formats
// ---------------------------------------------------------------------------------------------

for (const codec of codecs) {
  test(`${codecNames[codec]}: round trips`, async () => {
    const inputs = [Buffer.alloc(0), Buffer.from('a'), textish(300_000), randomBytes(1024 * 1024), Buffer.alloc(2 * 1024 * 1024, 0x5a)];
    for (const input of inputs) {
      const compressed = await compress(codec, input);
      const output = await decompress(codec, compressed);
      assert.ok(output.equals(input), `${input.length} bytes`);
    }
    const text = textish(300_000);
    assert.ok((await compress(codec, text)).length < text.length / 2, 'text compresses');
  });

  test(`${codecNames[codec]}: the limit is exact for what the encoder made`, async () => {
    for (const input of [textish(300_000, 7), Buffer.alloc(5 * 1024 * 1024 + 17, 1)]) {
      const compressed = await compress(codec, input);
      assert.equal((await decompress(codec, compressed, input.length)).length, input.length, 'at the limit');
      await rejects(decompress(codec, compressed, input.length - 1), 'too-large', codec);
    }
  });

  test(`${codecNames[codec]}: a bomb past decompressedBytesMax is refused`, async () => {
    const bomb = await compress(codec, Buffer.alloc(decompressedBytesMax + 1));
    assert.ok(bomb.length < decompressedBytesMax / 20, `a ${bomb.length}-byte bomb`);
    const error = await rejects(decompress(codec, bomb), 'too-large', codec);
    assert.match(error.message, new RegExp(`limit of ${decompressedBytesMax}\\b`));
    // The same bomb opens when the caller allows it.
    assert.equal((await decompress(codec, bomb, decompressedBytesMax + 1)).length, decompressedBytesMax + 1);
  });
}

test('gzip: levels, and damaged input', async () => {
  const text = textish(200_000);
  const fast = await compress(codecGzip, text, { level: 1 });
  const best = await compress(codecGzip, text, { level: 9 });
  assert.ok(best.length <= fast.length);
  assert.ok((await decompress(codecGzip, fast)).equals(text));
  await rejects(decompress(codecGzip, fast.subarray(0, fast.length - 10)), 'corrupt', codecGzip);
  await rejects(decompress(codecGzip, Buffer.from('not gzip at all')), 'corrupt', codecGzip);
  await rejects(decompress(codecGzip, Buffer.alloc(0)), 'corrupt', codecGzip);
});

test('snappy: raw blocks are what we write; damaged or lying blocks are refused', async () => {
  const text = textish(100_000);
  const raw = await compress(codecSnappy, text);
  assert.equal(isXerialSnappy(raw), false);
  await rejects(decompress(codecSnappy, raw.subarray(0, raw.length - 3)), 'corrupt', codecSnappy);
  // A preamble that claims 4 GiB is refused before anything is allocated.
  const claims4GiB = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x61]);
  await rejects(decompress(codecSnappy, claims4GiB), 'too-large', codecSnappy);
  await rejects(decompress(codecSnappy, claims4GiB, 2 ** 33), 'corrupt', codecSnappy);
  // A preamble that never ends.
  await rejects(decompress(codecSnappy, Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])), 'corrupt', codecSnappy);
  await rejects(decompress(codecSnappy, Buffer.alloc(0)), 'corrupt', codecSnappy);
});

/** A Java-client (xerial snappy-java SnappyOutputStream) stream: header, then int32-length chunks of raw snappy. */
async function xerial(data: Buffer, chunkBytes: number): Promise<Buffer> {
  const header = Buffer.alloc(16);
  Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]).copy(header);
  header.writeInt32BE(1, 8); // version
  header.writeInt32BE(1, 12); // compatible version
  const parts: Buffer[] = [header];
  for (let at = 0; at < data.length; at += chunkBytes) {
    const chunk = await compress(codecSnappy, data.subarray(at, at + chunkBytes));
    const length = Buffer.alloc(4);
    length.writeInt32BE(chunk.length);
    parts.push(length, chunk);
  }
  return Buffer.concat(parts);
}

test('snappy: xerial-framed streams (the Java client) decompress', async () => {
  const text = textish(200_000, 3);
  const framed = await xerial(text, 32 * 1024);
  assert.ok(isXerialSnappy(framed));
  assert.ok((await decompress(codecSnappy, framed)).equals(text));
  assert.ok((await decompress(codecSnappy, await xerial(Buffer.from('one'), 32 * 1024))).equals(Buffer.from('one')));
  assert.equal((await decompress(codecSnappy, await xerial(Buffer.alloc(0), 32 * 1024))).length, 0, 'header only');
  // The chunks' preambles add up past the limit: refused before decoding.
  await rejects(decompress(codecSnappy, framed, text.length - 1), 'too-large', codecSnappy);
  assert.equal((await decompress(codecSnappy, framed, text.length)).length, text.length);
  // A chunk length that runs past the end, and a length cut short.
  await rejects(decompress(codecSnappy, framed.subarray(0, framed.length - 1)), 'corrupt', codecSnappy);
  await rejects(decompress(codecSnappy, Buffer.concat([framed, Buffer.from([0, 0])])), 'corrupt', codecSnappy);
});

function skippableFrame(payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(0x184d2a53, 0);
  header.writeUInt32LE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

for (const codec of [codecLz4, codecZstd] as const) {
  test(`${codecNames[codec]}: concatenated frames and skippable frames; damaged frames`, async () => {
    const a = textish(100_000, 11);
    const b = textish(70_000, 12);
    const [za, zb] = [await compress(codec, a), await compress(codec, b)];
    const joined = Buffer.concat([za, skippableFrame(Buffer.from('ignore me')), zb]);
    assert.ok((await decompress(codec, joined)).equals(Buffer.concat([a, b])));
    await rejects(decompress(codec, za.subarray(0, za.length - 2)), 'corrupt', codec);
    await rejects(decompress(codec, Buffer.concat([za, Buffer.from('xyzw')])), 'corrupt', codec);
    await rejects(decompress(codec, Buffer.from('definitely not a frame')), 'corrupt', codec);
    await rejects(decompress(codec, Buffer.alloc(0)), 'corrupt', codec);
    // LZ4: the frame header checksum (our encoder writes no content size, so it is byte 6);
    // zstd: the first block's type made the reserved 3.
    const damaged = Buffer.from(za);
    if (codec === codecLz4) damaged[6]! ^= 0xff;
    else damaged[6]! |= 0x06;
    await rejects(decompress(codec, damaged), 'corrupt', codec);
  });
}

/** A zstd frame (window 128 KiB, no content size) of `blocks` RLE blocks of `blockBytes` bytes each. */
function zstdRleFrame(blocks: number, blockBytes: number, byte: number): Buffer {
  const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  for (let i = 0; i < blocks; i++) {
    const header = ((i === blocks - 1 ? 1 : 0) | (1 << 1) | (blockBytes << 3)) >>> 0;
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff, byte]));
  }
  return Buffer.concat(parts);
}

test('zstd: RLE blocks count exactly; a hand-made RLE bomb is refused before decoding', async () => {
  // The decoder agrees with our reading of the frame: 10 blocks of 128 KiB of 0x61.
  const small = zstdRleFrame(10, 128 * 1024, 0x61);
  const out = await decompress(codecZstd, small, 10 * 128 * 1024);
  assert.ok(out.equals(Buffer.alloc(10 * 128 * 1024, 0x61)));
  await rejects(decompress(codecZstd, small, 10 * 128 * 1024 - 1), 'too-large', codecZstd);
  // 4 bytes a block: 4 KiB of input would be 128 GiB... here 64 MiB and one block more.
  const bomb = zstdRleFrame(decompressedBytesMax / (128 * 1024) + 1, 128 * 1024, 0);
  assert.ok(bomb.length < 4 * 1024);
  const started = Date.now();
  await rejects(decompress(codecZstd, bomb), 'too-large', codecZstd);
  assert.ok(Date.now() - started < 1000, 'refused from the headers');
});

test('lz4: a frame of stored blocks counts exactly', async () => {
  // Magic, FLG (version 1, independent blocks), BD (64 KiB blocks), header checksum of FLG BD.
  const frame = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]);
  const block = Buffer.from('stored, not compressed');
  const size = Buffer.alloc(4);
  size.writeUInt32LE((0x8000_0000 | block.length) >>> 0);
  const data = Buffer.concat([frame, size, block, size, block, Buffer.alloc(4)]);
  assert.equal((await decompress(codecLz4, data)).toString(), `${block}${block}`);
  await rejects(decompress(codecLz4, data, 2 * block.length - 1), 'too-large', codecLz4);
});

test('decompress and compress refuse codecs that are not 1 to 4', async () => {
  for (const codec of [0, 5, 7]) {
    await assert.rejects(decompress(codec as CompressionCodec, Buffer.from('x')), RangeError);
    await assert.rejects(compress(codec as CompressionCodec, Buffer.from('x')), RangeError);
  }
  await assert.rejects(decompress(codecGzip, Buffer.from('x'), -1), RangeError);
});

// ---------------------------------------------------------------------------------------------
// findRecordAtOrAfterAsync on compressed batches
// ---------------------------------------------------------------------------------------------

/** The batch with its records section compressed, attributes and CRC set as a producer would. */
async function compressBatch(batch: Buffer, codec: CompressionCodec): Promise<Buffer> {
  const records = await compress(codec, batch.subarray(batchHeaderBytes));
  const out = Buffer.concat([batch.subarray(0, batchHeaderBytes), records]);
  out.writeInt32BE(out.length - batchPrefixBytes, batchLengthAt);
  out.writeUInt16BE((out.readUInt16BE(attributesAt) & ~compressionMask) | codec, attributesAt);
  out.writeUInt32BE(crc32c(out.subarray(attributesAt)), crcAt);
  return out;
}

const stamped = [100, 300, 200, 400].map((timestamp, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`value ${i} `.repeat(20)), timestamp }));

for (const codec of codecs) {
  test(`findRecordAtOrAfterAsync opens a ${codecNames[codec]} batch and finds the exact record`, async () => {
    const plain = buildBatch(stamped, { baseOffset: 40 });
    const batch = await compressBatch(plain, codec);
    const checked = validateBatch(batch, { messageBytesMax: 1 << 20 });
    assert.ok(checked.ok, checked.ok ? '' : checked.reason);
    assert.equal(checked.header.attributes & compressionMask, codec);
    for (const target of [50, 100, 150, 300, 301, 400]) {
      assert.deepEqual(await findRecordAtOrAfterAsync(batch, target), findRecordAtOrAfter(plain, target), `target ${target}`);
    }
    assert.deepEqual(await findRecordAtOrAfterAsync(batch, 150), { offsetDelta: 1, timestamp: 300 });
    assert.deepEqual(await findRecordAtOrAfterAsync(batch, 301), { offsetDelta: 3, timestamp: 400 });
    assert.equal(await findRecordAtOrAfterAsync(batch, 401), null);

    // The sync walker takes the decompressed records, and will not guess without them.
    const records = await decompress(codec, batch.subarray(batchHeaderBytes));
    assert.deepEqual(findRecordAtOrAfter(batch, 150, records), { offsetDelta: 1, timestamp: 300 });
    assert.throws(() => findRecordAtOrAfter(batch, 150), TypeError);
    assert.equal(findRecordAtOrAfter(batch, 401), null, 'a batch whose maxTimestamp is too early needs no records');

    // LogAppendTime: every record carries the append time, so the first one answers.
    const appended = Buffer.from(batch);
    setLogAppendTime(appended, 5000);
    assert.deepEqual(await findRecordAtOrAfterAsync(appended, 4000), { offsetDelta: 0, timestamp: 5000 });
    assert.deepEqual(findRecordAtOrAfter(appended, 4000), { offsetDelta: 0, timestamp: 5000 });
  });
}

test('findRecordAtOrAfterAsync answers a batch it cannot open with its first record', async () => {
  const plain = buildBatch(stamped);
  const batch = await compressBatch(plain, codecZstd);
  const damaged = Buffer.from(batch);
  damaged.fill(0x41, batchHeaderBytes + 4);
  assert.deepEqual(await findRecordAtOrAfterAsync(damaged, 301), { offsetDelta: 0, timestamp: 400 });
  const unknownCodec = Buffer.from(batch);
  unknownCodec.writeUInt16BE((unknownCodec.readUInt16BE(attributesAt) & ~compressionMask) | 6, attributesAt);
  assert.deepEqual(await findRecordAtOrAfterAsync(unknownCodec, 301), { offsetDelta: 0, timestamp: 400 });
  // A bomb in a batch: past the limit, so the batch is not opened.
  const bombBatch = Buffer.concat([batch.subarray(0, batchHeaderBytes), zstdRleFrame(decompressedBytesMax / (128 * 1024) + 1, 128 * 1024, 0)]);
  assert.deepEqual(await findRecordAtOrAfterAsync(bombBatch, 301), { offsetDelta: 0, timestamp: 400 });
  // Uncompressed batches answer as the sync walker does.
  assert.deepEqual(await findRecordAtOrAfterAsync(plain, 150), { offsetDelta: 1, timestamp: 300 });
});

test('storage answers offsetForTimestamp inside compressed batches, from memory and from segment files', async () => {
  // Batches of every codec, 4 records each, timestamps not in order inside a batch.
  const plain = codecs.map((_, b) => buildBatch([0, 2, 1, 3].map((k, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from('v'.repeat(100)), timestamp: 10_000 * (b + 1) + k * 1000 }))));
  const compressed = await Promise.all(plain.map((batch, b) => compressBatch(batch, codecs[b]!)));
  const targets = [0, ...plain.flatMap((_, b) => [0, 1, 2, 3].flatMap((k) => [10_000 * (b + 1) + k * 1000 - 1, 10_000 * (b + 1) + k * 1000])), 100_000];
  /** The first record, in offset order, whose timestamp reaches the target (the batches' maxTimestamps rise). */
  const expected = (target: number): { offset: number; timestamp: number } | null => {
    for (let b = 0; b < plain.length; b++) {
      const found = findRecordAtOrAfter(plain[b]!, target);
      if (found) return { offset: 4 * b + found.offsetDelta, timestamp: found.timestamp };
    }
    return null;
  };
  const dir = await mkdtemp(join(tmpdir(), 'inkwell-compression-'));
  try {
    for (const storage of [createMemoryStorage(), await openDiskStorage(dir)]) {
      try {
        // The disk engine keeps no ring here, so its lookups read the segment file.
        const log = await storage.openPartition('compressed', 0, { segmentBytes: 1 << 20, indexIntervalBytes: 0, ringBufferBytesMax: storage.kind === 'memory' ? 1 << 20 : 0 });
        for (const batch of compressed) {
          const checked = validateBatch(Buffer.from(batch), { messageBytesMax: 1 << 20 });
          assert.ok(checked.ok, checked.ok ? '' : checked.reason);
          // Durable, not just written: lookups see only visible batches (synced, by default).
          await log.append(Buffer.from(batch), checked.info).durable;
        }
        for (const target of targets) assert.deepEqual(await log.offsetForTimestamp(target), expected(target), `${storage.kind}: timestamp ${target}`);
      } finally {
        await storage.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Interop: batches kcat (librdkafka) compressed
// ---------------------------------------------------------------------------------------------

interface DecodedRecord {
  offsetDelta: number;
  timestampDelta: number;
  key: string | null;
  value: string | null;
  headers: [string, string | null][];
}

/** Reads `count` records from a (decompressed) records section, which they must fill exactly. */
function decodeRecords(records: Buffer, count: number): DecodedRecord[] {
  let at = 0;
  const varlong = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      assert.ok(at < records.length && shift < 70, 'varint runs past the records');
      const byte = records[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    }
  };
  const sized = (): string | null => {
    const length = varlong();
    if (length < 0) return null;
    const text = records.toString('utf8', at, at + length);
    at += length;
    return text;
  };
  const out: DecodedRecord[] = [];
  for (let i = 0; i < count; i++) {
    const length = varlong();
    const end = at + length;
    at += 1; // attributes
    const timestampDelta = varlong();
    const offsetDelta = varlong();
    const key = sized();
    const value = sized();
    const headers: [string, string | null][] = [];
    for (let h = varlong(); h > 0; h--) headers.push([sized() ?? '', sized()]);
    assert.equal(at, end, `record ${i} fills its length`);
    out.push({ offsetDelta, timestampDelta, key, value, headers });
  }
  assert.equal(at, records.length, 'the records fill the decompressed section');
  return out;
}

/**
 * librdkafka up to 2.11.0 (kcat here has 2.0.2) compresses gzip, snappy and lz4 only when the
 * broker advertises Produce from v0, and Inkwell advertises v3 up (as Kafka 4 does); lz4 also
 * needs FindCoordinator advertised, which Inkwell does not have. Otherwise it sends those
 * batches uncompressed. This proxy sits between kcat and the broker (which advertises the
 * proxy's address) and rewrites ApiVersions responses to say both, so kcat compresses as it
 * would against Kafka 3; everything else passes untouched.
 */
class ApiVersionsProxy {
  private constructor(
    private readonly server: net.Server,
    private readonly sockets: Set<net.Socket>,
    readonly port: number,
  ) {}

  static async start(upstreamPort: () => number): Promise<ApiVersionsProxy> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: upstreamPort() });
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      }
      const apiVersionsRequests = new Map<number, number>();
      const closeBoth = (): void => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', closeBoth).on('close', closeBoth);
      upstream.on('error', closeBoth).on('close', closeBoth);
      framesOf(client, (frame) => {
        if (frame.readInt16BE(4) === 18) apiVersionsRequests.set(frame.readInt32BE(8), frame.readInt16BE(6));
        upstream.write(frame);
      });
      framesOf(upstream, (frame) => {
        const version = apiVersionsRequests.get(frame.readInt32BE(4));
        if (version === undefined) {
          client.write(frame);
        } else {
          apiVersionsRequests.delete(frame.readInt32BE(4));
          client.write(rewriteApiVersions(frame, version));
        }
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return new ApiVersionsProxy(server, sockets, (server.address() as net.AddressInfo).port);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** Calls `onFrame` with each whole size-prefixed frame (prefix included) read from `socket`. */
function framesOf(socket: net.Socket, onFrame: (frame: Buffer) => void): void {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const bytes = 4 + pending.readInt32BE(0);
      onFrame(pending.subarray(0, bytes));
      pending = pending.subarray(bytes);
    }
  });
}

/**
 * An ApiVersions response frame (header v0; body flexible from v3) with Produce's minVersion
 * lowered to 0 and FindCoordinator v0 added when absent (librdkafka takes FindCoordinator as
 * the sign of an LZ4-capable broker).
 */
function rewriteApiVersions(frame: Buffer, version: number): Buffer {
  const out = Buffer.from(frame);
  const countAt = 8 + 2; // size, correlation id, error code
  const flexible = version >= 3;
  let at = countAt;
  let count: number;
  if (flexible) {
    assert.ok(out[at]! < 0x7f, 'fewer than 126 API keys');
    count = out[at++]! - 1;
  } else {
    count = out.readInt32BE(at);
    at += 4;
  }
  let findCoordinator = false;
  for (let i = 0; i < count; i++) {
    const key = out.readInt16BE(at);
    if (key === 0) out.writeInt16BE(0, at + 2);
    if (key === 10) findCoordinator = true;
    at += 6;
    if (flexible) {
      assert.equal(out[at], 0, 'no tagged fields in an API key entry');
      at += 1;
    }
  }
  if (findCoordinator || count < 1) return out;
  const entry = Buffer.from(flexible ? [0, 10, 0, 0, 0, 0, 0] : [0, 10, 0, 0, 0, 0]);
  if (flexible) out[countAt] = count + 2;
  else out.writeInt32BE(count + 1, countAt);
  const rewritten = Buffer.concat([out.subarray(0, at), entry, out.subarray(at)]);
  rewritten.writeInt32BE(rewritten.length - 4, 0);
  return rewritten;
}

describe('batches that kcat compressed', () => {
  let broker: Broker;
  let proxy: ApiVersionsProxy;
  let port = 0;

  before(async () => {
    proxy = await ApiVersionsProxy.start(() => port);
    broker = await startBroker({ listeners: 'PLAINTEXT://127.0.0.1:0', storage: 'memory', config: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` }, log: () => {} });
    port = broker.listeners[0]!.port;
  });

  after(async () => {
    await proxy?.close();
    await broker?.close();
  });

  for (const codec of codecs) {
    const name = codecNames[codec];
    test(`kcat -z ${name}: every stored batch decompresses to the records kcat sent`, async (t) => {
      if (!(await requireTool(t, 'kcat', ['-V'], 'kcat'))) return;
      const topic = `kcat-z-${name}`;
      const client = await RawClient.connect({ port });
      try {
        const created = await client.request('CreateTopics', 4, {
          topics: [{ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
          timeoutMs: 5000,
          validateOnly: false,
        });
        assert.equal((created.topics as { errorCode: number }[])[0]!.errorCode, 0);

        const count = 2000;
        const sent = Array.from({ length: count }, (_, i) => ({ key: `key-${i}`, value: `value-${i}-${'compressible '.repeat(i % 40)}` }));
        const input = sent.map((r) => `${r.key}\t${r.value}`).join('\n') + '\n';
        const args = ['-b', `127.0.0.1:${proxy.port}`, '-P', '-t', topic, '-p', '0', '-z', name, '-K', '\t', '-H', `codec=${name}`, '-X', 'batch.num.messages=500', '-d', 'msg'];
        const produced = await run('kcat', args, { input, timeoutMs: 60_000 });
        assert.equal(produced.code, 0, produced.stderr);
        assert.doesNotMatch(produced.stderr, /does not support compression/);

        const got: { offset: number; key: string | null; value: string | null }[] = [];
        let batches = 0;
        for (let fetchOffset = 0, round = 0; fetchOffset < count && round < 100; round++) {
          const response = await client.request('Fetch', 11, {
            replicaId: -1,
            maxWaitMs: 100,
            minBytes: 1,
            maxBytes: 4 * 1024 * 1024,
            isolationLevel: 0,
            sessionId: 0,
            sessionEpoch: -1,
            topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: BigInt(fetchOffset), logStartOffset: -1n, partitionMaxBytes: 4 * 1024 * 1024 }] }],
            forgottenTopicsData: [],
            rackId: '',
          });
          const part = (response.responses as { partitions: { errorCode: number; records: Buffer | null }[] }[])[0]!.partitions[0]!;
          assert.equal(part.errorCode, 0);
          const split = splitBatches(part.records ?? Buffer.alloc(0));
          assert.ok('batches' in split, 'error' in split ? split.reason : '');
          for (const batch of split.batches) {
            const checked = validateBatch(batch, { messageBytesMax: 1 << 30 });
            assert.ok(checked.ok, checked.ok ? '' : checked.reason);
            const { header } = checked;
            const section = batch.subarray(batchHeaderBytes);
            const batchCodec = header.attributes & compressionMask;
            if (batchCodec !== codec) {
              // librdkafka sends a batch uncompressed when compressing would not shrink it (a tiny first batch).
              assert.equal(batchCodec, 0, 'a batch is either compressed with the codec or not at all');
              assert.ok(header.recordCount <= 3, `only a tiny batch goes uncompressed (${header.recordCount} records)`);
            } else if (codec === codecSnappy) {
              assert.equal(isXerialSnappy(section), false, 'librdkafka writes raw snappy');
            }
            const records = decodeRecords(batchCodec === 0 ? section : await decompress(codec, section), header.recordCount);
            const baseOffset = Number(header.baseOffset);
            records.forEach((r, i) => {
              assert.equal(r.offsetDelta, i);
              assert.deepEqual(r.headers, [['codec', name]]);
              got.push({ offset: baseOffset + r.offsetDelta, key: r.key, value: r.value });
            });
            // The lookup agrees with the records: the last one is at the batch's maxTimestamp.
            const baseTimestamp = Number(header.baseTimestamp);
            const maxTimestamp = Number(header.maxTimestamp);
            const firstAtMax = records.findIndex((r) => baseTimestamp + r.timestampDelta >= maxTimestamp);
            assert.deepEqual(await findRecordAtOrAfterAsync(batch, maxTimestamp), { offsetDelta: firstAtMax, timestamp: maxTimestamp });
            batches++;
            fetchOffset = baseOffset + header.recordCount;
          }
        }
        assert.deepEqual(
          got.map((r) => r.offset),
          sent.map((_, i) => i),
        );
        assert.deepEqual(
          got.map((r) => `${r.key}\t${r.value}`),
          sent.map((r) => `${r.key}\t${r.value}`),
        );
        assert.ok(batches >= 4 && batches < count, `kcat batched the records (${batches} batches)`);
      } finally {
        client.close();
      }
    });
  }
});
