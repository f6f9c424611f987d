/**
 * kafkajs 2.2.4 over TLS (verifying our CA): admin createTopics, listTopics, fetchTopicMetadata,
 * fetchTopicOffsets, fetchTopicOffsetsByTimestamp, describeCluster and deleteTopics; a
 * non-idempotent producer with acks -1 and 1 whose base offsets are checked; then everything read
 * back with a plain Fetch v11 and ListOffsets v5 through the test RawClient (the kafkajs consumer
 * needs consumer groups). fetchTopicOffsetsByTimestamp finds the exact record inside compressed
 * batches: gzip from kafkajs, snappy, lz4 and zstd produced raw.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CompressionTypes, Kafka, Partitioners, logLevel, type Admin, type Producer, type logCreator } from 'kafkajs';
import { startBroker, type Broker } from '../../src/index.js';
import { testTls, type TestTls } from '../helpers/tls.js';
import { RawClient, withTimeout } from '../helpers/raw-client.js';
import { codecGzip, codecLz4, codecNames, codecSnappy, codecZstd, compress, type CompressionCodec } from '../../src/protocol/compression.js';
import { attributesAt, batchHeaderBytes, batchLengthAt, batchPrefixBytes, buildBatch, compressionMask, crcAt, splitBatches } from '../../src/protocol/record-batch.js';
import { crc32c } from '../../src/protocol/crc32c.js';

let broker: Broker;
let material: TestTls;
let port = 0;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
/** kafkajs log lines (warnings and errors), shown when an assertion fails. */
const logs: string[] = [];

const capture: logCreator = () => ({ label, namespace, log }) => {
  const { message, timestamp: _timestamp, logger: _logger, ...rest } = log;
  logs.push(`${label} [${namespace}] ${message} ${JSON.stringify(rest)}`);
};

const limit = 30_000;

before(async () => {
  material = await testTls();
  broker = await startBroker({ listeners: 'SSL://127.0.0.1:0', storage: 'memory', tls: material, log: () => {} });
  port = broker.listeners[0]!.port;
  kafka = new Kafka({
    clientId: 'inkwell-kafkajs',
    brokers: [`127.0.0.1:${port}`],
    ssl: { ca: [material.ca.toString('utf8')] },
    connectionTimeout: 5000,
    requestTimeout: 10_000,
    retry: { retries: 2, initialRetryTime: 100 },
    logLevel: logLevel.WARN,
    logCreator: capture,
  });
  admin = kafka.admin();
  producer = kafka.producer({ idempotent: false, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await withTimeout(admin.connect(), limit, 'admin.connect');
  await withTimeout(producer.connect(), limit, 'producer.connect');
});

after(async () => {
  await producer?.disconnect().catch(() => {});
  await admin?.disconnect().catch(() => {});
  await broker?.close();
});

function why(): string {
  return logs.length ? `kafkajs said:\n${logs.slice(-20).join('\n')}` : 'kafkajs logged nothing';
}

test('admin: createTopics, listTopics, fetchTopicMetadata, fetchTopicOffsets, deleteTopics', async () => {
  const created = await withTimeout(
    admin.createTopics({
      waitForLeaders: true,
      timeout: 10_000,
      topics: [
        { topic: 'kjs-admin', numPartitions: 3, replicationFactor: 1 },
        { topic: 'kjs-doomed', numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] },
      ],
    }),
    limit,
    'createTopics',
  );
  assert.equal(created, true, why());
  // kafkajs answers false (not an error) when every topic already exists.
  const again = await withTimeout(admin.createTopics({ topics: [{ topic: 'kjs-admin', numPartitions: 3 }] }), limit, 'createTopics again');
  assert.equal(again, false, why());

  const listed = await withTimeout(admin.listTopics(), limit, 'listTopics');
  assert.ok(listed.includes('kjs-admin') && listed.includes('kjs-doomed'), `listTopics: ${listed.join(', ')}`);

  const cluster = await withTimeout(admin.describeCluster(), limit, 'describeCluster');
  assert.equal(cluster.brokers.length, 1);
  assert.equal(cluster.brokers[0]!.port, port);
  assert.equal(cluster.controller, cluster.brokers[0]!.nodeId);
  assert.equal(cluster.clusterId, broker.clusterId);

  const { topics } = await withTimeout(admin.fetchTopicMetadata({ topics: ['kjs-admin', 'kjs-doomed'] }), limit, 'fetchTopicMetadata');
  const byName = new Map(topics.map((t) => [t.name, t]));
  const shape = (name: string) =>
    byName
      .get(name)
      ?.partitions.map((p) => ({ id: p.partitionId, error: p.partitionErrorCode, leader: p.leader, replicas: p.replicas, isr: p.isr }))
      .sort((a, b) => a.id - b.id);
  const node = cluster.brokers[0]!.nodeId;
  const expected = (n: number) => Array.from({ length: n }, (_, id) => ({ id, error: 0, leader: node, replicas: [node], isr: [node] }));
  assert.deepEqual(shape('kjs-admin'), expected(3));
  assert.deepEqual(shape('kjs-doomed'), expected(2));

  const offsets = await withTimeout(admin.fetchTopicOffsets('kjs-admin'), limit, 'fetchTopicOffsets');
  assert.deepEqual(
    offsets.map((o) => ({ partition: o.partition, offset: o.offset, low: o.low, high: o.high })).sort((a, b) => a.partition - b.partition),
    [0, 1, 2].map((partition) => ({ partition, offset: '0', low: '0', high: '0' })),
  );

  await withTimeout(admin.deleteTopics({ topics: ['kjs-doomed'], timeout: 10_000 }), limit, 'deleteTopics');
  const after = await withTimeout(admin.listTopics(), limit, 'listTopics after delete');
  assert.ok(after.includes('kjs-admin'), `listTopics: ${after.join(', ')}`);
  assert.ok(!after.includes('kjs-doomed'), `kjs-doomed still listed: ${after.join(', ')}`);
});

interface Sent {
  partition: number;
  key: string;
  value: string;
  headers: Record<string, string>;
}

function messages(tag: string, count: number, partitions: number): Sent[] {
  return Array.from({ length: count }, (_, i) => ({
    partition: i % partitions,
    key: `${tag}-k${i}`,
    value: `${tag}-v${i}-${'z'.repeat(i % 29)}`,
    headers: { tag, i: String(i) },
  }));
}

test('producer (idempotent: false) with acks -1 and 1: base offsets, then read back by Fetch v11 and ListOffsets v5', async () => {
  const topic = 'kjs-produce';
  const partitions = 3;
  assert.equal(await withTimeout(admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] }), limit, 'createTopics'), true, why());

  const sent: Sent[] = [];
  const nextOffset = [0, 0, 0];
  for (const [acks, tag, count] of [
    [-1, 'all', 60],
    [1, 'one', 45],
    [-1, 'all2', 7],
  ] as const) {
    const batch = messages(tag, count, partitions);
    const result = await withTimeout(producer.send({ topic, acks, messages: batch }), limit, `send acks ${acks}`);
    // One entry per partition written, each with the offset of its first record.
    const got = result.map((r) => ({ topic: r.topicName, partition: r.partition, errorCode: r.errorCode, baseOffset: r.baseOffset })).sort((a, b) => a.partition - b.partition);
    const want = [0, 1, 2].map((partition) => ({ topic, partition, errorCode: 0, baseOffset: String(nextOffset[partition]) }));
    assert.deepEqual(got, want, `acks ${acks}: ${why()}`);
    for (const m of batch) nextOffset[m.partition]!++;
    sent.push(...batch);
  }

  const offsets = await withTimeout(admin.fetchTopicOffsets(topic), limit, 'fetchTopicOffsets');
  assert.deepEqual(
    offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high })).sort((a, b) => a.partition - b.partition),
    [0, 1, 2].map((partition) => ({ partition, low: '0', high: String(nextOffset[partition]) })),
  );

  const client = await RawClient.connect({ port, tls: { ca: material.ca } });
  try {
    const listed = await client.request('ListOffsets', 5, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: topic, partitions: [0, 1, 2].map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp: -1n })) }],
    });
    const latest = (listed.topics as { partitions: { partitionIndex: number; errorCode: number; offset: bigint }[] }[])[0]!.partitions
      .map((p) => ({ partition: p.partitionIndex, errorCode: p.errorCode, offset: Number(p.offset) }))
      .sort((a, b) => a.partition - b.partition);
    assert.deepEqual(latest, [0, 1, 2].map((partition) => ({ partition, errorCode: 0, offset: nextOffset[partition] })));

    for (let partition = 0; partition < partitions; partition++) {
      const records = await fetchAll(client, topic, partition, nextOffset[partition]!);
      const expected = sent.filter((m) => m.partition === partition);
      assert.equal(records.length, expected.length, `partition ${partition} record count`);
      records.forEach((r, i) => {
        assert.equal(r.offset, i, `partition ${partition} offsets run from 0 without gaps`);
        assert.equal(r.key, expected[i]!.key);
        assert.equal(r.value, expected[i]!.value);
        assert.deepEqual(r.headers, Object.entries(expected[i]!.headers));
      });
    }
  } finally {
    client.close();
  }
});

test('producer.sendBatch to two topics in one request', async () => {
  assert.equal(
    await withTimeout(admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'kjs-batch-a', numPartitions: 1 }, { topic: 'kjs-batch-b', numPartitions: 2 }] }), limit, 'createTopics'),
    true,
    why(),
  );
  const result = await withTimeout(
    producer.sendBatch({
      acks: -1,
      topicMessages: [
        { topic: 'kjs-batch-a', messages: [{ key: 'a0', value: 'A0' }, { key: 'a1', value: 'A1' }] },
        { topic: 'kjs-batch-b', messages: [{ partition: 1, key: 'b0', value: 'B0' }] },
      ],
    }),
    limit,
    'sendBatch',
  );
  const got = result.map((r) => `${r.topicName}/${r.partition}@${r.baseOffset} e${r.errorCode}`).sort();
  assert.deepEqual(got, ['kjs-batch-a/0@0 e0', 'kjs-batch-b/1@0 e0'], why());
  const client = await RawClient.connect({ port, tls: { ca: material.ca } });
  try {
    assert.deepEqual(
      (await fetchAll(client, 'kjs-batch-a', 0, 2)).map((r) => `${r.offset} ${r.key}=${r.value}`),
      ['0 a0=A0', '1 a1=A1'],
    );
    assert.deepEqual(
      (await fetchAll(client, 'kjs-batch-b', 1, 1)).map((r) => `${r.offset} ${r.key}=${r.value}`),
      ['0 b0=B0'],
    );
  } finally {
    client.close();
  }
});

/** Five records one second apart, in one batch, with the given compression. */
async function timestamped(topic: string, compression: CompressionTypes): Promise<number> {
  assert.equal(await withTimeout(admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] }), limit, 'createTopics'), true, why());
  const t0 = 1_700_000_000_000;
  await withTimeout(
    producer.send({ topic, acks: -1, compression, messages: Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, timestamp: String(t0 + i * 1000) })) }),
    limit,
    'send',
  );
  return t0;
}

test('fetchTopicOffsetsByTimestamp (ListOffsets by time) finds the first record at or after the time', async () => {
  const t0 = await timestamped('kjs-time', CompressionTypes.None);
  const at = async (ms: number) => (await withTimeout(admin.fetchTopicOffsetsByTimestamp('kjs-time', ms), limit, 'fetchTopicOffsetsByTimestamp')).map((o) => o.offset);
  assert.deepEqual(await at(t0 - 1), ['0']);
  assert.deepEqual(await at(t0 + 2500), ['3']);
  assert.deepEqual(await at(t0 + 4000), ['4']);
  // Nothing that late: the broker answers -1 and kafkajs substitutes the high watermark.
  assert.deepEqual(await at(t0 + 60_000), ['5']);
});

/** What fetchTopicOffsetsByTimestamp answers for a one-partition topic. */
async function offsetAt(topic: string, ms: number): Promise<string[]> {
  return (await withTimeout(admin.fetchTopicOffsetsByTimestamp(topic, ms), limit, 'fetchTopicOffsetsByTimestamp')).map((o) => o.offset);
}

/** Inside one batch of the five records timestamped() writes: the exact record, as Kafka answers. */
async function checkFirstRecordAtOrAfter(topic: string, t0: number): Promise<void> {
  assert.deepEqual(await offsetAt(topic, t0 - 1), ['0']);
  assert.deepEqual(await offsetAt(topic, t0 + 1), ['1']);
  assert.deepEqual(await offsetAt(topic, t0 + 2500), ['3']);
  assert.deepEqual(await offsetAt(topic, t0 + 3000), ['3']);
  assert.deepEqual(await offsetAt(topic, t0 + 4000), ['4']);
  assert.deepEqual(await offsetAt(topic, t0 + 60_000), ['5']);
}

test('fetchTopicOffsetsByTimestamp inside a gzip batch (kafkajs compresses it)', async () => {
  const t0 = await timestamped('kjs-time-gzip', CompressionTypes.GZIP);
  const client = await RawClient.connect({ port, tls: { ca: material.ca } });
  try {
    const [batch] = await fetchBatches(client, 'kjs-time-gzip');
    assert.equal(batch!.readInt16BE(21) & 0x07, codecGzip, 'kafkajs sent a gzip batch');
    assert.equal(batch!.readInt32BE(57), 5, 'all five records in it');
  } finally {
    client.close();
  }
  await checkFirstRecordAtOrAfter('kjs-time-gzip', t0);
});

/** Encodes the five records of timestamped() as one batch compressed with `codec`, as a producer would. */
async function compressedBatch(codec: CompressionCodec, t0: number): Promise<Buffer> {
  const plain = buildBatch(Array.from({ length: 5 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i} `.repeat(50)), timestamp: t0 + i * 1000 })));
  const records = await compress(codec, plain.subarray(batchHeaderBytes));
  const batch = Buffer.concat([plain.subarray(0, batchHeaderBytes), records]);
  batch.writeInt32BE(batch.length - batchPrefixBytes, batchLengthAt);
  batch.writeUInt16BE((batch.readUInt16BE(attributesAt) & ~compressionMask) | codec, attributesAt);
  batch.writeUInt32BE(crc32c(batch.subarray(attributesAt)), crcAt);
  return batch;
}

for (const codec of [codecSnappy, codecLz4, codecZstd] as const) {
  const name = codecNames[codec];
  test(`fetchTopicOffsetsByTimestamp inside a ${name} batch (produced raw: kafkajs has no ${name} codec)`, async () => {
    const topic = `kjs-time-${name}`;
    assert.equal(await withTimeout(admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] }), limit, 'createTopics'), true, why());
    const t0 = 1_700_000_000_000;
    const client = await RawClient.connect({ port, tls: { ca: material.ca } });
    try {
      const produced = await client.request('Produce', 7, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: topic, partitionData: [{ index: 0, records: await compressedBatch(codec, t0) }] }],
      });
      const result = (produced.responses as { partitionResponses: { errorCode: number; baseOffset: bigint }[] }[])[0]!.partitionResponses[0]!;
      assert.deepEqual({ errorCode: result.errorCode, baseOffset: result.baseOffset }, { errorCode: 0, baseOffset: 0n });
      const [stored] = await fetchBatches(client, topic);
      assert.equal(stored!.readInt16BE(21) & 0x07, codec, 'stored as received');
    } finally {
      client.close();
    }
    await checkFirstRecordAtOrAfter(topic, t0);
  });
}

/** The batches of partition 0 from offset 0, as stored (one Fetch v11). */
async function fetchBatches(client: RawClient, topic: string): Promise<Buffer[]> {
  const response = await client.request('Fetch', 11, {
    replicaId: -1,
    maxWaitMs: 100,
    minBytes: 1,
    maxBytes: 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, logStartOffset: -1n, partitionMaxBytes: 1024 * 1024 }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
  const part = (response.responses as { partitions: { errorCode: number; records: Buffer | null }[] }[])[0]!.partitions[0]!;
  assert.equal(part.errorCode, 0);
  const split = splitBatches(part.records ?? Buffer.alloc(0));
  assert.ok('batches' in split, 'error' in split ? split.reason : 'no batches');
  return split.batches;
}

interface FetchedRecord {
  offset: number;
  key: string | null;
  value: string | null;
  headers: [string, string][];
}

/** Fetch v11 from offset 0 until `until` records have been read (or the broker stops giving any). */
async function fetchAll(client: RawClient, topic: string, partition: number, until: number): Promise<FetchedRecord[]> {
  const records: FetchedRecord[] = [];
  let fetchOffset = 0;
  for (let round = 0; round < 50 && fetchOffset < until; round++) {
    const response = await client.request('Fetch', 11, {
      replicaId: -1,
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: BigInt(fetchOffset), logStartOffset: -1n, partitionMaxBytes: 1024 * 1024 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    assert.equal(response.errorCode, 0);
    const part = (response.responses as { partitions: { errorCode: number; highWatermark: bigint; records: Buffer | null }[] }[])[0]!.partitions[0]!;
    assert.equal(part.errorCode, 0, `Fetch ${topic}/${partition} at ${fetchOffset}`);
    const got = parseBatches(part.records ?? Buffer.alloc(0)).filter((r) => r.offset >= fetchOffset);
    if (got.length === 0) break;
    records.push(...got);
    fetchOffset = got[got.length - 1]!.offset + 1;
  }
  return records;
}

/** Reads uncompressed RecordBatch v2 batches; a partial batch at the end is ignored, as clients do. */
function parseBatches(buffer: Buffer): FetchedRecord[] {
  const out: FetchedRecord[] = [];
  let at = 0;
  while (buffer.length - at >= 61) {
    const baseOffset = Number(buffer.readBigInt64BE(at));
    const batchLength = buffer.readInt32BE(at + 8);
    if (at + 12 + batchLength > buffer.length) break;
    assert.equal(buffer.readInt8(at + 16), 2, 'magic 2');
    const attributes = buffer.readInt16BE(at + 21);
    assert.equal(attributes & 0x07, 0, 'kafkajs sends uncompressed batches by default');
    const count = buffer.readInt32BE(at + 57);
    const reader = { buffer, at: at + 61 };
    for (let i = 0; i < count; i++) {
      varint(reader); // record length
      reader.at += 1; // attributes
      varint(reader); // timestamp delta
      const offsetDelta = varint(reader);
      const key = bytesOrNull(reader);
      const value = bytesOrNull(reader);
      const headerCount = varint(reader);
      const headers: [string, string][] = [];
      for (let h = 0; h < headerCount; h++) headers.push([bytesOrNull(reader) ?? '', bytesOrNull(reader) ?? '']);
      out.push({ offset: baseOffset + offsetDelta, key, value, headers });
    }
    at += 12 + batchLength;
    assert.equal(reader.at, at, 'records fill the batch exactly');
  }
  return out;
}

function varint(reader: { buffer: Buffer; at: number }): number {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = reader.buffer[reader.at++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
  }
  // zigzag
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}

function bytesOrNull(reader: { buffer: Buffer; at: number }): string | null {
  const length = varint(reader);
  if (length < 0) return null;
  const text = reader.buffer.toString('utf8', reader.at, reader.at + length);
  reader.at += length;
  return text;
}
