/**
 * Produce v0-v2 through the wire: legacy message sets (magic 0 and 1, plain and gzip, snappy or
 * lz4 wrapped) are answered in each version's layout and stored as RecordBatch v2 that Fetch v11
 * returns with the same keys, values, timestamps and codec; damaged sets fail their partition
 * only.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import snappy from 'snappy';
import lz4 from 'lz4-napi';
import { startBroker, type Broker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { buildBatch } from '../../src/protocol/record-batch.js';
import { errorCode } from '../../src/protocol/errors.js';
import type { Message } from '../../src/protocol/codec.js';
import { breakLz4HeaderChecksum, defaultLegacyTimestamp, legacyMessage, legacyWrapper } from '../helpers/legacy-messages.js';
import { readBatches, text, type ReadBatch } from '../helpers/v2-batch-reader.js';

let broker: Broker;
let port = 0;
let client: RawClient;

before(async () => {
  broker = await startBroker({ storage: 'memory', config: { 'num.partitions': 2 }, log: () => {} });
  port = broker.listeners[0]!.port;
  client = await RawClient.connect({ port });
});

after(async () => {
  client?.close();
  await broker?.close();
});

interface Sent {
  key: string | null;
  value: string | null;
  timestamp: number;
}

function records(magic: 0 | 1, count: number, prefix: string): Sent[] {
  return Array.from({ length: count }, (_, i) => ({
    key: i % 3 === 2 ? null : `${prefix}-key-${i}`,
    value: i % 5 === 4 ? null : `${prefix}-value-${i}-${'x'.repeat(i % 17)}`,
    timestamp: magic === 0 ? -1 : defaultLegacyTimestamp + i * 7,
  }));
}

function messageSet(magic: 0 | 1, sent: Sent[], relativeOffsets = false): Buffer {
  return Buffer.concat(
    sent.map((r, i) =>
      legacyMessage({
        magic,
        offset: relativeOffsets ? BigInt(i) : 0n,
        timestamp: BigInt(r.timestamp),
        key: r.key === null ? null : Buffer.from(r.key),
        value: r.value === null ? null : Buffer.from(r.value),
      }),
    ),
  );
}

const compressors: Record<number, (data: Buffer, magic: 0 | 1) => Promise<Buffer>> = {
  1: async (data) => zlib.gzipSync(data),
  2: async (data) => snappy.compress(data),
  // librdkafka writes the broken header checksum for magic 0, a correct one for magic 1.
  3: async (data, magic) => (magic === 0 ? breakLz4HeaderChecksum(await lz4.compressFrame(data)) : lz4.compressFrame(data)),
};

async function legacySet(magic: 0 | 1, codec: number, sent: Sent[]): Promise<Buffer> {
  if (codec === 0) return messageSet(magic, sent);
  return legacyWrapper(magic, codec, await compressors[codec]!(messageSet(magic, sent, magic === 1), magic), magic === 1 ? BigInt(sent.length - 1) : 0n);
}

function produceBody(topic: string, partitions: { index: number; records: Buffer | null }[], acks = -1): Message {
  return { transactionalId: null, acks, timeoutMs: 5000, topicData: [{ name: topic, partitionData: partitions }] };
}

type PartitionResponse = { index: number; errorCode: number; baseOffset: bigint; logAppendTimeMs: bigint; logStartOffset: bigint };

function partitionResults(response: Message): PartitionResponse[] {
  return (response.responses as { partitionResponses: PartitionResponse[] }[])[0]!.partitionResponses;
}

async function createTopic(name: string, partitions: number, configs: { name: string; value: string }[] = []): Promise<void> {
  const response = await client.request('CreateTopics', 4, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  assert.equal((response.topics as { errorCode: number }[])[0]!.errorCode, 0);
}

async function fetchAll(topic: string, partition: number): Promise<{ highWatermark: bigint; batches: ReadBatch[] }> {
  const response = await client.request('Fetch', 11, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 16 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: 0n, logStartOffset: -1n, partitionMaxBytes: 16 << 20 }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
  const part = (response.responses as { partitions: { errorCode: number; highWatermark: bigint; records: Buffer | null }[] }[])[0]!.partitions[0]!;
  assert.equal(part.errorCode, 0);
  return { highWatermark: part.highWatermark, batches: await readBatches(part.records ?? Buffer.alloc(0)) };
}

function fetchedRecords(batches: ReadBatch[]): (Sent & { offset: number })[] {
  return batches.flatMap((b) => b.records.map((r) => ({ offset: r.offset, key: text(r.key), value: text(r.value), timestamp: r.timestamp })));
}

test('ApiVersions advertises Produce v0-v7', async () => {
  const response = await client.request('ApiVersions', 3, { clientSoftwareName: 'inkwell-test', clientSoftwareVersion: '1' });
  const produce = (response.apiKeys as { apiKey: number; minVersion: number; maxVersion: number }[]).find((a) => a.apiKey === 0);
  assert.deepEqual(produce, { apiKey: 0, minVersion: 0, maxVersion: 7 });
});

test('the v0, v1 and v2 responses have exactly their own layout', async () => {
  await createTopic('legacy-layout', 1);
  const topic = Buffer.from('legacy-layout');
  const expectedFrame = (version: number, correlationId: number, baseOffset: number): Buffer => {
    const parts: Buffer[] = [];
    const int = (bytes: number, value: number | bigint) => {
      const b = Buffer.alloc(bytes);
      if (bytes === 8) b.writeBigInt64BE(BigInt(value));
      else if (bytes === 4) b.writeInt32BE(Number(value));
      else b.writeInt16BE(Number(value));
      parts.push(b);
    };
    int(4, correlationId);
    int(4, 1); // one topic
    int(2, topic.length);
    parts.push(topic);
    int(4, 1); // one partition
    int(4, 0); // index
    int(2, 0); // error code
    int(8, baseOffset);
    if (version >= 2) int(8, -1); // logAppendTimeMs: CreateTime topic
    if (version >= 1) int(4, 0); // throttleTimeMs
    return Buffer.concat(parts);
  };
  let offset = 0;
  for (const version of [0, 1, 2]) {
    const magic = version === 2 ? 1 : 0;
    const sent = records(magic, 3, `layout-v${version}`);
    const id = client.send('Produce', version, produceBody('legacy-layout', [{ index: 0, records: await legacySet(magic, 0, sent) }]));
    const frame = await client.nextFrame();
    assert.ok(frame);
    assert.equal(frame.toString('hex'), expectedFrame(version, id, offset).toString('hex'), `Produce v${version} response`);
    offset += sent.length;
  }
  const { highWatermark, batches } = await fetchAll('legacy-layout', 0);
  assert.equal(highWatermark, 9n);
  assert.deepEqual(
    batches.map((b) => [b.baseOffset, b.records.length, b.codec]),
    [
      [0, 3, 0],
      [3, 3, 0],
      [6, 3, 0],
    ],
  );
});

for (const version of [0, 1, 2]) {
  for (const codec of [0, 1, 2, 3]) {
    const codecName = ['none', 'gzip', 'snappy', 'lz4'][codec]!;
    test(`Produce v${version}, ${codecName}: Fetch v11 returns one v2 batch with the same records, timestamps and codec`, async () => {
      const magic = version === 2 ? 1 : 0;
      const topic = `legacy-v${version}-${codecName}`;
      await createTopic(topic, 1);
      const first = records(magic, 40, 'a');
      const second = records(magic, 25, 'b');
      for (const [i, sent] of [first, second].entries()) {
        const response = await client.request('Produce', version, produceBody(topic, [{ index: 0, records: await legacySet(magic, codec, sent) }]));
        const [result] = partitionResults(response);
        assert.equal(result!.errorCode, 0);
        assert.equal(result!.baseOffset, i === 0 ? 0n : BigInt(first.length));
      }
      const { highWatermark, batches } = await fetchAll(topic, 0);
      assert.equal(highWatermark, BigInt(first.length + second.length));
      assert.equal(batches.length, 2, 'one v2 batch per produced message set');
      for (const batch of batches) {
        assert.equal(batch.codec, codec, 'stored with the codec the producer used');
        assert.equal(batch.logAppendTime, false);
        assert.equal(batch.producerId, -1n);
        assert.equal(batch.baseSequence, -1);
        assert.equal(batch.maxTimestamp, magic === 0 ? -1 : Math.max(...batch.records.map((r) => r.timestamp)));
      }
      assert.deepEqual(
        fetchedRecords(batches),
        [...first, ...second].map((r, offset) => ({ offset, ...r })),
      );
    });
  }
}

test('a bad CRC fails its own partition with CORRUPT_MESSAGE; the other partition of the request is appended', async () => {
  await createTopic('legacy-crc', 2);
  const good = await legacySet(0, 1, records(0, 5, 'good'));
  const bad = await legacySet(0, 1, records(0, 5, 'bad'));
  bad[bad.length - 1] ^= 0x55;
  const response = await client.request('Produce', 1, produceBody('legacy-crc', [
    { index: 0, records: bad },
    { index: 1, records: good },
  ]));
  const results = partitionResults(response);
  assert.deepEqual(
    results.map((r) => [r.index, r.errorCode, r.baseOffset]),
    [
      [0, errorCode('CORRUPT_MESSAGE'), -1n],
      [1, 0, 0n],
    ],
  );
  assert.equal((await fetchAll('legacy-crc', 0)).highWatermark, 0n);
  const other = await fetchAll('legacy-crc', 1);
  assert.equal(other.highWatermark, 5n);
  assert.deepEqual(
    fetchedRecords(other.batches).map((r) => r.key),
    records(0, 5, 'good').map((r) => r.key),
  );
});

test('truncated sets, partial tails and huge claimed lengths are CORRUPT_MESSAGE, and the connection keeps working', async () => {
  await createTopic('legacy-cut', 1);
  const set = await legacySet(0, 0, records(0, 4, 'cut'));
  const huge = Buffer.from(set);
  huge.writeInt32BE(0x7fff_ffff, 8);
  const cases: [string, Buffer][] = [
    ['last byte missing', set.subarray(0, set.length - 1)],
    ['partial trailing message', Buffer.concat([set, set.subarray(0, 20)])],
    ['messageSize 2^31-1', huge],
  ];
  for (const [what, records] of cases) {
    const response = await client.request('Produce', 0, produceBody('legacy-cut', [{ index: 0, records }]));
    assert.equal(partitionResults(response)[0]!.errorCode, errorCode('CORRUPT_MESSAGE'), what);
  }
  assert.equal((await fetchAll('legacy-cut', 0)).highWatermark, 0n);
  const response = await client.request('Produce', 0, produceBody('legacy-cut', [{ index: 0, records: set }]));
  assert.equal(partitionResults(response)[0]!.errorCode, 0);
});

test("Kafka's other refusals come through: INVALID_RECORD, INVALID_TIMESTAMP, MESSAGE_TOO_LARGE", async () => {
  await createTopic('legacy-refused', 1, [{ name: 'max.message.bytes', value: '2000' }]);
  const mixed = Buffer.concat([messageSet(0, records(0, 1, 'm0')), messageSet(1, records(1, 1, 'm1'))]);
  const zstdWrapper = legacyWrapper(1, 4, Buffer.from('not even zstd'));
  const logAppendTime = legacyMessage({ magic: 1, attributes: 0x08, key: null, value: Buffer.from('x') });
  const tooLarge = legacyMessage({ magic: 0, key: null, value: Buffer.alloc(2000, 0x61) });
  const cases: [string, number, Buffer, string][] = [
    ['mixed magic', 1, mixed, 'INVALID_RECORD'],
    ['zstd wrapper', 2, zstdWrapper, 'INVALID_RECORD'],
    ['LogAppendTime set by the producer', 2, logAppendTime, 'INVALID_TIMESTAMP'],
    ['message over max.message.bytes', 0, tooLarge, 'MESSAGE_TOO_LARGE'],
    ['null records', 0, null as unknown as Buffer, 'INVALID_RECORD'],
  ];
  for (const [what, version, records, error] of cases) {
    const response = await client.request('Produce', version, produceBody('legacy-refused', [{ index: 0, records }]));
    assert.equal(partitionResults(response)[0]!.errorCode, errorCode(error), what);
  }
  assert.equal((await fetchAll('legacy-refused', 0)).highWatermark, 0n);
});

test('Produce v2 also takes RecordBatch v2 (as Kafka does); v3 and later still refuse legacy sets', async () => {
  await createTopic('legacy-v2-batch', 1);
  const batch = buildBatch([{ key: Buffer.from('k'), value: Buffer.from('v2 in v2'), timestamp: 1_700_000_000_000 }]);
  const accepted = await client.request('Produce', 2, produceBody('legacy-v2-batch', [{ index: 0, records: batch }]));
  assert.equal(partitionResults(accepted)[0]!.errorCode, 0);
  const refused = await client.request('Produce', 3, produceBody('legacy-v2-batch', [{ index: 0, records: await legacySet(1, 0, records(1, 2, 'late')) }]));
  assert.equal(partitionResults(refused)[0]!.errorCode, errorCode('CORRUPT_MESSAGE'));
  const { highWatermark, batches } = await fetchAll('legacy-v2-batch', 0);
  assert.equal(highWatermark, 1n);
  assert.deepEqual(fetchedRecords(batches), [{ offset: 0, key: 'k', value: 'v2 in v2', timestamp: 1_700_000_000_000 }]);
});

test('a LogAppendTime topic stamps converted batches and v2 reports the append time', async () => {
  await createTopic('legacy-append-time', 1, [{ name: 'message.timestamp.type', value: 'LogAppendTime' }]);
  const before = Date.now();
  const response = await client.request('Produce', 2, produceBody('legacy-append-time', [{ index: 0, records: await legacySet(1, 2, records(1, 10, 'lat')) }]));
  const [result] = partitionResults(response);
  assert.equal(result!.errorCode, 0);
  const appendTime = Number(result!.logAppendTimeMs);
  assert.ok(appendTime >= before && appendTime <= Date.now(), `log append time ${appendTime}`);
  const { batches } = await fetchAll('legacy-append-time', 0);
  assert.equal(batches.length, 1);
  assert.equal(batches[0]!.logAppendTime, true);
  assert.equal(batches[0]!.maxTimestamp, appendTime);
  assert.equal(batches[0]!.codec, 2);
});

test('acks=0 on Produce v0 gets no response and still appends', async () => {
  await createTopic('legacy-acks0', 1);
  client.send('Produce', 0, produceBody('legacy-acks0', [{ index: 0, records: await legacySet(0, 1, records(0, 3, 'quiet')) }], 0));
  const response = await client.request('ApiVersions', 0, {});
  assert.equal(response.errorCode, 0, 'the next response is the ApiVersions one');
  const { highWatermark } = await fetchAll('legacy-acks0', 0);
  assert.equal(highWatermark, 3n);
});
