/**
 * RecordBatch v2: CRC-32C, header parsing, splitting, validation, in-place edits and the
 * encoder. kafkajs (a dev dependency) serves as an independent encoder and decoder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { registry } from '../../src/protocol/registry.js';
import { Reader } from '../../src/protocol/reader.js';
import { readRequestHeaderStart } from '../../src/protocol/headers.js';
import { crc32c } from '../../src/protocol/crc32c.js';
import { repoPath } from '../helpers/paths.js';
import {
  batchHeaderBytes,
  buildBatch,
  findRecordAtOrAfter,
  parseBatchHeader,
  setBaseOffset,
  setLogAppendTime,
  splitBatches,
  validateBatch,
  type ValidateResult,
} from '../../src/protocol/record-batch.js';

const require = createRequire(import.meta.url);
const limits = { messageBytesMax: 1_000_000 };

/** A plain bitwise CRC-32C, independent of the native library. */
function crc32cReference(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Rewrites the CRC after a test edits bytes inside its range, so only the edit is wrong. */
function fixCrc(batch: Buffer): Buffer {
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}

function expectError(result: ValidateResult, error: string, reason?: RegExp): void {
  assert.equal(result.ok, false, 'expected a rejection');
  if (result.ok) return;
  assert.equal(result.error, error, result.reason);
  if (reason) assert.match(result.reason, reason);
}

/** The batch of test/protocol/golden/produce-v3-request.hex, built by hand from the protocol guide. */
const goldenBatch = Buffer.from(
  '0000000000000000 0000003d ffffffff 02 e641a44b 0000 00000000 0000018bcfe56800 0000018bcfe56800 ffffffffffffffff ffff ffffffff 00000001 1600000001 0a68656c6c6f 00'.replace(/ /g, ''),
  'hex',
);

test('crc32c gives the standard check value and agrees with a bitwise reference', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7 + 3) & 0xff));
  assert.equal(crc32c(data), crc32cReference(data));
  // A view into a larger buffer checks only its own bytes; a checksum can be continued.
  const padded = Buffer.concat([Buffer.from('xx'), Buffer.from('123456789'), Buffer.from('yy')]);
  assert.equal(crc32c(padded.subarray(2, 11)), 0xe3069283);
  assert.equal(crc32c(Buffer.from('6789'), crc32c(Buffer.from('12345'))), 0xe3069283);
  assert.ok(crc32c(Buffer.from([0xff, 0xff, 0xff, 0xff])) > 0, 'unsigned');
});

test('buildBatch reproduces the hand-built golden batch byte for byte', () => {
  const built = buildBatch([{ key: null, value: Buffer.from('hello'), timestamp: 1_700_000_000_000 }]);
  assert.deepEqual(built, goldenBatch);
});

test('parseBatchHeader reads every field', () => {
  const batch = buildBatch(
    [
      { key: null, value: Buffer.from('a'), timestamp: 1000 },
      { key: null, value: Buffer.from('b'), timestamp: 3000 },
      { key: null, value: Buffer.from('c'), timestamp: 2000 },
    ],
    { baseOffset: 2 ** 40, producerId: 77, producerEpoch: 3, baseSequence: 9, partitionLeaderEpoch: 5 },
  );
  const padded = Buffer.concat([Buffer.alloc(5), batch]);
  const header = parseBatchHeader(padded, 5);
  assert.deepEqual(header, {
    baseOffset: 2n ** 40n,
    batchLength: batch.length - 12,
    partitionLeaderEpoch: 5,
    magic: 2,
    crc: crc32cReference(batch.subarray(21)),
    attributes: 0,
    lastOffsetDelta: 2,
    baseTimestamp: 1000n,
    maxTimestamp: 3000n,
    producerId: 77n,
    producerEpoch: 3,
    baseSequence: 9,
    recordCount: 3,
  });
  assert.throws(() => parseBatchHeader(batch.subarray(0, batchHeaderBytes - 1)), RangeError);
  assert.throws(() => parseBatchHeader(batch, batch.length - 10), RangeError);
});

test('validateBatch accepts a good batch and reports its facts', () => {
  const batch = buildBatch(
    [
      { key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: 5000, headers: [['h', Buffer.from('x')], ['n', null]] },
      { key: null, value: null, timestamp: 4000 },
      { key: Buffer.alloc(300, 1), value: Buffer.alloc(70_000, 2), timestamp: 9000 },
    ],
  );
  const result = validateBatch(batch, limits);
  assert.ok(result.ok, result.ok ? '' : result.reason);
  assert.deepEqual(result.info, { bytes: batch.length, recordCount: 3, maxTimestamp: 9000, firstTimestamp: 5000 });
  assert.equal(result.header.recordCount, 3);
});

test('validateBatch accepts batches from an independent encoder (kafkajs), plain and gzip', async () => {
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (options: object) => Promise<{ buffer: Buffer }> };
  const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (options: object) => unknown;
  const records = [
    Record({ offsetDelta: 0, timestampDelta: 0, key: Buffer.from('key-0'), value: Buffer.from('value-0'), headers: { trace: 'abc' } }),
    Record({ offsetDelta: 1, timestampDelta: 5, key: null, value: Buffer.from('value-1') }),
    Record({ offsetDelta: 2, timestampDelta: 9, key: Buffer.from('k'), value: Buffer.alloc(200, 7), headers: { a: '1', b: '2' } }),
  ];
  for (const compression of [0, 1]) {
    const encoded = await RecordBatch({ compression, records, lastOffsetDelta: 2, firstTimestamp: 100, maxTimestamp: 109 });
    const batch = Buffer.from(encoded.buffer);
    const result = validateBatch(batch, limits);
    assert.ok(result.ok, result.ok ? '' : result.reason);
    assert.equal(result.info.recordCount, 3);
    assert.equal(result.info.maxTimestamp, 109);
    assert.equal(result.header.attributes & 7, compression);
  }
});

test('kafkajs decodes what buildBatch encodes', async () => {
  const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;
  const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (decoder: unknown) => Promise<{
    records: { key: Buffer | null; value: Buffer | null; offset: string; timestamp: string; headers: Record<string, Buffer> }[];
  }>;
  const batch = buildBatch(
    [
      { key: Buffer.from('k'), value: Buffer.from('first'), timestamp: 1_700_000_000_123, headers: [['h1', Buffer.from('one')]] },
      { key: null, value: Buffer.from('second'), timestamp: 1_700_000_000_100 },
    ],
    { baseOffset: 40 },
  );
  const decoded = await decodeBatch(new Decoder(batch));
  assert.equal(decoded.records.length, 2);
  assert.deepEqual(decoded.records.map((r) => r.offset), ['40', '41']);
  assert.deepEqual(decoded.records.map((r) => r.value?.toString()), ['first', 'second']);
  assert.deepEqual(decoded.records.map((r) => r.timestamp), ['1700000000123', '1700000000100']);
  assert.equal(decoded.records[0]!.key?.toString(), 'k');
  assert.equal(decoded.records[1]!.key, null);
  assert.equal(decoded.records[0]!.headers.h1?.toString(), 'one');
});

test('a wrong CRC is CORRUPT_MESSAGE', () => {
  const batch = buildBatch([{ key: null, value: Buffer.from('v') }]);
  batch[batch.length - 1]! ^= 0x01;
  expectError(validateBatch(batch, limits), 'CORRUPT_MESSAGE', /CRC/);
  const other = buildBatch([{ key: null, value: Buffer.from('v') }]);
  other.writeUInt32BE((other.readUInt32BE(17) ^ 1) >>> 0, 17);
  expectError(validateBatch(other, limits), 'CORRUPT_MESSAGE', /CRC/);
});

test('a magic other than 2 is CORRUPT_MESSAGE', () => {
  for (const magic of [0, 1, 3]) {
    const batch = buildBatch([{ key: null, value: Buffer.from('v') }]);
    batch.writeInt8(magic, 16);
    expectError(validateBatch(batch, limits), 'CORRUPT_MESSAGE', /magic/);
  }
});

test('a batch over message.max.bytes is MESSAGE_TOO_LARGE; exactly at the limit is fine', () => {
  const batch = buildBatch([{ key: null, value: Buffer.alloc(1000) }]);
  expectError(validateBatch(batch, { messageBytesMax: batch.length - 1 }), 'MESSAGE_TOO_LARGE');
  assert.ok(validateBatch(batch, { messageBytesMax: batch.length }).ok);
});

test('record count problems are INVALID_RECORD', () => {
  const two = () => buildBatch([{ key: null, value: Buffer.from('a') }, { key: null, value: Buffer.from('b') }]);
  // Count and last offset delta disagree.
  expectError(validateBatch(fixCrc(withInt32(two(), 57, 3)), limits), 'INVALID_RECORD', /disagrees/);
  // Both claim three records but only two are there.
  expectError(validateBatch(fixCrc(withInt32(withInt32(two(), 57, 3), 23, 2)), limits), 'INVALID_RECORD', /record 2 of 3/);
  // Both claim one record but two are there.
  expectError(validateBatch(fixCrc(withInt32(withInt32(two(), 57, 1), 23, 0)), limits), 'INVALID_RECORD', /follow the last/);
  // Zero records.
  expectError(validateBatch(fixCrc(withInt32(withInt32(two(), 57, 0), 23, -1)), limits), 'INVALID_RECORD', /at least one/);
  // A compressed batch is not opened, but its header must still agree with itself.
  const compressed = two();
  compressed.writeInt16BE(1, 21);
  assert.ok(validateBatch(fixCrc(compressed), limits).ok);
  expectError(validateBatch(fixCrc(withInt32(compressed, 57, 5)), limits), 'INVALID_RECORD');
});

test('malformed records inside an uncompressed batch are INVALID_RECORD', () => {
  const batch = buildBatch([{ key: Buffer.from('key'), value: Buffer.from('value') }]);
  const recordStart = batchHeaderBytes;
  // The record's length varint claims more than remains.
  const longer = Buffer.from(batch);
  longer[recordStart] = longer[recordStart]! + 2;
  expectError(validateBatch(fixCrc(longer), limits), 'INVALID_RECORD', /does not fit/);
  // The key length claims more than the record holds (key length is after length, attributes, timestamp and offset deltas).
  const keyTooLong = Buffer.from(batch);
  keyTooLong[recordStart + 4] = 2 * 100;
  expectError(validateBatch(fixCrc(keyTooLong), limits), 'INVALID_RECORD', /key/);
  // A wrong offset delta.
  const delta = Buffer.from(batch);
  delta[recordStart + 3] = 2;
  expectError(validateBatch(fixCrc(delta), limits), 'INVALID_RECORD', /offset delta 1/);
  // A varint that never ends.
  const endless = Buffer.from(batch);
  endless.fill(0xff, recordStart);
  expectError(validateBatch(fixCrc(endless), limits), 'INVALID_RECORD');
  // A negative header count.
  const headers = Buffer.from(batch);
  headers[headers.length - 1] = 1;
  expectError(validateBatch(fixCrc(headers), limits), 'INVALID_RECORD', /header count/);
});

test('control batches from a producer are INVALID_RECORD; unknown codecs CORRUPT_MESSAGE', () => {
  const control = buildBatch([{ key: null, value: Buffer.from('v') }]);
  control.writeInt16BE(0x20, 21);
  expectError(validateBatch(fixCrc(control), limits), 'INVALID_RECORD', /control/);
  const codec = buildBatch([{ key: null, value: Buffer.from('v') }]);
  codec.writeInt16BE(5, 21);
  expectError(validateBatch(fixCrc(codec), limits), 'CORRUPT_MESSAGE', /codec/);
});

test('framing problems inside validateBatch are CORRUPT_MESSAGE', () => {
  const batch = buildBatch([{ key: null, value: Buffer.from('v') }]);
  expectError(validateBatch(batch.subarray(0, 40), limits), 'CORRUPT_MESSAGE');
  expectError(validateBatch(batch.subarray(0, batch.length - 1), limits), 'CORRUPT_MESSAGE', /length/);
});

test('splitBatches cuts concatenated batches and rejects partial ones', () => {
  const a = buildBatch([{ key: null, value: Buffer.from('a') }]);
  const b = buildBatch([{ key: null, value: Buffer.from('bb') }, { key: null, value: Buffer.from('cc') }]);
  const c = buildBatch([{ key: null, value: Buffer.alloc(500) }]);
  const all = Buffer.concat([a, b, c]);
  const split = splitBatches(all);
  assert.ok('batches' in split);
  assert.deepEqual(split.batches, [a, b, c]);
  assert.equal(split.batches[1]!.buffer, all.buffer, 'views, not copies');
  for (const batch of split.batches) assert.ok(validateBatch(batch, limits).ok);

  // Every truncation point short of the whole is rejected, never thrown.
  for (let cut = 1; cut < all.length; cut++) {
    const result = splitBatches(all.subarray(0, cut));
    if (cut === a.length || cut === a.length + b.length) {
      assert.ok('batches' in result, `cut at a batch boundary ${cut}`);
      continue;
    }
    assert.ok('error' in result, `cut at ${cut}`);
    assert.equal(result.error, 'CORRUPT_MESSAGE');
  }

  // A length that claims too much, or less than a header.
  const tooLong = Buffer.concat([a, b]);
  tooLong.writeInt32BE(tooLong.readInt32BE(8) + 1000, 8);
  assert.equal((splitBatches(tooLong) as { error: string }).error, 'CORRUPT_MESSAGE');
  const tooShort = Buffer.from(a);
  tooShort.writeInt32BE(10, 8);
  assert.match((splitBatches(tooShort) as { reason: string }).reason, /fewer than its/);
  const negative = Buffer.from(a);
  negative.writeInt32BE(-5, 8);
  assert.equal((splitBatches(negative) as { error: string }).error, 'CORRUPT_MESSAGE');
  assert.equal((splitBatches(Buffer.alloc(0)) as { error: string }).error, 'INVALID_RECORD');
});

test('setBaseOffset writes the offset without touching the CRC range', () => {
  const batch = buildBatch([{ key: null, value: Buffer.from('v') }]);
  const crc = batch.readUInt32BE(17);
  setBaseOffset(batch, 123_456_789_012);
  assert.equal(batch.readBigInt64BE(0), 123_456_789_012n);
  assert.equal(batch.readUInt32BE(17), crc);
  assert.ok(validateBatch(batch, limits).ok);
});

test('setLogAppendTime sets the type bit and maxTimestamp and keeps the CRC valid', () => {
  const batch = buildBatch([{ key: null, value: Buffer.from('v'), timestamp: 10 }]);
  setLogAppendTime(batch, 1_700_000_000_999);
  const result = validateBatch(batch, limits);
  assert.ok(result.ok, result.ok ? '' : result.reason);
  assert.equal(result.header.attributes & 0x08, 0x08);
  assert.equal(result.header.maxTimestamp, 1_700_000_000_999n);
  assert.equal(result.header.baseTimestamp, 10n, 'base timestamp kept');
  assert.equal(result.info.maxTimestamp, 1_700_000_000_999);
});

test('findRecordAtOrAfter finds the first record at or after a timestamp', () => {
  const batch = buildBatch([
    { key: null, value: Buffer.from('a'), timestamp: 100 },
    { key: null, value: Buffer.from('b'), timestamp: 300 },
    { key: null, value: Buffer.from('c'), timestamp: 200 },
    { key: null, value: Buffer.from('d'), timestamp: 400 },
  ]);
  assert.deepEqual(findRecordAtOrAfter(batch, 50), { offsetDelta: 0, timestamp: 100 });
  assert.deepEqual(findRecordAtOrAfter(batch, 150), { offsetDelta: 1, timestamp: 300 });
  assert.deepEqual(findRecordAtOrAfter(batch, 300), { offsetDelta: 1, timestamp: 300 });
  assert.deepEqual(findRecordAtOrAfter(batch, 301), { offsetDelta: 3, timestamp: 400 });
  assert.equal(findRecordAtOrAfter(batch, 401), null);
  setLogAppendTime(batch, 5000);
  assert.deepEqual(findRecordAtOrAfter(batch, 4000), { offsetDelta: 0, timestamp: 5000 });
});

test('buildBatch refuses an empty batch and handles negative timestamp deltas and large records', () => {
  assert.throws(() => buildBatch([]), RangeError);
  const records = Array.from({ length: 300 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.alloc(i * 3, i), timestamp: 1_000_000 - i * 1000 }));
  const batch = buildBatch(records);
  const result = validateBatch(batch, { messageBytesMax: 10_000_000 });
  assert.ok(result.ok, result.ok ? '' : result.reason);
  assert.equal(result.info.recordCount, 300);
  assert.equal(result.info.maxTimestamp, 1_000_000);
  assert.equal(result.info.firstTimestamp, 1_000_000);
});

function goldenDirectory(): string {
  return repoPath('test/protocol/golden');
}

/** The records fields of a Produce request frame in a golden .hex file. */
function producedRecords(file: string): Buffer[] {
  const hex = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .join('')
    .replace(/\s+/g, '');
  const reader = new Reader(Buffer.from(hex, 'hex'), 4);
  const header = readRequestHeaderStart(reader);
  const body = registry().named('Produce').request(header.apiVersion).decode(reader);
  assert.ok(reader.complete(true), reader.failure);
  const topics = body.topicData as { partitionData: { records: Buffer | null }[] }[];
  return topics.flatMap((topic) => topic.partitionData.flatMap((p) => (p.records ? [p.records] : [])));
}

test('batches captured from real producers (librdkafka, kafka-python, kafkajs, kcat) split and validate', (t) => {
  const directory = goldenDirectory();
  const files = readdirSync(directory).filter((f) => /^captured-.*-produce-v\d+\.hex$/.test(f));
  if (files.length === 0) {
    t.skip('no captured Produce frames (scripts/capture-golden.mjs makes them)');
    return;
  }
  for (const file of files) {
    for (const records of producedRecords(join(directory, file))) {
      const split = splitBatches(records);
      assert.ok('batches' in split, `${file}: ${'reason' in split ? split.reason : ''}`);
      for (const batch of split.batches) {
        const result = validateBatch(batch, limits);
        assert.ok(result.ok, `${file}: ${result.ok ? '' : result.reason}`);
        assert.equal(result.info.bytes, batch.length);
      }
    }
  }
});

function withInt32(batch: Buffer, at: number, value: number): Buffer {
  batch.writeInt32BE(value, at);
  return batch;
}
