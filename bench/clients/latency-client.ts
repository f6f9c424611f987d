/**
 * End-to-end latency at a fixed rate (a child process of the suite). One connection produces
 * with acks=all at `--rate` records per second; another long-polls Fetch for the same
 * partition. Each record's value starts with the producer's monotonic clock (ns, int64) at the
 * moment its batch was built; the consumer subtracts it from its own clock when the record
 * arrives. Both run in this process, so they share the clock.
 *
 * The producer wakes every millisecond and sends, as one batch, every record the schedule says
 * is due (at most `--in-flight` requests outstanding, like librdkafka's default of 5); when it
 * falls behind the schedule the lag is reported, so a broker that cannot keep up shows it rather
 * than hiding it in a lower rate. Records sent during the warm-up are not counted.
 *
 *   node dist/bench/clients/latency-client.js --bootstrap H:P [--ca F] --rate 10000 --seconds 10
 */
import { parseArgs } from 'node:util';
import { buildBatch } from '../../src/protocol/record-batch.js';
import { summarizeLatencies, type LatencySummary } from '../stats.js';
import { WireConnection } from '../wire/connection.js';
import { awaitTopic, checkProduce, fetchRequest, fetchedRecords, produceRequest } from '../wire/requests.js';
import { visitRecords } from '../wire/records.js';
import { mark, report, runChild } from '../child-protocol.js';
import { endpointFlags, endpointFrom, wholeNumber } from './child-args.js';

export interface LatencyResult {
  readonly rate: number;
  readonly seconds: number;
  readonly sent: number;
  readonly received: number;
  /** Records sent after the warm-up, whose latency counts. */
  readonly measured: number;
  readonly achievedRate: number;
  /** Produce to consume, milliseconds. */
  readonly latencyMs: LatencySummary;
  /** Produce request to its acknowledgement, milliseconds. */
  readonly ackMs: LatencySummary;
  /** How far behind its schedule the producer fell at worst, milliseconds. */
  readonly scheduleLagMaxMs: number;
}

const { values } = parseArgs({
  options: {
    ...endpointFlags,
    rate: { type: 'string' },
    seconds: { type: 'string' },
    'warmup-seconds': { type: 'string' },
    'record-bytes': { type: 'string' },
    'fetch-wait-ms': { type: 'string' },
    'in-flight': { type: 'string' },
    topic: { type: 'string' },
  },
});

const nowNs = () => process.hrtime.bigint();
const msSince = (stamp: bigint, now: bigint) => Number(now - stamp) / 1e6;

async function main(): Promise<void> {
  const endpoint = endpointFrom(values);
  const rate = wholeNumber(values, 'rate');
  const seconds = wholeNumber(values, 'seconds');
  const warmupSeconds = Number(values['warmup-seconds'] ?? '1');
  const recordBytes = Math.max(8, wholeNumber(values, 'record-bytes', 100));
  const fetchWaitMs = wholeNumber(values, 'fetch-wait-ms', 500);
  const inFlightMax = wholeNumber(values, 'in-flight', 5);
  const topic = values.topic ?? 'latency';
  const total = Math.round(rate * seconds);

  const producer = await WireConnection.open(endpoint);
  const consumer = await WireConnection.open(endpoint);
  await awaitTopic(producer, topic);
  await mark('connected');

  const latencies = new Float64Array(total);
  let measured = 0;
  let received = 0;
  const acks: number[] = [];
  let sent = 0;
  let inFlight = 0;
  let scheduleLagMaxMs = 0;
  let failure: Error | null = null;
  const started = nowNs();
  const warmupEnds = started + BigInt(Math.round(warmupSeconds * 1e9));

  // Consumer: long-poll from offset 0 until every sent record has come back.
  let producing = true;
  const consumed = (async () => {
    let offset = 0;
    while (producing || received < sent) {
      const frame = await consumer.sendEncoded(fetchRequest(topic, 0, offset, fetchWaitMs, 8 * 1024 * 1024));
      const arrived = nowNs();
      offset = visitRecords(fetchedRecords(frame), offset, (_offset, data, valueAt) => {
        received++;
        const stamp = data.readBigInt64BE(valueAt);
        if (stamp >= warmupEnds && measured < latencies.length) latencies[measured++] = msSince(stamp, arrived);
      });
    }
  })();

  // Producer: every millisecond, send what the schedule says is due.
  const batchBytesMax = 900_000;
  const padding = Buffer.alloc(recordBytes - 8);
  await new Promise<void>((resolve) => {
    const tick = () => {
      if (failure) return resolve();
      const now = nowNs();
      const elapsed = Number(now - started) / 1e9;
      const due = Math.min(total, Math.floor(elapsed * rate));
      if (due > sent && inFlight < inFlightMax) {
        const behindMs = ((due - sent - 1) / rate) * 1000;
        if (behindMs > scheduleLagMaxMs) scheduleLagMaxMs = behindMs;
        // At most ~900 kB per batch: a producer far enough behind at 100,000 records/s once
        // sent 10,000 records of 100 B in one batch, over the broker's 1 MiB message.max.bytes.
        const count = Math.min(due - sent, Math.floor(batchBytesMax / (recordBytes + 16)));
        const stamp = Buffer.allocUnsafe(8);
        stamp.writeBigInt64BE(nowNs(), 0);
        const value = Buffer.concat([stamp, padding]);
        const batch = buildBatch(Array.from({ length: count }, () => ({ key: null, value })));
        const sentAt = nowNs();
        sent += count;
        inFlight++;
        producer.sendEncoded(produceRequest(topic, 0, batch, -1)).then(
          (frame) => {
            inFlight--;
            acks.push(msSince(sentAt, nowNs()));
            try {
              checkProduce(frame);
            } catch (error) {
              failure ??= error as Error;
            }
          },
          (error: unknown) => {
            inFlight--;
            failure ??= error as Error;
          },
        );
      }
      if (sent >= total) return resolve();
      setTimeout(tick, 1);
    };
    tick();
  });
  producing = false;
  const elapsedSeconds = Number(nowNs() - started) / 1e9;
  const deadline = Date.now() + 30_000;
  while (inFlight > 0 && !failure && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  await Promise.race([consumed, new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())))]);
  if (failure) throw failure;
  if (received < sent) throw new Error(`only ${received} of ${sent} records came back within 30 s`);
  producer.close();
  consumer.close();
  const result: LatencyResult = {
    rate,
    seconds: elapsedSeconds,
    sent,
    received,
    measured,
    achievedRate: sent / elapsedSeconds,
    latencyMs: summarizeLatencies(latencies.subarray(0, measured)),
    ackMs: summarizeLatencies(Float64Array.from(acks)),
    scheduleLagMaxMs,
  };
  report(result);
}

runChild(main);
