/**
 * `inkwell consume` end to end over TLS: produce → consume through stdin and stdout, formats
 * and JSON, --offset and --partition, --max-messages, --exit, a group that resumes where it
 * committed, mutual TLS flags, bad flags (exit 2) and an unreachable broker (exit 1).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Admin } from '../../src/index.js';
import { cliPath } from './cli-process.js';
import { assertFailure, assertUsageError, cli, startTlsBroker, type TlsBroker } from './client-cli.js';

let target: TlsBroker;

before(async () => {
  target = await startTlsBroker();
  const admin = new Admin({ bootstrap: target.broker.bootstrap('SSL'), tls: { ca: target.material.ca } });
  await admin.createTopics([
    { topic: 'events', numPartitions: 2 },
    { topic: 'empty', numPartitions: 3 },
    { topic: 'grouped', numPartitions: 2 },
  ]);
  await admin.close();
  const lines = Array.from({ length: 20 }, (_, i) => `key${i % 4}=value-${i}`).join('\n') + '\n';
  const produced = await cli(['produce', '-t', 'events', '--key-separator', '=', '--header', 'h=1', ...target.flags], lines);
  assert.equal(produced.code, 0, produced.stderr);
});

after(async () => {
  await target?.broker.close();
});

function outputLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line.length > 0);
}

test('consume --help prints usage and exits 0', async () => {
  const result = await cli(['consume', '--help']);
  assert.equal(result.code, 0);
  assert.match(result.stdout, /^Usage: inkwell consume -t TOPIC/);
  assert.match(result.stdout, /--max-messages/);
});

test('--from-beginning --exit prints every record in the --format, then exits 0', async () => {
  const result = await cli(['consume', '-t', 'events', '--from-beginning', '--exit', '--format', '%t %p %o %k %v %h', ...target.flags]);
  assert.equal(result.code, 0, result.stderr);
  const lines = outputLines(result.stdout);
  assert.equal(lines.length, 20);
  const values = new Set<string>();
  for (const line of lines) {
    const match = /^events (\d) (\d+) (key\d) (value-(\d+)) h=1$/.exec(line);
    assert.ok(match, line);
    assert.equal(match[3], `key${Number(match[5]) % 4}`);
    values.add(match[4]!);
  }
  assert.equal(values.size, 20);
});

test('--json prints one object per record; --max-messages stops early', async () => {
  const result = await cli(['consume', '-t', 'events', '--from-beginning', '--json', '-n', '5', ...target.flags]);
  assert.equal(result.code, 0, result.stderr);
  const lines = outputLines(result.stdout);
  assert.equal(lines.length, 5);
  for (const line of lines) {
    const record = JSON.parse(line) as { topic: string; partition: number; offset: number; key: string; value: string; headers: Record<string, string>; timestamp: number };
    assert.equal(record.topic, 'events');
    assert.match(record.value, /^value-\d+$/);
    assert.deepEqual(record.headers, { h: '1' });
    assert.ok(record.timestamp > 1_600_000_000_000);
  }
});

test('--partition and --offset start exactly there', async () => {
  const all = await cli(['consume', '-t', 'events', '-p', '0', '--from-beginning', '-e', '--format', '%o', ...target.flags]);
  const offsets = outputLines(all.stdout).map(Number);
  assert.ok(offsets.length >= 2, 'partition 0 has records');
  const result = await cli(['consume', '-t', 'events', '-p', '0', '--offset', '1', '-e', '--format', '%p %o', ...target.flags]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    outputLines(result.stdout),
    offsets.slice(1).map((offset) => `0 ${offset}`),
  );
});

test('--exit on empty partitions exits 0 with no output', async () => {
  const result = await cli(['consume', '-t', 'empty', '--from-beginning', '-e', ...target.flags]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
});

test('produce | consume: stdin to stdout through the broker', async () => {
  const input = Array.from({ length: 300 }, (_, i) => `line ${i} ${'é'.repeat(i % 5)}`).join('\n') + '\n';
  const produced = await cli(['produce', '-t', 'piped', '-p', '0', ...target.flags], input);
  assert.equal(produced.code, 0, produced.stderr);
  const consumed = await cli(['consume', '-t', 'piped', '--from-beginning', '-e', ...target.flags]);
  assert.equal(consumed.code, 0, consumed.stderr);
  assert.equal(consumed.stdout, input);
});

test('a group resumes after what it committed', async () => {
  const first = await cli(['produce', '-t', 'grouped', ...target.flags], 'a\nb\nc\n');
  assert.equal(first.code, 0, first.stderr);
  const read1 = await cli(['consume', '-t', 'grouped', '-g', 'cli-group', '--from-beginning', '-n', '3', ...target.flags]);
  assert.equal(read1.code, 0, read1.stderr);
  assert.deepEqual(outputLines(read1.stdout).sort(), ['a', 'b', 'c']);
  const second = await cli(['produce', '-t', 'grouped', ...target.flags], 'd\ne\n');
  assert.equal(second.code, 0, second.stderr);
  const read2 = await cli(['consume', '-t', 'grouped', '-g', 'cli-group', '--from-beginning', '-n', '2', ...target.flags]);
  assert.equal(read2.code, 0, read2.stderr);
  assert.deepEqual(outputLines(read2.stdout).sort(), ['d', 'e']);
});

test('SIGTERM stops a consumer that waits for records; exit 0', async () => {
  const child = spawn(process.execPath, [cliPath, 'consume', '-t', 'events', ...target.flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
  assert.equal(code, 0, stderr);
});

test('mutual TLS: --cert and --key reach a broker that requires a client certificate', async () => {
  const strict = await startTlsBroker('required');
  try {
    const withCertificate = [...strict.flags, '--cert', strict.material.paths.clientCert, '--key', strict.material.paths.clientKey];
    const produced = await cli(['produce', '-t', 'mtls', ...withCertificate], 'secret\n');
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await cli(['consume', '-t', 'mtls', '--from-beginning', '-e', ...withCertificate]);
    assert.equal(consumed.stdout, 'secret\n');
    assertFailure(await cli(['consume', '-t', 'mtls', '--from-beginning', '-e', '--timeout-ms', '3000', ...strict.flags]), /consume: /);
  } finally {
    await strict.broker.close();
  }
});

test('bad flags exit 2 with one line', async () => {
  assertUsageError(await cli(['consume', '-t', 'events', '--nope', ...target.flags]), /unknown option --nope/);
  assertUsageError(await cli(['consume', ...target.flags]), /--topic is required/);
  assertUsageError(await cli(['consume', '-t', 'events', '--offset', 'x', ...target.flags]), /--offset must be an offset/);
  assertUsageError(await cli(['consume', '-t', 'events', '-n', 'ten', ...target.flags]), /--max-messages must be a whole number/);
  assertUsageError(await cli(['consume', '-t', 'events', '--format', '%q', ...target.flags]), /unknown format token %q/);
  assertUsageError(await cli(['consume', '-t', 'events', '--json', '--format', '%v', ...target.flags]), /--json and --format/);
  assertUsageError(await cli(['consume', '-t', 'events', '-g', 'g', '--offset', '3', ...target.flags]), /cannot be used with --group/);
  assertUsageError(await cli(['consume', '-t', 'events', '-p', '7', '-e', ...target.flags]), /no partition 7/);
});

test('an unreachable broker exits 1 with one line within the timeout; so does an unknown topic', async () => {
  const started = Date.now();
  assertFailure(await cli(['consume', '-t', 'events', '-b', '127.0.0.1:1', '--timeout-ms', '3000']), /127\.0\.0\.1:1/);
  assert.ok(Date.now() - started < 10_000);
  assertFailure(await cli(['consume', '-t', 'no-such-topic', '-e', '--timeout-ms', '5000', ...target.flags]), /UNKNOWN_TOPIC_OR_PARTITION/);
});
