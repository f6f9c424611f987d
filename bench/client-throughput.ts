/**
 * Throughput of Inkwell's bundled client next to kafkajs 2.2.4, in one run against one broker:
 * an `inkwell serve` child process (so broker and clients do not share an event loop), 100-byte
 * records, acks=all, no compression, each client producing to a fresh topic and then reading it
 * back from the start.
 *
 *   npm run build && node dist/bench/client-throughput.js [--records N] [--kafkajs-records N]
 *       [--partitions P] [--tls] [--storage disk|memory] [--rounds R]
 *
 * Prints records/s and MB/s (of record values) per client and phase, and the best of R rounds.
 * Our producer calls send() once per record (a promise each); kafkajs sends arrays of 1,000
 * messages, four sends in flight, which is its fast path. Our consumer is measured both with
 * run({ eachBatch }) and with the per-record async iterator; kafkajs with eachBatch in a group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { Admin, Consumer, Producer, type ClientOptions } from '../src/index.js';
import { generateCertificates } from '../src/cli/certs.js';

interface Settings {
  records: number;
  kafkajsRecords: number;
  partitions: number;
  tls: boolean;
  storage: 'disk' | 'memory';
  rounds: number;
}

const recordBytes = 100;
const kafkajsBatch = 1000;
const kafkajsInflight = 4;
const ourWindow = 100_000;

function parse(argv: string[]): Settings {
  const settings: Settings = { records: 1_000_000, kafkajsRecords: 300_000, partitions: 4, tls: false, storage: 'disk', rounds: 3 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--tls') {
      settings.tls = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--records') settings.records = Number(value);
    else if (flag === '--kafkajs-records') settings.kafkajsRecords = Number(value);
    else if (flag === '--partitions') settings.partitions = Number(value);
    else if (flag === '--rounds') settings.rounds = Number(value);
    else if (flag === '--storage') settings.storage = value === 'memory' ? 'memory' : 'disk';
    else throw new Error(`unknown flag ${flag}`);
  }
  return settings;
}

interface Server {
  readonly child: ChildProcess;
  readonly bootstrap: string;
}

async function startServer(settings: Settings, dir: string): Promise<Server> {
  const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const protocol = settings.tls ? 'SSL' : 'PLAINTEXT';
  const args = [main, 'serve', '--listeners', `${protocol}://127.0.0.1:0`, '--data-dir', join(dir, 'data'), '--storage', settings.storage];
  if (settings.storage === 'memory') args.push('--set', `inkwell.ring.buffer.bytes=${2 * 1024 * 1024 * 1024 - 1}`);
  if (settings.tls) args.push('--tls-cert', join(dir, 'server-cert.pem'), '--tls-key', join(dir, 'server-key.pem'), '--tls-ca', join(dir, 'ca-cert.pem'));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const bootstrap = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening \w+:\/\/(\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`inkwell serve exited with ${code}`)));
  });
  return { child, bootstrap };
}

function rate(records: number, ms: number): { perSecond: number; megabytes: number } {
  const seconds = ms / 1000;
  return { perSecond: records / seconds, megabytes: (records * recordBytes) / seconds / 1e6 };
}

async function ourProduce(options: ClientOptions, topic: string, records: number): Promise<number> {
  const producer = new Producer({ ...options });
  await producer.connect();
  const value = Buffer.alloc(recordBytes, 'x');
  const started = performance.now();
  let window: Promise<unknown>[] = [];
  for (let i = 0; i < records; i++) {
    window.push(producer.send({ topic, value }));
    if (window.length >= ourWindow) {
      await Promise.all(window);
      window = [];
    }
  }
  await Promise.all(window);
  const elapsed = performance.now() - started;
  await producer.close();
  return elapsed;
}

async function ourConsume(options: ClientOptions, topic: string, partitions: number, records: number, iterator: boolean): Promise<number> {
  const consumer = new Consumer({ ...options });
  await consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })));
  const started = performance.now();
  let seen = 0;
  let bytes = 0;
  if (iterator) {
    for await (const record of consumer) {
      bytes += record.value!.length;
      if (++seen >= records) break;
    }
  } else {
    await consumer.run({
      eachBatch: (batch) => {
        for (const record of batch.records) bytes += record.value!.length;
        seen += batch.records.length;
        if (seen >= records) consumer.stop();
      },
    });
  }
  const elapsed = performance.now() - started;
  if (bytes < records * recordBytes) throw new Error(`read ${bytes} bytes, expected ${records * recordBytes}`);
  await consumer.close();
  return elapsed;
}

function kafkajsClient(bootstrap: string, tls: { ca: Buffer } | null): Kafka {
  return new Kafka({ clientId: 'bench-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING, ...(tls ? { ssl: { ca: [tls.ca] } } : {}) });
}

async function kafkajsProduce(kafka: Kafka, topic: string, records: number): Promise<number> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const value = Buffer.alloc(recordBytes, 'x');
  const messages = Array.from({ length: kafkajsBatch }, () => ({ value }));
  const started = performance.now();
  let sent = 0;
  const inflight = new Set<Promise<unknown>>();
  while (sent < records) {
    const count = Math.min(kafkajsBatch, records - sent);
    const promise: Promise<unknown> = producer.send({ topic, acks: -1, messages: count === kafkajsBatch ? messages : messages.slice(0, count) }).finally(() => inflight.delete(promise));
    inflight.add(promise);
    sent += count;
    if (inflight.size >= kafkajsInflight) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const elapsed = performance.now() - started;
  await producer.disconnect();
  return elapsed;
}

async function kafkajsConsume(kafka: Kafka, topic: string, records: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-${topic}`, maxBytes: 50 * 1024 * 1024, maxBytesPerPartition: 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let seen = 0;
  let started = 0;
  const elapsed = await new Promise<number>((resolve, reject) => {
    started = performance.now();
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          seen += batch.messages.length;
          if (seen >= records) resolve(performance.now() - started);
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return elapsed;
}

interface Row {
  client: string;
  phase: string;
  records: number;
  bestMs: number;
}

async function main(): Promise<void> {
  const settings = parse(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-client-bench-'));
  let server: Server | null = null;
  try {
    let tls: { ca: Buffer } | null = null;
    if (settings.tls) {
      await generateCertificates({ out: dir, hosts: ['localhost', '127.0.0.1'], days: 1 });
      tls = { ca: readFileSync(join(dir, 'ca-cert.pem')) };
    }
    server = await startServer(settings, dir);
    const options: ClientOptions = { bootstrap: server.bootstrap, ...(tls ? { tls } : {}) };
    const admin = new Admin(options);
    const kafka = kafkajsClient(server.bootstrap, tls);
    const rows: Row[] = [];
    const best = (client: string, phase: string, records: number, ms: number) => {
      const row = rows.find((r) => r.client === client && r.phase === phase);
      if (row === undefined) rows.push({ client, phase, records, bestMs: ms });
      else row.bestMs = Math.min(row.bestMs, ms);
    };
    // Warm-up: JIT both clients on a small topic.
    await admin.createTopics([{ topic: 'warmup', numPartitions: settings.partitions }]);
    await ourProduce(options, 'warmup', 50_000);
    await ourConsume(options, 'warmup', settings.partitions, 50_000, false);
    await kafkajsProduce(kafka, 'warmup', 20_000);
    for (let round = 1; round <= settings.rounds; round++) {
      const ours = `ours-${round}`;
      const theirs = `kafkajs-${round}`;
      await admin.createTopics([
        { topic: ours, numPartitions: settings.partitions },
        { topic: theirs, numPartitions: settings.partitions },
      ]);
      best('inkwell', 'produce', settings.records, await ourProduce(options, ours, settings.records));
      best('kafkajs 2.2.4', 'produce', settings.kafkajsRecords, await kafkajsProduce(kafka, theirs, settings.kafkajsRecords));
      best('inkwell', 'consume (eachBatch)', settings.records, await ourConsume(options, ours, settings.partitions, settings.records, false));
      best('inkwell', 'consume (for await)', settings.records, await ourConsume(options, ours, settings.partitions, settings.records, true));
      best('kafkajs 2.2.4', 'consume (eachBatch)', settings.kafkajsRecords, await kafkajsConsume(kafka, theirs, settings.kafkajsRecords));
      process.stderr.write(`round ${round} of ${settings.rounds} done\n`);
    }
    await admin.close();
    const where = `${settings.tls ? 'TLS' : 'plaintext'}, ${settings.storage} storage, ${settings.partitions} partitions, ${recordBytes}-byte values, acks=all, best of ${settings.rounds}`;
    console.log(`client throughput (${where})`);
    console.log('client          phase                 records    records/s      MB/s');
    for (const row of rows) {
      const { perSecond, megabytes } = rate(row.records, row.bestMs);
      console.log(`${row.client.padEnd(15)} ${row.phase.padEnd(21)} ${String(row.records).padStart(8)} ${Math.round(perSecond).toLocaleString('en-US').padStart(12)} ${megabytes.toFixed(1).padStart(9)}`);
    }
    const find = (client: string, phase: string) => rows.find((r) => r.client === client && r.phase === phase)!;
    const ratio = (a: Row, b: Row) => rate(a.records, a.bestMs).perSecond / rate(b.records, b.bestMs).perSecond;
    console.log(`producer: inkwell / kafkajs = ${ratio(find('inkwell', 'produce'), find('kafkajs 2.2.4', 'produce')).toFixed(1)}x`);
    console.log(`consumer (eachBatch): inkwell / kafkajs = ${ratio(find('inkwell', 'consume (eachBatch)'), find('kafkajs 2.2.4', 'consume (eachBatch)')).toFixed(1)}x`);
  } finally {
    server?.child.kill('SIGTERM');
    if (server) await new Promise((resolve) => server!.child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
