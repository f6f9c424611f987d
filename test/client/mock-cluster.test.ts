/**
 * The client against librdkafka's mock cluster (3 brokers, plaintext), with kcat as the other
 * side: what our producer writes kcat reads back identically (keys, values, headers, every
 * compression) and vice versa; keyed records land on kafkajs's partitions; requests follow each
 * partition's leader across brokers; the idempotent producer and consumer groups work there.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Producer, Consumer, Admin, KafkaError, type ConsumerRecord, type ClientOptions } from '../../src/index.js';
import { compressionTypes } from '../../src/client/compression.js';
import { run, available } from '../helpers/run.js';
import { startMockCluster, mockClientCaps, type MockCluster } from './mock-cluster.js';
import { eventually } from './fake-broker.js';
import { readFromStart } from '../helpers/read-from-start.js';

const require = createRequire(import.meta.url);
const { Partitioners } = require('kafkajs') as {
  Partitioners: { DefaultPartitioner: () => (args: { topic: string; partitionMetadata: { partitionId: number; leader: number }[]; message: { key: Buffer } }) => number };
};

let mock: MockCluster | null = null;
let skipReason: string | null = null;
const clients = new Set<{ close(): Promise<void> }>();
const leadersSeen = new Set<number>();

function track<T extends { close(): Promise<void> }>(instance: T): T {
  clients.add(instance);
  return instance;
}

function options(): ClientOptions {
  return { bootstrap: mock!.bootstrap, apiVersionCaps: mockClientCaps, connectTimeoutMs: 5000 };
}

before(async () => {
  if (!(await available('kcat', ['-V']))) {
    if (process.env.CI) throw new Error('kcat is not installed; .ci/run installs it');
    skipReason = 'kcat is not installed';
    return;
  }
  mock = await startMockCluster(3);
});

after(async () => {
  await Promise.all([...clients].map((instance) => instance.close().catch(() => {})));
  await mock?.stop();
});

interface Line {
  partition: number;
  offset: number;
  key: string;
  value: string;
  headers: string;
}

async function kcatConsume(topic: string, expected: number): Promise<Line[]> {
  const result = await run('kcat', ['-b', mock!.bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-c', String(expected), '-f', '%p\t%o\t%k\t%s\t%h\n'], { timeoutMs: 60_000 });
  assert.equal(result.code, 0, result.stderr);
  return result.stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [partition, offset, key, value, headers] = line.split('\t');
      return { partition: Number(partition), offset: Number(offset), key: key!, value: value!, headers: headers ?? '' };
    });
}

function readWithClient(topic: string, count: number): Promise<ConsumerRecord[]> {
  return readFromStart(options(), topic, count);
}

test('the mock: three brokers, a controller id that is none of them, no CreateTopics', async (t) => {
  if (skipReason !== null) return t.skip(skipReason);
  const admin = track(new Admin(options()));
  const cluster = await admin.describeCluster();
  assert.deepEqual(
    cluster.brokers.map((b) => b.nodeId),
    [1, 2, 3],
  );
  assert.ok(!cluster.brokers.some((b) => b.nodeId === cluster.controllerId), `controller ${cluster.controllerId}`);
  await assert.rejects(admin.createTopics([{ topic: 'nope', numPartitions: 1 }]), (error: unknown) => error instanceof KafkaError && error.errorName === 'UNSUPPORTED_VERSION');
  await admin.close();
});

for (const compression of compressionTypes) {
  test(`${compression}: our producer's records read back identically by kcat, on kafkajs's partitions, across leaders`, async (t) => {
    if (skipReason !== null) return t.skip(skipReason);
    const topic = `ours-${compression}`;
    const producer = track(new Producer({ ...options(), compression }));
    const count = 2000;
    const sent = await Promise.all(
      Array.from({ length: count }, (_, i) => producer.send({ topic, key: `key-${i}`, value: `value-${i}-${'y'.repeat(i % 40)}`, headers: { codec: compression, n: String(i % 3) } })),
    );
    await producer.close();
    const admin = track(new Admin(options()));
    const [description] = await admin.describeTopics([topic]);
    await admin.close();
    const partitionMetadata = description!.partitions.map((p) => ({ partitionId: p.partition, leader: p.leader }));
    assert.equal(partitionMetadata.length, 4, 'the mock auto-creates 4 partitions');
    for (const p of partitionMetadata) leadersSeen.add(p.leader);
    const kafkajs = Partitioners.DefaultPartitioner();
    sent.forEach((metadata, i) => assert.equal(metadata.partition, kafkajs({ topic, partitionMetadata, message: { key: Buffer.from(`key-${i}`) } })));
    const lines = await kcatConsume(topic, count);
    assert.equal(lines.length, count);
    for (const line of lines) {
      const i = Number(line.key.slice(4));
      assert.equal(line.value, `value-${i}-${'y'.repeat(i % 40)}`);
      assert.equal(line.headers, `codec=${compression},n=${i % 3}`);
      assert.equal(line.partition, sent[i]!.partition);
      assert.equal(line.offset, sent[i]!.offset);
    }
  });
}

for (const compression of compressionTypes) {
  test(`${compression}: kcat's records read back identically by our consumer`, async (t) => {
    if (skipReason !== null) return t.skip(skipReason);
    const topic = `kcat-${compression}`;
    const count = 2000;
    const input = Array.from({ length: count }, (_, i) => `k${i}:v${i}-${'z'.repeat(i % 30)}`).join('\n') + '\n';
    const produced = await run('kcat', ['-b', mock!.bootstrap, '-P', '-t', topic, '-K', ':', '-H', `codec=${compression}`, '-H', 'x=1', '-z', compression], { input, timeoutMs: 60_000 });
    assert.equal(produced.code, 0, produced.stderr);
    const records = await readWithClient(topic, count);
    assert.equal(records.length, count);
    const seen = new Set<number>();
    for (const record of records) {
      const i = Number(record.key!.toString().slice(1));
      seen.add(i);
      assert.equal(record.value!.toString(), `v${i}-${'z'.repeat(i % 30)}`);
      assert.deepEqual(
        record.headers.map((h) => [h.key, h.value?.toString()]),
        [
          ['codec', compression],
          ['x', '1'],
        ],
      );
    }
    assert.equal(seen.size, count);
  });
}

test('the topics above had their leaders on more than one broker (so requests were routed per leader)', (t) => {
  if (skipReason !== null) return t.skip(skipReason);
  assert.ok(leadersSeen.size > 1, `leaders seen: ${[...leadersSeen].join(',')}`);
});

test('the producer is idempotent on the mock (it offers InitProducerId)', async (t) => {
  if (skipReason !== null) return t.skip(skipReason);
  const producer = track(new Producer(options()));
  await producer.connect();
  assert.equal(producer.idempotent, true);
  const metadata = await Promise.all(Array.from({ length: 500 }, (_, i) => producer.send({ topic: 'idempotent-mock', key: String(i % 7), value: String(i) })));
  await producer.close();
  assert.equal(new Set(metadata.map((m) => `${m.partition}:${m.offset}`)).size, 500);
});

test('a consumer group on the mock: two members split the partitions and commit', async (t) => {
  if (skipReason !== null) return t.skip(skipReason);
  const topic = 'group-mock';
  const producer = track(new Producer(options()));
  await Promise.all(Array.from({ length: 200 }, (_, i) => producer.send({ topic, key: String(i), value: String(i) })));
  await producer.close();
  const member = () =>
    track(new Consumer({ ...options(), groupId: 'mock-group', assignors: ['range'], autoOffsetReset: 'earliest', heartbeatIntervalMs: 200, sessionTimeoutMs: 6000, rebalanceTimeoutMs: 10_000, maxWaitMs: 100 }));
  const first = member();
  const second = member();
  const seen = new Set<string>();
  const collect = (consumer: Consumer) => consumer.run({ eachBatch: (batch) => void batch.records.forEach((r) => seen.add(`${r.partition}:${r.offset}`)) });
  await first.subscribe([topic]);
  const runs = [collect(first)];
  await second.subscribe([topic]);
  runs.push(collect(second));
  await eventually(() => first.assignment().length === 2 && second.assignment().length === 2, 45_000, 'two partitions each');
  await eventually(() => seen.size === 200, 30_000, 'every record read');
  const positions = () => [first, second].flatMap((c) => c.assignment().map((tp) => c.position(tp.topic, tp.partition)));
  await eventually(() => positions().reduce((sum, p) => sum + p, 0) === 200, 30_000, 'positions at the end of every partition');
  await first.commit();
  await second.commit();
  // The mock forgets a group's offsets once its last member leaves: read them before.
  const admin = track(new Admin(options()));
  const committed = await admin.fetchOffsets('mock-group', [topic]);
  await admin.close();
  await first.close();
  await second.close();
  await Promise.all(runs);
  assert.equal(
    committed.reduce((sum, c) => sum + c.offset, 0),
    200,
  );
});
