/**
 * Crash test with real clients: `inkwell serve` runs as a child process on a data directory
 * with the default durability settings; confluent-kafka-python (acks=all) and kafkajs (acks -1)
 * produce numbered values to 8 partitions while the broker is killed with SIGKILL at random
 * moments and started again, `--cycles` times. Then everything is read back with kcat and
 * checked against what the broker acknowledged:
 *
 *   acked N, read back N, lost 0, duplicated 0, out of order 0
 *
 * lost: acknowledged values that are not in the log (must be 0). duplicated: extra copies of a
 * value (expected without idempotence, when a request was written but its answer was lost; must
 * be 0 with it). out of order: values of one producer and partition stored after a later one of
 * theirs (must be 0). The producers use idempotence when the broker advertises InitProducerId
 * (API key 22). Exits 1 when a check fails.
 *
 *   node dist/bench/durability-crash.js [--cycles 20] [--partitions 8] [--rate 2000] [--seed N]
 *                                       [--idempotence auto|on|off] [--keep]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, advertisedApiKeys, freePort } from './durability-broker.js';
import { startKafkajsProducer, startPythonProducer, type RunningProducer } from './durability-producers.js';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '20' },
    partitions: { type: 'string', default: '8' },
    rate: { type: 'string', default: '2000' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    idempotence: { type: 'string', default: 'auto' },
    keep: { type: 'boolean', default: false },
  },
});
if (!['auto', 'on', 'off'].includes(values.idempotence)) {
  console.error('--idempotence must be auto, on or off');
  process.exit(2);
}
const cycles = Number(values.cycles);
const partitions = Number(values.partitions);
const ratePerSecond = Number(values.rate);
for (const [name, value] of [['cycles', cycles], ['partitions', partitions], ['rate', ratePerSecond]] as const) {
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
}
const topic = 'crash';
/** Time the producers run between two kills: uniformly random in this range. */
const runMsMin = 300;
const runMsMax = 1500;
/** Upper bound on reading everything back. */
const readBackTimeoutMs = 120_000;
const initProducerIdKey = 22;

/** A small deterministic generator, so that a failing run can be repeated with --seed. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 0x1_0000_0000;
  };
}

async function createTopic(bootstrap: string): Promise<void> {
  const admin = new Kafka({ clientId: 'durability-admin', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

interface Stored {
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
}

/** Every record of the topic, with kcat (librdkafka), from the beginning to the end of each partition. */
function readBack(bootstrap: string): Promise<Stored[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p %o %s\\n'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), readBackTimeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`kcat exited ${code}: ${stderr}`));
      const records = Buffer.concat(chunks)
        .toString('latin1')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => {
          const [partition, offset, value] = line.split(' ');
          return { partition: Number(partition), offset: Number(offset), value: value! };
        });
      resolve(records);
    });
  });
}

interface Tally {
  acked: number;
  readBack: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  /** Offsets missing inside a partition (the log has none; a reader skipping some would show here). */
  gaps: number;
  /** Values in the log whose acknowledgement was lost with the broker (written, not acknowledged). */
  unacknowledgedPresent: number;
  lostExamples: string[];
}

function tally(producers: RunningProducer[], stored: Stored[]): Tally {
  const acked = new Map<string, number>();
  for (const producer of producers) for (const [value, partition] of producer.acknowledged) acked.set(value, partition);
  const seen = new Map<string, number>();
  let outOfOrder = 0;
  let gaps = 0;
  const byPartition = new Map<number, Stored[]>();
  for (const record of stored) {
    seen.set(record.value, (seen.get(record.value) ?? 0) + 1);
    let records = byPartition.get(record.partition);
    if (records === undefined) byPartition.set(record.partition, (records = []));
    records.push(record);
  }
  for (const records of byPartition.values()) {
    records.sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < records.length; i++) if (records[i]!.offset !== records[i - 1]!.offset + 1) gaps++;
    // Per producer, the first copy of each value must come in the order the values were sent.
    const highest = new Map<string, number>();
    const counted = new Set<string>();
    for (const record of records) {
      if (counted.has(record.value)) continue;
      counted.add(record.value);
      const [producer, number] = record.value.split('-');
      const sequence = Number(number);
      if (sequence < (highest.get(producer!) ?? -1)) outOfOrder++;
      highest.set(producer!, Math.max(sequence, highest.get(producer!) ?? -1));
    }
  }
  const lostValues = [...acked.keys()].filter((value) => !seen.has(value));
  let duplicated = 0;
  for (const count of seen.values()) duplicated += count - 1;
  return {
    acked: acked.size,
    readBack: seen.size,
    lost: lostValues.length,
    duplicated,
    outOfOrder,
    gaps,
    unacknowledgedPresent: [...seen.keys()].filter((value) => !acked.has(value)).length,
    lostExamples: lostValues.slice(0, 10),
  };
}

async function main(): Promise<number> {
  const seed = Number(values.seed);
  const next = random(seed);
  const work = mkdtempSync(join(tmpdir(), 'inkwell-crash-'));
  const broker = new BrokerProcess({ dataDir: join(work, 'data'), port: await freePort(), settings: [`num.partitions=${partitions}`, 'auto.create.topics.enable=false'] });
  const producers: RunningProducer[] = [];
  const startupMs: number[] = [];
  try {
    startupMs.push(await broker.start());
    const advertised = (await advertisedApiKeys(Number(broker.bootstrap.split(':')[1]))).has(initProducerIdKey);
    const idempotent = values.idempotence === 'auto' ? advertised : values.idempotence === 'on';
    await createTopic(broker.bootstrap);
    console.log(`crash test: ${cycles} SIGKILL cycles, ${partitions} partitions, ${ratePerSecond} values/s per producer, idempotence ${idempotent ? 'on' : 'off'} (InitProducerId ${advertised ? '' : 'not '}advertised), seed ${seed}`);
    producers.push(startPythonProducer(broker.bootstrap, topic, partitions, idempotent, ratePerSecond));
    producers.push(startKafkajsProducer(broker.bootstrap, topic, partitions, idempotent, ratePerSecond));
    for (let cycle = 1; cycle <= cycles; cycle++) {
      await new Promise((resolve) => setTimeout(resolve, runMsMin + next() * (runMsMax - runMsMin)));
      await broker.kill();
      startupMs.push(await broker.start());
      const acked = producers.reduce((sum, producer) => sum + producer.acknowledged.size, 0);
      console.log(`cycle ${cycle}: killed and restarted in ${startupMs.at(-1)!.toFixed(0)} ms; ${acked} values acknowledged so far`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const producer of producers) await producer.stop();
    const stored = await readBack(broker.bootstrap);
    const result = tally(producers, stored);
    await broker.stop();
    console.log(`producers sent: ${producers.map((p) => `${p.name} ${p.sent()}`).join(', ')}; ${result.unacknowledgedPresent} values written but not acknowledged; ${result.gaps} offset gaps`);
    console.log(`restarts: median ${median(startupMs.slice(1)).toFixed(0)} ms, max ${Math.max(...startupMs.slice(1)).toFixed(0)} ms (process start, recovery, listening)`);
    console.log(`acked ${result.acked}, read back ${result.readBack}, lost ${result.lost}, duplicated ${result.duplicated}, out of order ${result.outOfOrder}`);
    if (result.lost > 0) console.log(`lost values, first ones: ${result.lostExamples.join(', ')}`);
    const failed = result.lost > 0 || result.outOfOrder > 0 || result.gaps > 0 || (idempotent && result.duplicated > 0) || result.acked === 0;
    if (failed) console.log(`FAILED; broker log tail:\n${broker.stderr.slice(-30).join('\n')}`);
    return failed ? 1 : 0;
  } finally {
    await broker.kill().catch(() => {});
    if (values.keep) console.log(`data directory kept: ${join(work, 'data')}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)]!;
}

// A signal ends the script through process.exit, whose 'exit' handlers kill the broker.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`crash test failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
