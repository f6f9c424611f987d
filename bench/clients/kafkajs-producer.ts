/**
 * kafkajs 2.2.4 as a producer (a child process of the suite): `--records` records of
 * `--record-bytes` bytes, `--batch-records` per send() call, up to `--in-flight` sends
 * outstanding, acks=all, non-idempotent (the mock trips kafkajs's idempotent producer). One
 * record is sent first, untimed, so that connecting and fetching metadata are not timed.
 *
 * kafkajs has no consumer that works without consumer groups, which Inkwell does not have yet,
 * so this is produce only.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { mark, report, runChild } from '../child-protocol.js';
import { endpointFlags, wholeNumber } from './child-args.js';

export interface ProduceResult {
  readonly records: number;
  readonly seconds: number;
}

const { values } = parseArgs({
  options: {
    ...endpointFlags,
    records: { type: 'string' },
    'record-bytes': { type: 'string' },
    'batch-records': { type: 'string' },
    'in-flight': { type: 'string' },
    topic: { type: 'string' },
  },
});

async function main(): Promise<void> {
  const records = wholeNumber(values, 'records');
  const recordBytes = wholeNumber(values, 'record-bytes');
  const inFlightMax = wholeNumber(values, 'in-flight', 4);
  // About 512 KB per send() (a batch must stay under message.max.bytes, 1 MiB by default).
  const batchRecords = wholeNumber(values, 'batch-records', Math.max(1, Math.floor(512 * 1024 / (recordBytes + 32))));
  const topic = values.topic ?? 'kafkajs';
  const kafka = new Kafka({
    clientId: 'inkwell-bench-kafkajs',
    brokers: [values.bootstrap ?? ''],
    ssl: values.ca ? { ca: [readFileSync(values.ca, 'utf8')] } : false,
    connectionTimeout: 10_000,
    requestTimeout: 60_000,
    retry: { retries: 3, initialRetryTime: 100 },
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ idempotent: false, allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const value = Buffer.alloc(recordBytes, 0x76);
  await producer.send({ topic, acks: -1, messages: [{ value }] });
  await mark('connected');

  const started = process.hrtime.bigint();
  const messages = Array.from({ length: batchRecords }, () => ({ value }));
  let left = records;
  const inFlight = new Set<Promise<unknown>>();
  while (left > 0) {
    const size = Math.min(batchRecords, left);
    left -= size;
    const sent = producer.send({ topic, acks: -1, messages: size === batchRecords ? messages : messages.slice(0, size) });
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent)).catch(() => {});
    if (inFlight.size >= inFlightMax) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await mark('produced');
  await producer.disconnect();
  report({ records, seconds } satisfies ProduceResult);
}

runChild(main);
