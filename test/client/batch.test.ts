/**
 * The client's batch builder and reader: what the builder writes, the broker's validator
 * accepts and the reader gives back exactly (keys, values, headers, timestamps), in every
 * compression; batches built by protocol/record-batch.ts read back too; control batches,
 * aborted transactions, earlier offsets, damaged CRCs and a cut-off last batch are handled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchBuilder, stampBatch, type RecordHeader } from '../../src/client/batch-builder.js';
import { decodeRecords } from '../../src/client/batch-reader.js';
import { compressionTypes } from '../../src/client/compression.js';
import { KafkaError } from '../../src/client/errors.js';
import { attributesAt, buildBatch, controlFlag, crcAt, parseBatchHeader, setBaseOffset, transactionalFlag, validateBatch } from '../../src/protocol/record-batch.js';
import { crc32c } from '../../src/protocol/crc32c.js';

interface Input {
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers: RecordHeader[] | null;
  timestamp: number;
}

function inputs(count: number): Input[] {
  const base = 1_700_000_000_000;
  return Array.from({ length: count }, (_, i) => ({
    key: i % 5 === 0 ? null : i % 2 === 0 ? `key-${i}` : Buffer.from(`key-${i}`),
    value: i % 7 === 0 ? null : `value-${i}-${'é'.repeat(i % 13)}`,
    headers: i % 3 === 0 ? null : [{ key: 'h', value: `v${i}` }, { key: 'n', value: null }, { key: 'b', value: Buffer.from([i & 0xff]) }],
    timestamp: base + ((i * 37) % 1000) - 500,
  }));
}

async function build(records: Input[], compression: (typeof compressionTypes)[number], baseOffset = 0): Promise<Buffer> {
  const builder = new BatchBuilder(10 * 1024 * 1024);
  for (const r of records) assert.ok(builder.append(r.timestamp, r.key, r.value, r.headers) > 0);
  const batch = await builder.seal(compression);
  stampBatch(batch, -1n, -1, -1);
  if (baseOffset !== 0) setBaseOffset(batch, baseOffset);
  return batch;
}

function asBuffer(data: Buffer | string | null): Buffer | null {
  return data === null ? null : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

for (const compression of compressionTypes) {
  test(`${compression}: 1,000 records round-trip through builder, validator and reader`, async () => {
    const records = inputs(1000);
    const batch = await build(records, compression, 5000);
    const checked = validateBatch(batch, { messageBytesMax: 100 * 1024 * 1024 });
    assert.ok(checked.ok, checked.ok ? '' : checked.reason);
    assert.equal(checked.info.recordCount, 1000);
    const decoded = await decodeRecords(batch, { topic: 't', partition: 3, fetchOffset: 5000, aborted: null });
    assert.equal(decoded.records.length, 1000);
    assert.equal(decoded.nextOffset, 6000);
    decoded.records.forEach((record, i) => {
      const input = records[i]!;
      assert.equal(record.topic, 't');
      assert.equal(record.partition, 3);
      assert.equal(record.offset, 5000 + i);
      assert.equal(record.timestamp, input.timestamp);
      assert.deepEqual(record.key, asBuffer(input.key));
      assert.deepEqual(record.value, asBuffer(input.value));
      assert.deepEqual(
        record.headers.map((h) => [h.key, h.value]),
        (input.headers ?? []).map((h) => [h.key, asBuffer(h.value)]),
      );
    });
    const header = parseBatchHeader(batch);
    assert.equal(header.attributes & 7, ['none', 'gzip', 'snappy', 'lz4', 'zstd'].indexOf(compression));
    assert.equal(header.maxTimestamp, BigInt(Math.max(...records.map((r) => r.timestamp))));
  });
}

test('an appended record that would pass the limit is refused, except the first', () => {
  const builder = new BatchBuilder(200);
  assert.ok(builder.append(0, null, Buffer.alloc(500), null) > 0, 'a first record larger than the limit is taken');
  assert.equal(builder.append(0, null, Buffer.alloc(10), null), 0);
  const small = new BatchBuilder(200);
  let taken = 0;
  while (small.append(0, 'k', 'v'.repeat(20), null) > 0) taken++;
  assert.ok(taken > 3 && small.bytes <= 200, `${taken} records in ${small.bytes} bytes`);
});

test('producer id, epoch and sequence are stamped with a valid CRC', async () => {
  const batch = await build(inputs(3), 'none');
  stampBatch(batch, 1234n, 7, 42);
  const header = parseBatchHeader(batch);
  assert.equal(header.producerId, 1234n);
  assert.equal(header.producerEpoch, 7);
  assert.equal(header.baseSequence, 42);
  assert.ok(validateBatch(batch, { messageBytesMax: 1 << 20 }).ok);
});

test('batches built by protocol/record-batch.ts read back, records before the fetch offset dropped', async () => {
  const first = buildBatch(
    [
      { key: Buffer.from('a'), value: Buffer.from('1'), headers: [['x', Buffer.from('y')]], timestamp: 10 },
      { key: null, value: Buffer.from('2'), timestamp: 11 },
    ],
    { baseOffset: 100 },
  );
  const second = buildBatch([{ key: Buffer.from('c'), value: null, timestamp: 12 }], { baseOffset: 102 });
  const decoded = await decodeRecords(Buffer.concat([first, second]), { topic: 't', partition: 0, fetchOffset: 101, aborted: null });
  assert.deepEqual(
    decoded.records.map((r) => [r.offset, r.key?.toString() ?? null, r.value?.toString() ?? null, r.timestamp]),
    [
      [101, null, '2', 11],
      [102, 'c', null, 12],
    ],
  );
  assert.equal(decoded.nextOffset, 103);
});

test('a cut-off last batch is left for the next fetch', async () => {
  const first = buildBatch([{ key: null, value: Buffer.from('1') }], { baseOffset: 0 });
  const second = buildBatch([{ key: null, value: Buffer.from('2') }], { baseOffset: 1 });
  const decoded = await decodeRecords(Buffer.concat([first, second.subarray(0, second.length - 3)]), { topic: 't', partition: 0, fetchOffset: 0, aborted: null });
  assert.equal(decoded.records.length, 1);
  assert.equal(decoded.nextOffset, 1);
});

test('a damaged CRC is CORRUPT_MESSAGE', async () => {
  const batch = buildBatch([{ key: null, value: Buffer.from('hello') }]);
  batch[batch.length - 1] ^= 0xff;
  await assert.rejects(decodeRecords(batch, { topic: 't', partition: 0, fetchOffset: 0, aborted: null }), (error: unknown) => error instanceof KafkaError && error.errorName === 'CORRUPT_MESSAGE');
});

function transactional(records: number, baseOffset: number, producerId: number, control = false): Buffer {
  const batch = buildBatch(
    Array.from({ length: records }, (_, i) => ({ key: control ? Buffer.from([0, 0, 0, 0]) : null, value: Buffer.from(`p${producerId}-${baseOffset + i}`) })),
    { baseOffset, producerId, producerEpoch: 0, baseSequence: 0 },
  );
  batch.writeUInt16BE(batch.readUInt16BE(attributesAt) | transactionalFlag | (control ? controlFlag : 0), attributesAt);
  batch.writeUInt32BE(crc32c(batch.subarray(attributesAt)), crcAt);
  return batch;
}

test('read_committed skips aborted transactions and control batches; read_uncommitted keeps the data', async () => {
  const data = Buffer.concat([
    transactional(2, 0, 7), // aborted below
    transactional(1, 2, 8), // committed
    transactional(1, 3, 7, true), // abort marker of producer 7
    transactional(1, 4, 8, true), // commit marker of producer 8
    transactional(2, 5, 7), // producer 7's next transaction, not aborted
  ]);
  const committed = await decodeRecords(data, { topic: 't', partition: 0, fetchOffset: 0, aborted: [{ producerId: 7n, firstOffset: 0n }] });
  assert.deepEqual(
    committed.records.map((r) => r.offset),
    [2, 5, 6],
  );
  assert.equal(committed.nextOffset, 7);
  const all = await decodeRecords(data, { topic: 't', partition: 0, fetchOffset: 0, aborted: null });
  assert.deepEqual(
    all.records.map((r) => r.offset),
    [0, 1, 2, 5, 6],
  );
});
