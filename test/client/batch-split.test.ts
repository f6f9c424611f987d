/**
 * The producer splits batches the broker refuses as too large (MESSAGE_TOO_LARGE), against
 * Inkwell over TLS with topics whose max.message.bytes is small: every record is delivered once,
 * in send order, with contiguous offsets per partition, idempotent or not, compressed or not;
 * a record too large on its own fails alone with a non-retriable MESSAGE_TOO_LARGE while the
 * records around it (sent in the same batches and after it) are delivered in order. Against a
 * strict scripted broker: the halves of a refused idempotent batch carry its sequence range
 * (first half from its base sequence, second after it) and batches sent behind it keep theirs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Producer, Consumer, Admin, KafkaError, type ConsumerRecord, type ProducerOptions, type RecordMetadata } from '../../src/index.js';
import { useClientBroker } from '../helpers/client-broker.js';
import { parseBatchHeader } from '../../src/protocol/record-batch.js';
import { decodeRecords } from '../../src/client/batch-reader.js';
import type { Message } from '../../src/protocol/codec.js';
import { FakeBroker, type FakeRequest } from './fake-broker.js';

const target = useClientBroker('h-cl-split-');
const { track } = target;
const client = target.client;
/** The topic limit: a batch of more than about a dozen of the records below is refused. */
const messageBytesMax = 2048;

async function createTopic(topic: string, numPartitions: number): Promise<void> {
  const admin = track(new Admin(client()));
  await admin.createTopics([{ topic, numPartitions, configs: { 'max.message.bytes': String(messageBytesMax) } }]);
  await admin.close();
}

/** Reads `count` records from the start of every partition (bounded). */
async function readAll(topic: string, count: number): Promise<ConsumerRecord[]> {
  const consumer = track(new Consumer({ ...client(), maxWaitMs: 100 }));
  const out: ConsumerRecord[] = [];
  const timer = setTimeout(() => consumer.stop(), 30_000);
  try {
    const partitions = await consumer.partitionCount(topic);
    await consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 'earliest' as const })));
    for await (const record of consumer) {
      out.push(record);
      if (out.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    await consumer.close();
  }
  // A few more would show duplicates: there must be none past `count`.
  const ends = await endOffsets(topic);
  assert.equal(
    ends.reduce((sum, end) => sum + end, 0),
    count,
    'the log holds exactly the records sent',
  );
  return out;
}

async function endOffsets(topic: string): Promise<number[]> {
  const consumer = track(new Consumer(client()));
  try {
    const partitions = await consumer.partitionCount(topic);
    const ends = await consumer.endOffsets(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
    return ends.map((e) => e.offset);
  } finally {
    await consumer.close();
  }
}

/** Offsets per partition in send order must be 0, 1, 2, …; read back, each partition's values are in send order. */
function checkOrder(sent: readonly RecordMetadata[], records: readonly ConsumerRecord[], valueIndex: (record: ConsumerRecord) => number): void {
  const byPartition = new Map<number, number[]>();
  sent.forEach((metadata) => byPartition.set(metadata.partition, [...(byPartition.get(metadata.partition) ?? []), metadata.offset]));
  for (const [partition, offsets] of byPartition) assert.deepEqual(offsets, [...offsets.keys()], `partition ${partition}: offsets contiguous in send order`);
  const read = new Map<number, number[]>();
  for (const record of records) read.set(record.partition, [...(read.get(record.partition) ?? []), valueIndex(record)]);
  for (const [partition, indexes] of read) {
    assert.deepEqual(indexes, [...indexes].sort((a, b) => a - b), `partition ${partition}: read back in send order`);
    assert.equal(new Set(indexes).size, indexes.length, `partition ${partition}: no duplicates`);
  }
}

const cases: { name: string; options: Partial<ProducerOptions>; incompressible: boolean }[] = [
  { name: 'idempotent', options: {}, incompressible: false },
  { name: 'idempotent, zstd', options: { compression: 'zstd' }, incompressible: true },
  { name: 'acks=1 (not idempotent)', options: { acks: 1 }, incompressible: false },
  { name: 'idempotent, five in flight, small batches', options: { batchBytes: 16 * 1024, lingerMs: 0 }, incompressible: false },
];

for (const { name, options, incompressible } of cases) {
  test(`${name}: batches over max.message.bytes are split; every record delivered once, in order`, async () => {
    const topic = `split-${name.replace(/[^a-z0-9]+/g, '-')}`;
    await createTopic(topic, 3);
    let splits = 0;
    const log = (_level: string, message: string) => void (message.includes('was too large; sending it in two') && splits++);
    const producer = track(new Producer(client({ lingerMs: 20, ...options, log })));
    const count = 3000;
    const value = (i: number) => Buffer.concat([Buffer.from(`${String(i).padStart(6, '0')}:`), incompressible ? randomBytes(100) : Buffer.alloc(100, 120)]);
    const sent = await Promise.all(Array.from({ length: count }, (_, i) => producer.send({ topic, key: `key-${i % 7}`, value: value(i) })));
    if (options.acks === undefined) assert.equal(producer.idempotent, true);
    assert.equal(producer.bufferedBytes, 0, 'the split batches gave their buffer bytes back');
    assert.ok(splits > 0, 'batches were split');
    await producer.close();
    const records = await readAll(topic, count);
    assert.equal(records.length, count);
    checkOrder(sent, records, (record) => Number(record.value!.subarray(0, 6).toString()));
    for (const record of records) {
      const i = Number(record.value!.subarray(0, 6).toString());
      assert.equal(record.key!.toString(), `key-${i % 7}`);
      assert.equal(record.partition, sent[i]!.partition);
      assert.equal(record.offset, sent[i]!.offset);
    }
  });
}

for (const [name, batchBytes] of [
  ['alone in its batch, batches in flight behind it', 1024],
  ['batched with others, split down to itself', undefined],
] as const) {
  test(`a single record over max.message.bytes (${name}) fails alone with a non-retriable MESSAGE_TOO_LARGE; the rest go through in order`, async () => {
    const topic = `split-single-${batchBytes ?? 'default'}`;
    await createTopic(topic, 1);
    const producer = track(new Producer(client({ ...(batchBytes !== undefined ? { batchBytes } : {}), lingerMs: batchBytes === undefined ? 50 : 0 })));
    const big = Buffer.alloc(messageBytesMax * 2, 1);
    const sends = Array.from({ length: 600 }, (_, i) =>
      producer.send({ topic, partition: 0, value: i === 300 ? big : `small-${String(i).padStart(4, '0')}-${'x'.repeat(40)}` }).then(
        (metadata) => ({ i, metadata, error: null as unknown }),
        (error: unknown) => ({ i, metadata: null, error }),
      ),
    );
    const results = await Promise.all(sends);
    const failed = results.filter((r) => r.error !== null);
    assert.equal(failed.length, 1, `only the big record fails: ${failed.map((f) => `${f.i}: ${String(f.error)}`).join('; ')}`);
    const [bigResult] = failed;
    assert.equal(bigResult!.i, 300);
    assert.ok(bigResult!.error instanceof KafkaError);
    assert.equal(bigResult!.error.errorName, 'MESSAGE_TOO_LARGE');
    assert.equal(bigResult!.error.code, 10);
    assert.equal(bigResult!.error.retriable, false);
    const delivered = results.filter((r) => r.metadata !== null).map((r) => r.metadata!);
    assert.deepEqual(
      delivered.map((m) => m.offset),
      [...delivered.keys()],
      'offsets contiguous in send order around the refused record',
    );
    // The producer goes on normally afterwards (its sequences are still right).
    const later = await Promise.all(Array.from({ length: 20 }, (_, i) => producer.send({ topic, partition: 0, value: `later-${i}` })));
    assert.deepEqual(
      later.map((m) => m.offset),
      later.map((_, i) => 599 + i),
    );
    await assert.rejects(producer.send({ topic, partition: 0, value: big }), (error: unknown) => error instanceof KafkaError && error.errorName === 'MESSAGE_TOO_LARGE' && !error.retriable);
    assert.equal((await producer.send({ topic, partition: 0, value: 'last' })).offset, 619);
    await producer.close();
    const records = await readAll(topic, 620);
    const values = records.map((r) => r.value!.toString());
    assert.deepEqual(values.slice(0, 599), [...Array.from({ length: 300 }, (_, i) => i), ...Array.from({ length: 299 }, (_, i) => 301 + i)].map((i) => `small-${String(i).padStart(4, '0')}-${'x'.repeat(40)}`));
    assert.deepEqual(values.slice(599), [...Array.from({ length: 20 }, (_, i) => `later-${i}`), 'last']);
  });
}

test('idempotent splitting, seen by a strict scripted broker: the halves take the refused batch\'s sequence range, batches sent behind it keep theirs', async () => {
  const broker = await FakeBroker.start();
  const topic = 'orders';
  /** The scripted limit: record 200 fits in a batch only alone (as if it were nearly max.message.bytes). */
  const bigRecord = 200;
  const log: string[] = [];
  let nextSequence = 0;
  const attempts: { baseSequence: number; records: number; errorCode: number }[] = [];
  const produce = async (body: Message): Promise<Message> => {
    const data = (body.topicData as { partitionData: { records: Buffer }[] }[])[0]!.partitionData[0]!;
    const header = parseBatchHeader(data.records);
    // Kafka's order of checks: the size first (nothing is recorded), then the sequence, strictly.
    const tooLarge = header.recordCount > 1 && header.baseSequence <= bigRecord && bigRecord < header.baseSequence + header.recordCount;
    const errorCode = tooLarge ? 10 : header.baseSequence !== nextSequence ? 45 : 0;
    attempts.push({ baseSequence: header.baseSequence, records: header.recordCount, errorCode });
    let baseOffset = -1n;
    if (errorCode === 0) {
      baseOffset = BigInt(log.length);
      for (const record of (await decodeRecords(data.records, { topic, partition: 0, fetchOffset: 0, aborted: null })).records) log.push(record.value!.toString());
      nextSequence += header.recordCount;
    }
    return { responses: [{ name: topic, partitionResponses: [{ index: 0, errorCode, baseOffset, logAppendTimeMs: -1n, logStartOffset: 0n }] }], throttleTimeMs: 0 };
  };
  const handle = async (request: FakeRequest): Promise<void> => {
    switch (request.header.apiKey) {
      case 3:
        request.respond({
          brokers: [{ nodeId: 1, host: '127.0.0.1', port: broker.port, rack: null }],
          clusterId: 'scripted',
          controllerId: 1,
          topics: [{ errorCode: 0, name: topic, isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }] }],
        });
        return;
      case 22:
        request.respond({ throttleTimeMs: 0, errorCode: 0, producerId: 77n, producerEpoch: 0 });
        return;
      case 0:
        request.respond(await produce(request.body));
        return;
      default:
        throw new Error(`scripted broker got api ${request.header.apiKey}`);
    }
  };
  // One request at a time, in arrival order, as a broker handles a connection's requests.
  let queue = Promise.resolve();
  broker.onRequest = (request) => {
    queue = queue.then(() => handle(request));
  };
  const producer = new Producer({ bootstrap: `127.0.0.1:${broker.port}`, batchBytes: 8192, lingerMs: 0, retryBackoffMs: 10 });
  try {
    await producer.connect();
    assert.equal(producer.idempotent, true);
    const values = Array.from({ length: 600 }, (_, i) => `record-${String(i).padStart(4, '0')}-${'v'.repeat(30)}`);
    const sent = await Promise.all(values.map((value) => producer.send({ topic, partition: 0, value })));
    assert.deepEqual(log, values, 'every record once, in send order');
    assert.deepEqual(
      sent.map((m) => m.offset),
      values.map((_, i) => i),
    );
    const refused = attempts.filter((a) => a.errorCode === 10);
    assert.ok(refused.length > 0, 'batches were refused as too large');
    for (const big of refused) {
      const half = Math.ceil(big.records / 2);
      assert.ok(
        attempts.some((a) => a.baseSequence === big.baseSequence && a.records === half),
        `the first half of [${big.baseSequence}, +${big.records}) went from sequence ${big.baseSequence}`,
      );
      assert.ok(
        attempts.some((a) => a.baseSequence === big.baseSequence + half && a.records === big.records - half),
        `the second half went from sequence ${big.baseSequence + half}`,
      );
    }
    const accepted = attempts.filter((a) => a.errorCode === 0);
    accepted.forEach((a, i) => assert.equal(a.baseSequence, i === 0 ? 0 : accepted[i - 1]!.baseSequence + accepted[i - 1]!.records, 'accepted sequences are contiguous'));
    const behind = attempts.filter((a) => a.errorCode === 45);
    assert.ok(behind.length > 0, 'batches sent behind the refused one were refused as out of order');
    for (const batch of behind) {
      assert.ok(
        accepted.some((a) => a.baseSequence === batch.baseSequence && a.records === batch.records),
        'a batch refused as out of order (behind a split one) went again with its own sequence',
      );
    }
  } finally {
    await producer.close();
    await broker.close();
  }
});
