/**
 * `inkwell produce` end to end over TLS: stdin lines become records (keys split at the
 * separator, headers, a chosen partition, each compression and acks level), --file works,
 * bad flags exit 2, an unreachable or silent broker exits 1 within --timeout-ms.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Admin, type ConsumerRecord } from '../../src/index.js';
import { compressionTypes } from '../../src/client/compression.js';
import { tempDir } from '../helpers/interop.js';
import { FakeBroker } from '../client/fake-broker.js';
import { assertFailure, assertUsageError, cli, startTlsBroker, type TlsBroker } from './client-cli.js';
import { readFromStart } from '../helpers/read-from-start.js';

let target: TlsBroker;
const files = tempDir('inkwell-produce-');

before(async () => {
  target = await startTlsBroker();
});

after(async () => {
  await target?.broker.close();
  files.remove();
});

function clientOptions() {
  return { bootstrap: target.broker.bootstrap('SSL'), tls: { ca: target.material.ca } };
}

async function createTopic(topic: string, numPartitions: number): Promise<void> {
  const admin = new Admin(clientOptions());
  try {
    await admin.createTopics([{ topic, numPartitions }]);
  } finally {
    await admin.close();
  }
}

function readAll(topic: string, count: number): Promise<ConsumerRecord[]> {
  return readFromStart(clientOptions(), topic, count);
}

test('produce --help prints usage and exits 0', async () => {
  const result = await cli(['produce', '--help']);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^Usage: inkwell produce -t TOPIC/);
  assert.match(result.stdout, /--key-separator/);
});

test('stdin lines become records: keys at the separator, headers on every record, empty lines skipped', async () => {
  await createTopic('cli-keys', 3);
  const input = 'k1::one\nk2::two::more\n\nno separator\r\nk3::three\n';
  const result = await cli(['produce', '-t', 'cli-keys', '--key-separator', '::', '--header', 'source=cli', '--header', 'eq=a=b', ...target.flags], input);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
  const records = await readAll('cli-keys', 4);
  const byValue = new Map(records.map((r) => [r.value!.toString(), r]));
  assert.deepEqual([...byValue.keys()].sort(), ['no separator', 'one', 'three', 'two::more']);
  assert.equal(byValue.get('one')!.key!.toString(), 'k1');
  assert.equal(byValue.get('two::more')!.key!.toString(), 'k2');
  assert.equal(byValue.get('no separator')!.key, null);
  for (const record of records) {
    assert.deepEqual(
      record.headers.map((h) => [h.key, h.value!.toString()]),
      [
        ['source', 'cli'],
        ['eq', 'a=b'],
      ],
    );
  }
});

test('--file, --partition, every --compression and --acks level deliver', async () => {
  await createTopic('cli-options', 2);
  const path = join(files.path, 'records.txt');
  writeFileSync(path, Array.from({ length: 100 }, (_, i) => `line-${i}`).join('\n') + '\n');
  let expected = 0;
  for (const compression of compressionTypes) {
    const result = await cli(['produce', '-t', 'cli-options', '--file', path, '--partition', '1', '--compression', compression, ...target.flags]);
    assert.equal(result.code, 0, result.stderr);
    expected += 100;
  }
  for (const acks of ['0', '1', 'all']) {
    const result = await cli(['produce', '-t', 'cli-options', '-p', '1', '--acks', acks, ...target.flags], 'a\nb\n');
    assert.equal(result.code, 0, result.stderr);
    expected += 2;
  }
  const records = await readAll('cli-options', expected);
  assert.equal(records.length, expected);
  assert.ok(records.every((r) => r.partition === 1));
  assert.deepEqual(
    records.slice(0, 3).map((r) => r.value!.toString()),
    ['line-0', 'line-1', 'line-2'],
  );
});

test('bad flags exit 2 with one line', async () => {
  assertUsageError(await cli(['produce', '-t', 'x', '--bogus', ...target.flags], ''), /unknown option --bogus/);
  assertUsageError(await cli(['produce', ...target.flags], ''), /--topic is required/);
  assertUsageError(await cli(['produce', '-t', 'x', '--acks', '2', ...target.flags], ''), /--acks must be one of 0, 1, all, -1/);
  assertUsageError(await cli(['produce', '-t', 'x', '--compression', 'brotli', ...target.flags], ''), /--compression must be one of none, gzip, snappy, lz4, zstd/);
  assertUsageError(await cli(['produce', '-t', 'x', '--partition', '-1', ...target.flags], ''), /partition/);
  assertUsageError(await cli(['produce', '-t', 'x', '--header', 'novalue', ...target.flags], ''), /--header must be key=value/);
  assertUsageError(await cli(['produce', '-t', 'x', '--cert', 'c.pem', ...target.flags], ''), /--cert and --key go together/);
  assertUsageError(await cli(['produce', '-t', 'x', '--ca', join(files.path, 'missing.pem')], ''), /no such file/);
  assertUsageError(await cli(['produce', '-t', 'x', '-b', 'nonsense'], ''), /--bootstrap must be host:port/);
});

test('an unreachable broker exits 1 with one line, quickly', async () => {
  const started = Date.now();
  const result = await cli(['produce', '-t', 'x', '-b', '127.0.0.1:1', '--timeout-ms', '3000'], 'a\n');
  assertFailure(result, /127\.0\.0\.1:1/);
  assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
});

test('a broker that accepts but never answers exits 1 within --timeout-ms', async () => {
  const silent = await FakeBroker.start({ silent: true });
  try {
    const started = Date.now();
    const result = await cli(['produce', '-t', 'x', '-b', `127.0.0.1:${silent.port}`, '--timeout-ms', '1500'], 'a\n');
    assertFailure(result, /within 1500 ms|did not answer/);
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  } finally {
    await silent.close();
  }
});

test('a record the broker refuses fails the command with exit 1', async () => {
  await createTopic('cli-small', 1);
  const admin = new Admin(clientOptions());
  await admin.alterConfigs({ type: 'topic', name: 'cli-small' }, { 'max.message.bytes': '1024' });
  await admin.close();
  const result = await cli(['produce', '-t', 'cli-small', ...target.flags], 'x'.repeat(5000) + '\n');
  assertFailure(result, /MESSAGE_TOO_LARGE/);
});
