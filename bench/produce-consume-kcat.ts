/**
 * First throughput benchmark: kcat (librdkafka) produces N records of 100 bytes to Inkwell over
 * TLS and reads them back, timing each phase. The broker runs as its own process (`inkwell serve`)
 * so that its CPU is not shared with this script's event loop.
 *
 *   node dist/bench/produce-consume-kcat.js [--records 1000000] [--record-bytes 100] [--partitions 1]
 *                                           [--set KEY=VALUE ...]
 *
 * `--set` passes broker configs through to `inkwell serve` (e.g. `--set log.flush.interval.messages=9223372036854775807`
 * for Kafka's page-cache policy instead of the default sync before acknowledging).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { generateCertificates } from '../src/cli/certs.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    'record-bytes': { type: 'string', default: '100' },
    partitions: { type: 'string', default: '1' },
    set: { type: 'string', multiple: true, default: [] },
  },
});
const brokerSettings = values.set;
const records = Number(values.records);
const recordBytes = Number(values['record-bytes']);
const partitions = Number(values.partitions);
for (const [name, value] of [['records', records], ['record-bytes', recordBytes], ['partitions', partitions]] as const) {
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const work = mkdtempSync(join(tmpdir(), 'inkwell-bench-'));
const phaseTimeoutMs = 10 * 60 * 1000;

function runTimed(command: string, args: string[], inputFile?: string): Promise<{ seconds: number; stdoutBytes: number; lines: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: [inputFile ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdoutBytes = 0;
    let lines = 0;
    child.stdout!.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      // indexOf runs in native code; a per-byte JavaScript loop would cost more than kcat itself.
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) lines++;
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    if (inputFile) {
      import('node:fs').then(({ createReadStream }) => createReadStream(inputFile).pipe(child.stdin!));
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), phaseTimeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) reject(new Error(`${command} exited ${code}: ${stderr.trim()}`));
      else resolve({ seconds, stdoutBytes, lines });
    });
  });
}

async function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(root, 'dist/src/cli/main.js'), 'serve', '--listeners', 'SSL://127.0.0.1:0', '--data-dir', join(work, 'data'), '--tls-cert', join(work, 'server-cert.pem'), '--tls-key', join(work, 'server-key.pem'), '--tls-ca', join(work, 'ca-cert.pem'), '--set', `num.partitions=${partitions}`, ...brokerSettings.flatMap((pair) => ['--set', pair])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('broker did not start within 30 s')), 30_000);
    lines.on('line', (line) => {
      const match = /^listening SSL:\/\/[^:]+:(\d+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`broker exited with ${code}`)));
  });
  return { child, port };
}

async function main(): Promise<void> {
  await generateCertificates({ out: work, hosts: ['localhost', '127.0.0.1'], days: 1 });
  const value = 'v'.repeat(recordBytes);
  const inputFile = join(work, 'input.txt');
  writeFileSync(inputFile, (value + '\n').repeat(records));
  const { child, port } = await startServer();
  const tls = ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${join(work, 'ca-cert.pem')}`];
  const topic = 'bench';
  try {
    const produce = await runTimed('kcat', ['-b', `127.0.0.1:${port}`, ...tls, '-P', '-t', topic, '-X', 'linger.ms=5', '-X', 'batch.size=1000000'], inputFile);
    const consume = await runTimed('kcat', ['-b', `127.0.0.1:${port}`, ...tls, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%s\n']);
    if (consume.lines !== records) throw new Error(`read back ${consume.lines} records, produced ${records}`);
    const megabytes = (records * recordBytes) / 1e6;
    const row = (name: string, seconds: number) =>
      `${name.padEnd(8)} ${String(records).padStart(9)} records  ${seconds.toFixed(2).padStart(7)} s  ${Math.round(records / seconds).toLocaleString('en-US').padStart(11)} records/s  ${(megabytes / seconds).toFixed(1).padStart(7)} MB/s`;
    console.log(`kcat over TLS to Inkwell (disk storage), ${recordBytes}-byte values, ${partitions} partition(s)${brokerSettings.length > 0 ? `, ${brokerSettings.join(' ')}` : ''}`);
    console.log(row('produce', produce.seconds));
    console.log(row('consume', consume.seconds));
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`bench failed: ${(error as Error).message}`);
  rmSync(work, { recursive: true, force: true });
  process.exit(1);
});
