/**
 * Recovery time after SIGKILL with a large unflushed tail: `inkwell serve` runs with Kafka's
 * page-cache policy (log.flush.interval.messages very large: acknowledge after write(), never
 * sync by count), kcat produces `--megabytes` of records to one partition (one segment, so all
 * of it is past the recovery point), the broker is killed with SIGKILL and started again, and
 * the start-up is timed: process start, recovery (every batch past the recovery point read and
 * CRC-checked), listening. Then everything is read back and counted, and a clean restart
 * (SIGTERM, then start: the clean-shutdown marker skips the scan) is timed for comparison.
 * `--policy sync` runs the same with the default sync-before-acknowledge policy instead (the
 * scan then covers what was written since the last recovery-point checkpoint).
 *
 *   node dist/bench/durability-recovery.js [--megabytes 256] [--record-bytes 1000] [--policy page-cache|sync]
 *
 * The documented run uses --megabytes 1024. The data is still in the OS page cache when the
 * broker restarts (only the process died), so the scan reads memory, not the disk.
 */
import { closeSync, createReadStream, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { BrokerProcess, freePort } from './durability-broker.js';

const { values } = parseArgs({
  options: {
    megabytes: { type: 'string', default: '256' },
    'record-bytes': { type: 'string', default: '1000' },
    policy: { type: 'string', default: 'page-cache' },
  },
});
const megabytes = Number(values.megabytes);
const recordBytes = Number(values['record-bytes']);
if (!Number.isInteger(megabytes) || megabytes < 1 || !Number.isInteger(recordBytes) || recordBytes < 1 || !['page-cache', 'sync'].includes(values.policy)) {
  console.error('--megabytes and --record-bytes must be positive integers, --policy page-cache or sync');
  process.exit(2);
}
const records = Math.ceil((megabytes * 1024 * 1024) / recordBytes);
const topic = 'recovery';
/** Upper bound on one kcat run. */
const kcatTimeoutMs = 30 * 60 * 1000;
/** A segment larger than the data, so that the whole tail is one unsynced segment. */
const segmentBytes = 2 ** 31 - 1;

function kcat(args: string[], inputFile?: string): Promise<{ lines: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('kcat', args, { stdio: [inputFile ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    if (inputFile) createReadStream(inputFile).pipe(child.stdin!);
    const timer = setTimeout(() => child.kill('SIGKILL'), kcatTimeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`kcat exited ${code}: ${stderr}`));
      else resolve({ lines, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** Writes `count` copies of `line` to a new file, a block at a time (the whole may exceed a string's limit). */
function writeLines(path: string, line: string, count: number): void {
  const perBlock = Math.max(1, Math.floor((1 << 20) / line.length));
  const block = Buffer.from(line.repeat(perBlock));
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < count; written += perBlock) {
      const lines = Math.min(perBlock, count - written);
      writeSync(fd, block, 0, lines * line.length);
    }
  } finally {
    closeSync(fd);
  }
}

function directoryBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    total += stat.isDirectory() ? directoryBytes(path) : stat.size;
  }
  return total;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'inkwell-recovery-'));
  const settings = ['num.partitions=1', `log.segment.bytes=${segmentBytes}`];
  if (values.policy === 'page-cache') settings.push('log.flush.interval.messages=9007199254740991');
  const broker = new BrokerProcess({ dataDir: join(work, 'data'), port: await freePort(), settings });
  try {
    const inputFile = join(work, 'input.txt');
    writeLines(inputFile, `${'r'.repeat(recordBytes - 1)}\n`, records);
    await broker.start();
    const produced = await kcat(['-b', broker.bootstrap, '-P', '-t', topic, '-X', 'linger.ms=5', '-X', 'batch.size=1000000', '-X', 'acks=all'], inputFile);
    const logBytes = directoryBytes(join(work, 'data', `${topic}-0`));
    await broker.kill();
    const crashStartMs = await broker.start();
    const recovered = broker.stderr.find((line) => line.includes(`recovered ${topic}-0`)) ?? '(no recovery line)';
    const readBack = await kcat(['-C', '-b', broker.bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q']);
    await broker.stop();
    const cleanStartMs = await broker.start();
    await broker.stop();
    console.log(`recovery after SIGKILL, ${values.policy} policy: ${records} records of ${recordBytes} bytes produced in ${produced.seconds.toFixed(1)} s, partition log ${(logBytes / 2 ** 20).toFixed(0)} MiB`);
    console.log(`  start after SIGKILL: ${crashStartMs.toFixed(0)} ms (process start + recovery + listening)`);
    console.log(`  ${recovered.replace(/^\S+ /, '')}`);
    console.log(`  start after a clean shutdown: ${cleanStartMs.toFixed(0)} ms (marker present: no scan)`);
    console.log(`  read back ${readBack.lines} of ${records} acknowledged records${readBack.lines === records ? '' : ' -- MISMATCH'}`);
    if (readBack.lines !== records) process.exitCode = 1;
  } finally {
    await broker.kill().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`recovery bench failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
