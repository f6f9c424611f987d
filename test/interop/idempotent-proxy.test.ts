/**
 * Exactly once through a lossy network: real idempotent producers (kafkajs 2.2.4 and
 * confluent-kafka-python 1.7.0) write through a TLS proxy that drops 5% of Produce responses and
 * closes the connection each time, so that the client resends batches the broker already has.
 * Reading back must find every record exactly once, in order: no duplicates, no gaps.
 *
 * The record count is INKWELL_PROXY_RECORDS (default 20 000, CI-sized); run it once with
 * INKWELL_PROXY_RECORDS=1000000 for the full figure. INKWELL_PROXY_SEED picks which responses
 * are dropped.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type logCreator } from 'kafkajs';
import { startBroker, type Broker } from '../../src/index.js';
import { testTls, type TestTls } from '../helpers/tls.js';
import { RawClient, withTimeout } from '../helpers/raw-client.js';
import { createTopic, exactlyOnceReport } from '../broker/idempotence-helpers.js';
import { DroppingProxy } from './idempotent-proxy-server.js';
import { confluentIdempotent } from './idempotent-clients.js';

const records = Number(process.env.INKWELL_PROXY_RECORDS ?? 20_000);
const seed = Number(process.env.INKWELL_PROXY_SEED ?? 20_240_601);
const dropRate = 0.05;
const partitions = 3;
/** Records per kafkajs send(): small enough that a 20 000-record run drops a few dozen responses. */
const perSend = Number(process.env.INKWELL_PROXY_BATCH ?? 50);
const timeLimitMs = Math.max(120_000, records * 2);

let broker: Broker;
let material: TestTls;
let proxy: DroppingProxy;
const logs: string[] = [];
/** Broker log lines about refused produce requests (sequence or epoch errors): there must be none. */
const refusals: string[] = [];
const capture: logCreator = () => ({ label, namespace, log }) => {
  logs.push(`${label} [${namespace}] ${log.message}`);
};

before(async () => {
  material = await testTls();
  proxy = await DroppingProxy.start({ cert: material.cert, key: material.key, ca: material.ca, dropRate, seed });
  // The broker tells clients to come back through the proxy for everything after bootstrap.
  broker = await startBroker({
    listeners: 'SSL://127.0.0.1:0',
    storage: 'memory',
    tls: material,
    config: { 'advertised.listeners': `SSL://127.0.0.1:${proxy.port}`, 'inkwell.ring.buffer.bytes': 1024 * 1024 * 1024 },
    log: (line) => {
      if (/produce to .* rejected/.test(line)) refusals.push(line);
    },
  });
  proxy.setUpstream(broker.listeners[0]!.port);
});

after(async () => {
  await proxy?.close();
  await broker?.close();
});

async function readBack(topic: string, tag: string) {
  const client = await RawClient.connect({ port: broker.listeners[0]!.port, tls: { ca: material.ca } });
  try {
    return await exactlyOnceReport(client, topic, partitions, tag, records);
  } finally {
    client.close();
  }
}

async function create(topic: string): Promise<void> {
  const client = await RawClient.connect({ port: broker.listeners[0]!.port, tls: { ca: material.ca } });
  try {
    await createTopic(client, topic, partitions);
  } finally {
    client.close();
  }
}

test(`kafkajs idempotent producer through a proxy dropping ${dropRate * 100}% of produce responses: ${records} records, no duplicates, no gaps`, { timeout: timeLimitMs + 60_000 }, async (t) => {
  const topic = 'proxy-kjs';
  await create(topic);
  const kafka = new Kafka({
    clientId: 'inkwell-kafkajs-proxy',
    brokers: [`127.0.0.1:${proxy.port}`],
    ssl: { ca: [material.ca.toString('utf8')] },
    logLevel: logLevel.ERROR,
    logCreator: capture,
    retry: { retries: 10, initialRetryTime: 20, maxRetryTime: 500 },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const before = { ...proxy.stats };
  const started = Date.now();
  await withTimeout(producer.connect(), 30_000, 'producer.connect');
  try {
    for (let from = 0; from < records; from += perSend) {
      const messages = Array.from({ length: Math.min(perSend, records - from) }, (_, k) => ({ partition: (from + k) % partitions, value: `kjs-${from + k}` }));
      const metadata = await withTimeout(producer.send({ topic, acks: -1, messages }), 60_000, `send from ${from}`);
      for (const m of metadata) assert.equal(m.errorCode, 0);
    }
  } finally {
    await producer.disconnect();
  }
  const seconds = (Date.now() - started) / 1000;
  const dropped = proxy.stats.droppedResponses - before.droppedResponses;
  const report = await readBack(topic, 'kjs');
  t.diagnostic(`kafkajs: ${records} records in ${seconds.toFixed(1)} s; ${proxy.stats.produceRequests - before.produceRequests} produce requests, ${dropped} responses dropped; read back ${JSON.stringify(report)}`);
  assert.ok(dropped > 0, 'the proxy dropped some responses');
  assert.deepEqual(report, { records, duplicates: 0, gaps: 0, outOfOrder: 0, plainRecords: 0 }, logs.slice(-10).join('\n'));
  assert.deepEqual(refusals, [], 'no produce request was refused');
});

test(`confluent-kafka-python (librdkafka) idempotent producer through the same proxy: ${records} records, no duplicates, no gaps`, { timeout: timeLimitMs + 60_000 }, async (t) => {
  const topic = 'proxy-ck';
  await create(topic);
  const before = { ...proxy.stats };
  const report = await confluentIdempotent(t, { bootstrap: `127.0.0.1:${proxy.port}`, topic, tag: 'ck', count: records, batchMessages: perSend, reconnectBackoffMaxMs: 200, timeoutSeconds: timeLimitMs / 1000 });
  if (!report) return;
  const dropped = proxy.stats.droppedResponses - before.droppedResponses;
  const failed = report.deliveries.filter((d) => d.error !== null);
  const readBackReport = await readBack(topic, 'ck');
  t.diagnostic(`librdkafka: ${records} records in ${report.seconds} s; ${proxy.stats.produceRequests - before.produceRequests} produce requests, ${dropped} responses dropped; read back ${JSON.stringify(readBackReport)}`);
  assert.equal(report.remaining, 0);
  assert.deepEqual(failed.slice(0, 5), [], `delivery errors; client errors: ${JSON.stringify(report.errors).slice(0, 2000)}`);
  assert.deepEqual(report.errors.filter((e) => e.fatal), [], 'no fatal idempotence error');
  assert.ok(dropped > 0, 'the proxy dropped some responses');
  assert.deepEqual(readBackReport, { records, duplicates: 0, gaps: 0, outOfOrder: 0, plainRecords: 0 });
  assert.deepEqual(refusals, [], 'no produce request was refused');
});
