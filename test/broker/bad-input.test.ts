/**
 * Hostile and malformed input: each case gets Kafka's behaviour (an error code, or the
 * connection closed), and the broker keeps serving a second client during and after.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { startBroker, type Broker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { testTls } from '../helpers/tls.js';
import { registry } from '../../src/protocol/registry.js';
import { buildBatch } from '../../src/protocol/record-batch.js';

let broker: Broker;
let plainPort = 0;
let tlsPort = 0;
let ca: Buffer;
const frameBytesMax = 1024 * 1024;

before(async () => {
  const material = await testTls();
  ca = material.ca;
  broker = await startBroker({
    listeners: 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0',
    storage: 'memory',
    tls: material,
    config: { 'socket.request.max.bytes': frameBytesMax, 'message.max.bytes': 512 * 1024, 'num.partitions': 2 },
    log: () => {},
  });
  plainPort = broker.listeners.find((l) => l.securityProtocol === 'PLAINTEXT')!.port;
  tlsPort = broker.listeners.find((l) => l.securityProtocol === 'SSL')!.port;
});

after(async () => {
  await broker?.close();
});

/** A second client must still get answers. */
async function assertStillServing(): Promise<void> {
  const client = await RawClient.connect({ port: plainPort });
  try {
    const response = await client.request('ApiVersions', 2, {});
    assert.equal(response.errorCode, 0);
  } finally {
    client.close();
  }
}

function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value, 0);
  return b;
}

test('a negative frame length closes the connection', async () => {
  const client = await RawClient.connect({ port: plainPort });
  client.write(int32(-5));
  assert.ok(await client.closedByPeer());
  await assertStillServing();
});

test('a frame length over socket.request.max.bytes closes the connection', async () => {
  const client = await RawClient.connect({ port: plainPort });
  client.write(int32(frameBytesMax + 1));
  assert.ok(await client.closedByPeer());
  await assertStillServing();
});

test('a frame cut short and then the socket closed leaves the broker serving', async () => {
  const client = await RawClient.connect({ port: plainPort });
  client.write(Buffer.concat([int32(100), Buffer.alloc(10)]));
  await assertStillServing();
  client.socket.end();
  await new Promise((resolve) => setTimeout(resolve, 50));
  await assertStillServing();
});

test('an unknown api key closes the connection', async () => {
  const client = await RawClient.connect({ port: plainPort });
  const body = Buffer.alloc(10);
  body.writeInt16BE(9999, 0);
  body.writeInt16BE(0, 2);
  body.writeInt32BE(1, 4);
  body.writeInt16BE(-1, 8);
  client.write(Buffer.concat([int32(body.length), body]));
  assert.ok(await client.closedByPeer());
  await assertStillServing();
});

test('an unsupported ApiVersions version gets UNSUPPORTED_VERSION in the v0 layout', async () => {
  const client = await RawClient.connect({ port: plainPort });
  const header = Buffer.alloc(10);
  header.writeInt16BE(18, 0);
  header.writeInt16BE(99, 2);
  header.writeInt32BE(7, 4);
  header.writeInt16BE(-1, 8);
  client.write(Buffer.concat([int32(header.length + 3), header, Buffer.from([1, 0, 0])]));
  const response = await client.readResponse('ApiVersions', 0);
  assert.ok(response);
  assert.equal(response.correlationId, 7);
  assert.equal(response.errorCode, 35);
  const apis = response.apiKeys as { apiKey: number; maxVersion: number }[];
  assert.deepEqual(apis.map((a) => a.apiKey), [18]);
  assert.equal(apis[0]!.maxVersion, 3);
  client.close();
});

test('an unsupported version of every other API closes the connection', async () => {
  for (const api of registry().all()) {
    if (api.key === 18) continue;
    for (const version of [api.maxVersion + 1, api.minVersion - 1]) {
      if (version < 0) continue;
      const client = await RawClient.connect({ port: plainPort });
      const header = Buffer.alloc(10);
      header.writeInt16BE(api.key, 0);
      header.writeInt16BE(version, 2);
      header.writeInt32BE(1, 4);
      header.writeInt16BE(-1, 8);
      client.write(Buffer.concat([int32(header.length + 4), header, Buffer.alloc(4)]));
      assert.ok(await client.closedByPeer(), `${api.name} v${version}`);
    }
  }
  await assertStillServing();
});

test('random bytes close the connection and nothing else', async () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
  for (let round = 0; round < 20; round++) {
    const client = await RawClient.connect({ port: plainPort, timeoutMs: 2000 });
    const bytes = Buffer.alloc(200);
    for (let i = 0; i < bytes.length; i++) bytes[i] = random();
    // A plausible small length, then garbage, so the body decoder sees it.
    bytes.writeInt32BE(196, 0);
    client.write(bytes);
    await client.closedByPeer(300);
    client.close();
  }
  await assertStillServing();
});

test('a TLS handshake on the plaintext port is closed', async () => {
  const socket = tls.connect({ host: '127.0.0.1', port: plainPort, ca, servername: 'localhost' });
  const [outcome] = await Promise.race([once(socket, 'error').then(() => ['error']), once(socket, 'close').then(() => ['close']), once(socket, 'secureConnect').then(() => ['connected'])]);
  assert.notEqual(outcome, 'connected');
  socket.destroy();
  await assertStillServing();
});

test('plaintext bytes on the TLS port are closed', async () => {
  const socket = net.connect({ host: '127.0.0.1', port: tlsPort });
  await once(socket, 'connect');
  const header = Buffer.alloc(10);
  header.writeInt16BE(18, 0);
  header.writeInt16BE(0, 2);
  header.writeInt32BE(1, 4);
  header.writeInt16BE(-1, 8);
  socket.write(Buffer.concat([int32(header.length), header]));
  socket.on('error', () => {});
  await Promise.race([once(socket, 'close'), new Promise((resolve) => setTimeout(resolve, 5000))]);
  assert.ok(socket.destroyed || socket.readableEnded);
  socket.destroy();
  await assertStillServing();
});

async function produce(client: RawClient, topic: string, partitions: { index: number; records: Buffer }[]) {
  const response = await client.request('Produce', 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: partitions }] });
  const responses = response.responses as { partitionResponses: { index: number; errorCode: number; baseOffset: bigint }[] }[];
  return responses[0]!.partitionResponses;
}

test('a batch with a wrong CRC is CORRUPT_MESSAGE and the other partition is unaffected', async () => {
  const client = await RawClient.connect({ port: tlsPort, tls: { ca } });
  await client.request('CreateTopics', 4, { topics: [{ name: 'crc-test', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  const good = buildBatch([{ key: Buffer.from('k'), value: Buffer.from('v') }]);
  const bad = Buffer.from(buildBatch([{ key: Buffer.from('k'), value: Buffer.from('v') }]));
  bad[bad.length - 1] ^= 0xff;
  const results = await produce(client, 'crc-test', [
    { index: 0, records: bad },
    { index: 1, records: good },
  ]);
  assert.equal(results.find((r) => r.index === 0)!.errorCode, 2);
  assert.equal(results.find((r) => r.index === 1)!.errorCode, 0);
  const offsets = await client.request('ListOffsets', 5, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'crc-test', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }, { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: -1n }] }] });
  const parts = (offsets.topics as { partitions: { partitionIndex: number; offset: bigint }[] }[])[0]!.partitions;
  assert.equal(parts.find((p) => p.partitionIndex === 0)!.offset, 0n, 'nothing appended to the corrupt partition');
  assert.equal(parts.find((p) => p.partitionIndex === 1)!.offset, 1n);
  client.close();
});

test('a record count that disagrees with the records is INVALID_RECORD', async () => {
  const client = await RawClient.connect({ port: plainPort });
  const batch = Buffer.from(buildBatch([{ key: null, value: Buffer.from('a') }, { key: null, value: Buffer.from('b') }]));
  // Claim three records (count and last offset delta) and fix the CRC so only the count is wrong.
  batch.writeInt32BE(3, 57);
  batch.writeInt32BE(2, 23);
  const { crc32c } = await import('../../src/protocol/crc32c.js');
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  const results = await produce(client, 'count-test', [{ index: 0, records: batch }]);
  assert.equal(results[0]!.errorCode, 87);
  client.close();
});

test('memory does not grow with the length a frame claims', async () => {
  const before = process.memoryUsage().arrayBuffers;
  const clients: RawClient[] = [];
  for (let i = 0; i < 20; i++) {
    const client = await RawClient.connect({ port: plainPort });
    client.write(Buffer.concat([int32(frameBytesMax - 1), Buffer.alloc(100)]));
    clients.push(client);
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 20 * 256 * 1024, `array buffers grew by ${grown} bytes for 20 claimed ${frameBytesMax}-byte frames`);
  for (const client of clients) client.close();
  await assertStillServing();
});
