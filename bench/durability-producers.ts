/**
 * The two producers of the crash script, each writing its own numbered values ("py-17",
 * "js-17") to partition number % partitions, with acks=all, and recording which values the
 * broker acknowledged:
 *
 * - confluent-kafka-python (librdkafka) under /usr/bin/python3, as a child process that prints
 *   a line per delivery report;
 * - kafkajs, in this process, sending batches one at a time and resending a batch that failed.
 *
 * Without idempotence both keep one request in flight, so that retries cannot reorder values;
 * duplicates are then possible (a request that was written but whose answer was lost is sent
 * again), loss never is.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Kafka, logLevel, type Producer } from 'kafkajs';

export const systemPython = '/usr/bin/python3';

/** Values one producer may have sent and not yet had answered (librdkafka's queue bound). */
const pythonQueueMessagesMax = 20_000;
/** Values per kafkajs send. */
const kafkajsBatchValues = 50;
/** How long a stopping kafkajs producer keeps resending a batch not yet acknowledged. */
const stopWaitMs = 60_000;
/** How long one kafkajs send may take (its own retries included) before it counts as failed. */
const kafkajsSendTimeoutMs = 45_000;
/** Pause between a failed kafkajs send and its retry. */
const kafkajsRetryPauseMs = 100;

export interface RunningProducer {
  readonly name: string;
  /** Values acknowledged, with the partition each went to. */
  readonly acknowledged: Map<string, number>;
  /** Values sent (acknowledged or not). */
  sent(): number;
  /** Stops producing, waits for outstanding answers (bounded), and resolves when done. */
  stop(): Promise<void>;
}

const pythonProducer = String.raw`
import sys, threading, time
from confluent_kafka import Producer
bootstrap, topic, partitions, idempotent, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == 'true', int(sys.argv[5])
conf = {
    'bootstrap.servers': bootstrap, 'acks': 'all', 'enable.idempotence': idempotent,
    'message.timeout.ms': 300000, 'retry.backoff.ms': 100, 'reconnect.backoff.ms': 50, 'reconnect.backoff.max.ms': 500,
    'linger.ms': 5, 'queue.buffering.max.messages': ${pythonQueueMessagesMax}, 'topic.metadata.refresh.interval.ms': 1000,
}
if not idempotent:
    conf['max.in.flight.requests.per.connection'] = 1
producer = Producer(conf)
stop = threading.Event()
def watch():
    sys.stdin.read()
    stop.set()
threading.Thread(target=watch, daemon=True).start()
out = sys.stdout
def report(err, msg):
    if err is None:
        out.write('ACK %s %d %d\n' % (msg.value().decode(), msg.partition(), msg.offset()))
    else:
        out.write('FAIL %s %s\n' % (msg.value().decode(), err.name()))
n = 0
started = time.time()
while not stop.is_set():
    if n >= rate * (time.time() - started):
        producer.poll(0.005)
        continue
    try:
        producer.produce(topic, ('py-%d' % n).encode(), partition=n % partitions, on_delivery=report)
        n += 1
    except BufferError:
        producer.poll(0.05)
    producer.poll(0)
left = producer.flush(120)
out.write('DONE %d %d\n' % (n, left))
out.flush()
`;

export function startPythonProducer(bootstrap: string, topic: string, partitions: number, idempotent: boolean, ratePerSecond: number): RunningProducer {
  const child = spawn(systemPython, ['-u', '-c', pythonProducer, bootstrap, topic, String(partitions), String(idempotent), String(ratePerSecond)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const acknowledged = new Map<string, number>();
  let sent = 0;
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const [kind, value, partition] = line.split(' ');
    if (kind === 'ACK') acknowledged.set(value!, Number(partition));
    else if (kind === 'DONE') sent = Number(value);
  });
  const exited = once(child, 'exit');
  return {
    name: 'confluent-kafka-python',
    acknowledged,
    sent: () => sent,
    async stop() {
      child.stdin!.end();
      const [code] = (await exited) as [number | null];
      if (code !== 0) throw new Error(`the python producer exited ${code}:\n${stderr}`);
    },
  };
}

export function startKafkajsProducer(bootstrap: string, topic: string, partitions: number, idempotent: boolean, ratePerSecond: number): RunningProducer {
  const kafka = new Kafka({ clientId: 'durability-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING, connectionTimeout: 1000, requestTimeout: 10_000, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });
  const producer: Producer = kafka.producer({ idempotent, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });
  const acknowledged = new Map<string, number>();
  let next = 0;
  let stopping = false;
  let stoppedAt = 0;
  const started = Date.now();
  const loop = (async () => {
    let connected = false;
    let batch: { value: string; partition: number }[] = [];
    while (!stopping || batch.length > 0) {
      if (!connected) {
        try {
          await producer.connect();
          connected = true;
        } catch {
          await pause(kafkajsRetryPauseMs);
          if (stopping) break;
          continue;
        }
      }
      if (batch.length === 0) {
        const allowed = (ratePerSecond * (Date.now() - started)) / 1000;
        if (next + kafkajsBatchValues > allowed) {
          await pause(10);
          continue;
        }
        for (let i = 0; i < kafkajsBatchValues; i++, next++) batch.push({ value: `js-${next}`, partition: next % partitions });
      }
      try {
        await withTimeout(producer.send({ topic, acks: -1, timeout: 10_000, messages: batch }), kafkajsSendTimeoutMs, 'kafkajs send');
        for (const message of batch) acknowledged.set(message.value, message.partition);
        batch = [];
      } catch (error) {
        if (process.env.DURABILITY_DEBUG) console.error(`kafkajs send of ${batch[0]!.value}.. failed: ${(error as Error).name}: ${(error as Error).message}`);
        // Not acknowledged: send the same values again (they may be in the log already).
        await pause(kafkajsRetryPauseMs);
        if (stopping && Date.now() - stoppedAt > stopWaitMs) break;
      }
    }
    await withTimeout(producer.disconnect(), kafkajsSendTimeoutMs, 'kafkajs disconnect').catch(() => {});
  })();
  return {
    name: 'kafkajs',
    acknowledged,
    sent: () => next,
    async stop() {
      stopping = true;
      stoppedAt = Date.now();
      await loop;
    },
  };
}

/** `promise`, or a rejection once `ms` have passed (the harness never waits on a client forever). */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
