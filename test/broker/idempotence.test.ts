/**
 * Idempotent production through the wire with hand-built batches: InitProducerId (fresh ids,
 * epoch bumps, transactional ids refused), retries answered with their original offsets, gaps
 * (OUT_OF_ORDER_SEQUENCE_NUMBER), stale epochs (INVALID_PRODUCER_EPOCH), unknown producers,
 * sequence wrap-around, transactional batches, the per-connection order of pipelined requests,
 * expiry of idle producers and the per-partition bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type Broker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { useRawBroker } from '../helpers/shared-broker.js';
import { attributesAt, crcAt, transactionalFlag } from '../../src/protocol/record-batch.js';
import { crc32c } from '../../src/protocol/crc32c.js';
import { createTopic, idempotentBatch, initProducerId, listOffset, newProducer, produce, readPartition } from './idempotence-helpers.js';

const NONE = 0;
const INVALID_REQUEST = 42;
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
const INVALID_PRODUCER_EPOCH = 47;
const TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53;
const INVALID_RECORD = 87;
const intMax = 2 ** 31 - 1;

let broker: Broker;
let client: RawClient;
useRawBroker((started) => ({ broker, client } = started));

test('InitProducerId gives fresh ids with epoch 0 in every version, and refuses transactional ids', async () => {
  const ids: bigint[] = [];
  for (const version of [0, 1, 2, 3, 4]) {
    const answer = await initProducerId(client, version);
    assert.equal(answer.errorCode, NONE, `v${version}`);
    assert.equal(answer.producerEpoch, 0);
    ids.push(answer.producerId);
  }
  assert.equal(new Set(ids).size, ids.length, 'all different');
  assert.deepEqual([...ids].sort((a, b) => Number(a - b)), ids, 'increasing');
  const transactional = await initProducerId(client, 4, { transactionalId: 'txn-1' });
  assert.deepEqual([transactional.errorCode, transactional.producerId, transactional.producerEpoch], [TRANSACTIONAL_ID_AUTHORIZATION_FAILED, -1n, -1]);
  assert.equal((await initProducerId(client, 1, { transactionalId: 'txn-1' })).errorCode, TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  assert.equal((await initProducerId(client, 4, { transactionalId: '' })).errorCode, INVALID_REQUEST);
});

test('InitProducerId v3+ bumps the epoch of an id it issued, and hands out a fresh id otherwise', async () => {
  const first = await initProducerId(client, 3);
  const bumped = await initProducerId(client, 3, { producerId: first.producerId, producerEpoch: 0 });
  assert.deepEqual([bumped.errorCode, bumped.producerId, bumped.producerEpoch], [NONE, first.producerId, 1]);
  const again = await initProducerId(client, 4, { producerId: first.producerId, producerEpoch: 1 });
  assert.deepEqual([again.producerId, again.producerEpoch], [first.producerId, 2]);
  // A stale epoch is still raised above the highest epoch seen for the id.
  const stale = await initProducerId(client, 4, { producerId: first.producerId, producerEpoch: 0 });
  assert.deepEqual([stale.producerId, stale.producerEpoch], [first.producerId, 3]);
  // An id this broker never issued gets a fresh id.
  const foreign = await initProducerId(client, 4, { producerId: 987_654_321n, producerEpoch: 4 });
  assert.equal(foreign.errorCode, NONE);
  assert.notEqual(foreign.producerId, 987_654_321n);
  assert.equal(foreign.producerEpoch, 0);
  // An exhausted epoch gets a fresh id too.
  const exhausted = await initProducerId(client, 4, { producerId: first.producerId, producerEpoch: 32_766 });
  assert.notEqual(exhausted.producerId, first.producerId);
  assert.equal(exhausted.producerEpoch, 0);
  // Half a pair is malformed.
  assert.equal((await initProducerId(client, 3, { producerId: first.producerId, producerEpoch: -1 })).errorCode, INVALID_REQUEST);
  assert.equal((await initProducerId(client, 3, { producerId: -1n, producerEpoch: 0 })).errorCode, INVALID_REQUEST);
});

test('a retried batch gets its original offset back and is not appended again', async () => {
  const producer = await newProducer(client);
  const first = await produce(client, 'retries', 0, idempotentBatch(['a', 'b', 'c'], producer, 0));
  assert.deepEqual([first.errorCode, first.baseOffset], [NONE, 0n]);
  const second = await produce(client, 'retries', 0, idempotentBatch(['d', 'e'], producer, 3));
  assert.deepEqual([second.errorCode, second.baseOffset], [NONE, 3n]);
  // Both retried, in any order, in any produce version.
  for (const version of [3, 5, 7]) {
    const retrySecond = await produce(client, 'retries', 0, idempotentBatch(['d', 'e'], producer, 3), version);
    assert.deepEqual([retrySecond.errorCode, retrySecond.baseOffset], [NONE, 3n], `v${version}`);
    const retryFirst = await produce(client, 'retries', 0, idempotentBatch(['a', 'b', 'c'], producer, 0), version);
    assert.deepEqual([retryFirst.errorCode, retryFirst.baseOffset], [NONE, 0n], `v${version}`);
  }
  assert.equal(await listOffset(client, 'retries', 0, -1n), 5n, 'nothing appended twice');
  const third = await produce(client, 'retries', 0, idempotentBatch(['f'], producer, 5));
  assert.deepEqual([third.errorCode, third.baseOffset], [NONE, 5n]);
  const values = (await readPartition(client, 'retries', 0)).map((r) => r.value);
  assert.deepEqual(values, ['a', 'b', 'c', 'd', 'e', 'f']);
});

test('the last five batches are remembered; an older retry is out of order', async () => {
  const producer = await newProducer(client);
  for (let i = 0; i < 7; i++) {
    const result = await produce(client, 'five', 0, idempotentBatch([`v${i}`], producer, i));
    assert.deepEqual([result.errorCode, result.baseOffset], [NONE, BigInt(i)]);
  }
  for (let i = 2; i < 7; i++) {
    const retry = await produce(client, 'five', 0, idempotentBatch([`v${i}`], producer, i));
    assert.deepEqual([retry.errorCode, retry.baseOffset], [NONE, BigInt(i)], `retry of batch ${i}`);
  }
  const tooOld = await produce(client, 'five', 0, idempotentBatch(['v1'], producer, 1));
  assert.equal(tooOld.errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(tooOld.baseOffset, -1n);
  assert.equal(await listOffset(client, 'five', 0, -1n), 7n);
});

test('a gap is OUT_OF_ORDER_SEQUENCE_NUMBER and appends nothing', async () => {
  const producer = await newProducer(client);
  assert.equal((await produce(client, 'gaps', 0, idempotentBatch(['a', 'b'], producer, 0))).errorCode, NONE);
  const gap = await produce(client, 'gaps', 0, idempotentBatch(['x'], producer, 3));
  assert.deepEqual([gap.errorCode, gap.baseOffset], [OUT_OF_ORDER_SEQUENCE_NUMBER, -1n]);
  // A batch that overlaps the last one without matching it is no retry either.
  assert.equal((await produce(client, 'gaps', 0, idempotentBatch(['b', 'c'], producer, 1))).errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(await listOffset(client, 'gaps', 0, -1n), 2n);
  const next = await produce(client, 'gaps', 0, idempotentBatch(['c'], producer, 2));
  assert.deepEqual([next.errorCode, next.baseOffset], [NONE, 2n]);
});

test('epochs: a new epoch starts at sequence 0, an older epoch is INVALID_PRODUCER_EPOCH', async () => {
  const producer = await newProducer(client);
  assert.equal((await produce(client, 'epochs', 0, idempotentBatch(['e0-0', 'e0-1'], producer, 0))).errorCode, NONE);
  const bumped = await initProducerId(client, 4, { producerId: BigInt(producer.producerId), producerEpoch: producer.epoch });
  const next = { producerId: producer.producerId, epoch: bumped.producerEpoch };
  assert.equal(next.epoch, 1);
  const notFromZero = await produce(client, 'epochs', 0, idempotentBatch(['e1-5'], next, 5));
  assert.equal(notFromZero.errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER);
  const fromZero = await produce(client, 'epochs', 0, idempotentBatch(['e1-0'], next, 0));
  assert.deepEqual([fromZero.errorCode, fromZero.baseOffset], [NONE, 2n]);
  const stale = await produce(client, 'epochs', 0, idempotentBatch(['e0-2'], producer, 2));
  assert.deepEqual([stale.errorCode, stale.baseOffset], [INVALID_PRODUCER_EPOCH, -1n]);
  // Even a retry of a batch of the old epoch is refused, not answered.
  assert.equal((await produce(client, 'epochs', 0, idempotentBatch(['e0-0', 'e0-1'], producer, 0))).errorCode, INVALID_PRODUCER_EPOCH);
  assert.equal(await listOffset(client, 'epochs', 0, -1n), 3n);
});

test('a producer the partition has no state for may start at any sequence (Kafka 2.5+, KIP-360)', async () => {
  const producer = await newProducer(client);
  const first = await produce(client, 'unknown-producer', 0, idempotentBatch(['x'], producer, 1234));
  assert.deepEqual([first.errorCode, first.baseOffset], [NONE, 0n]);
  assert.equal((await produce(client, 'unknown-producer', 0, idempotentBatch(['y'], producer, 1235))).errorCode, NONE);
  assert.equal((await produce(client, 'unknown-producer', 0, idempotentBatch(['z'], producer, 1237))).errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER);
});

test('sequence numbers wrap from Int32 max to 0', async () => {
  const producer = await newProducer(client);
  const start = intMax - 1;
  const wrapping = await produce(client, 'wrap', 0, idempotentBatch(['max-1', 'max', 'zero'], producer, start));
  assert.equal(wrapping.errorCode, NONE);
  const retry = await produce(client, 'wrap', 0, idempotentBatch(['max-1', 'max', 'zero'], producer, start));
  assert.deepEqual([retry.errorCode, retry.baseOffset], [NONE, 0n], 'a retry of the wrapping batch is recognised');
  const after = await produce(client, 'wrap', 0, idempotentBatch(['one'], producer, 1));
  assert.deepEqual([after.errorCode, after.baseOffset], [NONE, 3n]);
  assert.equal((await produce(client, 'wrap', 0, idempotentBatch(['zero-again'], producer, 0))).errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER);
  const exactly = await newProducer(client);
  assert.equal((await produce(client, 'wrap', 0, idempotentBatch(['max'], exactly, intMax))).errorCode, NONE);
  assert.equal((await produce(client, 'wrap', 0, idempotentBatch(['zero'], exactly, 0))).errorCode, NONE);
});

test('a batch with a producer id but no sequence is INVALID_RECORD; a transactional batch is refused', async () => {
  const producer = await newProducer(client);
  assert.equal((await produce(client, 'malformed', 0, idempotentBatch(['x'], producer, -1))).errorCode, INVALID_RECORD);
  const transactional = idempotentBatch(['t'], producer, 0);
  transactional.writeUInt16BE(transactional.readUInt16BE(attributesAt) | transactionalFlag, attributesAt);
  transactional.writeUInt32BE(crc32c(transactional.subarray(attributesAt)), crcAt);
  assert.equal((await produce(client, 'malformed', 0, transactional)).errorCode, TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  const withTransactionalId = await client.request('Produce', 7, {
    transactionalId: 'txn',
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: 'malformed', partitionData: [{ index: 0, records: idempotentBatch(['u'], producer, 0) }] }],
  });
  const code = (withTransactionalId.responses as { partitionResponses: { errorCode: number }[] }[])[0]!.partitionResponses[0]!.errorCode;
  assert.equal(code, TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  assert.equal(await listOffset(client, 'malformed', 0, -1n), 0n);
});

test('several batches of one producer in one request are checked in order, and a retried request returns its first offset', async () => {
  const producer = await newProducer(client);
  const records = Buffer.concat([idempotentBatch(['a'], producer, 0), idempotentBatch(['b', 'c'], producer, 1)]);
  const first = await produce(client, 'multi', 0, records);
  assert.deepEqual([first.errorCode, first.baseOffset], [NONE, 0n]);
  const retry = await produce(client, 'multi', 0, records);
  assert.deepEqual([retry.errorCode, retry.baseOffset], [NONE, 0n]);
  const gapInside = Buffer.concat([idempotentBatch(['d'], producer, 3), idempotentBatch(['e'], producer, 5)]);
  assert.equal((await produce(client, 'multi', 0, gapInside)).errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(await listOffset(client, 'multi', 0, -1n), 3n, 'a refused request appends none of its batches');
});

test('pipelined produce requests of one connection reach each partition in the order sent', async () => {
  await createTopic(client, 'ordered', 1);
  const pipelined = await RawClient.connect({ port: broker.listeners[0]!.port });
  try {
    const producer = await newProducer(pipelined);
    const count = 50;
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      // Every fifth request also names a topic that does not exist yet: its auto-creation makes that
      // request wait, and the requests behind it must still reach 'ordered' after it.
      const topicData = [
        ...(i % 5 === 0 ? [{ name: `ordered-auto-${i}`, partitionData: [{ index: 0, records: idempotentBatch([`auto-${i}`], producer, 0) }] }] : []),
        { name: 'ordered', partitionData: [{ index: 0, records: idempotentBatch([`v${i}`], producer, i) }] },
      ];
      ids.push(pipelined.send('Produce', 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData }));
    }
    for (let i = 0; i < count; i++) {
      const response = await pipelined.readResponse('Produce', 7);
      assert.equal(response?.correlationId, ids[i]);
      const topics = response!.responses as { name: string; partitionResponses: { errorCode: number; baseOffset: bigint }[] }[];
      const ordered = topics.find((t) => t.name === 'ordered')!.partitionResponses[0]!;
      assert.deepEqual([ordered.errorCode, ordered.baseOffset], [NONE, BigInt(i)], `request ${i}`);
    }
  } finally {
    pipelined.close();
  }
});

test('producers idle past producer.id.expiration.ms are forgotten', async () => {
  const short = await startBroker({ storage: 'memory', config: { 'producer.id.expiration.ms': 150, 'producer.id.expiration.check.interval.ms': 25 }, log: () => {} });
  const c = await RawClient.connect({ port: short.listeners[0]!.port });
  try {
    const producer = await newProducer(c);
    assert.equal((await produce(c, 'expiring', 0, idempotentBatch(['a'], producer, 0))).errorCode, NONE);
    assert.equal((await produce(c, 'expiring', 0, idempotentBatch(['a'], producer, 0))).baseOffset, 0n, 'still remembered');
    await new Promise((resolve) => setTimeout(resolve, 400));
    // Forgotten: the same batch is appended again, and any sequence is accepted.
    const again = await produce(c, 'expiring', 0, idempotentBatch(['a'], producer, 0));
    assert.deepEqual([again.errorCode, again.baseOffset], [NONE, 1n]);
  } finally {
    c.close();
    await short.close();
  }
});

test('a partition tracks at most inkwell.producer.ids.per.partition.max producers, forgetting the least recently active', async () => {
  const small = await startBroker({ storage: 'memory', config: { 'inkwell.producer.ids.per.partition.max': 2 }, log: () => {} });
  const c = await RawClient.connect({ port: small.listeners[0]!.port });
  try {
    const [p1, p2, p3] = [await newProducer(c), await newProducer(c), await newProducer(c)];
    assert.equal((await produce(c, 'bounded', 0, idempotentBatch(['p1'], p1, 0))).baseOffset, 0n);
    assert.equal((await produce(c, 'bounded', 0, idempotentBatch(['p2'], p2, 0))).baseOffset, 1n);
    assert.equal((await produce(c, 'bounded', 0, idempotentBatch(['p1-again'], p1, 1))).baseOffset, 2n, 'p1 is now the most recent');
    assert.equal((await produce(c, 'bounded', 0, idempotentBatch(['p3'], p3, 0))).baseOffset, 3n, 'p2 is evicted');
    assert.equal((await produce(c, 'bounded', 0, idempotentBatch(['p1-again'], p1, 1))).baseOffset, 2n, 'p1 is remembered');
    assert.equal((await produce(c, 'bounded', 0, idempotentBatch(['p2'], p2, 0))).baseOffset, 4n, 'p2 was forgotten: appended again');
  } finally {
    c.close();
    await small.close();
  }
});
