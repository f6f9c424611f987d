/**
 * Legacy message sets (magic 0 and 1): reading and checking them, and converting them to
 * RecordBatch v2. The golden messages below were written out field by field, with CRCs computed
 * by an independent CRC-32 (Python's zlib.crc32); compressed wrappers are built here by hand too
 * (literal-only snappy, stored-block gzip and LZ4 frames), besides the libraries' own output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import snappy from 'snappy';
import lz4 from 'lz4-napi';
import zstd from '@mongodb-js/zstd';
import { crc32 } from '@node-rs/crc32';
import { isLegacyMessageSet, lz4HeaderChecksum, readLegacyMessageSet, withRepairedLz4HeaderChecksum, type LegacyReadResult } from '../../src/protocol/legacy-message-set.js';
import { legacyRecordsToBatch, upconvertMessageSet } from '../../src/protocol/legacy-upconvert.js';
import { xxhash32 } from '../../src/protocol/xxhash32.js';
import { buildBatch, validateBatch } from '../../src/protocol/record-batch.js';
import { readBatch, text } from '../helpers/v2-batch-reader.js';
import { breakLz4HeaderChecksum, defaultLegacyTimestamp, legacyMessage, legacyWrapper } from '../helpers/legacy-messages.js';

const limits = { messageBytesMax: 1024 * 1024 };

function hex(...parts: string[]): Buffer {
  return Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');
}

// offset, messageSize, crc, magic, attributes, [timestamp], keyLength, key, valueLength, value
const m0KeyHello = hex('0000000000000000', '00000015', '71ef5770', '00', '00', '00000002', '6b31', '00000005', '68656c6c6f');
const m0NullKey = hex('0000000000000000', '0000000f', 'd20cbff5', '00', '00', 'ffffffff', '00000001', '76');
const m0NullValue = hex('0000000000000000', '00000012', '96100b91', '00', '00', '00000004', '676f6e65', 'ffffffff');
const m1KeyHello = hex('0000000000000000', '0000001d', 'f07b5481', '01', '00', '0000018fc52cd200', '00000002', '6b31', '00000005', '68656c6c6f');
const m1NullKey = hex('0000000000000000', '00000017', '7d7f6c40', '01', '00', '0000018fc52cd201', 'ffffffff', '00000001', '76');
const m1Offset1 = hex('0000000000000001', '0000001d', '7f49161a', '01', '00', '0000018fc52cd202', '00000002', '6b33', '00000005', '776f726c64');
const t0 = defaultLegacyTimestamp;

const message = legacyMessage;
const wrapper = legacyWrapper;

/** Raw snappy made of one literal (no compression at all). */
function snappyLiteral(data: Buffer): Buffer {
  const preamble: number[] = [];
  for (let n = data.length; ; n = Math.floor(n / 128)) {
    if (n < 128) {
      preamble.push(n);
      break;
    }
    preamble.push((n % 128) | 0x80);
  }
  const n = data.length - 1;
  const tag = data.length <= 60 ? [n << 2] : data.length <= 256 ? [60 << 2, n] : [61 << 2, n & 0xff, n >> 8];
  return Buffer.concat([Buffer.from(preamble), Buffer.from(tag), data]);
}

/** The xerial framing the Java client wraps around snappy blocks. */
function xerial(block: Buffer): Buffer {
  const header = hex('82534e4150505900', '00000001', '00000001');
  const length = Buffer.alloc(4);
  length.writeInt32BE(block.length);
  return Buffer.concat([header, length, block]);
}

/** A gzip member holding one stored (uncompressed) deflate block. */
function gzipStored(data: Buffer): Buffer {
  const block = Buffer.alloc(5);
  block[0] = 0x01;
  block.writeUInt16LE(data.length, 1);
  block.writeUInt16LE(~data.length & 0xffff, 3);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data) >>> 0, 0);
  trailer.writeUInt32LE(data.length, 4);
  return Buffer.concat([hex('1f8b 08 00 00000000 00 ff'), block, data, trailer]);
}

/**
 * An LZ4 frame with one stored block: FLG 0x60 (version 1, independent blocks), BD 0x40 (64 KiB
 * blocks), then the header checksum: 0x82 is the correct one, 0x1a the one magic-0 producers
 * compute over the frame magic too (both are Kafka's own test vectors).
 */
function lz4Stored(data: Buffer, headerChecksum: number): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32LE((data.length | 0x8000_0000) >>> 0);
  return Buffer.concat([hex('04224d18', '60', '40'), Buffer.from([headerChecksum]), size, data, hex('00000000')]);
}

function assertRefused(result: LegacyReadResult, error: string, reason?: RegExp): void {
  assert.equal(result.ok, false, 'refused');
  if (result.ok) return;
  assert.equal(result.error, error, result.reason);
  if (reason) assert.match(result.reason, reason);
}

function okRecords(result: LegacyReadResult) {
  assert.ok(result.ok, result.ok ? '' : `${result.error}: ${result.reason}`);
  return result.records.map((r) => ({ key: text(r.key), value: text(r.value), timestamp: r.timestamp }));
}

test('the test builder writes exactly the golden messages', () => {
  assert.deepEqual(message({ magic: 0, key: Buffer.from('k1'), value: Buffer.from('hello') }), m0KeyHello);
  assert.deepEqual(message({ magic: 0, key: null, value: Buffer.from('v') }), m0NullKey);
  assert.deepEqual(message({ magic: 0, key: Buffer.from('gone'), value: null }), m0NullValue);
  assert.deepEqual(message({ magic: 1, key: Buffer.from('k1'), value: Buffer.from('hello') }), m1KeyHello);
  assert.deepEqual(message({ magic: 1, key: null, value: Buffer.from('v'), timestamp: BigInt(t0 + 1) }), m1NullKey);
  assert.deepEqual(message({ magic: 1, key: Buffer.from('k3'), value: Buffer.from('world'), timestamp: BigInt(t0 + 2), offset: 1n }), m1Offset1);
});

test('XXH32 and the LZ4 header checksum match the reference values', () => {
  assert.equal(xxhash32(Buffer.alloc(0)), 0x02cc5d05);
  assert.equal(xxhash32(Buffer.from('a')), 0x550d7456);
  assert.equal(xxhash32(Buffer.from('abc')), 0x32d153ff);
  assert.equal(xxhash32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f);
  assert.equal(lz4HeaderChecksum(hex('6040')), 0x82);
  assert.equal(lz4HeaderChecksum(hex('04224d18 6040')), 0x1a, "the magic-0 producers' checksum, over the frame magic too");
  assert.deepEqual(withRepairedLz4HeaderChecksum(lz4Stored(Buffer.from('x'), 0x1a)), lz4Stored(Buffer.from('x'), 0x82));
  assert.deepEqual(withRepairedLz4HeaderChecksum(hex('00010203040506070809')), hex('00010203040506070809'), 'not a frame: left alone');
});

test('a legacy set is recognised by the magic byte at position 16', () => {
  assert.equal(isLegacyMessageSet(m0KeyHello), true);
  assert.equal(isLegacyMessageSet(m1KeyHello), true);
  assert.equal(isLegacyMessageSet(buildBatch([{ key: null, value: Buffer.from('x') }])), false);
  assert.equal(isLegacyMessageSet(m0KeyHello.subarray(0, 16)), false);
});

test('uncompressed magic 0: keys, values and nulls in order, no timestamps', async () => {
  const set = Buffer.concat([m0KeyHello, m0NullKey, m0NullValue]);
  assert.deepEqual(okRecords(await readLegacyMessageSet(set, limits)), [
    { key: 'k1', value: 'hello', timestamp: -1 },
    { key: null, value: 'v', timestamp: -1 },
    { key: 'gone', value: null, timestamp: -1 },
  ]);
  const converted = await upconvertMessageSet(set, limits);
  assert.ok(converted.ok);
  assert.equal(converted.magic, 0);
  assert.equal(converted.recordCount, 3);
  const batch = await readBatch(converted.batch);
  assert.equal(batch.codec, 0);
  assert.equal(batch.baseTimestamp, -1);
  assert.equal(batch.maxTimestamp, -1, 'NO_TIMESTAMP, as Kafka converts magic 0');
  assert.equal(batch.producerId, -1n);
  assert.equal(batch.producerEpoch, -1);
  assert.equal(batch.baseSequence, -1);
  assert.equal(batch.partitionLeaderEpoch, -1);
  assert.deepEqual(
    batch.records.map((r) => [r.offset, r.timestamp, text(r.key), text(r.value), r.headerCount]),
    [
      [0, -1, 'k1', 'hello', 0],
      [1, -1, null, 'v', 0],
      [2, -1, 'gone', null, 0],
    ],
  );
});

test('uncompressed magic 1 converts to exactly the expected RecordBatch v2 bytes', async () => {
  const converted = await upconvertMessageSet(Buffer.concat([m1KeyHello, m1NullKey]), limits);
  assert.ok(converted.ok);
  const expected = hex(
    '0000000000000000', // baseOffset
    '00000047', // batchLength 71
    'ffffffff', // partitionLeaderEpoch
    '02', // magic
    '0f6b123b', // CRC-32C
    '0000', // attributes: uncompressed, CreateTime
    '00000001', // lastOffsetDelta
    '0000018fc52cd200', // baseTimestamp
    '0000018fc52cd201', // maxTimestamp
    'ffffffffffffffff', // producerId
    'ffff', // producerEpoch
    'ffffffff', // baseSequence
    '00000002', // records
    '1a 00 00 00 04 6b31 0a 68656c6c6f 00', // length 13, attributes, ts delta 0, offset delta 0, key "k1", value "hello", no headers
    '0e 00 02 02 01 02 76 00', // length 7, attributes, ts delta 1, offset delta 1, null key, value "v", no headers
  );
  assert.equal(converted.batch.toString('hex'), expected.toString('hex'));
  assert.ok(validateBatch(converted.batch, limits).ok);
});

const innerMagic0 = Buffer.concat([m0KeyHello, m0NullKey]);
const innerMagic1 = Buffer.concat([
  message({ magic: 1, offset: 0n, key: Buffer.from('k1'), value: Buffer.from('hello'), timestamp: BigInt(t0) }),
  message({ magic: 1, offset: 1n, key: null, value: Buffer.from('v'), timestamp: BigInt(t0 + 1) }),
  message({ magic: 1, offset: 2n, key: Buffer.from('k3'), value: Buffer.from('world'), timestamp: BigInt(t0 + 2) }),
]);
const expectedMagic0 = [
  { key: 'k1', value: 'hello', timestamp: -1 },
  { key: null, value: 'v', timestamp: -1 },
];
const expectedMagic1 = [
  { key: 'k1', value: 'hello', timestamp: t0 },
  { key: null, value: 'v', timestamp: t0 + 1 },
  { key: 'k3', value: 'world', timestamp: t0 + 2 },
];

const wrappings: { name: string; codec: number; magic: 0 | 1; compressed: () => Promise<Buffer> }[] = [
  { name: 'gzip (stored block, by hand)', codec: 1, magic: 0, compressed: async () => gzipStored(innerMagic0) },
  { name: 'gzip (zlib)', codec: 1, magic: 1, compressed: async () => zlib.gzipSync(innerMagic1) },
  { name: 'snappy (raw literal, by hand)', codec: 2, magic: 0, compressed: async () => snappyLiteral(innerMagic0) },
  { name: 'snappy (xerial framing, as the Java client)', codec: 2, magic: 1, compressed: async () => xerial(await snappy.compress(innerMagic1)) },
  { name: 'lz4 (stored block, broken magic-0 checksum)', codec: 3, magic: 0, compressed: async () => lz4Stored(innerMagic0, 0x1a) },
  { name: 'lz4 (stored block, correct checksum)', codec: 3, magic: 1, compressed: async () => lz4Stored(innerMagic1, 0x82) },
  {
    name: 'lz4 (lz4-napi frame given the broken checksum)',
    codec: 3,
    magic: 0,
    compressed: async () => breakLz4HeaderChecksum(await lz4.compressFrame(innerMagic0)),
  },
];

for (const wrapping of wrappings) {
  test(`magic ${wrapping.magic} wrapped in ${wrapping.name}: inner records read and re-compressed with the same codec`, async () => {
    const set = wrapper(wrapping.magic, wrapping.codec, await wrapping.compressed(), wrapping.magic === 1 ? 2n : 0n);
    const expected = wrapping.magic === 0 ? expectedMagic0 : expectedMagic1;
    const read = await readLegacyMessageSet(set, limits);
    assert.deepEqual(okRecords(read), expected);
    assert.equal(read.ok && read.codec, wrapping.codec);
    const converted = await upconvertMessageSet(set, limits);
    assert.ok(converted.ok);
    const batch = await readBatch(converted.batch);
    assert.equal(batch.codec, wrapping.codec, 'the v2 batch keeps the producer codec');
    assert.deepEqual(
      batch.records.map((r, i) => ({ offset: r.offset, key: text(r.key), value: text(r.value), timestamp: r.timestamp, i })),
      expected.map((r, i) => ({ offset: i, ...r, i })),
    );
  });
}

test('a magic-1 wrapper offset of 0 (older librdkafka) is accepted; one below the last inner offset is not', async () => {
  const compressed = zlib.gzipSync(innerMagic1);
  assert.deepEqual(okRecords(await readLegacyMessageSet(wrapper(1, 1, compressed, 0n), limits)), expectedMagic1);
  assert.deepEqual(okRecords(await readLegacyMessageSet(wrapper(1, 1, compressed, 7n), limits)), expectedMagic1);
  assertRefused(await readLegacyMessageSet(wrapper(1, 1, compressed, 1n), limits), 'INVALID_RECORD', /below the last inner offset/);
});

test('damage is CORRUPT_MESSAGE: CRC, truncation, a partial tail, lengths that do not fit', async () => {
  const badCrc = Buffer.from(m0KeyHello);
  badCrc[badCrc.length - 1] ^= 0x01;
  assertRefused(await readLegacyMessageSet(badCrc, limits), 'CORRUPT_MESSAGE', /CRC-32/);
  const badCrcField = Buffer.from(m1KeyHello);
  badCrcField[12] ^= 0x80;
  assertRefused(await readLegacyMessageSet(badCrcField, limits), 'CORRUPT_MESSAGE', /CRC-32/);
  assertRefused(await readLegacyMessageSet(m0KeyHello.subarray(0, m0KeyHello.length - 1), limits), 'CORRUPT_MESSAGE', /claims 21 bytes but only 20 remain/);
  assertRefused(await readLegacyMessageSet(Buffer.concat([m0KeyHello, m0NullKey.subarray(0, 20)]), limits), 'CORRUPT_MESSAGE', /fewer than the smallest message/);
  assertRefused(await readLegacyMessageSet(Buffer.concat([m0KeyHello, m0NullKey.subarray(0, 26)]), limits), 'CORRUPT_MESSAGE', /claims 15 bytes but only 14 remain/);
  const tiny = Buffer.from(m0NullKey);
  tiny.writeInt32BE(13, 8);
  assertRefused(await readLegacyMessageSet(tiny, limits), 'CORRUPT_MESSAGE', /fewer than the 14/);
  const shortV1 = message({ magic: 0, key: null, value: Buffer.from('1234') });
  shortV1[16] = 1;
  shortV1.writeUInt32BE(crc32(shortV1.subarray(16)) >>> 0, 12);
  assertRefused(await readLegacyMessageSet(shortV1, limits), 'CORRUPT_MESSAGE', /smallest magic-1 message/);
  // A key length that overruns the message, behind a correct CRC.
  const overrun = message({ magic: 0, key: Buffer.from('abcd'), value: null });
  overrun.writeInt32BE(0x7fff_fff0, 18);
  overrun.writeUInt32BE(crc32(overrun.subarray(16)) >>> 0, 12);
  assertRefused(await readLegacyMessageSet(overrun, limits), 'CORRUPT_MESSAGE', /key length 2147483632 does not fit/);
  const negative = message({ magic: 0, key: Buffer.from('abcd'), value: null });
  negative.writeInt32BE(-2, 18);
  negative.writeUInt32BE(crc32(negative.subarray(16)) >>> 0, 12);
  assertRefused(await readLegacyMessageSet(negative, limits), 'CORRUPT_MESSAGE', /key length -2/);
  // Bytes after the value, counted by messageSize and covered by the CRC.
  const trailing = Buffer.concat([m0NullKey, hex('ee')]);
  trailing.writeInt32BE(16, 8);
  trailing.writeUInt32BE(crc32(trailing.subarray(16)) >>> 0, 12);
  assertRefused(await readLegacyMessageSet(trailing, limits), 'CORRUPT_MESSAGE', /1 bytes follow the value/);
  const magic3 = Buffer.from(m0NullKey);
  magic3[16] = 3;
  assertRefused(await readLegacyMessageSet(Buffer.concat([m0KeyHello, magic3]), limits), 'CORRUPT_MESSAGE', /unknown magic 3/);
  assertRefused(await readLegacyMessageSet(message({ magic: 0, attributes: 5, key: null, value: Buffer.from('x') }), limits), 'CORRUPT_MESSAGE', /unknown compression codec 5/);
});

test('huge claimed lengths are refused from the header, without allocating', async () => {
  const before = process.memoryUsage().arrayBuffers;
  const hugeEntry = Buffer.from(m0KeyHello);
  hugeEntry.writeInt32BE(0x7fff_ffff, 8);
  assertRefused(await readLegacyMessageSet(hugeEntry, limits), 'CORRUPT_MESSAGE', /claims 2147483647 bytes/);
  // A snappy wrapper whose preamble promises 4 GiB - 1: refused before any decoding.
  const bomb = wrapper(0, 2, hex('ffffffff0f', '00', '00'));
  assertRefused(await readLegacyMessageSet(bomb, limits), 'MESSAGE_TOO_LARGE', /4294967295/);
  // A gzip wrapper that really expands past the caller's limit.
  const expands = wrapper(1, 1, zlib.gzipSync(Buffer.concat(Array.from({ length: 2000 }, () => m1KeyHello))));
  assertRefused(await readLegacyMessageSet(expands, { ...limits, decompressedBytesMax: 4096 }), 'MESSAGE_TOO_LARGE');
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 64 * 1024 * 1024, `${grown} bytes of buffers were allocated`);
});

test('message.max.bytes bounds each entry of the request (prefix included)', async () => {
  assertRefused(await readLegacyMessageSet(m0KeyHello, { messageBytesMax: m0KeyHello.length - 1 }), 'MESSAGE_TOO_LARGE', /33 bytes exceeds the limit of 32/);
  assert.ok((await readLegacyMessageSet(m0KeyHello, { messageBytesMax: m0KeyHello.length })).ok);
});

test("Kafka's INVALID_RECORD cases: mixed formats, several entries beside a wrapper, zstd and empty wrappers, bad inner messages", async () => {
  assertRefused(await readLegacyMessageSet(Buffer.concat([m0KeyHello, m1NullKey]), limits), 'INVALID_RECORD', /magic 1, the first has 0/);
  const v2 = buildBatch([{ key: null, value: Buffer.from('x') }]);
  assertRefused(await readLegacyMessageSet(Buffer.concat([m0KeyHello, v2]), limits), 'INVALID_RECORD', /RecordBatch v2 after/);
  const gz = wrapper(0, 1, zlib.gzipSync(innerMagic0));
  assertRefused(await readLegacyMessageSet(Buffer.concat([gz, gz]), limits), 'INVALID_RECORD', /only one in its set/);
  assertRefused(await readLegacyMessageSet(Buffer.concat([m0KeyHello, gz]), limits), 'INVALID_RECORD', /only one in its set/);
  assertRefused(await readLegacyMessageSet(wrapper(1, 4, await zstd.compress(innerMagic1)), limits), 'INVALID_RECORD', /zstd/);
  assertRefused(await readLegacyMessageSet(wrapper(0, 1, null), limits), 'INVALID_RECORD', /null value/);
  assertRefused(await readLegacyMessageSet(wrapper(0, 1, zlib.gzipSync(Buffer.alloc(0))), limits), 'INVALID_RECORD', /no inner message/);
  assertRefused(await readLegacyMessageSet(wrapper(0, 1, zlib.gzipSync(Buffer.concat([m0KeyHello, m1NullKey]))), limits), 'INVALID_RECORD', /magic 1, its wrapper 0/);
  assertRefused(await readLegacyMessageSet(wrapper(0, 2, snappyLiteral(buildBatch([{ key: null, value: Buffer.from('x') }]))), limits), 'INVALID_RECORD', /magic 2, its wrapper 0/);
  const nested = wrapper(0, 1, zlib.gzipSync(Buffer.concat([m0KeyHello, wrapper(0, 1, zlib.gzipSync(m0NullKey))])));
  assertRefused(await readLegacyMessageSet(nested, limits), 'INVALID_RECORD', /itself compressed/);
});

test('inside a wrapper: a bad inner CRC, a truncated inner set and undecodable data are CORRUPT_MESSAGE', async () => {
  const damaged = Buffer.from(innerMagic0);
  damaged[damaged.length - 1] ^= 0xff;
  assertRefused(await readLegacyMessageSet(wrapper(0, 1, zlib.gzipSync(damaged)), limits), 'CORRUPT_MESSAGE', /inner message 1: CRC-32/);
  assertRefused(await readLegacyMessageSet(wrapper(0, 1, zlib.gzipSync(innerMagic0.subarray(0, innerMagic0.length - 1))), limits), 'CORRUPT_MESSAGE', /inner message 1 claims 15 bytes/);
  assertRefused(await readLegacyMessageSet(wrapper(0, 1, zlib.gzipSync(innerMagic0.subarray(0, innerMagic0.length - 3))), limits), 'CORRUPT_MESSAGE', /after inner message 0/);
  assertRefused(await readLegacyMessageSet(wrapper(0, 1, hex('1f8b0800deadbeef')), limits), 'CORRUPT_MESSAGE', /gzip/);
  // Only magic 0 frames may carry the broken header checksum.
  assertRefused(await readLegacyMessageSet(wrapper(1, 3, lz4Stored(innerMagic1, 0x1a)), limits), 'CORRUPT_MESSAGE', /lz4/);
  assertRefused(await readLegacyMessageSet(wrapper(0, 2, hex('05', '0c', '6162')), limits), 'CORRUPT_MESSAGE', /snappy/);
});

test('timestamps: a producer may not claim LogAppendTime; magic-1 timestamps must be -1 or 0 .. 2^52-1', async () => {
  assertRefused(await readLegacyMessageSet(message({ magic: 1, attributes: 0x08, key: null, value: Buffer.from('x') }), limits), 'INVALID_TIMESTAMP', /LogAppendTime/);
  assertRefused(await readLegacyMessageSet(wrapper(1, 0x08 | 1, zlib.gzipSync(innerMagic1)), limits), 'INVALID_TIMESTAMP', /LogAppendTime/);
  // Bit 3 means nothing in magic 0.
  assert.deepEqual(okRecords(await readLegacyMessageSet(message({ magic: 0, attributes: 0x08, key: null, value: Buffer.from('x') }), limits)), [{ key: null, value: 'x', timestamp: -1 }]);
  assert.deepEqual(okRecords(await readLegacyMessageSet(message({ magic: 1, timestamp: -1n, key: null, value: Buffer.from('x') }), limits)), [{ key: null, value: 'x', timestamp: -1 }]);
  assert.deepEqual(okRecords(await readLegacyMessageSet(message({ magic: 1, timestamp: 2n ** 52n - 1n, key: null, value: Buffer.from('x') }), limits)), [{ key: null, value: 'x', timestamp: 2 ** 52 - 1 }]);
  assertRefused(await readLegacyMessageSet(message({ magic: 1, timestamp: -5n, key: null, value: Buffer.from('x') }), limits), 'INVALID_TIMESTAMP', /timestamp -5/);
  assertRefused(await readLegacyMessageSet(message({ magic: 1, timestamp: 2n ** 52n, key: null, value: Buffer.from('x') }), limits), 'INVALID_TIMESTAMP');
  const inner = message({ magic: 1, timestamp: -7n, key: null, value: Buffer.from('x') });
  assertRefused(await readLegacyMessageSet(wrapper(1, 1, zlib.gzipSync(inner)), limits), 'INVALID_TIMESTAMP', /inner message 0 has timestamp -7/);
});

test('timestamps far apart and out of order survive the conversion', async () => {
  const records = [
    { key: null, value: Buffer.from('a'), timestamp: 2 ** 52 - 1 },
    { key: null, value: Buffer.from('b'), timestamp: 0 },
    { key: null, value: Buffer.from('c'), timestamp: -1 },
  ];
  for (const codec of [0, 1, 2, 3]) {
    const batch = await readBatch(await legacyRecordsToBatch(records, codec));
    assert.equal(batch.codec, codec);
    assert.equal(batch.maxTimestamp, 2 ** 52 - 1);
    assert.deepEqual(
      batch.records.map((r) => r.timestamp),
      records.map((r) => r.timestamp),
    );
  }
});

test('many records in one wrapper convert in order', async () => {
  const count = 5000;
  const inner = Buffer.concat(
    Array.from({ length: count }, (_, i) => message({ magic: 1, offset: BigInt(i), timestamp: BigInt(t0 + i), key: Buffer.from(`key-${i}`), value: Buffer.from(`value-${i}`) })),
  );
  const converted = await upconvertMessageSet(wrapper(1, 2, await snappy.compress(inner), BigInt(count - 1)), limits);
  assert.ok(converted.ok);
  const batch = await readBatch(converted.batch);
  assert.equal(batch.codec, 2);
  assert.equal(batch.records.length, count);
  batch.records.forEach((r, i) => {
    assert.equal(r.offset, i);
    assert.equal(r.timestamp, t0 + i);
    assert.equal(text(r.key), `key-${i}`);
    assert.equal(text(r.value), `value-${i}`);
  });
});
