/**
 * Producer, Consumer and Admin against Inkwell over TLS (verifying the broker with our CA):
 * topic administration, every compression, keys, headers and timestamps read back exactly,
 * acks levels, idempotence when the broker offers it, back-pressure, seek, pause and resume,
 * consumer groups with each assignor, mutual TLS, and a broker restart under a live producer.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, Producer, Consumer, Admin, KafkaError, type Broker, type ConsumerRecord, type ProducerOptions } from '../../src/index.js';
import { partitionForKey } from '../../src/client/partitioner.js';
import { compressionTypes } from '../../src/client/compression.js';
import { testTls, type TestTls } from '../helpers/tls.js';
import { tempDir } from '../helpers/interop.js';
import { eventually } from './fake-broker.js';

let broker: Broker;
let material: TestTls;
let bootstrap = '';
const data = tempDir('inkwell-client-');

function tls(withClientCertificate = false) {
  return withClientCertificate ? { ca: material.ca, cert: material.clientCert, key: material.clientKey } : { ca: material.ca };
}

function client(extra: Partial<ProducerOptions> = {}) {
  return { bootstrap, tls: tls(), connectTimeoutMs: 5000, ...extra };
}

before(async () => {
  material = await testTls();
  broker = await startBroker({ listeners: 'SSL://127.0.0.1:0', dataDir: data.path, tls: material, log: () => {} });
  bootstrap = broker.bootstrap('SSL');
});

/** Every client a test makes, closed at the end even when an assertion failed half-way (open sockets would keep the test process alive). */
const clients = new Set<{ close(): Promise<void> }>();
function track<T extends { close(): Promise<void> }>(instance: T): T {
  clients.add(instance);
  return instance;
}

after(async () => {
  await Promise.all([...clients].map((instance) => instance.close().catch(() => {})));
  await broker?.close();
  data.remove();
});

async function createTopic(topic: string, numPartitions: number): Promise<void> {
  const admin = track(new Admin(client()));
  try {
    await admin.createTopics([{ topic, numPartitions }]);
  } finally {
    await admin.close();
  }
}

/** Reads `count` records from the start of every partition. */
async function readAll(topic: string, count: number, options: { isolationLevel?: 'read_committed' | 'read_uncommitted' } = {}): Promise<ConsumerRecord[]> {
  const consumer = track(new Consumer({ ...client(), maxWaitMs: 100, ...options }));
  try {
    const partitions = await consumer.partitionCount(topic);
    await consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 'earliest' as const })));
    const out: ConsumerRecord[] = [];
    if (count === 0) return out;
    for await (const record of consumer) {
      out.push(record);
      if (out.length >= count) break;
    }
    return out;
  } finally {
    await consumer.close();
  }
}

test('admin: create, list, describe, add partitions, configs, cluster, delete', async () => {
  const admin = track(new Admin(client()));
  try {
    await admin.createTopics([{ topic: 'admin-a', numPartitions: 3, configs: { 'retention.ms': '3600000' } }, { topic: 'admin-b' }]);
    await assert.rejects(admin.createTopics([{ topic: 'admin-a' }]), (error: unknown) => error instanceof KafkaError && error.errorName === 'TOPIC_ALREADY_EXISTS' && !error.retriable && error.topic === 'admin-a');
    await admin.createTopics([{ topic: 'admin-a' }], { ifNotExists: true });
    const names = await admin.listTopics();
    assert.ok(names.includes('admin-a') && names.includes('admin-b'));
    const [described] = await admin.describeTopics(['admin-a']);
    assert.equal(described!.partitions.length, 3);
    assert.deepEqual(
      described!.partitions.map((p) => p.leader),
      [1, 1, 1],
    );
    await admin.createPartitions([{ topic: 'admin-a', count: 5 }]);
    assert.equal((await admin.describeTopics(['admin-a']))[0]!.partitions.length, 5);
    const configs = await admin.describeConfigs({ type: 'topic', name: 'admin-a' });
    assert.equal(configs.find((c) => c.name === 'retention.ms')?.value, '3600000');
    await admin.alterConfigs({ type: 'topic', name: 'admin-a' }, { 'retention.ms': '7200000' });
    assert.equal((await admin.describeConfigs({ type: 'topic', name: 'admin-a', keys: ['retention.ms'] }))[0]?.value, '7200000');
    const cluster = await admin.describeCluster();
    assert.equal(cluster.brokers.length, 1);
    assert.equal(cluster.controllerId, cluster.brokers[0]!.nodeId);
    await admin.deleteTopics(['admin-b']);
    assert.ok(!(await admin.listTopics()).includes('admin-b'));
    await assert.rejects(admin.describeTopics(['admin-b']), (error: unknown) => error instanceof KafkaError && error.errorName === 'UNKNOWN_TOPIC_OR_PARTITION');
    await admin.deleteTopics(['admin-b'], { ifExists: true });
  } finally {
    await admin.close();
  }
});

for (const compression of compressionTypes) {
  test(`${compression}: keyed records with headers and timestamps read back exactly, on the murmur2 partition`, async () => {
    const topic = `roundtrip-${compression}`;
    await createTopic(topic, 3);
    const producer = track(new Producer(client({ compression })));
    const count = 5000;
    const sent = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        producer.send({
          topic,
          key: `key-${i}`,
          value: i % 100 === 0 ? null : Buffer.from(`value-${i}-${'x'.repeat(i % 50)}`),
          headers: [
            { key: 'codec', value: compression },
            { key: 'i', value: Buffer.from(String(i)) },
          ],
          timestamp: 1_700_000_000_000 + i,
        }),
      ),
    );
    await producer.close();
    sent.forEach((metadata, i) => assert.equal(metadata.partition, partitionForKey(Buffer.from(`key-${i}`), 3)));
    const records = await readAll(topic, count);
    assert.equal(records.length, count);
    for (const record of records) {
      const i = Number(record.key!.toString().slice(4));
      assert.equal(record.partition, sent[i]!.partition);
      assert.equal(record.offset, sent[i]!.offset);
      assert.equal(record.timestamp, 1_700_000_000_000 + i);
      assert.equal(record.value === null ? null : record.value.toString(), i % 100 === 0 ? null : `value-${i}-${'x'.repeat(i % 50)}`);
      assert.deepEqual(
        record.headers.map((h) => [h.key, h.value?.toString()]),
        [
          ['codec', compression],
          ['i', String(i)],
        ],
      );
    }
  });
}

test('offsets are contiguous and in send order per partition; unkeyed records stick to a partition per batch', async () => {
  const topic = 'ordering';
  await createTopic(topic, 4);
  const producer = track(new Producer(client({ lingerMs: 20 })));
  const sent = await Promise.all(Array.from({ length: 3000 }, (_, i) => producer.send({ topic, value: String(i) })));
  await producer.close();
  const byPartition = new Map<number, number[]>();
  sent.forEach((metadata) => byPartition.set(metadata.partition, [...(byPartition.get(metadata.partition) ?? []), metadata.offset]));
  for (const offsets of byPartition.values()) assert.deepEqual(offsets, [...offsets.keys()], 'offsets 0..n-1 in send order');
  const records = await readAll(topic, 3000);
  const values = new Map<number, number[]>();
  for (const record of records) values.set(record.partition, [...(values.get(record.partition) ?? []), Number(record.value)]);
  for (const list of values.values()) assert.deepEqual(list, [...list].sort((a, b) => a - b));
});

test('acks 0, 1 and all all deliver; acks=0 reports offset -1', async () => {
  const topic = 'acks';
  await createTopic(topic, 1);
  for (const acks of [0, 1, 'all'] as const) {
    const producer = track(new Producer(client({ acks })));
    const metadata = await Promise.all(Array.from({ length: 100 }, (_, i) => producer.send({ topic, value: `${acks}-${i}` })));
    await producer.close();
    if (acks === 0) assert.ok(metadata.every((m) => m.offset === -1));
    else assert.ok(metadata.every((m) => m.offset >= 0));
  }
  const records = await readAll(topic, 300);
  assert.equal(records.length, 300);
  assert.deepEqual(
    records.slice(0, 3).map((r) => r.value!.toString()),
    ['0-0', '0-1', '0-2'],
  );
});

test('idempotence is on exactly when the broker offers InitProducerId; sequences keep records once', async () => {
  const producer = track(new Producer(client()));
  await producer.connect();
  const admin = track(new Admin(client()));
  await admin.connect();
  const offered = await (async () => {
    const probe = track(new Producer(client({ idempotent: true })));
    try {
      await probe.connect();
      return true;
    } catch (error) {
      assert.ok(error instanceof KafkaError && error.errorName === 'UNSUPPORTED_VERSION');
      return false;
    } finally {
      await probe.close();
    }
  })();
  await admin.close();
  assert.equal(producer.idempotent, offered);
  const topic = 'idempotent';
  await createTopic(topic, 2);
  await Promise.all(Array.from({ length: 2000 }, (_, i) => producer.send({ topic, key: String(i % 10), value: String(i) })));
  await producer.close();
  assert.equal((await readAll(topic, 2000)).length, 2000);
  const notIdempotent = track(new Producer(client({ acks: 1 })));
  await notIdempotent.connect();
  assert.equal(notIdempotent.idempotent, false, 'acks=1 turns idempotence off by default');
  await notIdempotent.close();
  assert.throws(() => track(new Producer(client({ acks: 1, idempotent: true }))), RangeError);
});

test('a full buffer makes send() wait; nothing is lost and the buffer stays bounded', async () => {
  const topic = 'backpressure';
  await createTopic(topic, 2);
  const bufferBytesMax = 64 * 1024;
  const producer = track(new Producer(client({ bufferBytesMax, batchBytes: 16 * 1024, lingerMs: 50 })));
  await producer.connect();
  let highest = 0;
  const value = Buffer.alloc(1000, 1);
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < 1000; i++) {
    sends.push(producer.send({ topic, value }));
    highest = Math.max(highest, producer.bufferedBytes);
    if (i % 50 === 49) await producer.waitForRoom();
  }
  await Promise.all(sends);
  await producer.close();
  assert.ok(highest <= bufferBytesMax + 2048, `buffered at most ${highest} bytes`);
  assert.equal((await readAll(topic, 1000)).length, 1000);
});

test('consumer: latest start, seek, pause and resume, eachBatch with positions', async () => {
  const topic = 'seek';
  await createTopic(topic, 1);
  const producer = track(new Producer(client()));
  await Promise.all(Array.from({ length: 100 }, (_, i) => producer.send({ topic, value: String(i) })));
  const consumer = track(new Consumer({ ...client(), maxWaitMs: 100 }));
  await consumer.assign([{ topic, partition: 0 }]);
  await eventually(() => consumer.position(topic, 0) === 100, 5000, 'latest resolves to the end');
  const iterator = consumer[Symbol.asyncIterator]();
  await producer.send({ topic, value: 'new' });
  assert.equal((await iterator.next()).value?.value?.toString(), 'new');
  await iterator.return();
  consumer.seek(topic, 0, 42);
  const seen: number[] = [];
  await consumer.run({
    eachBatch: (batch) => {
      for (const record of batch.records) seen.push(record.offset);
      if (seen.length >= 10) consumer.stop();
    },
  });
  assert.equal(seen[0], 42);
  assert.ok(consumer.position(topic, 0) > 42);
  consumer.pause([{ topic, partition: 0 }]);
  consumer.seek(topic, 0, 0);
  const paused = consumer.run({ eachBatch: () => assert.fail('a paused partition delivers nothing') });
  await new Promise((resolve) => setTimeout(resolve, 300));
  consumer.stop();
  await paused;
  consumer.resume([{ topic, partition: 0 }]);
  const first: ConsumerRecord[] = [];
  for await (const record of consumer) {
    first.push(record);
    if (first.length === 3) break;
  }
  assert.deepEqual(
    first.map((r) => r.offset),
    [0, 1, 2],
  );
  const [end] = await consumer.endOffsets([{ topic, partition: 0 }]);
  assert.equal(end!.offset, 101);
  await consumer.close();
  await producer.close();
});

test('assigning a partition that does not exist fails with UNKNOWN_TOPIC_OR_PARTITION', async () => {
  const consumer = track(new Consumer({ ...client(), retries: 1, retryBackoffMs: 10 }));
  await assert.rejects(consumer.assign([{ topic: 'no-such-topic', partition: 0 }]), (error: unknown) => error instanceof KafkaError && error.errorName === 'UNKNOWN_TOPIC_OR_PARTITION');
  await createTopic('one-partition', 1);
  await assert.rejects(consumer.assign([{ topic: 'one-partition', partition: 5 }]), (error: unknown) => error instanceof KafkaError && error.errorName === 'UNKNOWN_TOPIC_OR_PARTITION');
  await consumer.close();
});

for (const assignor of ['range', 'roundrobin', 'cooperative-sticky'] as const) {
  test(`group (${assignor}): two members share the partitions, commit, and the survivor takes over`, async () => {
    const topic = `group-${assignor}`;
    const groupId = `g-${assignor}`;
    await createTopic(topic, 4);
    const producer = track(new Producer(client()));
    await Promise.all(Array.from({ length: 400 }, (_, i) => producer.send({ topic, key: String(i), value: String(i) })));
    const member = () => track(new Consumer({ ...client(), groupId, assignors: [assignor], autoOffsetReset: 'earliest', heartbeatIntervalMs: 100, sessionTimeoutMs: 6000, rebalanceTimeoutMs: 5000, autoCommitIntervalMs: 100, maxWaitMs: 100 }));
    const first = member();
    const second = member();
    const seen = new Set<string>();
    const runs: Promise<void>[] = [];
    const collect = (consumer: Consumer) => consumer.run({ eachBatch: (batch) => void batch.records.forEach((r) => seen.add(`${r.partition}:${r.offset}`)) });
    await first.subscribe([topic]);
    runs.push(collect(first));
    await second.subscribe([topic]);
    runs.push(collect(second));
    await eventually(() => first.assignment().length === 2 && second.assignment().length === 2, 15_000, 'two partitions each');
    await eventually(() => seen.size === 400, 15_000, 'every record read');
    await Promise.all(Array.from({ length: 100 }, (_, i) => producer.send({ topic, key: String(i), value: `late-${i}` })));
    await second.close();
    await eventually(() => first.assignment().length === 4, 15_000, 'the survivor owns all four');
    await eventually(() => seen.size === 500, 15_000, 'records after the rebalance read');
    await eventually(() => first.assignment().reduce((sum, tp) => sum + first.position(tp.topic, tp.partition), 0) === 500, 15_000, 'positions at the end');
    await first.commit();
    await first.close();
    await Promise.all(runs);
    await producer.close();
    const admin = track(new Admin(client()));
    const committed = await admin.fetchOffsets(groupId, [topic]);
    const ends = await Promise.all(committed.map((c) => c.offset));
    assert.equal(
      ends.reduce((sum, offset) => sum + offset, 0),
      500,
      'committed offsets are the end of every partition',
    );
    const [description] = await admin.describeGroups([groupId]);
    assert.equal(description!.members.length, 0);
    await admin.close();
  });
}

test('mutual TLS: with the client certificate it works, without it the broker refuses', async () => {
  const mtlsData = tempDir('inkwell-client-mtls-');
  const strict = await startBroker({ listeners: 'SSL://127.0.0.1:0', dataDir: mtlsData.path, tls: { ...material, clientAuth: 'required' }, log: () => {} });
  try {
    const address = strict.bootstrap('SSL');
    const admin = track(new Admin({ bootstrap: address, tls: tls(true) }));
    await admin.createTopics([{ topic: 'mtls', numPartitions: 1 }]);
    await admin.close();
    const producer = track(new Producer({ bootstrap: address, tls: tls(true) }));
    assert.equal((await producer.send({ topic: 'mtls', value: 'hello' })).offset, 0);
    await producer.close();
    const refused = track(new Admin({ bootstrap: address, tls: tls(false), retries: 0, connectTimeoutMs: 3000 }));
    await assert.rejects(refused.listTopics(), (error: unknown) => error instanceof KafkaError && (error.errorName === 'CONNECTION_FAILED' || error.errorName === 'NETWORK_EXCEPTION'));
    await refused.close();
  } finally {
    await strict.close();
    mtlsData.remove();
  }
});

test('an unverifiable broker certificate fails the connection', async () => {
  const admin = track(new Admin({ bootstrap, tls: { ca: material.clientCert }, retries: 0, connectTimeoutMs: 3000 }));
  await assert.rejects(admin.listTopics(), (error: unknown) => error instanceof KafkaError && error.errorName === 'CONNECTION_FAILED');
  await admin.close();
});

test('a producer rides through a broker restart on the same address', async () => {
  const restartData = tempDir('inkwell-client-restart-');
  let restartable = await startBroker({ listeners: 'SSL://127.0.0.1:0', dataDir: restartData.path, tls: material, log: () => {} });
  const port = restartable.listeners[0]!.port;
  try {
    const address = `127.0.0.1:${port}`;
    const producer = track(new Producer({ bootstrap: address, tls: tls(), reconnectBackoffMs: 50, reconnectBackoffMsMax: 200, retryBackoffMs: 50, deliveryTimeoutMs: 30_000 }));
    const before = await Promise.all(Array.from({ length: 50 }, (_, i) => producer.send({ topic: 'restart', key: 'k', value: `before-${i}` })));
    await restartable.close();
    const during = Promise.all(Array.from({ length: 50 }, (_, i) => producer.send({ topic: 'restart', key: 'k', value: `during-${i}` })));
    await new Promise((resolve) => setTimeout(resolve, 300));
    restartable = await startBroker({ listeners: `SSL://127.0.0.1:${port}`, dataDir: restartData.path, tls: material, log: () => {} });
    const after = await during;
    await producer.close();
    assert.equal(after[0]!.offset, before[49]!.offset + 1);
    assert.deepEqual(
      after.map((m) => m.offset),
      after.map((_, i) => before[49]!.offset + 1 + i),
    );
  } finally {
    await restartable.close();
    restartData.remove();
  }
});

test('manual commit: nothing is committed until commit(), then exactly what was given', async () => {
  const topic = 'manual-commit';
  const groupId = 'manual';
  await createTopic(topic, 1);
  const producer = track(new Producer(client()));
  await Promise.all(Array.from({ length: 10 }, (_, i) => producer.send({ topic, value: String(i) })));
  const consumer = track(new Consumer({ ...client(), groupId, autoCommit: false, autoOffsetReset: 'earliest', heartbeatIntervalMs: 100, maxWaitMs: 100 }));
  await consumer.subscribe([topic]);
  let read = 0;
  for await (const record of consumer) {
    read++;
    if (record.offset === 9) break;
  }
  assert.equal(read, 10);
  const admin = track(new Admin(client()));
  assert.deepEqual(
    (await admin.fetchOffsets(groupId, [topic])).map((c) => c.offset),
    [-1],
  );
  await consumer.commit([{ topic, partition: 0, offset: 4, metadata: 'halfway' }]);
  const [committed] = await admin.fetchOffsets(groupId, [topic]);
  assert.equal(committed!.offset, 4);
  assert.equal(committed!.metadata, 'halfway');
  await consumer.commit();
  assert.equal((await admin.fetchOffsets(groupId, [topic]))[0]!.offset, 10);
  await consumer.close();
  await producer.close();
  await admin.close();
});

test('admin groups: list, describe a live member, reset offsets, delete', async () => {
  const topic = 'admin-groups';
  const groupId = 'admin-group';
  await createTopic(topic, 2);
  const producer = track(new Producer(client()));
  await Promise.all(Array.from({ length: 20 }, (_, i) => producer.send({ topic, key: String(i), value: String(i) })));
  await producer.close();
  const consumer = track(new Consumer({ ...client(), clientId: 'described', groupId, assignors: ['range'], autoOffsetReset: 'earliest', heartbeatIntervalMs: 100 }));
  await consumer.subscribe([topic]);
  const admin = track(new Admin(client()));
  assert.ok((await admin.listGroups()).some((g) => g.groupId === groupId && g.protocolType === 'consumer'));
  const [live] = await admin.describeGroups([groupId]);
  assert.equal(live!.state, 'Stable');
  assert.equal(live!.protocol, 'range');
  assert.equal(live!.members.length, 1);
  assert.equal(live!.members[0]!.clientId, 'described');
  assert.deepEqual(live!.members[0]!.topics, [topic]);
  assert.deepEqual(live!.members[0]!.assignment, [{ topic, partitions: [0, 1] }]);
  await consumer.close();
  const latest = await admin.resetOffsets(groupId, topic, 'latest');
  assert.equal(
    latest.reduce((sum, c) => sum + c.offset, 0),
    20,
  );
  assert.deepEqual(
    (await admin.resetOffsets(groupId, topic, 'earliest')).map((c) => c.offset),
    [0, 0],
  );
  await admin.resetOffsets(groupId, topic, 3);
  assert.deepEqual(
    (await admin.fetchOffsets(groupId)).map((c) => [c.topic, c.partition, c.offset]),
    [
      [topic, 0, 3],
      [topic, 1, 3],
    ],
  );
  await admin.deleteGroups([groupId]);
  assert.ok(!(await admin.listGroups()).some((g) => g.groupId === groupId));
  await assert.rejects(admin.deleteGroups([groupId]), (error: unknown) => error instanceof KafkaError && error.errorName === 'GROUP_ID_NOT_FOUND');
  await admin.close();
});
