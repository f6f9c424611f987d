/**
 * Memory mode keeps the broker's memory bounded however much flows through it: `inkwell serve
 * --storage memory` runs as its own process, kcat produces `--gigabytes` of records to one topic
 * (the input file is streamed into kcat again and again) while a second kcat consumes the same
 * topic, and the broker's resident set is sampled from /proc every `sampleMs` (VmRSS) and read as
 * the kernel's high-water mark at the end (VmHWM). The topic's retention.bytes and the broker-wide
 * inkwell.memory.bytes.max bound what the log may hold; everything older is evicted and the log
 * start offset moves forward, so the consumer may be told OFFSET_OUT_OF_RANGE and skip ahead when
 * it falls behind (that is the memory mode's contract, and it is counted, not hidden).
 *
 *   node dist/bench/memory-rss.js [--gigabytes 10] [--record-bytes 10000] [--partitions 4]
 *                                 [--retention-mib 256] [--memory-max-mib 512]
 *
 * The documented run is the default (10 GB). Bounded means flat: the run fails (exit code 1) if
 * the resident set in the second half of the volume rises more than `growthFractionMax` above its
 * peak in the first half, or if the peak exceeds --rss-limit-mib (default: three times the memory
 * cap plus 512 MiB: dead buffers wait for the garbage collector, so a Node process churning
 * through Buffers holds about twice its live set).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync, createReadStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { freePort, repoRoot } from './durability-broker.js';
import { peakRssBytes, rssBytes, cpuSeconds } from './proc-stats.js';

const { values } = parseArgs({
  options: {
    gigabytes: { type: 'string', default: '10' },
    'record-bytes': { type: 'string', default: '10000' },
    partitions: { type: 'string', default: '4' },
    'retention-mib': { type: 'string', default: '256' },
    'memory-max-mib': { type: 'string', default: '512' },
    'rss-limit-mib': { type: 'string' },
    'no-consumer': { type: 'boolean', default: false },
  },
});

function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} must be a positive number, got ${value}`);
    process.exit(2);
  }
  return n;
}

const gigabytes = positive('gigabytes', values.gigabytes);
const recordBytes = Math.floor(positive('record-bytes', values['record-bytes']));
const partitions = Math.floor(positive('partitions', values.partitions));
const retentionMiB = positive('retention-mib', values['retention-mib']);
const memoryMaxMiB = positive('memory-max-mib', values['memory-max-mib']);
const rssLimitMiB = values['rss-limit-mib'] === undefined ? 3 * memoryMaxMiB + 512 : positive('rss-limit-mib', values['rss-limit-mib']);
/** How much the second half of the run may raise the first half's peak RSS. */
const growthFractionMax = 0.1;

const MiB = 1024 * 1024;
const topic = 'memory-rss';
/** The input file kcat reads (streamed repeatedly): about this many bytes. */
const inputFileBytes = 64 * MiB;
const sampleMs = 200;
const startTimeoutMs = 60_000;
/** Upper bound on the whole run. */
const runTimeoutMs = 60 * 60 * 1000;
/** How long the consumer may stay silent after the producer finished before it is stopped. */
const consumerDrainMs = 5000;

const totalBytes = gigabytes * 1e9;
const recordsPerFile = Math.max(1, Math.floor(inputFileBytes / recordBytes));
const fileRepeats = Math.ceil(totalBytes / (recordsPerFile * recordBytes));
const totalRecords = recordsPerFile * fileRepeats;

function writeInput(path: string): void {
  const line = Buffer.from(`${'m'.repeat(recordBytes - 1)}\n`);
  const perBlock = Math.max(1, Math.floor(MiB / line.length));
  const block = Buffer.concat(Array.from({ length: perBlock }, () => line));
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < recordsPerFile; written += perBlock) {
      writeSync(fd, block, 0, Math.min(perBlock, recordsPerFile - written) * line.length);
    }
  } finally {
    closeSync(fd);
  }
}

async function startBroker(port: number): Promise<ChildProcess> {
  const args = [
    join(repoRoot, 'dist/src/cli/main.js'), 'serve', '--storage', 'memory',
    '--listeners', `PLAINTEXT://127.0.0.1:${port}`,
    '--set', `num.partitions=${partitions}`,
    '--set', `log.retention.bytes=${Math.floor(retentionMiB * MiB)}`,
    '--set', `inkwell.memory.bytes.max=${Math.floor(memoryMaxMiB * MiB)}`,
    '--set', `message.max.bytes=${Math.max(1_048_588, recordBytes * 2)}`,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  process.once('exit', () => child.kill('SIGKILL'));
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`broker did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('listening ')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`broker exited during start-up (${code ?? signal}): ${stderr.slice(-10).join('\n')}`));
    });
  });
  return child;
}

interface Kcat {
  readonly child: ChildProcess;
  readonly done: Promise<number | null>;
  bytes: number;
  lines: number;
  lastDataAt: number;
  stderr: string;
}

function kcat(args: string[], stdin: 'pipe' | 'ignore'): Kcat {
  const child = spawn('kcat', args, { stdio: [stdin, 'pipe', 'pipe'] });
  const state: Kcat = { child, done: once(child, 'close').then(([code]) => code as number | null), bytes: 0, lines: 0, lastDataAt: performance.now(), stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => {
    state.bytes += chunk.length;
    state.lastDataAt = performance.now();
    for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) state.lines++;
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    state.stderr = (state.stderr + chunk.toString()).slice(-4000);
  });
  return state;
}

/** Streams the input file into the producer `repeats` times, honouring back-pressure. */
async function feed(producer: Kcat, file: string, repeats: number, progress: (done: number) => void): Promise<void> {
  const stdin = producer.child.stdin!;
  for (let i = 0; i < repeats; i++) {
    const stream = createReadStream(file, { highWaterMark: MiB });
    for await (const chunk of stream) {
      if (!stdin.write(chunk)) await once(stdin, 'drain');
    }
    progress(i + 1);
  }
  stdin.end();
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'inkwell-memory-rss-'));
  const deadline = setTimeout(() => {
    console.error(`memory bench: no result within ${runTimeoutMs / 60000} minutes`);
    process.exit(1);
  }, runTimeoutMs);
  let broker: ChildProcess | null = null;
  let consumer: Kcat | null = null;
  try {
    const input = join(work, 'input.txt');
    writeInput(input);
    const port = await freePort();
    broker = await startBroker(port);
    const pid = broker.pid!;
    const bootstrap = `127.0.0.1:${port}`;
    const cpuBefore = cpuSeconds(pid) ?? 0;
    const samples: number[] = [];
    const sampler = setInterval(() => {
      const rss = rssBytes(pid);
      if (rss !== null) samples.push(rss);
    }, sampleMs);

    const started = performance.now();
    const producer = kcat(['-P', '-b', bootstrap, '-t', topic, '-X', 'linger.ms=5', '-X', 'batch.size=1000000', '-X', 'acks=1', '-X', `message.max.bytes=${Math.max(1_000_000, recordBytes * 2)}`], 'pipe');
    // The consumer starts once the producer has created the topic (auto-created on first produce).
    await new Promise((r) => setTimeout(r, 1000));
    if (!values['no-consumer']) consumer = kcat(['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-q', '-u', '-X', 'auto.offset.reset=earliest', '-X', `fetch.message.max.bytes=${Math.max(1_048_576, recordBytes * 2)}`], 'ignore');
    const interactive = process.stderr.isTTY;
    /** The broker's RSS after each tenth of the volume: bounded means flat, a leak means a slope. */
    const timeline: string[] = [];
    const step = Math.max(1, Math.round(fileRepeats / 10));
    let firstHalfPeak = 0;
    await feed(producer, input, fileRepeats, (done) => {
      if (done === Math.ceil(fileRepeats / 2)) firstHalfPeak = samples.length ? Math.max(...samples) : 0;
      if (done % step === 0 || done === fileRepeats) timeline.push(`${((done * recordsPerFile * recordBytes) / 1e9).toFixed(1)} GB: ${((rssBytes(pid) ?? 0) / MiB).toFixed(0)}`);
      if (interactive) process.stderr.write(`\r  produced ${((done * recordsPerFile * recordBytes) / 1e9).toFixed(1)} of ${gigabytes} GB`);
    });
    const produceCode = await producer.done;
    const produceSeconds = (performance.now() - started) / 1000;
    if (interactive) process.stderr.write('\n');
    if (produceCode !== 0) throw new Error(`kcat producer exited ${produceCode}: ${producer.stderr}`);
    // Let the consumer catch up with what is still held, then stop it.
    while (consumer && performance.now() - consumer.lastDataAt < consumerDrainMs && performance.now() - started < runTimeoutMs) {
      await new Promise((r) => setTimeout(r, 250));
    }
    consumer?.child.kill('SIGTERM');
    await consumer?.done;
    clearInterval(sampler);
    const cpu = (cpuSeconds(pid) ?? 0) - cpuBefore;
    const peak = peakRssBytes(pid) ?? Math.max(...samples);
    const sampledPeak = samples.length ? Math.max(...samples) : 0;
    const sampledEnd = samples.length ? samples[samples.length - 1]! : 0;
    const producedGB = (totalRecords * recordBytes) / 1e9;
    console.log(`memory mode: ${totalRecords} records of ${recordBytes} B (${producedGB.toFixed(2)} GB) produced by kcat in ${produceSeconds.toFixed(1)} s (${(producedGB * 1000 / produceSeconds).toFixed(0)} MB/s), ${partitions} partitions`);
    console.log(`  bounds: retention.bytes ${retentionMiB} MiB per partition, inkwell.memory.bytes.max ${memoryMaxMiB} MiB`);
    if (consumer) console.log(`  consumer (kcat, concurrently): ${consumer.lines} records, ${(consumer.bytes / 1e9).toFixed(2)} GB read${consumer.lines < totalRecords ? `; ${totalRecords - consumer.lines} were evicted before it read them` : ''}`);
    else console.log('  no consumer (--no-consumer)');
    console.log(`  broker peak RSS (VmHWM): ${(peak / MiB).toFixed(0)} MiB; sampled every ${sampleMs} ms: max ${(sampledPeak / MiB).toFixed(0)} MiB, at the end ${(sampledEnd / MiB).toFixed(0)} MiB`);
    console.log(`  broker RSS in MiB after each step of the volume (sent to kcat): ${timeline.join(', ')}`);
    console.log(`  broker CPU: ${cpu.toFixed(1)} s`);
    const growth = firstHalfPeak > 0 ? sampledPeak / firstHalfPeak - 1 : 0;
    console.log(`  second half of the volume raised the first half's peak RSS by ${(growth * 100).toFixed(1)}% (at most ${growthFractionMax * 100}%)`);
    if (growth > growthFractionMax) process.exitCode = 1;
    if (peak > rssLimitMiB * MiB) {
      console.log(`  peak RSS above the ${rssLimitMiB} MiB limit -- FAIL`);
      process.exitCode = 1;
    } else {
      console.log(`  peak RSS within the ${rssLimitMiB} MiB limit`);
    }
    if (process.exitCode === 1) console.log('  FAIL: memory not bounded');
  } finally {
    clearTimeout(deadline);
    consumer?.child.kill('SIGKILL');
    broker?.kill('SIGTERM');
    if (broker && broker.exitCode === null) await Promise.race([once(broker, 'exit'), new Promise((r) => setTimeout(r, 10_000))]);
    broker?.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`memory bench failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
