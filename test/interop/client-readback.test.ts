/**
 * Our client against real ones, both ways, over TLS verifying our CA.
 *
 * - Records written by our Producer, in each compression it offers, are read back by kcat and by
 *   kafka-python 2.0.2 with the same keys (null ones too), values (null, empty, non-ASCII),
 *   headers (repeated and non-ASCII keys) and CreateTime timestamps, at the offsets our
 *   Producer reported.
 * - Records written by kcat (-z none, gzip, snappy, lz4, zstd) and by kafka-python (each codec
 *   it has) are read back by our Consumer exactly as the writer's side sees them: kafka-python's
 *   records byte for byte with the timestamps it set; kcat's (which cannot set a timestamp per
 *   record) against its input and against what kcat itself reads back, timestamps included.
 *
 * Each case also checks the codec of the stored batches, so a round trip that silently went
 * uncompressed does not pass as a compressed one.
 *
 * kafka-python codecs: Debian's python3-kafka pulls in no compression modules (python3-snappy,
 * python3-lz4, python3-zstandard), so its kafka.codec has only gzip; snappy, lz4 and zstd are
 * skipped for kafka-python, with that reason. The script asks kafka.codec at run time, so they
 * run wherever those modules are installed.
 *
 * Not repeated here: kcat → kcat (kcat.test.ts), kafka-python → kafka-python
 * (kafka-python.test.ts) and our Producer → our Consumer (test/client/inkwell.test.ts).
 */
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBroker, Producer, type Broker, type ConsumerRecord, type RecordMetadata } from '../../src/index.js';
import { compressionIds, compressionTypes, type CompressionType } from '../../src/client/compression.js';
import { testTls, type TestTls } from '../helpers/tls.js';
import { run } from '../helpers/run.js';
import { createTopic as createTopicOn, pythonReport, pythonScript, requireTool, systemPython, tempDir, type Report } from '../helpers/interop.js';
import { storedBatches as storedBatchesOn } from '../helpers/stored-batches.js';
import { readFromStart } from '../helpers/read-from-start.js';

let broker: Broker;
let material: TestTls;
let bootstrap = '';
const files = tempDir('inkwell-readback-');
const script = pythonScript('client_readback.py');
const kafkaPythonClient = { module: 'kafka', what: 'kafka-python (python3-kafka)' };

before(async () => {
  material = await testTls();
  broker = await startBroker({ listeners: 'SSL://127.0.0.1:0', storage: 'memory', tls: material, log: () => {} });
  bootstrap = broker.bootstrap('SSL');
});

after(async () => {
  await broker?.close();
  files.remove();
});

function clientOptions() {
  return { bootstrap, tls: { ca: material.ca }, connectTimeoutMs: 10_000 };
}

function createTopic(name: string, partitions: number): Promise<void> {
  return createTopicOn(broker.listeners[0]!.port, material.ca, name, partitions);
}

/** A record as both sides should see it. */
interface Expected {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly (readonly [string, Buffer | null])[];
  readonly timestamp: number;
}

function hex(data: Buffer | null): string | null {
  return data === null ? null : data.toString('hex');
}

function sameRecord(actual: { key: Buffer | null; value: Buffer | null; headers: readonly (readonly [string, Buffer | null])[]; timestamp: number }, expected: Expected, where: string): void {
  assert.deepEqual(
    { key: hex(actual.key), value: hex(actual.value), headers: actual.headers.map(([k, v]) => [k, hex(v)]), timestamp: actual.timestamp },
    { key: hex(expected.key), value: hex(expected.value), headers: expected.headers.map(([k, v]) => [k, hex(v)]), timestamp: expected.timestamp },
    where,
  );
}

function storedBatches(topic: string, partitions: number): Promise<{ codec: number; records: number }[]> {
  return storedBatchesOn(broker.listeners[0]!.port, material.ca, topic, partitions);
}

/**
 * The records are stored in `codec`: all of them for 'none'; otherwise at least one batch and
 * 90% of the records (a producer may leave a batch of a record or two uncompressed when
 * compressing does not make it smaller, as librdkafka does).
 */
async function assertStoredIn(topic: string, partitions: number, codec: CompressionType, count: number): Promise<void> {
  const stored = await storedBatches(topic, partitions);
  assert.equal(
    stored.reduce((sum, b) => sum + b.records, 0),
    count,
    'every record is in a stored batch',
  );
  const inCodec = stored.filter((b) => b.codec === compressionIds[codec]).reduce((sum, b) => sum + b.records, 0);
  if (codec === 'none') assert.equal(inCodec, count, `every batch uncompressed: ${JSON.stringify(stored)}`);
  else assert.ok(inCodec >= count * 0.9, `the records are stored ${codec}-compressed: ${JSON.stringify(stored)}`);
  assert.ok(
    stored.every((b) => b.codec === 0 || b.codec === compressionIds[codec]),
    `only ${codec} or uncompressed batches: ${JSON.stringify(stored)}`,
  );
}

/** Every record of the topic from the start, read by our Consumer; gives up (with what it has) after timeoutMs. */
async function readWithOurConsumer(topic: string, count: number, timeoutMs = 30_000): Promise<ConsumerRecord[]> {
  const out = await readFromStart(clientOptions(), topic, count, timeoutMs);
  assert.equal(out.length, count, `our Consumer read ${out.length} of ${count} records of ${topic} within ${timeoutMs} ms`);
  return out;
}

function byPosition<T extends { partition: number; offset: number }>(records: readonly T[]): Map<string, T> {
  const map = new Map<string, T>();
  for (const record of records) {
    const key = `${record.partition}:${record.offset}`;
    assert.ok(!map.has(key), `${key} read once`);
    map.set(key, record);
  }
  return map;
}

function kcatArgs(...args: string[]): string[] {
  return ['-b', bootstrap, '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${material.paths.ca}`, ...args];
}

interface KcatRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  /** kcat's %h: "k=v,k=v". */
  headers: string;
}

/** kcat -C from the beginning to the end of every partition; %K and %S tell null (-1) from empty. */
async function kcatConsume(topic: string): Promise<KcatRecord[]> {
  const result = await run('kcat', kcatArgs('-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-X', 'fetch.wait.max.ms=50', '-f', '%p\t%o\t%T\t%K\t%k\t%S\t%s\t%h\n'), { timeoutMs: 60_000 });
  assert.equal(result.code, 0, result.stderr);
  return result.stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const fields = line.split('\t');
      assert.equal(fields.length, 8, `kcat line: ${JSON.stringify(line)}`);
      const [partition, offset, timestamp, keyLength, key, valueLength, value, headers] = fields as [string, string, string, string, string, string, string, string];
      return {
        partition: Number(partition),
        offset: Number(offset),
        timestamp: Number(timestamp),
        key: keyLength === '-1' ? null : Buffer.from(key),
        value: valueLength === '-1' ? null : Buffer.from(value),
        headers,
      };
    });
}

function kcatHeaders(headers: readonly (readonly [string, Buffer | null])[]): string {
  return headers.map(([k, v]) => `${k}=${v === null ? '' : v.toString()}`).join(',');
}

let kafkaPythonCodecs: Promise<Report | null> | undefined;

/** Whether kafka-python can use `codec` here; skips the test (with the reason) when it cannot. */
async function kafkaPythonHas(t: TestContext, codec: CompressionType): Promise<boolean> {
  kafkaPythonCodecs ??= pythonReport(t, kafkaPythonClient, script, ['codecs']);
  const report = await kafkaPythonCodecs;
  if (report === null) {
    if (!(await requireTool(t, systemPython, ['-c', 'import kafka'], kafkaPythonClient.what))) return false;
    throw new Error('kafka-python codecs unknown');
  }
  if ((report.codecs as Record<string, boolean>)[codec] === true) return true;
  t.skip(`kafka-python here has no ${codec} codec (Debian's python3-kafka ships without python3-snappy, python3-lz4 and python3-zstandard)`);
  return false;
}

const base = Date.UTC(2023, 0, 1, 0, 0, 0);

/** What our Producer sends: null keys and values, empty values, non-ASCII text, repeated header keys; no tabs or newlines (kcat's line format). */
function ourRecords(codec: CompressionType, count: number): Expected[] {
  return Array.from({ length: count }, (_, i) => ({
    key: i % 41 === 7 ? null : Buffer.from(`key-${i}`),
    value: i % 53 === 0 ? null : i % 53 === 1 ? Buffer.alloc(0) : Buffer.from(`value-${i}-é€-${'x'.repeat(i % 300)}`),
    headers: [
      ['codec', Buffer.from(codec)],
      ['i', Buffer.from(String(i))],
      ['ünï', Buffer.from('çødé')],
      ['dup', Buffer.from('a')],
      ['dup', Buffer.from('b')],
    ] as const,
    timestamp: base + i * 7,
  }));
}

/** Our topics written by our Producer: the records and where each went. */
const written = new Map<CompressionType, Promise<{ topic: string; records: Expected[]; sent: RecordMetadata[] }>>();

/** Writes `ours-<codec>` once (for both readers), checking the stored codec. */
function writeWithOurProducer(codec: CompressionType): Promise<{ topic: string; records: Expected[]; sent: RecordMetadata[] }> {
  let done = written.get(codec);
  if (done === undefined) {
    done = (async () => {
      const topic = `ours-${codec}`;
      const count = 400;
      await createTopic(topic, 2);
      const records = ourRecords(codec, count);
      const producer = new Producer({ ...clientOptions(), compression: codec, lingerMs: 20 });
      let sent: RecordMetadata[];
      try {
        sent = await Promise.all(records.map((r) => producer.send({ topic, key: r.key, value: r.value, headers: r.headers.map(([key, value]) => ({ key, value })), timestamp: r.timestamp })));
      } finally {
        await producer.close();
      }
      await assertStoredIn(topic, 2, codec, count);
      return { topic, records, sent };
    })();
    written.set(codec, done);
  }
  return done;
}

for (const codec of compressionTypes) {
  test(`our Producer (${codec}) → kcat reads the same keys, values, headers and timestamps`, async (t) => {
    if (!(await requireTool(t, 'kcat', ['-V'], 'kcat'))) return;
    const { topic, records, sent } = await writeWithOurProducer(codec);
    const read = byPosition(await kcatConsume(topic));
    assert.equal(read.size, records.length);
    records.forEach((expected, i) => {
      const where = `${topic} record ${i} at ${sent[i]!.partition}:${sent[i]!.offset}`;
      const got = read.get(`${sent[i]!.partition}:${sent[i]!.offset}`);
      assert.ok(got, `${where} read by kcat`);
      assert.deepEqual(
        { key: hex(got.key), value: hex(got.value), timestamp: got.timestamp, headers: got.headers },
        { key: hex(expected.key), value: hex(expected.value), timestamp: expected.timestamp, headers: kcatHeaders(expected.headers) },
        where,
      );
    });
  });

  test(`our Producer (${codec}) → kafka-python reads the same keys, values, headers and timestamps`, async (t) => {
    if (!(await kafkaPythonHas(t, codec))) return;
    const { topic, records, sent } = await writeWithOurProducer(codec);
    const report = (await pythonReport(t, kafkaPythonClient, script, ['consume', '--bootstrap', bootstrap, '--cafile', material.paths.ca, '--topic', topic]))!;
    const got = report.records as { partition: number; offset: number; timestamp: number; timestamp_type: number; key: string | null; value: string | null; headers: [string, string | null][] }[];
    const read = byPosition(got);
    assert.equal(read.size, records.length);
    records.forEach((expected, i) => {
      const where = `${topic} record ${i} at ${sent[i]!.partition}:${sent[i]!.offset}`;
      const r = read.get(`${sent[i]!.partition}:${sent[i]!.offset}`);
      assert.ok(r, `${where} read by kafka-python`);
      assert.equal(r.timestamp_type, 0, `${where}: CreateTime`);
      const fromHex = (text: string | null) => (text === null ? null : Buffer.from(text, 'hex'));
      sameRecord({ key: fromHex(r.key), value: fromHex(r.value), headers: r.headers.map(([k, v]) => [k, fromHex(v)] as const), timestamp: r.timestamp }, expected, where);
    });
  });
}

function received(record: ConsumerRecord): { key: Buffer | null; value: Buffer | null; headers: [string, Buffer | null][]; timestamp: number } {
  return { key: record.key, value: record.value, headers: record.headers.map((h) => [h.key, h.value]), timestamp: record.timestamp };
}

for (const codec of compressionTypes) {
  test(`kcat -z ${codec} → our Consumer reads what kcat wrote, as kcat reads it`, async (t) => {
    if (!(await requireTool(t, 'kcat', ['-V'], 'kcat'))) return;
    const topic = `kcat-${codec}`;
    const count = 400;
    await createTopic(topic, 2);
    const lines = Array.from({ length: count }, (_, i) => `key-${i}:value-${i}-é€-${'y'.repeat(i % 300)}`);
    const started = Date.now();
    const produced = await run('kcat', kcatArgs('-P', '-t', topic, '-z', codec, '-K', ':', '-H', 'src=kcat', '-H', `codec=${codec}`, '-H', 'ünï=çødé'), { input: lines.join('\n') + '\n', timeoutMs: 60_000 });
    const finished = Date.now();
    assert.equal(produced.code, 0, produced.stderr);
    await assertStoredIn(topic, 2, codec, count);

    const ours = await readWithOurConsumer(topic, count);
    const theirs = byPosition(await kcatConsume(topic));
    assert.equal(theirs.size, count);
    const seen = new Set<number>();
    const previous = new Map<number, number>();
    for (const record of ours) {
      const where = `${topic} ${record.partition}:${record.offset}`;
      const mine = received(record);
      // Against the input: kcat's line, its -H headers, a timestamp taken while kcat ran.
      const i = Number(mine.key?.toString().slice(4));
      assert.ok(Number.isInteger(i) && i >= 0 && i < count && !seen.has(i), `${where}: key ${mine.key?.toString()}`);
      seen.add(i);
      assert.ok(i > (previous.get(record.partition) ?? -1), `${where}: kcat's order kept within the partition`);
      previous.set(record.partition, i);
      assert.equal(mine.value?.toString(), lines[i]!.slice(lines[i]!.indexOf(':') + 1), where);
      assert.deepEqual(
        mine.headers.map(([k, v]) => [k, v?.toString() ?? null]),
        [
          ['src', 'kcat'],
          ['codec', codec],
          ['ünï', 'çødé'],
        ],
        where,
      );
      assert.ok(mine.timestamp >= started - 1000 && mine.timestamp <= finished + 1000, `${where}: timestamp ${mine.timestamp} within the kcat run`);
      // Against kcat's own reading of the same record.
      const kcat = theirs.get(`${record.partition}:${record.offset}`);
      assert.ok(kcat, `${where} read by kcat too`);
      assert.deepEqual(
        { key: hex(mine.key), value: hex(mine.value), timestamp: mine.timestamp, headers: kcatHeaders(mine.headers) },
        { key: hex(kcat.key), value: hex(kcat.value), timestamp: kcat.timestamp, headers: kcat.headers },
        where,
      );
    }
    assert.equal(seen.size, count);
  });
}

/** What kafka-python sends: binary keys and values, null and empty ones, empty header values, chosen timestamps. */
function pythonRecords(codec: CompressionType, count: number): (Expected & { partition: number })[] {
  return Array.from({ length: count }, (_, i) => ({
    partition: i % 2,
    key: i % 37 === 5 ? null : Buffer.from([i & 0xff, (i >> 8) & 0xff, 0x00, 0xff, 0x0a]),
    value: i % 43 === 0 ? null : i % 43 === 1 ? Buffer.alloc(0) : Buffer.from(Array.from({ length: 20 + (i % 200) }, (_, j) => (i * 31 + j * (j % 7 === 0 ? 1 : 0)) & 0xff)),
    headers: [
      ['src', Buffer.from('kafka-python')],
      ['codec', Buffer.from(codec)],
      ['i', Buffer.from(String(i))],
      // KafkaProducer.send() takes only bytes header values (no null), so an empty one here.
      ...(i % 3 === 0 ? ([['empty', Buffer.alloc(0)]] as const) : []),
    ],
    timestamp: base + 86_400_000 + i * 13,
  }));
}

for (const codec of compressionTypes) {
  test(`kafka-python (${codec}) → our Consumer reads every byte, header and timestamp it sent`, async (t) => {
    if (!(await kafkaPythonHas(t, codec))) return;
    const topic = `kafka-python-${codec}`;
    const count = 300;
    await createTopic(topic, 2);
    const records = pythonRecords(codec, count);
    const file = join(files.path, `${topic}.json`);
    writeFileSync(file, JSON.stringify(records.map((r) => ({ partition: r.partition, key: hex(r.key), value: hex(r.value), headers: r.headers.map(([k, v]) => [k, hex(v)]), timestamp: r.timestamp }))));
    const report = (await pythonReport(t, kafkaPythonClient, script, ['produce', '--bootstrap', bootstrap, '--cafile', material.paths.ca, '--topic', topic, '--records', file, '--compression', codec]))!;
    const results = report.results as { partition: number; offset: number; timestamp: number }[];
    assert.equal(results.length, count);
    await assertStoredIn(topic, 2, codec, count);

    const read = byPosition(await readWithOurConsumer(topic, count));
    records.forEach((expected, i) => {
      const { partition, offset, timestamp } = results[i]!;
      const where = `${topic} record ${i} at ${partition}:${offset}`;
      assert.equal(partition, expected.partition, where);
      assert.equal(timestamp, expected.timestamp, `${where}: the timestamp kafka-python reported`);
      const record = read.get(`${partition}:${offset}`);
      assert.ok(record, `${where} read by our Consumer`);
      sameRecord(received(record), expected, where);
    });
  });
}
