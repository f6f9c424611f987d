/**
 * The connection layer against a scripted broker: frames split anywhere, version negotiation
 * (highest common version, caps, ApiVersions fallback), the in-flight bound, in-order matching
 * and correlation checks, timeouts, and reconnecting with backoff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Connection } from '../../src/client/connection.js';
import { Cluster } from '../../src/client/cluster.js';
import { KafkaError } from '../../src/client/errors.js';
import { FrameSplitter } from '../../src/client/frame-splitter.js';
import { resolveClientOptions, type ClientOptions } from '../../src/client/options.js';
import { FakeBroker, eventually } from './fake-broker.js';

function options(port: number, extra: Partial<ClientOptions> = {}) {
  return resolveClientOptions({ bootstrap: `127.0.0.1:${port}`, connectTimeoutMs: 2000, requestTimeoutMs: 2000, ...extra });
}

function isKafkaError(name: string) {
  return (error: unknown) => error instanceof KafkaError && error.errorName === name;
}

test('frames split at every byte boundary come out whole and in order', () => {
  const frames = [Buffer.from('first frame'), Buffer.alloc(0), Buffer.alloc(3000, 7), Buffer.from('last')];
  const stream = Buffer.concat(frames.flatMap((frame) => [Buffer.from([0, 0, frame.length >> 8, frame.length & 0xff]), frame]));
  for (let cut = 0; cut <= stream.length; cut += cut < 40 ? 1 : 97) {
    const out: Buffer[] = [];
    const splitter = new FrameSplitter(1 << 20);
    splitter.push(stream.subarray(0, cut), (frame) => out.push(Buffer.from(frame)));
    splitter.push(stream.subarray(cut), (frame) => out.push(Buffer.from(frame)));
    assert.deepEqual(out, frames, `cut at ${cut}`);
  }
  assert.throws(() => new FrameSplitter(100).push(Buffer.from([0, 0, 1, 0]), () => {}), /outside 0..100/);
});

test('negotiates the highest common version per API, below any cap; absent APIs are UNSUPPORTED_VERSION', async () => {
  const broker = await FakeBroker.start({
    versions: new Map([
      [18, [0, 3]],
      [3, [0, 12]],
      [0, [5, 9]],
      [2, [0, 9]],
    ]),
  });
  try {
    const connection = await Connection.open({ host: '127.0.0.1', port: broker.port }, 1, options(broker.port, { apiVersionCaps: { ListOffsets: 3 } }));
    assert.equal(connection.version('Metadata'), 8, 'our spec stops at Metadata v8');
    assert.equal(connection.version('Produce'), 7);
    assert.equal(connection.version('ListOffsets'), 3, 'capped');
    assert.throws(() => connection.version('Fetch'), isKafkaError('UNSUPPORTED_VERSION'));
    assert.equal(connection.supports('Fetch'), false);
    connection.close();
  } finally {
    await broker.close();
  }
});

test('falls back to the ApiVersions version the broker offers when it refuses ours', async () => {
  const broker = await FakeBroker.start({ apiVersionsMax: 2 });
  try {
    const connection = await Connection.open({ host: '127.0.0.1', port: broker.port }, 1, options(broker.port));
    assert.equal(connection.version('ApiVersions'), 3, 'the table itself still says 0-3');
    assert.ok(connection.supports('Metadata'));
    connection.close();
  } finally {
    await broker.close();
  }
});

test('a broker that never answers ApiVersions fails the connect within the timeout', async () => {
  const broker = await FakeBroker.start({ silent: true });
  try {
    const started = Date.now();
    await assert.rejects(Connection.open({ host: '127.0.0.1', port: broker.port }, 1, options(broker.port, { connectTimeoutMs: 300 })), isKafkaError('CONNECTION_FAILED'));
    assert.ok(Date.now() - started < 2000);
  } finally {
    await broker.close();
  }
});

test('at most inflightRequestsMax requests are on the wire; responses resolve in order', async () => {
  const broker = await FakeBroker.start();
  try {
    const connection = await Connection.open({ host: '127.0.0.1', port: broker.port }, 1, options(broker.port, { inflightRequestsMax: 3 }));
    const results: number[] = [];
    const pending = Array.from({ length: 8 }, (_, i) =>
      connection.request('Metadata', { topics: [], allowAutoTopicCreation: false }).then(() => results.push(i)),
    );
    await eventually(() => broker.requests.length === 3, 2000, 'three requests arrive');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(broker.requests.length, 3, 'no fourth request before a response');
    const metadata = { brokers: [], clusterId: null, controllerId: 1, topics: [] };
    let answered = 0;
    broker.onRequest = () => {};
    while (answered < 8) {
      await eventually(() => broker.requests.length > answered, 2000, `request ${answered + 1} arrives`);
      broker.requests[answered]!.respond(metadata);
      answered++;
    }
    await Promise.all(pending);
    assert.deepEqual(results, [0, 1, 2, 3, 4, 5, 6, 7]);
    const ids = broker.requests.map((request) => request.header.correlationId);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'correlation ids increase');
    connection.close();
  } finally {
    await broker.close();
  }
});

test('a response with the wrong correlation id closes the connection with PROTOCOL_VIOLATION', async () => {
  const broker = await FakeBroker.start();
  broker.onRequest = (request) => request.respond({ brokers: [], clusterId: null, controllerId: 1, topics: [] }, request.header.correlationId + 100);
  try {
    const connection = await Connection.open({ host: '127.0.0.1', port: broker.port }, 1, options(broker.port));
    await assert.rejects(connection.request('Metadata', { topics: [] }), isKafkaError('PROTOCOL_VIOLATION'));
    assert.equal(connection.closed, true);
  } finally {
    await broker.close();
  }
});

test('a request that times out fails, and so does everything behind it on the connection', async () => {
  const broker = await FakeBroker.start();
  try {
    const connection = await Connection.open({ host: '127.0.0.1', port: broker.port }, 1, options(broker.port));
    const slow = connection.request('Metadata', { topics: [] }, { timeoutMs: 150 });
    const behind = connection.request('Metadata', { topics: [] }, { timeoutMs: 10_000 });
    await assert.rejects(slow, (error: unknown) => error instanceof KafkaError && error.errorName === 'REQUEST_TIMED_OUT' && error.retriable);
    await assert.rejects(behind, isKafkaError('REQUEST_TIMED_OUT'));
    assert.equal(connection.closed, true);
    await assert.rejects(connection.request('Metadata', { topics: [] }), isKafkaError('REQUEST_TIMED_OUT'));
  } finally {
    await broker.close();
  }
});

test('a lost connection fails pending requests retriably; the cluster reconnects with backoff', async () => {
  const broker = await FakeBroker.start();
  const metadata = (port: number) => ({ brokers: [{ nodeId: 1, host: '127.0.0.1', port, rack: null }], clusterId: 'c', controllerId: 1, topics: [] });
  broker.onRequest = (request) => request.respond(metadata(broker.port));
  const cluster = new Cluster(options(broker.port, { reconnectBackoffMs: 100, reconnectBackoffMsMax: 200 }));
  try {
    await cluster.connect();
    const first = await cluster.connectionTo(1);
    broker.onRequest = () => {};
    const pending = first.request('Metadata', { topics: [] });
    await eventually(() => broker.requests.length >= 2);
    broker.disconnectAll();
    await assert.rejects(pending, (error: unknown) => error instanceof KafkaError && error.errorName === 'NETWORK_EXCEPTION' && error.retriable);
    broker.onRequest = (request) => request.respond(metadata(broker.port));
    const second = await cluster.connectionTo(1);
    assert.notEqual(second, first);
    await second.request('Metadata', { topics: [] });
  } finally {
    cluster.close();
    await broker.close();
  }
});

test('an unreachable bootstrap fails quickly with CONNECTION_FAILED', async () => {
  const cluster = new Cluster(resolveClientOptions({ bootstrap: '127.0.0.1:1', connectTimeoutMs: 1000, retries: 1, retryBackoffMs: 10 }));
  const started = Date.now();
  await assert.rejects(cluster.connect(), (error: unknown) => error instanceof KafkaError && error.errorName === 'CONNECTION_FAILED' && /127\.0\.0\.1:1/.test(error.message));
  assert.ok(Date.now() - started < 3000);
  cluster.close();
});
