/**
 * kcat (librdkafka 2.0.2) over TLS, verifying our CA: metadata, 100,000 keyed records with
 * headers to a 3-partition topic read back identically, and each compression codec.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type Broker } from '../../src/index.js';
import { testTls, type TestTls } from '../helpers/tls.js';
import { run } from '../helpers/run.js';
import { createTopic as createTopicOn, requireTool, tempDir } from '../helpers/interop.js';

let broker: Broker;
let material: TestTls;
let bootstrap = '';
const data = tempDir('inkwell-kcat-');

before(async () => {
  material = await testTls();
  broker = await startBroker({ listeners: 'SSL://127.0.0.1:0', dataDir: data.path, tls: material, log: () => {} });
  bootstrap = `127.0.0.1:${broker.listeners[0]!.port}`;
});

after(async () => {
  await broker?.close();
  data.remove();
});

function kcatArgs(...args: string[]): string[] {
  return ['-b', bootstrap, '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${material.paths.ca}`, ...args];
}

function createTopic(name: string, partitions: number): Promise<void> {
  return createTopicOn(broker.listeners[0]!.port, material.ca, name, partitions);
}

interface Consumed {
  partition: number;
  offset: number;
  key: string;
  value: string;
  headers: string;
}

async function consumeAll(topic: string): Promise<Consumed[]> {
  const result = await run('kcat', kcatArgs('-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p\t%o\t%k\t%s\t%h\n'), { timeoutMs: 120_000 });
  assert.equal(result.code, 0, result.stderr);
  return result.stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const [partition, offset, key, value, headers] = line.split('\t');
      return { partition: Number(partition), offset: Number(offset), key: key!, value: value!, headers: headers ?? '' };
    });
}

/** Every record exactly once, offsets 0..n-1 per partition, and input order kept per partition. */
function checkRoundTrip(consumed: Consumed[], count: number, headers: string): void {
  assert.equal(consumed.length, count);
  const byPartition = new Map<number, Consumed[]>();
  for (const record of consumed) {
    const list = byPartition.get(record.partition) ?? [];
    list.push(record);
    byPartition.set(record.partition, list);
  }
  const seen = new Set<number>();
  for (const [partition, records] of byPartition) {
    let previous = -1;
    records.forEach((record, i) => {
      assert.equal(record.offset, i, `partition ${partition} offsets run from 0 without gaps`);
      const index = Number(record.key.slice(4));
      assert.equal(record.key, `key-${index}`);
      assert.equal(record.value, `value-${index}-${'x'.repeat(index % 50)}`);
      assert.equal(record.headers, headers);
      assert.ok(index > previous, `partition ${partition} keeps the produced order`);
      previous = index;
      assert.ok(!seen.has(index), `record ${index} read once`);
      seen.add(index);
    });
  }
}

function input(count: number): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(`key-${i}:value-${i}-${'x'.repeat(i % 50)}`);
  return lines.join('\n') + '\n';
}

test('kcat -L lists the broker and topics over TLS', async (t) => {
  if (!(await requireTool(t, 'kcat', ['-V'], 'kcat'))) return;
  await createTopic('listed', 2);
  const result = await run('kcat', kcatArgs('-L'), { timeoutMs: 30_000 });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /1 brokers:/);
  assert.match(result.stdout, new RegExp(`broker 1 at 127\\.0\\.0\\.1:${broker.listeners[0]!.port}`));
  assert.match(result.stdout, /topic "listed" with 2 partitions/);
});

test('100,000 keyed records with headers round-trip through kcat', async (t) => {
  if (!(await requireTool(t, 'kcat', ['-V'], 'kcat'))) return;
  await createTopic('roundtrip', 3);
  const count = 100_000;
  const produced = await run('kcat', kcatArgs('-P', '-t', 'roundtrip', '-K', ':', '-H', 'origin=kcat', '-H', 'n=1'), { input: input(count), timeoutMs: 120_000 });
  assert.equal(produced.code, 0, produced.stderr);
  const consumed = await consumeAll('roundtrip');
  checkRoundTrip(consumed, count, 'origin=kcat,n=1');
  assert.equal(new Set(consumed.map((r) => r.partition)).size, 3, 'keys spread over the 3 partitions');
});

for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
  test(`kcat -z ${codec} batches pass through untouched`, async (t) => {
    if (!(await requireTool(t, 'kcat', ['-V'], 'kcat'))) return;
    const topic = `compressed-${codec}`;
    await createTopic(topic, 3);
    const count = 10_000;
    const produced = await run('kcat', kcatArgs('-P', '-t', topic, '-z', codec, '-K', ':', '-H', `codec=${codec}`), { input: input(count), timeoutMs: 60_000 });
    assert.equal(produced.code, 0, produced.stderr);
    checkRoundTrip(await consumeAll(topic), count, `codec=${codec}`);
  });
}
