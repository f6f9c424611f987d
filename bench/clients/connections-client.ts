/**
 * Many connections from one process (a child of the suite), in two modes:
 *
 * - `produce`: opens `--connections` connections, then every connection produces its share of
 *   `--records` records in batches of up to `--batch-records` (acks=all, up to `--in-flight`
 *   requests outstanding per connection), spread over the topic's partitions. Each connection
 *   sends one pre-encoded request again and again, so the client costs little.
 * - `idle`: opens the connections, sends one ApiVersions on each (so the broker has set each one
 *   up completely), then holds them idle for `--hold-seconds`.
 *
 * Phase boundaries are marked so the suite can read the broker's CPU and memory between them.
 */
import { parseArgs } from 'node:util';
import { buildBatch } from '../../src/protocol/record-batch.js';
import { encodeRequest, WireConnection } from '../wire/connection.js';
import { awaitTopic, checkProduce, produceRequest } from '../wire/requests.js';
import { mark, report, runChild } from '../child-protocol.js';
import { endpointFlags, endpointFrom, wholeNumber } from './child-args.js';

export interface ConnectionsResult {
  readonly connections: number;
  readonly connectSeconds: number;
  readonly records: number;
  /** Produce phase (produce mode) or hold (idle mode). */
  readonly seconds: number;
}

const { values } = parseArgs({
  options: {
    ...endpointFlags,
    mode: { type: 'string' },
    connections: { type: 'string' },
    records: { type: 'string' },
    'record-bytes': { type: 'string' },
    'batch-records': { type: 'string' },
    'in-flight': { type: 'string' },
    'hold-seconds': { type: 'string' },
    'connect-concurrency': { type: 'string' },
    topic: { type: 'string' },
  },
});

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

/** Runs `work(i)` for i in [0, count) with at most `concurrency` at once. */
async function pool(count: number, concurrency: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

async function main(): Promise<void> {
  const endpoint = endpointFrom(values);
  const mode = values.mode ?? 'produce';
  const count = wholeNumber(values, 'connections');
  // More handshakes at once gain Inkwell nothing (they are CPU-bound) and overflow the mock's
  // listen backlog (lost SYNs are retried after a second).
  const concurrency = wholeNumber(values, 'connect-concurrency', 8);
  const topic = values.topic ?? 'connections';

  let partitions = 1;
  if (mode === 'produce') {
    const first = await WireConnection.open(endpoint);
    partitions = await awaitTopic(first, topic);
    first.close();
  }
  const connectStarted = process.hrtime.bigint();
  const connections: WireConnection[] = new Array(count);
  const apiVersions = encodeRequest('ApiVersions', 0, {});
  await pool(count, concurrency, async (i) => {
    connections[i] = await WireConnection.open(endpoint, 120_000);
    // Every client starts with ApiVersions; the mock, for one, is slow to take connections that send nothing.
    await connections[i]!.sendEncoded(apiVersions);
  });
  const connectSeconds = seconds(connectStarted);
  await mark('connected');

  if (mode === 'idle') {
    const hold = Number(values['hold-seconds'] ?? '2');
    const started = process.hrtime.bigint();
    await new Promise((resolve) => setTimeout(resolve, hold * 1000));
    const held = seconds(started);
    const alive = connections.filter((c) => c.socket.readyState === 'open').length;
    await mark('held');
    for (const connection of connections) connection.close();
    if (alive < count) throw new Error(`${count - alive} of ${count} idle connections were closed by the broker`);
    report({ connections: count, connectSeconds, records: 0, seconds: held } satisfies ConnectionsResult);
    return;
  }

  const records = wholeNumber(values, 'records');
  const recordBytes = wholeNumber(values, 'record-bytes', 100);
  const batchRecords = wholeNumber(values, 'batch-records', 1000);
  const inFlightMax = wholeNumber(values, 'in-flight', 4);
  const value = Buffer.alloc(recordBytes, 0x76);
  const started = process.hrtime.bigint();
  await Promise.all(
    connections.map(async (connection, i) => {
      let left = Math.floor(records / count) + (i < records % count ? 1 : 0);
      const partition = i % partitions;
      const batchOf = (size: number) => produceRequest(topic, partition, buildBatch(Array.from({ length: size }, () => ({ key: null, value }))), -1);
      const full = left >= batchRecords ? batchOf(batchRecords) : null;
      const inFlight = new Set<Promise<void>>();
      while (left > 0) {
        const size = Math.min(batchRecords, left);
        const request = size === batchRecords ? full! : batchOf(size);
        left -= size;
        const sent: Promise<void> = connection.sendEncoded(request).then(checkProduce);
        inFlight.add(sent);
        void sent.finally(() => inFlight.delete(sent)).catch(() => {});
        if (inFlight.size >= inFlightMax) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    }),
  );
  const produceSeconds = seconds(started);
  await mark('produced');
  for (const connection of connections) connection.close();
  report({ connections: count, connectSeconds, records, seconds: produceSeconds } satisfies ConnectionsResult);
}

runChild(main);
