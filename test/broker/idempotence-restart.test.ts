/**
 * Idempotent producer state across restarts of a broker on a data directory: producer ids never
 * repeat, a clean shutdown's snapshot carries the state over, the state is rebuilt from the log
 * when there is no snapshot or only an older one, a snapshot ahead of the log is dropped, and a
 * real crash (SIGKILL of `inkwell serve`) loses nothing the producer was told was written.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker, type Broker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { ServeProcess, killAll } from '../cli/cli-process.js';
import { createTopic, idempotentBatch, initProducerId, listOffset, newProducer, produce, readPartition, type ProducerIdentity } from './idempotence-helpers.js';

const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
const directories: string[] = [];

after(async () => {
  await killAll();
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-idempotence-'));
  directories.push(dir);
  return dir;
}

async function withBroker<T>(dir: string, body: (client: RawClient, broker: Broker) => Promise<T>): Promise<T> {
  const broker = await startBroker({ dataDir: dir, log: () => {} });
  const client = await RawClient.connect({ port: broker.listeners[0]!.port });
  try {
    return await body(client, broker);
  } finally {
    client.close();
    await broker.close();
  }
}

function snapshots(dir: string): string[] {
  return readdirSync(join(dir, 'producer-state')).filter((name) => name.endsWith('.snapshot')).sort();
}

/** Sends batches 0..count-1 of one record each and checks they land at offsets first..first+count-1. */
async function sendBatches(client: RawClient, topic: string, producer: ProducerIdentity, from: number, count: number, firstOffset: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const result = await produce(client, topic, 0, idempotentBatch([`${topic}-${i}`], producer, i));
    assert.deepEqual([result.errorCode, result.baseOffset], [0, BigInt(firstOffset + i - from)], `batch ${i}`);
  }
}

/** After a restart: retries of the last batches are answered with their offsets, a gap is refused, the next batch follows. */
async function checkCarriedOver(client: RawClient, topic: string, producer: ProducerIdentity, batches: number): Promise<void> {
  for (let i = batches - 5; i < batches; i++) {
    const retry = await produce(client, topic, 0, idempotentBatch([`${topic}-${i}`], producer, i));
    assert.deepEqual([retry.errorCode, retry.baseOffset], [0, BigInt(i)], `retry of batch ${i} after restart`);
  }
  assert.equal((await produce(client, topic, 0, idempotentBatch(['gap'], producer, batches + 1))).errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER);
  const next = await produce(client, topic, 0, idempotentBatch([`${topic}-${batches}`], producer, batches));
  assert.deepEqual([next.errorCode, next.baseOffset], [0, BigInt(batches)]);
  assert.equal(await listOffset(client, topic, 0, -1n), BigInt(batches + 1), 'no retry was appended');
}

test('producer ids are unique across restarts', async () => {
  const dir = dataDir();
  const before = await withBroker(dir, async (client) => [await initProducerId(client), await initProducerId(client)].map((a) => a.producerId));
  const afterwards = await withBroker(dir, async (client) => (await initProducerId(client)).producerId);
  assert.ok(afterwards > before[1]!, `${afterwards} comes after ${before.join(', ')}`);
  const third = await withBroker(dir, async (client) => (await initProducerId(client)).producerId);
  assert.ok(third > afterwards);
});

test('a clean shutdown snapshots producer state, and the restarted broker carries on from it', async () => {
  const dir = dataDir();
  const producer = await withBroker(dir, async (client) => {
    await createTopic(client, 'clean', 1);
    const p = await newProducer(client);
    await sendBatches(client, 'clean', p, 0, 8, 0);
    return p;
  });
  assert.equal(snapshots(dir).length, 1, 'one snapshot written at shutdown');
  await withBroker(dir, (client) => checkCarriedOver(client, 'clean', producer, 8));
});

test('without any snapshot (a crash before the first one) the state is rebuilt from the log', async () => {
  const dir = dataDir();
  const producer = await withBroker(dir, async (client) => {
    await createTopic(client, 'rebuilt', 1);
    const p = await newProducer(client);
    await sendBatches(client, 'rebuilt', p, 0, 9, 0);
    // Another producer, and plain batches in between, must not confuse the rebuild.
    const other = await newProducer(client);
    assert.equal((await produce(client, 'rebuilt', 0, idempotentBatch(['other'], other, 0))).baseOffset, 9n);
    return p;
  });
  rmSync(join(dir, 'producer-state'), { recursive: true, force: true });
  await withBroker(dir, async (client) => {
    for (let i = 4; i < 9; i++) {
      const retry = await produce(client, 'rebuilt', 0, idempotentBatch([`rebuilt-${i}`], producer, i));
      assert.deepEqual([retry.errorCode, retry.baseOffset], [0, BigInt(i)], `retry of batch ${i}`);
    }
    assert.equal((await produce(client, 'rebuilt', 0, idempotentBatch(['gap'], producer, 11))).errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal((await produce(client, 'rebuilt', 0, idempotentBatch(['rebuilt-9'], producer, 9))).baseOffset, 10n);
  });
});

test('with only an older snapshot, the batches after it are replayed from the log', async () => {
  const dir = dataDir();
  const producer = await withBroker(dir, async (client) => {
    await createTopic(client, 'older', 1);
    const p = await newProducer(client);
    await sendBatches(client, 'older', p, 0, 3, 0);
    return p;
  });
  const [first] = snapshots(dir);
  await withBroker(dir, (client) => sendBatches(client, 'older', producer, 3, 6, 3));
  const both = snapshots(dir);
  assert.equal(both.length, 2, 'the newest two are kept');
  // As if the broker had crashed before writing its second snapshot.
  rmSync(join(dir, 'producer-state', both.find((name) => name !== first)!));
  await withBroker(dir, (client) => checkCarriedOver(client, 'older', producer, 9));
});

test('a snapshot ahead of the log (counting batches a crash took back) is dropped at start-up', async () => {
  const dir = dataDir();
  const producer = await withBroker(dir, async (client) => {
    await createTopic(client, 'ahead', 1);
    const p = await newProducer(client);
    await sendBatches(client, 'ahead', p, 0, 6, 0);
    return p;
  });
  const [real] = snapshots(dir);
  const key = real!.replace(/-\d{20}\.snapshot$/, '');
  // A snapshot claiming batches 6 and 7 at offsets 6 and 7, which the log does not have.
  const bogus = { version: 1, offset: 8, producers: [{ id: String(producer.producerId), epoch: 0, lastSeenMs: Date.now(), batches: [[6, 6, 6, 6], [7, 7, 7, 7]] }] };
  writeFileSync(join(dir, 'producer-state', `${key}-${'8'.padStart(20, '0')}.snapshot`), JSON.stringify(bogus));
  await withBroker(dir, async (client) => {
    const next = await produce(client, 'ahead', 0, idempotentBatch(['ahead-6'], producer, 6));
    assert.deepEqual([next.errorCode, next.baseOffset], [0, 6n], 'batch 6 is appended, not answered from the bogus snapshot');
  });
  assert.ok(!snapshots(dir).some((name) => name.endsWith(`${'8'.padStart(20, '0')}.snapshot`)), `the bogus snapshot is gone: ${snapshots(dir).join(', ')}`);
});

test('a SIGKILLed broker loses nothing it acknowledged: the restarted one recognises retries', async () => {
  const dir = dataDir();
  const serve = new ServeProcess(['--listeners', 'PLAINTEXT://127.0.0.1:0', '--data-dir', dir]);
  const [line] = await serve.lines(/^listening PLAINTEXT:\/\/127\.0\.0\.1:(\d+)$/, 1);
  const port = Number(line![1]);
  const client = await RawClient.connect({ port });
  let producer: ProducerIdentity;
  try {
    await createTopic(client, 'killed', 1);
    producer = await newProducer(client);
    await sendBatches(client, 'killed', producer, 0, 12, 0);
  } finally {
    client.close();
  }
  await serve.stop('SIGKILL');
  await withBroker(dir, async (c) => {
    await checkCarriedOver(c, 'killed', producer, 12);
    const values = (await readPartition(c, 'killed', 0)).map((r) => r.value);
    assert.deepEqual(values, Array.from({ length: 13 }, (_, i) => `killed-${i}`));
  });
  // And a producer id handed out after the crash is new.
  await withBroker(dir, async (c) => assert.ok((await initProducerId(c)).producerId > BigInt(producer.producerId)));
});

test('after a SIGKILL the periodic snapshot is used and only the batches after it are replayed', async () => {
  const dir = dataDir();
  const serve = new ServeProcess(['--listeners', 'PLAINTEXT://127.0.0.1:0', '--data-dir', dir, '--set', 'inkwell.producer.state.snapshot.interval.ms=100']);
  const [line] = await serve.lines(/^listening PLAINTEXT:\/\/127\.0\.0\.1:(\d+)$/, 1);
  const client = await RawClient.connect({ port: Number(line![1]) });
  let producer: ProducerIdentity;
  try {
    await createTopic(client, 'periodic', 1);
    producer = await newProducer(client);
    await sendBatches(client, 'periodic', producer, 0, 6, 0);
    const deadline = Date.now() + 10_000;
    while (!snapshots(dir).some((name) => name.endsWith(`${'6'.padStart(20, '0')}.snapshot`)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(snapshots(dir).some((name) => name.endsWith(`${'6'.padStart(20, '0')}.snapshot`)), `a periodic snapshot at offset 6: ${snapshots(dir).join(', ')}`);
    await sendBatches(client, 'periodic', producer, 6, 6, 6);
  } finally {
    client.close();
  }
  await serve.stop('SIGKILL');
  await withBroker(dir, (c) => checkCarriedOver(c, 'periodic', producer, 12));
});
