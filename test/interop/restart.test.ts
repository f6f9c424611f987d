/**
 * Durability across restarts: a broker on a data directory (disk storage) is given topics and
 * keyed records (produced with kcat over TLS), a deleted topic, a topic deleted and created again
 * and a topic grown by CreatePartitions; it is closed, and a new broker on the same directory
 * must show the same topics, partition counts, topic configs, records and offsets, and carry on
 * at the next offset. Then the same through the real CLI (`inkwell serve`), stopped by SIGTERM.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startBroker, type Broker } from '../../src/index.js';
import { testTls, type TestTls } from '../helpers/tls.js';
import { run } from '../helpers/run.js';
import { requireTool, tempDir } from '../helpers/interop.js';
import { RawClient, withTimeout, withTlsClient } from '../helpers/raw-client.js';

const directories: { remove: () => void }[] = [];
const children = new Set<ChildProcess>();
const brokers = new Set<Broker>();

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const broker of brokers) await broker.close().catch(() => {});
  for (const dir of directories) dir.remove();
});

function dataDir(prefix: string): string {
  const dir = tempDir(prefix);
  directories.push(dir);
  return dir.path;
}

async function open(material: TestTls, dir: string): Promise<Broker> {
  const broker = await startBroker({ listeners: 'SSL://127.0.0.1:0', dataDir: dir, storage: 'disk', tls: material, log: () => {} });
  brokers.add(broker);
  return broker;
}

async function shut(broker: Broker): Promise<void> {
  await withTimeout(broker.close(), 30_000, 'close');
  brokers.delete(broker);
}

function kcat(material: TestTls, port: number, ...args: string[]): string[] {
  return ['-b', `127.0.0.1:${port}`, '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${material.paths.ca}`, ...args];
}

function withClient<T>(material: TestTls, port: number, body: (client: RawClient) => Promise<T>): Promise<T> {
  return withTlsClient(material.ca, port, body);
}

async function createTopics(material: TestTls, port: number, topics: { name: string; partitions: number; configs?: Record<string, string> }[]): Promise<void> {
  await withClient(material, port, async (client) => {
    const response = await client.request('CreateTopics', 4, {
      topics: topics.map((t) => ({
        name: t.name,
        numPartitions: t.partitions,
        replicationFactor: 1,
        assignments: [],
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: 5000,
      validateOnly: false,
    });
    assert.deepEqual(
      (response.topics as { name: string; errorCode: number }[]).map((t) => `${t.name}:${t.errorCode}`),
      topics.map((t) => `${t.name}:0`),
    );
  });
}

async function deleteTopics(material: TestTls, port: number, names: string[]): Promise<void> {
  await withClient(material, port, async (client) => {
    const response = await client.request('DeleteTopics', 4, { topicNames: names, timeoutMs: 5000 });
    assert.deepEqual(
      (response.responses as { name: string; errorCode: number }[]).map((t) => `${t.name}:${t.errorCode}`),
      names.map((name) => `${name}:0`),
    );
  });
}

async function produce(material: TestTls, port: number, topic: string, lines: string[]): Promise<void> {
  const result = await run('kcat', kcat(material, port, '-P', '-t', topic, '-K', ':', '-H', `topic=${topic}`), { input: lines.join('\n') + '\n', timeoutMs: 60_000 });
  assert.equal(result.code, 0, result.stderr);
}

function keyed(prefix: string, from: number, count: number): string[] {
  return Array.from({ length: count }, (_, j) => {
    const i = from + j;
    return `${prefix}-k${i}:${prefix}-v${i}-${'r'.repeat(i % 23)}`;
  });
}

interface Snapshot {
  topics: Record<string, number>;
  offsets: Record<string, [number, number]>;
  records: Record<string, string[]>;
  configs: Record<string, string | null>;
}

/** Everything a client can see: topics, partition counts, earliest/latest offsets, every record, one topic's configs. */
async function snapshot(material: TestTls, port: number, configTopic: string): Promise<Snapshot> {
  return withClient(material, port, async (client) => {
    const metadata = await client.request('Metadata', 8, { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    const topicList = (metadata.topics as { errorCode: number; name: string; partitions: { errorCode: number; partitionIndex: number }[] }[]).sort((a, b) => a.name.localeCompare(b.name));
    const topics: Record<string, number> = {};
    for (const t of topicList) {
      assert.equal(t.errorCode, 0, t.name);
      assert.deepEqual(t.partitions.map((p) => p.partitionIndex).sort((a, b) => a - b), Array.from({ length: t.partitions.length }, (_, i) => i), `${t.name} partitions numbered from 0`);
      topics[t.name] = t.partitions.length;
    }
    const offsets: Record<string, [number, number]> = {};
    for (const [timestamp, slot] of [[-2n, 0], [-1n, 1]] as const) {
      const listed = await client.request('ListOffsets', 5, {
        replicaId: -1,
        isolationLevel: 0,
        topics: topicList.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, currentLeaderEpoch: -1, timestamp })) })),
      });
      for (const t of listed.topics as { name: string; partitions: { partitionIndex: number; errorCode: number; offset: bigint }[] }[]) {
        for (const p of t.partitions) {
          assert.equal(p.errorCode, 0, `ListOffsets ${t.name}/${p.partitionIndex}`);
          const key = `${t.name}/${p.partitionIndex}`;
          offsets[key] ??= [-1, -1];
          offsets[key][slot] = Number(p.offset);
        }
      }
    }
    const described = await client.request('DescribeConfigs', 2, { resources: [{ resourceType: 2, resourceName: configTopic, configurationKeys: null }], includeSynonyms: false });
    const [result] = described.results as { errorCode: number; configs: { name: string; value: string | null }[] }[];
    assert.equal(result!.errorCode, 0);
    const configs = Object.fromEntries(result!.configs.map((c) => [c.name, c.value]));
    const records: Record<string, string[]> = {};
    for (const t of topicList) {
      const read = await run('kcat', kcat(material, port, '-C', '-X', 'fetch.wait.max.ms=20', '-t', t.name, '-o', 'beginning', '-e', '-q', '-f', '%p %o %k %s\n'), { timeoutMs: 60_000 });
      assert.equal(read.code, 0, read.stderr);
      records[t.name] = read.stdout
        .split('\n')
        .filter((l) => l.length > 0)
        .sort((a, b) => {
          const [pa, oa] = a.split(' ').map(Number);
          const [pb, ob] = b.split(' ').map(Number);
          return pa! - pb! || oa! - ob!;
        });
    }
    return { topics, offsets, records, configs };
  });
}

/** kcat's lines for one topic, grouped: every produced line once, offsets 0..n-1 per partition. */
function checkRecords(lines: string[], produced: string[], partitions: number): void {
  assert.equal(lines.length, produced.length);
  const want = new Set(produced.map((l) => l.replace(':', ' ')));
  const next = new Array<number>(partitions).fill(0);
  for (const line of lines) {
    const [p, o, k, v] = line.split(' ');
    assert.equal(Number(o), next[Number(p)], `partition ${p} offsets contiguous from 0`);
    next[Number(p)]!++;
    assert.ok(want.delete(`${k} ${v}`), `${k} read once, with its value`);
  }
}

test('a broker restarted on the same data directory serves identical topics, records and offsets', async (t) => {
  if (!(await requireTool(t, 'kcat', ['-V'], 'kcat'))) return;
  const material = await testTls();
  const dir = dataDir('inkwell-restart-');
  const first = await open(material, dir);
  const port1 = first.listeners[0]!.port;
  await createTopics(material, port1, [
    { name: 'r-three', partitions: 3 },
    { name: 'r-one', partitions: 1, configs: { 'retention.ms': '7200000', 'cleanup.policy': 'delete' } },
    { name: 'r-empty', partitions: 2 },
  ]);
  const threeLines = keyed('t', 0, 3000);
  const oneLines = keyed('o', 0, 40);
  await produce(material, port1, 'r-three', threeLines);
  await produce(material, port1, 'r-one', oneLines);
  // A deleted topic, a topic deleted and created again smaller, and one grown by CreatePartitions.
  await createTopics(material, port1, [{ name: 'r-gone', partitions: 2 }, { name: 'r-reborn', partitions: 3 }]);
  await produce(material, port1, 'r-gone', keyed('g', 0, 30));
  await produce(material, port1, 'r-reborn', keyed('old', 0, 30));
  await deleteTopics(material, port1, ['r-gone', 'r-reborn']);
  await createTopics(material, port1, [{ name: 'r-reborn', partitions: 1 }]);
  const rebornLines = keyed('new', 0, 5);
  await produce(material, port1, 'r-reborn', rebornLines);
  await withClient(material, port1, async (client) => {
    const grown = await client.request('CreatePartitions', 2, { topics: [{ name: 'r-empty', count: 3, assignments: null }], timeoutMs: 5000, validateOnly: false });
    assert.deepEqual((grown.results as { errorCode: number }[]).map((r) => r.errorCode), [0]);
  });
  const before = await snapshot(material, port1, 'r-one');
  assert.deepEqual(before.topics, { 'r-empty': 3, 'r-one': 1, 'r-reborn': 1, 'r-three': 3 });
  checkRecords(before.records['r-three']!, threeLines, 3);
  checkRecords(before.records['r-one']!, oneLines, 1);
  checkRecords(before.records['r-reborn']!, rebornLines, 1);
  assert.deepEqual(before.records['r-empty'], []);
  assert.equal(before.configs['retention.ms'], '7200000');
  const clusterId = first.clusterId;
  await shut(first);

  const second = await open(material, dir);
  const port2 = second.listeners[0]!.port;
  assert.equal(second.clusterId, clusterId, 'the cluster id is kept in the data directory');
  const again = await snapshot(material, port2, 'r-one');
  assert.deepEqual(again.topics, before.topics);
  assert.deepEqual(again.offsets, before.offsets);
  assert.deepEqual(again.configs, before.configs);
  for (const name of Object.keys(before.records)) assert.deepEqual(again.records[name], before.records[name], `${name} records identical`);

  // Appends continue at the next offset, and those survive a second restart too.
  const more = keyed('o', 40, 10);
  await produce(material, port2, 'r-one', more);
  const grown = await snapshot(material, port2, 'r-one');
  assert.deepEqual(grown.offsets['r-one/0'], [0, 50]);
  checkRecords(grown.records['r-one']!, [...oneLines, ...more], 1);
  await shut(second);

  const third = await open(material, dir);
  const last = await snapshot(material, third.listeners[0]!.port, 'r-one');
  assert.deepEqual(last, grown);
  await shut(third);
});

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

interface Served {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `inkwell serve` and waits (at most 30 s) for its `listening SSL://host:port` line. */
async function serve(material: TestTls, dir: string): Promise<Served> {
  const child = spawn(
    process.execPath,
    [cli, 'serve', '--listeners', 'SSL://127.0.0.1:0', '--data-dir', dir, '--tls-cert', material.paths.cert, '--tls-key', material.paths.key, '--tls-ca', material.paths.ca],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  const port = await withTimeout(
    new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        const match = /^listening SSL:\/\/127\.0\.0\.1:(\d+)$/m.exec(stdout);
        if (match) resolve(Number(match[1]));
      });
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      void exited.then(({ code, signal }) => reject(new Error(`inkwell serve exited (${code ?? signal}) before listening:\n${stdout}\n${stderr}`)));
    }),
    30_000,
    'inkwell serve start-up',
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return { child, port, output: () => `${stdout}\n${stderr}`, exited };
}

async function stop(served: Served): Promise<void> {
  served.child.kill('SIGTERM');
  const result = await withTimeout(served.exited, 30_000, 'inkwell serve shutdown after SIGTERM').catch((error: unknown) => {
    served.child.kill('SIGKILL');
    throw error;
  });
  assert.deepEqual(result, { code: 0, signal: null }, `exit after SIGTERM:\n${served.output()}`);
}

test('inkwell serve: produce, SIGTERM (exit 0), serve again on the same --data-dir, same records', async (t) => {
  if (!(await requireTool(t, 'kcat', ['-V'], 'kcat'))) return;
  const material = await testTls();
  const dir = dataDir('inkwell-restart-cli-');
  const first = await serve(material, dir);
  await createTopics(material, first.port, [{ name: 'cli-topic', partitions: 2 }]);
  const lines = keyed('c', 0, 1000);
  await produce(material, first.port, 'cli-topic', lines);
  const before = await snapshot(material, first.port, 'cli-topic');
  assert.deepEqual(before.topics, { 'cli-topic': 2 });
  checkRecords(before.records['cli-topic']!, lines, 2);
  await stop(first);

  const second = await serve(material, dir);
  const again = await snapshot(material, second.port, 'cli-topic');
  assert.deepEqual(again, before);
  await stop(second);
});
