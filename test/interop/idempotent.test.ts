/**
 * Idempotent producers of real clients over TLS: kafkajs 2.2.4 (idempotent: true,
 * maxInFlightRequests: 1) and confluent-kafka-python 1.7.0 (enable.idempotence=true, librdkafka
 * 2.0.2 with up to 5 requests in flight). Both get a producer id from InitProducerId, every batch
 * they write carries it, offsets are contiguous, and reading back finds every record exactly once
 * and in order.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, Partitioners, logLevel, type logCreator } from 'kafkajs';
import { startBroker, type Broker } from '../../src/index.js';
import { testTls, type TestTls } from '../helpers/tls.js';
import { RawClient, withTimeout } from '../helpers/raw-client.js';
import { createTopic, exactlyOnceReport } from '../broker/idempotence-helpers.js';
import { confluentIdempotent } from './idempotent-clients.js';

let broker: Broker;
let material: TestTls;
let port = 0;
const logs: string[] = [];
const brokerLog: string[] = [];

const capture: logCreator = () => ({ label, namespace, log }) => {
  logs.push(`${label} [${namespace}] ${log.message}`);
};

before(async () => {
  material = await testTls();
  broker = await startBroker({ listeners: 'SSL://127.0.0.1:0', storage: 'memory', tls: material, log: (line) => brokerLog.push(line) });
  port = broker.listeners[0]!.port;
});

after(async () => {
  await broker?.close();
});

async function withClient<T>(body: (client: RawClient) => Promise<T>): Promise<T> {
  const client = await RawClient.connect({ port, tls: { ca: material.ca } });
  try {
    return await body(client);
  } finally {
    client.close();
  }
}

test('kafkajs idempotent producer: every record once, in order, offsets contiguous', async () => {
  const topic = 'kjs-idempotent';
  const partitions = 3;
  const count = 2000;
  const perSend = 50;
  await withClient((client) => createTopic(client, topic, partitions));
  const kafka = new Kafka({
    clientId: 'inkwell-kafkajs-idempotent',
    brokers: [`127.0.0.1:${port}`],
    ssl: { ca: [material.ca.toString('utf8')] },
    logLevel: logLevel.WARN,
    logCreator: capture,
    retry: { retries: 5, initialRetryTime: 100 },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await withTimeout(producer.connect(), 30_000, 'producer.connect');
  const next = new Array<number>(partitions).fill(0);
  try {
    for (let from = 0; from < count; from += perSend) {
      const messages = Array.from({ length: perSend }, (_, k) => ({ partition: (from + k) % partitions, key: `k${(from + k) % 16}`, value: `kjs-${from + k}` }));
      const metadata = await withTimeout(producer.send({ topic, acks: -1, messages }), 30_000, 'send');
      for (const m of metadata) {
        assert.equal(m.errorCode, 0);
        assert.equal(Number(m.baseOffset), next[m.partition], `partition ${m.partition} continues where it stopped`);
        const sent = messages.filter((message) => message.partition === m.partition).length;
        next[m.partition]! += sent;
      }
    }
  } finally {
    await producer.disconnect();
  }
  const report = await withClient((client) => exactlyOnceReport(client, topic, partitions, 'kjs', count));
  assert.deepEqual(report, { records: count, duplicates: 0, gaps: 0, outOfOrder: 0, plainRecords: 0 }, logs.slice(-10).join('\n'));
  assert.ok(!brokerLog.some((line) => /rejected/.test(line)), brokerLog.filter((line) => /rejected/.test(line)).join('\n'));
});

test('confluent-kafka-python with enable.idempotence=true: every record once, in order, offsets contiguous', async (t) => {
  const topic = 'ck-idempotent';
  const partitions = 3;
  const count = 5000;
  await withClient((client) => createTopic(client, topic, partitions));
  const report = await confluentIdempotent(t, { bootstrap: `127.0.0.1:${port}`, topic, tag: 'ck', count });
  if (!report) return;
  assert.equal(report.remaining, 0, 'everything flushed');
  assert.deepEqual(report.errors, [], 'no error callbacks');
  const deliveries = report.deliveries;
  assert.equal(deliveries.length, count);
  assert.deepEqual(deliveries.filter((d) => d.error !== null), []);
  for (let partition = 0; partition < partitions; partition++) {
    const offsets = deliveries.filter((d) => d.partition === partition).map((d) => d.offset).sort((a, b) => a - b);
    assert.deepEqual(offsets, Array.from({ length: offsets.length }, (_, i) => i), `partition ${partition}: contiguous, none twice`);
  }
  const readBack = await withClient((client) => exactlyOnceReport(client, topic, partitions, 'ck', count));
  assert.deepEqual(readBack, { records: count, duplicates: 0, gaps: 0, outOfOrder: 0, plainRecords: 0 });
});
