/**
 * `inkwell topics` end to end over TLS: create, list, describe, alter (partitions and configs),
 * delete; operation failures exit 1, usage errors exit 2.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertFailure, assertUsageError, cli, startTlsBroker, type TlsBroker } from './client-cli.js';

let target: TlsBroker;

before(async () => {
  target = await startTlsBroker();
});

after(async () => {
  await target?.broker.close();
});

test('topics --help prints usage and exits 0', async () => {
  for (const args of [['topics', '--help'], ['topics', 'create', '--help']]) {
    const result = await cli(args);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^Usage: inkwell topics <list\|create\|delete\|describe\|alter>/);
  }
});

test('create, list, describe, alter and delete a topic', async () => {
  const created = await cli(['topics', 'create', '-t', 'orders', '--partitions', '3', '--config', 'retention.ms=60000', ...target.flags]);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(created.stdout, 'created orders\n');
  assertFailure(await cli(['topics', 'create', '-t', 'orders', ...target.flags]), /TOPIC_ALREADY_EXISTS/);
  assert.equal((await cli(['topics', 'create', '-t', 'orders', '--if-not-exists', ...target.flags])).code, 0);

  const listed = await cli(['topics', 'list', ...target.flags]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok(listed.stdout.split('\n').includes('orders'));

  const described = await cli(['topics', 'describe', '-t', 'orders', ...target.flags]);
  assert.equal(described.code, 0, described.stderr);
  assert.match(described.stdout, /^Topic: orders\tPartitions: 3\tConfigs: .*retention\.ms=60000/);
  assert.equal(described.stdout.match(/\tPartition: \d\tLeader: 1\tReplicas: 1\tIsr: 1/g)?.length, 3);

  const altered = await cli(['topics', 'alter', '-t', 'orders', '--partitions', '5', '--config', 'retention.ms=120000', ...target.flags]);
  assert.equal(altered.code, 0, altered.stderr);
  const after = await cli(['topics', 'describe', '-t', 'orders', ...target.flags]);
  assert.match(after.stdout, /^Topic: orders\tPartitions: 5\tConfigs: .*retention\.ms=120000/);
  assertFailure(await cli(['topics', 'alter', '-t', 'orders', '--partitions', '2', ...target.flags]), /INVALID_PARTITIONS/);
  const reset = await cli(['topics', 'alter', '-t', 'orders', '--delete-config', 'retention.ms', ...target.flags]);
  assert.equal(reset.code, 0, reset.stderr);
  assert.doesNotMatch((await cli(['topics', 'describe', '-t', 'orders', ...target.flags])).stdout, /retention\.ms/);

  const deleted = await cli(['topics', 'delete', '-t', 'orders', ...target.flags]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(deleted.stdout, 'deleted orders\n');
  assertFailure(await cli(['topics', 'delete', '-t', 'orders', ...target.flags]), /UNKNOWN_TOPIC_OR_PARTITION/);
  assert.equal((await cli(['topics', 'delete', '-t', 'orders', '--if-exists', ...target.flags])).code, 0);
  assertFailure(await cli(['topics', 'describe', '-t', 'orders', ...target.flags]), /UNKNOWN_TOPIC_OR_PARTITION/);
});

test('usage errors exit 2 with one line', async () => {
  assertUsageError(await cli(['topics']), /missing action/);
  assertUsageError(await cli(['topics', 'rename', '-t', 'x']), /unknown action "rename"/);
  assertUsageError(await cli(['topics', 'create', ...target.flags]), /exactly one --topic/);
  assertUsageError(await cli(['topics', 'create', '-t', 'x', '--partitions', 'many', ...target.flags]), /--partitions must be a whole number/);
  assertUsageError(await cli(['topics', 'alter', '-t', 'x', ...target.flags]), /nothing to change/);
  assertUsageError(await cli(['topics', 'create', '-t', 'x', '--config', 'novalue', ...target.flags]), /--config must be key=value/);
  assertUsageError(await cli(['topics', 'list', '--whatever', ...target.flags]), /unknown option --whatever/);
});

test('an unreachable broker exits 1 within the timeout', async () => {
  const started = Date.now();
  assertFailure(await cli(['topics', 'list', '-b', '127.0.0.1:1', '--timeout-ms', '3000']), /127\.0\.0\.1:1/);
  assert.ok(Date.now() - started < 10_000);
});
