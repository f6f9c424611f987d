/**
 * Request handling through the wire: pipelining and ordering, acks=0, Fetch long polls and
 * fetch sessions, Metadata addresses and auto-creation, ListOffsets, CreateTopics validation.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type Broker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { buildBatch } from '../../src/protocol/record-batch.js';
import type { Message } from '../../src/protocol/codec.js';

let broker: Broker;
let port = 0;

before(async () => {
  broker = await startBroker({ storage: 'memory', config: { 'num.partitions': 1, 'inkwell.connection.inflight.requests.max': 8 }, log: () => {} });
  port = broker.listeners[0]!.port;
});

after(async () => {
  await broker?.close();
});

function produceBody(topic: string, partition: number, acks: number, values: string[]): Message {
  const records = buildBatch(values.map((v) => ({ key: null, value: Buffer.from(v) })));
  return { transactionalId: null, acks, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] };
}

function fetchBody(topic: string, offset: bigint, options: { maxWaitMs?: number; minBytes?: number; sessionId?: number; sessionEpoch?: number } = {}): Message {
  return {
    replicaId: -1,
    maxWaitMs: options.maxWaitMs ?? 0,
    minBytes: options.minBytes ?? 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: options.sessionId ?? 0,
    sessionEpoch: options.sessionEpoch ?? -1,
    topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [],
    rackId: '',
  };
}

type FetchPartition = { errorCode: number; highWatermark: bigint; records: Buffer | null };
function firstPartition(response: Message): FetchPartition {
  return (response.responses as { partitions: FetchPartition[] }[])[0]!.partitions[0]!;
}

test('pipelined requests are answered in order, past the in-flight bound, and acks=0 gets no response', async () => {
  const client = await RawClient.connect({ port });
  const ids: number[] = [];
  for (let i = 0; i < 100; i++) {
    if (i % 3 === 0) client.send('Produce', 7, produceBody('pipelined', 0, 0, [`fire-and-forget-${i}`]));
    else ids.push(client.send('ApiVersions', 2, {}));
  }
  for (const id of ids) {
    const response = await client.readResponse('ApiVersions', 2);
    assert.equal(response?.correlationId, id);
  }
  const offsets = await client.request('ListOffsets', 5, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'pipelined', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }] });
  const latest = (offsets.topics as { partitions: { offset: bigint }[] }[])[0]!.partitions[0]!.offset;
  assert.equal(latest, 34n, 'every acks=0 batch was appended');
  client.close();
});

test('a Fetch at the end of the log waits for an append and returns it', async () => {
  const client = await RawClient.connect({ port });
  const producer = await RawClient.connect({ port });
  await producer.request('Produce', 7, produceBody('long-poll', 0, -1, ['first']));
  const started = Date.now();
  const pending = client.request('Fetch', 11, fetchBody('long-poll', 1n, { maxWaitMs: 10_000, minBytes: 1 }));
  await new Promise((resolve) => setTimeout(resolve, 200));
  await producer.request('Produce', 7, produceBody('long-poll', 0, -1, ['second']));
  const response = await pending;
  const elapsed = Date.now() - started;
  const partition = firstPartition(response);
  assert.equal(partition.errorCode, 0);
  assert.ok(partition.records && partition.records.length > 0, 'the appended batch is returned');
  assert.equal(partition.highWatermark, 2n);
  assert.ok(elapsed < 5000, `woken by the append, not the timeout (${elapsed} ms)`);
  client.close();
  producer.close();
});

test('a Fetch that finds nothing returns empty after max_wait_ms', async () => {
  const client = await RawClient.connect({ port });
  await client.request('Produce', 7, produceBody('empty-wait', 0, -1, ['only']));
  const started = Date.now();
  const response = await client.request('Fetch', 11, fetchBody('empty-wait', 1n, { maxWaitMs: 300, minBytes: 1 }));
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 250, `waited ${elapsed} ms`);
  const partition = firstPartition(response);
  assert.equal(partition.errorCode, 0);
  assert.equal(partition.records?.length ?? 0, 0);
  client.close();
});

test('fetch sessions are declined and unknown session ids are refused', async () => {
  const client = await RawClient.connect({ port });
  const created = await client.request('Fetch', 11, fetchBody('sessions', 0n, { sessionId: 0, sessionEpoch: 0 }));
  assert.equal(created.errorCode, 0);
  assert.equal(created.sessionId, 0, 'no session is created');
  const unknown = await client.request('Fetch', 11, fetchBody('sessions', 0n, { sessionId: 1234, sessionEpoch: 1 }));
  assert.equal(unknown.errorCode, 70);
  client.close();
});

test('a Fetch past the end is OFFSET_OUT_OF_RANGE; an unknown topic is UNKNOWN_TOPIC_OR_PARTITION', async () => {
  const client = await RawClient.connect({ port });
  await client.request('Produce', 7, produceBody('range', 0, -1, ['a', 'b']));
  assert.equal(firstPartition(await client.request('Fetch', 11, fetchBody('range', 5n))).errorCode, 1);
  assert.equal(firstPartition(await client.request('Fetch', 4, fetchBody('no-such-topic-here', 0n))).errorCode, 3);
  client.close();
});

test('Metadata names this broker as controller and leader, at the address the client used', async () => {
  const client = await RawClient.connect({ port });
  const response = await client.request('Metadata', 8, { topics: [{ name: 'auto-created' }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
  assert.equal(response.controllerId, 1);
  assert.deepEqual(
    (response.brokers as Message[]).map((b) => [b.nodeId, b.host, b.port]),
    [[1, '127.0.0.1', port]],
  );
  const topic = (response.topics as { errorCode: number; name: string; partitions: { leaderId: number }[] }[])[0]!;
  assert.equal(topic.errorCode, 0, 'auto-created');
  assert.equal(topic.partitions.length, 1);
  assert.equal(topic.partitions[0]!.leaderId, 1);
  const refused = await client.request('Metadata', 8, { topics: [{ name: 'not-auto' }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
  assert.equal((refused.topics as { errorCode: number }[])[0]!.errorCode, 3);
  const invalid = await client.request('Metadata', 1, { topics: [{ name: 'bad name!' }] });
  assert.equal((invalid.topics as { errorCode: number }[])[0]!.errorCode, 17);
  client.close();
});

test('advertised.listeners overrides the address in Metadata', async () => {
  const advertised = await startBroker({ storage: 'memory', listeners: 'PLAINTEXT://127.0.0.1:0', config: { 'advertised.listeners': 'PLAINTEXT://broker.example:19092' }, log: () => {} });
  try {
    const client = await RawClient.connect({ port: advertised.listeners[0]!.port });
    const response = await client.request('Metadata', 1, { topics: [] });
    assert.deepEqual((response.brokers as Message[]).map((b) => [b.host, b.port]), [['broker.example', 19092]]);
    client.close();
  } finally {
    await advertised.close();
  }
});

test('CreateTopics validates names, partitions, replication and configs, and validate_only creates nothing', async () => {
  const client = await RawClient.connect({ port });
  const topic = (name: string, numPartitions: number, replicationFactor: number, configs: { name: string; value: string }[] = []) => ({ name, numPartitions, replicationFactor, assignments: [], configs });
  const response = await client.request('CreateTopics', 4, {
    topics: [
      topic('ok-topic', 3, 1),
      topic('bad/name', 1, 1),
      topic('zero-partitions', 0, 1),
      topic('three-replicas', 1, 3),
      topic('bad-config', 1, 1, [{ name: 'no.such.config', value: '1' }]),
      topic('defaults', -1, -1),
      topic('__consumer_offsets', 1, 1),
    ],
    timeoutMs: 5000,
    validateOnly: false,
  });
  const codes = Object.fromEntries((response.topics as { name: string; errorCode: number }[]).map((t) => [t.name, t.errorCode]));
  assert.deepEqual(codes, { 'ok-topic': 0, 'bad/name': 17, 'zero-partitions': 37, 'three-replicas': 38, 'bad-config': 40, defaults: 0, __consumer_offsets: 17 });
  const again = await client.request('CreateTopics', 4, { topics: [topic('ok-topic', 3, 1)], timeoutMs: 5000, validateOnly: false });
  assert.equal((again.topics as { errorCode: number }[])[0]!.errorCode, 36);
  const dry = await client.request('CreateTopics', 4, { topics: [topic('dry-run', 2, 1)], timeoutMs: 5000, validateOnly: true });
  assert.equal((dry.topics as { errorCode: number }[])[0]!.errorCode, 0);
  const metadata = await client.request('Metadata', 4, { topics: [{ name: 'dry-run' }], allowAutoTopicCreation: false });
  assert.equal((metadata.topics as { errorCode: number }[])[0]!.errorCode, 3, 'validate_only created nothing');
  client.close();
});

test('ListOffsets answers earliest, latest and by timestamp', async () => {
  const client = await RawClient.connect({ port });
  const base = 1_700_000_000_000;
  const records = buildBatch([0, 1, 2].map((i) => ({ key: null, value: Buffer.from(`t${i}`), timestamp: base + i * 1000 })));
  await client.request('Produce', 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'times', partitionData: [{ index: 0, records }] }] });
  const ask = async (timestamp: bigint) => {
    const response = await client.request('ListOffsets', 5, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'times', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }] });
    const p = (response.topics as { partitions: { offset: bigint; timestamp: bigint; errorCode: number }[] }[])[0]!.partitions[0]!;
    return [p.errorCode, p.offset, p.timestamp];
  };
  assert.deepEqual(await ask(-2n), [0, 0n, -1n]);
  assert.deepEqual(await ask(-1n), [0, 3n, -1n]);
  assert.deepEqual(await ask(BigInt(base + 1500)), [0, 2n, BigInt(base + 2000)]);
  assert.deepEqual(await ask(BigInt(base + 99_000)), [0, -1n, -1n]);
  client.close();
});
