/**
 * Retries against a scripted broker that checks sequences the way Kafka does: a NOT_LEADER
 * answer makes the producer refresh metadata and send again, the idempotent producer keeps its
 * sequence numbers across attempts, batches behind a failed one wait (OUT_OF_ORDER), and the
 * log ends up in send order. The consumer retries a Fetch refused with NOT_LEADER.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer, Consumer, KafkaError } from '../../src/index.js';
import { buildBatch, parseBatchHeader } from '../../src/protocol/record-batch.js';
import { decodeRecords } from '../../src/client/batch-reader.js';
import type { Message } from '../../src/protocol/codec.js';
import { FakeBroker, type FakeRequest } from './fake-broker.js';

interface PartitionLog {
  values: string[];
  nextSequence: number;
}

/** A one-broker, one-topic cluster whose Produce handler is a small sequence-checking log. */
class ScriptedCluster {
  readonly log: PartitionLog = { values: [], nextSequence: 0 };
  metadataRequests = 0;
  produceAttempts: { baseSequence: number; records: number; answered: string }[] = [];
  /** Error names to answer the next Produce requests with, in turn. */
  readonly failNext: string[] = [];

  constructor(
    readonly broker: FakeBroker,
    readonly topic: string,
  ) {
    // One request at a time, in arrival order, as a broker handles a connection's requests.
    broker.onRequest = (request) => {
      this.queue = this.queue.then(() => this.handle(request));
    };
  }

  private queue: Promise<void> = Promise.resolve();

  /** Handles requests the test's own onRequest passes on. */
  forward(request: FakeRequest): void {
    this.queue = this.queue.then(() => this.handle(request));
  }

  private metadata(): Message {
    return {
      brokers: [{ nodeId: 1, host: '127.0.0.1', port: this.broker.port, rack: null }],
      clusterId: 'scripted',
      controllerId: 1,
      topics: [{ errorCode: 0, name: this.topic, isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }] }],
    };
  }

  private async handle(request: FakeRequest): Promise<void> {
    switch (request.header.apiKey) {
      case 3:
        this.metadataRequests++;
        request.respond(this.metadata());
        return;
      case 22:
        request.respond({ throttleTimeMs: 0, errorCode: 0, producerId: 77n, producerEpoch: 0 });
        return;
      case 0:
        request.respond(await this.produce(request.body));
        return;
      default:
        throw new Error(`scripted broker got api ${request.header.apiKey}`);
    }
  }

  private async produce(body: Message): Promise<Message> {
    const topicData = body.topicData as { name: string; partitionData: { index: number; records: Buffer }[] }[];
    const data = topicData[0]!.partitionData[0]!;
    const header = parseBatchHeader(data.records);
    const attempt = { baseSequence: header.baseSequence, records: header.recordCount, answered: 'NONE' };
    this.produceAttempts.push(attempt);
    let errorCode = 0;
    const forced = this.failNext.shift();
    if (forced === 'NOT_LEADER_OR_FOLLOWER') errorCode = 6;
    else if (header.producerId >= 0n && header.baseSequence !== this.log.nextSequence) errorCode = 45;
    let baseOffset = -1n;
    if (errorCode === 0) {
      const decoded = await decodeRecords(data.records, { topic: this.topic, partition: 0, fetchOffset: 0, aborted: null });
      baseOffset = BigInt(this.log.values.length);
      for (const record of decoded.records) this.log.values.push(record.value!.toString());
      this.log.nextSequence += header.recordCount;
    }
    attempt.answered = errorCode === 0 ? 'NONE' : errorCode === 6 ? 'NOT_LEADER_OR_FOLLOWER' : 'OUT_OF_ORDER_SEQUENCE_NUMBER';
    return {
      responses: [{ name: this.topic, partitionResponses: [{ index: 0, errorCode, baseOffset, logAppendTimeMs: -1n, logStartOffset: 0n }] }],
      throttleTimeMs: 0,
    };
  }
}

test('NOT_LEADER: the producer refreshes metadata, retries, and keeps the sequence and the order', async () => {
  const broker = await FakeBroker.start();
  const cluster = new ScriptedCluster(broker, 'orders');
  cluster.failNext.push('NOT_LEADER_OR_FOLLOWER');
  const producer = new Producer({ bootstrap: `127.0.0.1:${broker.port}`, batchBytes: 2048, lingerMs: 0, retryBackoffMs: 20 });
  try {
    await producer.connect();
    assert.equal(producer.idempotent, true);
    const metadataBefore = cluster.metadataRequests;
    const values = Array.from({ length: 400 }, (_, i) => `record-${i}-${'p'.repeat(20)}`);
    const sent = await Promise.all(values.map((value) => producer.send({ topic: 'orders', value })));
    assert.deepEqual(cluster.log.values, values, 'the log holds every record once, in send order');
    assert.deepEqual(
      sent.map((m) => m.offset),
      values.map((_, i) => i),
    );
    assert.ok(cluster.metadataRequests > metadataBefore, 'metadata was refreshed after NOT_LEADER');
    const first = cluster.produceAttempts[0]!;
    assert.equal(first.answered, 'NOT_LEADER_OR_FOLLOWER');
    const retried = cluster.produceAttempts.find((a, i) => i > 0 && a.baseSequence === first.baseSequence && a.answered === 'NONE');
    assert.ok(retried, 'the failed batch went again with the same sequence');
    assert.ok(cluster.produceAttempts.length > values.length / 60, 'several batches');
  } finally {
    await producer.close();
    await broker.close();
  }
});

test('a non-retriable error fails only that batch, with the Kafka error name', async () => {
  const broker = await FakeBroker.start();
  const cluster = new ScriptedCluster(broker, 'orders');
  broker.onRequest = (request) => {
    if (request.header.apiKey === 0) {
      request.respond({ responses: [{ name: 'orders', partitionResponses: [{ index: 0, errorCode: 10, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: 0n }] }], throttleTimeMs: 0 });
      return;
    }
    cluster.forward(request);
  };
  const producer = new Producer({ bootstrap: `127.0.0.1:${broker.port}`, idempotent: false, acks: 1 });
  try {
    await assert.rejects(producer.send({ topic: 'orders', value: 'big' }), (error: unknown) => error instanceof KafkaError && error.errorName === 'MESSAGE_TOO_LARGE' && !error.retriable && error.topic === 'orders' && error.partition === 0);
  } finally {
    await producer.close();
    await broker.close();
  }
});

test('retriable failures that never stop end in DELIVERY_TIMEOUT', async () => {
  const broker = await FakeBroker.start();
  const cluster = new ScriptedCluster(broker, 'orders');
  for (let i = 0; i < 1000; i++) cluster.failNext.push('NOT_LEADER_OR_FOLLOWER');
  const producer = new Producer({ bootstrap: `127.0.0.1:${broker.port}`, deliveryTimeoutMs: 500, retryBackoffMs: 20, retryBackoffMsMax: 50 });
  try {
    await assert.rejects(producer.send({ topic: 'orders', value: 'x' }), (error: unknown) => error instanceof KafkaError && error.errorName === 'DELIVERY_TIMEOUT' && /NOT_LEADER_OR_FOLLOWER/.test(error.message));
  } finally {
    await producer.close();
    await broker.close();
  }
});

test('the consumer retries a Fetch refused with NOT_LEADER and then reads', async () => {
  const broker = await FakeBroker.start();
  const cluster = new ScriptedCluster(broker, 'orders');
  let fetches = 0;
  const batch = buildBatch([{ key: null, value: Buffer.from('hello') }], { baseOffset: 0 });
  broker.onRequest = (request) => {
    if (request.header.apiKey !== 1) {
      if (request.header.apiKey === 2) {
        request.respond({ throttleTimeMs: 0, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: 0n, leaderEpoch: 0 }] }] });
        return;
      }
      cluster.forward(request);
      return;
    }
    fetches++;
    const notLeader = fetches === 1;
    request.respond({
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: 'orders',
          partitions: [{ partitionIndex: 0, errorCode: notLeader ? 6 : 0, highWatermark: 1n, lastStableOffset: 1n, logStartOffset: 0n, abortedTransactions: [], preferredReadReplica: -1, records: notLeader ? null : batch }],
        },
      ],
    });
  };
  const consumer = new Consumer({ bootstrap: `127.0.0.1:${broker.port}`, retryBackoffMs: 20 });
  try {
    await consumer.assign([{ topic: 'orders', partition: 0, offset: 0 }]);
    for await (const record of consumer) {
      assert.equal(record.value!.toString(), 'hello');
      break;
    }
    assert.ok(fetches >= 2);
    assert.ok(cluster.metadataRequests >= 2, 'metadata was refreshed');
  } finally {
    await consumer.close();
    await broker.close();
  }
});
