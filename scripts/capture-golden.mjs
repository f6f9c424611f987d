// Captures golden request frames from real clients.
//
// Starts a broker (from dist/, so build first) with one plaintext listener and puts a small TCP
// proxy in front of it: the broker advertises the proxy's address, so every connection a client
// makes (bootstrap and the broker it learns from Metadata) goes through the proxy, which splits
// the client-to-broker byte stream into frames and records each with the client running at the
// time. Then it runs kcat (-L, -P, -C), kafka-python and confluent-kafka-python (through
// test/interop/python/*.py) and kafkajs, one after another, and writes the first frame of each
// distinct (client, api key, version) to test/protocol/golden/captured-<client>-<api>-v<n>.hex.
//
// Frames for APIs or versions the broker does not implement are listed, not written (the golden
// tests decode every fixture). Old captured-*.hex files are removed first.
//
// Usage: npx tsc -p . && node scripts/capture-golden.mjs
/* global Buffer, setTimeout, clearTimeout */
import net from 'node:net';
import { spawn } from 'node:child_process';
import { readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker } from '../dist/src/index.js';
import { FrameDecoder } from '../dist/src/broker/frame-decoder.js';
import { registry } from '../dist/src/protocol/registry.js';
import { Reader } from '../dist/src/protocol/reader.js';
import { readRequestHeaderStart } from '../dist/src/protocol/headers.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const goldenDir = join(root, 'test', 'protocol', 'golden');
const pythonDir = join(root, 'test', 'interop', 'python');
const python = '/usr/bin/python3';
/** Prefer a frame at most this big for a fixture; fall back to the smallest seen. */
const preferredBytesMax = 4096;

const clients = {
  kcat: 'kcat 1.7.1 (librdkafka 2.0.2)',
  'kafka-python': 'kafka-python 2.0.2 (Debian python3-kafka, automatic api_version probe)',
  confluent: 'confluent-kafka-python 1.7.0 (Debian python3-confluent-kafka on librdkafka 2.0.2)',
  kafkajs: 'kafkajs 2.2.4',
};

/** The client whose frames are being recorded now; null records nothing (set-up). */
let current = null;
/** @type {{ client: string; frame: Buffer; seq: number }[]} */
const captured = [];

function runProcess(command, args, timeoutMs = 60_000, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code ?? signal}:\n${stderr.slice(-3000)}`));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

async function startProxy() {
  const target = { port: 0 };
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: target.port });
    sockets.add(client);
    sockets.add(upstream);
    const decoder = new FrameDecoder(256 * 1024 * 1024);
    client.on('data', (chunk) => {
      const label = current;
      decoder.push(chunk, (frame) => {
        if (label) captured.push({ client: label, frame: Buffer.from(frame), seq: captured.length });
      });
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    target,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function kcatRun(bootstrap) {
  const base = ['-b', bootstrap, '-m', '10'];
  await runProcess('kcat', [...base, '-L'], 30_000);
  await runProcess('kcat', [...base, '-P', '-t', 'cap-kcat', '-K', ':', '-H', 'origin=kcat'], 30_000, 'k1:v1\nk2:v2\nk3:v3\n');
  await runProcess('kcat', [...base, '-C', '-t', 'cap-kcat', '-o', 'beginning', '-e', '-q'], 30_000);
}

async function kafkaPythonRun(bootstrap) {
  const script = join(pythonDir, 'kafka_python_check.py');
  const common = ['--bootstrap', bootstrap, '--topic', 'cap-kp'];
  await runProcess(python, [script, 'admin', ...common, '--partitions', '2', '--doomed', 'cap-kp-doomed']);
  await runProcess(python, [script, 'produce', ...common, '--acks', '1', '--count', '3', '--tag', 'a']);
  await runProcess(python, [script, 'produce', ...common, '--acks', '0', '--count', '2', '--tag', 'b']);
  await runProcess(python, [script, 'consume', ...common]);
}

async function confluentRun(bootstrap) {
  const script = join(pythonDir, 'confluent_check.py');
  const common = ['--bootstrap', bootstrap, '--topic', 'cap-ck'];
  await runProcess(python, [script, 'admin', ...common, '--partitions', '2', '--doomed', 'cap-ck-doomed']);
  await runProcess(python, [script, 'produce', ...common, '--acks', 'all', '--count', '3']);
  await runProcess(python, [script, 'consume', ...common]);
}

async function kafkajsRun(bootstrap) {
  const kafka = new Kafka({ clientId: 'inkwell-capture', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: false, allowAutoTopicCreation: false });
  await admin.connect();
  await producer.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'cap-kjs', numPartitions: 2 }, { topic: 'cap-kjs-doomed', numPartitions: 1 }] });
    await admin.listTopics();
    await admin.fetchTopicMetadata({ topics: ['cap-kjs'] });
    await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: 'cap-kjs' }] });
    await producer.send({ topic: 'cap-kjs', acks: -1, messages: [{ key: 'k1', value: 'v1', headers: { origin: 'kafkajs' } }] });
    await producer.send({ topic: 'cap-kjs', acks: 1, messages: [{ partition: 1, key: 'k2', value: 'v2' }] });
    await admin.fetchTopicOffsets('cap-kjs');
    await admin.createPartitions({ topicPartitions: [{ topic: 'cap-kjs-doomed', count: 2 }] });
    await admin.deleteTopics({ topics: ['cap-kjs-doomed'] });
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
}

function kebab(name) {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

function hexLines(bytes) {
  const lines = [];
  for (let i = 0; i < bytes.length; i += 32) {
    lines.push(
      bytes
        .subarray(i, i + 32)
        .toString('hex')
        .replace(/(..)(?!$)/g, '$1 '),
    );
  }
  return lines.join('\n');
}

function header(frame) {
  const reader = new Reader(frame);
  const h = readRequestHeaderStart(reader);
  return reader.complete() ? h : null;
}

async function main() {
  const proxy = await startProxy();
  const broker = await startBroker({
    listeners: 'PLAINTEXT://127.0.0.1:0',
    storage: 'memory',
    config: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}`, 'num.partitions': 2 },
    log: () => {},
  });
  proxy.target.port = broker.listeners[0].port;
  const bootstrap = `127.0.0.1:${proxy.port}`;
  const failures = [];
  try {
    // Set-up (not recorded): kcat's topic.
    const setup = new Kafka({ clientId: 'inkwell-capture-setup', brokers: [bootstrap], logLevel: logLevel.NOTHING });
    const setupAdmin = setup.admin();
    await setupAdmin.connect();
    await setupAdmin.createTopics({ waitForLeaders: true, topics: [{ topic: 'cap-kcat', numPartitions: 2 }] });
    await setupAdmin.disconnect();

    for (const [client, body] of [
      ['kcat', kcatRun],
      ['kafka-python', kafkaPythonRun],
      ['confluent', confluentRun],
      ['kafkajs', kafkajsRun],
    ]) {
      current = client;
      try {
        await body(bootstrap);
      } catch (error) {
        failures.push(`${client}: ${error.message}`);
      }
      // Let connections drain before the next client's frames are labelled.
      await new Promise((resolve) => setTimeout(resolve, 300));
      current = null;
    }
  } finally {
    await proxy.close();
    await broker.close();
  }

  for (const name of readdirSync(goldenDir)) {
    if (name.startsWith('captured-') && name.endsWith('.hex')) unlinkSync(join(goldenDir, name));
  }

  /** @type {Map<string, { client: string; frame: Buffer; seq: number }[]>} */
  const groups = new Map();
  const skipped = new Map();
  for (const entry of captured) {
    const h = header(entry.frame);
    const api = h && registry().get(h.apiKey);
    if (!h || !api || h.apiVersion < api.minVersion || h.apiVersion > api.maxVersion) {
      const what = h ? `${entry.client} api key ${h.apiKey} v${h.apiVersion}` : `${entry.client} unreadable header`;
      skipped.set(what, (skipped.get(what) ?? 0) + 1);
      continue;
    }
    const key = `${entry.client}\0${h.apiKey}\0${h.apiVersion}`;
    const list = groups.get(key) ?? [];
    list.push(entry);
    groups.set(key, list);
  }

  const written = [];
  for (const list of groups.values()) {
    const chosen = list.find((e) => e.frame.length <= preferredBytesMax) ?? list.reduce((a, b) => (b.frame.length < a.frame.length ? b : a));
    const h = header(chosen.frame);
    const api = registry().get(h.apiKey);
    const flexible = api.isFlexible(h.apiVersion);
    const size = Buffer.alloc(4);
    size.writeInt32BE(chosen.frame.length, 0);
    const full = Buffer.concat([size, chosen.frame]);
    const file = `captured-${chosen.client}-${kebab(api.name)}-v${h.apiVersion}.hex`;
    const comment =
      `# ${api.name} request (api key ${h.apiKey}, version ${h.apiVersion}), full frame: int32 size + request header v${flexible ? 2 : 1}` +
      ` (client id ${h.clientId === null ? 'null' : JSON.stringify(h.clientId)}, correlation id ${h.correlationId}) + body, as sent by ${clients[chosen.client]}.` +
      ` Source: captured from the real client through a recording TCP proxy by scripts/capture-golden.mjs (${list.length} such frame${list.length === 1 ? '' : 's'} seen; this is the first${chosen === list[0] ? '' : ` of at most ${preferredBytesMax} bytes`}).`;
    writeFileSync(join(goldenDir, file), `${comment}\n${hexLines(full)}\n`);
    written.push(`${file} (${full.length} bytes)`);
  }
  written.sort();
  console.log(`wrote ${written.length} fixtures to ${goldenDir}:`);
  for (const line of written) console.log(`  ${line}`);
  if (skipped.size > 0) {
    console.log('not written (api or version not implemented by the broker):');
    for (const [what, count] of skipped) console.log(`  ${what} (${count})`);
  }
  if (failures.length > 0) {
    console.error('client runs that failed:');
    for (const f of failures) console.error(`  ${f}`);
    process.exitCode = 1;
  }
}

await main();
