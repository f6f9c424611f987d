/**
 * Our own client (src/client, exported from src/index.ts) as a child process of the suite:
 *
 * - `produce`: a Producer with its defaults (acks all, linger 5 ms, 256 KiB batches) except
 *   idempotence, which is off as it is for kcat and kafkajs; `--records` records of
 *   `--record-bytes`, handed over with sendBatch() 10,000 at a time, up to 4 calls outstanding,
 *   then flush(). One record is sent first, untimed, so connecting and metadata are not timed.
 * - `consume`: a Consumer with assign() of every partition from the earliest offset
 *   (read_uncommitted, no group), timed from the first records to the end offsets it read at
 *   start. CRC checks stay on, as by default.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Consumer, Producer, type ClientOptions } from '../../src/index.js';
import { mark, report, runChild } from '../child-protocol.js';
import { endpointFlags, wholeNumber, type ClientResult } from './child-args.js';

const { values } = parseArgs({
  options: {
    ...endpointFlags,
    mode: { type: 'string' },
    records: { type: 'string' },
    'record-bytes': { type: 'string' },
    topic: { type: 'string' },
    /** For librdkafka's mock, whose ListOffsets v4+ responses are malformed. */
    'list-offsets-max': { type: 'string' },
  },
});

function clientOptions(): ClientOptions {
  return {
    bootstrap: values.bootstrap ?? '',
    clientId: 'inkwell-bench-ours',
    tls: values.ca ? { ca: readFileSync(values.ca), servername: 'localhost' } : false,
    ...(values['list-offsets-max'] !== undefined ? { apiVersionCaps: { ListOffsets: wholeNumber(values, 'list-offsets-max') } } : {}),
  };
}

const topic = values.topic ?? 'bench-ours';
const elapsed = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

async function produce(): Promise<void> {
  const records = wholeNumber(values, 'records');
  const value = Buffer.alloc(wholeNumber(values, 'record-bytes'), 0x76);
  const producer = new Producer({ ...clientOptions(), idempotent: false });
  await producer.connect();
  await producer.send({ topic, value });
  await mark('connected');
  const started = process.hrtime.bigint();
  const chunk = 10_000;
  const full = Array.from({ length: Math.min(chunk, records) }, () => ({ topic, value }));
  const inFlight = new Set<Promise<unknown>>();
  for (let left = records; left > 0; ) {
    const size = Math.min(chunk, left);
    left -= size;
    const sent = producer.sendBatch(size === full.length ? full : full.slice(0, size));
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent)).catch(() => {});
    if (inFlight.size >= 4) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await producer.flush();
  const seconds = elapsed(started);
  await mark('produced');
  await producer.close();
  report({ records, seconds } satisfies ClientResult);
}

async function consume(): Promise<void> {
  const consumer = new Consumer({ ...clientOptions(), isolationLevel: 'read_uncommitted' });
  await consumer.connect();
  const partitions = await consumer.partitionCount(topic);
  const all = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
  const ends = new Map((await consumer.endOffsets(all)).map((e) => [e.partition, e.offset]));
  const starts = new Map((await consumer.beginningOffsets(all)).map((e) => [e.partition, e.offset]));
  const expected = all.reduce((sum, { partition }) => sum + (ends.get(partition)! - starts.get(partition)!), 0);
  await consumer.assign(all.map((p) => ({ ...p, offset: 'earliest' as const })));
  await mark('connected');
  let received = 0;
  let started: bigint | null = null;
  const done = new Set(all.filter(({ partition }) => ends.get(partition)! <= starts.get(partition)!).map((p) => p.partition));
  if (done.size < partitions) {
    await consumer.run({
      eachBatch: (batch) => {
        started ??= process.hrtime.bigint();
        received += batch.records.length;
        if (batch.nextOffset >= ends.get(batch.partition)!) done.add(batch.partition);
        if (done.size === partitions) consumer.stop();
      },
    });
  }
  const seconds = started === null ? 0 : elapsed(started);
  await mark('consumed');
  await consumer.close();
  if (received < expected) throw new Error(`read ${received} of the ${expected} records the topic held`);
  report({ records: received, seconds } satisfies ClientResult);
}

runChild(values.mode === 'consume' ? consume : produce);
