/**
 * kafkajs 2.2.4 (a child process of the suite), with acks=all and no idempotence (the mock trips
 * kafkajs's idempotent producer):
 *
 * - `produce`: `--records` records of `--record-bytes`, about 512 KB per send() call, up to
 *   `--in-flight` calls outstanding. One record is sent first, untimed, so that connecting and
 *   fetching metadata are not timed.
 * - `consume`: a consumer in a fresh group, subscribed from the beginning, eachBatch, timed from
 *   the first batch to the end offsets the topic had at start (so the group join is not timed).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { mark, report, runChild } from '../child-protocol.js';
import { endpointFlags, wholeNumber, type ClientResult } from './child-args.js';

const { values } = parseArgs({
  options: {
    ...endpointFlags,
    mode: { type: 'string' },
    records: { type: 'string' },
    'record-bytes': { type: 'string' },
    'in-flight': { type: 'string' },
    topic: { type: 'string' },
  },
});

const topic = values.topic ?? 'bench-kafkajs';
const elapsed = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

function kafka(): Kafka {
  return new Kafka({
    clientId: 'inkwell-bench-kafkajs',
    brokers: [values.bootstrap ?? ''],
    ssl: values.ca ? { ca: [readFileSync(values.ca, 'utf8')] } : false,
    connectionTimeout: 10_000,
    requestTimeout: 60_000,
    retry: { retries: 3, initialRetryTime: 100 },
    logLevel: logLevel.NOTHING,
  });
}

async function produce(): Promise<void> {
  const records = wholeNumber(values, 'records');
  const recordBytes = wholeNumber(values, 'record-bytes');
  const inFlightMax = wholeNumber(values, 'in-flight', 4);
  // A batch must stay under message.max.bytes (1 MiB by default).
  const batchRecords = Math.max(1, Math.floor((512 * 1024) / (recordBytes + 32)));
  const producer = kafka().producer({ idempotent: false, allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const value = Buffer.alloc(recordBytes, 0x76);
  await producer.send({ topic, acks: -1, messages: [{ value }] });
  await mark('connected');

  const started = process.hrtime.bigint();
  const messages = Array.from({ length: batchRecords }, () => ({ value }));
  const inFlight = new Set<Promise<unknown>>();
  for (let left = records; left > 0; ) {
    const size = Math.min(batchRecords, left);
    left -= size;
    const sent = producer.send({ topic, acks: -1, messages: size === batchRecords ? messages : messages.slice(0, size) });
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent)).catch(() => {});
    if (inFlight.size >= inFlightMax) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const seconds = elapsed(started);
  await mark('produced');
  await producer.disconnect();
  report({ records, seconds } satisfies ClientResult);
}

async function consume(): Promise<void> {
  const client = kafka();
  const admin = client.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const ends = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  const expected = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  const consumer = client.consumer({ groupId: `bench-${process.pid}-${Date.now()}`, maxBytes: 50 * 1024 * 1024, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await mark('connected');
  let received = 0;
  let started: bigint | null = null;
  const done = new Set(offsets.filter((o) => Number(o.high) <= Number(o.low)).map((o) => o.partition));
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  if (done.size === offsets.length) finish();
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      started ??= process.hrtime.bigint();
      received += batch.messages.length;
      if (Number(batch.lastOffset()) + 1 >= ends.get(batch.partition)!) done.add(batch.partition);
      if (done.size === offsets.length) finish();
    },
  });
  await finished;
  const seconds = started === null ? 0 : elapsed(started);
  await mark('consumed');
  await consumer.disconnect();
  // The warm-up record of the produce run is read too.
  if (received < expected) throw new Error(`read ${received} of the ${expected} records the topic held`);
  report({ records: received, seconds } satisfies ClientResult);
}

runChild(values.mode === 'consume' ? consume : produce);
