/**
 * confluent-kafka-python 1.7.0 (Debian's python3-confluent-kafka on librdkafka, under
 * /usr/bin/python3) over TLS, verifying our CA: AdminClient create/describe configs/create
 * partitions/delete topics through futures, a Producer with idempotence off whose delivery
 * reports must give contiguous offsets per partition, and a Consumer that only assigns
 * partitions at OFFSET_BEGINNING (group.id set, no subscribe, no commit) reading everything back.
 * The work is done by test/interop/python/confluent_check.py, which reports what it saw as JSON.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { TestTls } from '../helpers/tls.js';
import { useTlsBroker, type TlsBroker } from '../helpers/shared-broker.js';
import { pythonReport, pythonScript, requireTool, systemPython, type Report } from '../helpers/interop.js';

let material: TestTls;
let bootstrap = '';
let createTopic: TlsBroker['createTopic'];
useTlsBroker((started) => ({ material, bootstrap, createTopic } = started));

const script = pythonScript('confluent_check.py');

async function confluent(t: TestContext, command: string, ...args: string[]): Promise<Report | null> {
  return pythonReport(t, { module: 'confluent_kafka', what: 'confluent-kafka-python (python3-confluent-kafka)' }, script, [command, '--bootstrap', bootstrap, '--cafile', material.paths.ca, ...args]);
}

test('AdminClient: create_topics futures resolve, list_topics reflects creation and deletion', async (t) => {
  const report = await confluent(t, 'admin', '--topic', 'ck-admin', '--partitions', '4', '--doomed', 'ck-doomed');
  if (!report) return;
  assert.deepEqual(report.created, { 'ck-admin': null, 'ck-doomed': null }, 'both futures resolve without error');
  assert.deepEqual(report.created_again, { 'ck-admin': 'TOPIC_ALREADY_EXISTS' });
  assert.ok(report.listed.includes('ck-admin') && report.listed.includes('ck-doomed'), `listed: ${report.listed}`);
  assert.equal(report.brokers.length, 1);
  assert.equal(report.controller_id, report.brokers[0]);
  assert.deepEqual(report.shape, { 'ck-admin': [0, 1, 2, 3], 'ck-doomed': [0] });
  assert.equal(report.doomed_configs['retention.ms'], '3600000', 'the config given at creation');
  assert.deepEqual(report.grown, { 'ck-doomed': null }, 'create_partitions future resolves');
  assert.deepEqual(report.shape_after_grow, { 'ck-doomed': [0, 1] });
  assert.deepEqual(report.deleted, { 'ck-doomed': null }, 'delete_topics future resolves');
  assert.ok(report.listed_after_delete.includes('ck-admin'));
  assert.ok(!report.listed_after_delete.includes('ck-doomed'), `ck-doomed still listed: ${report.listed_after_delete}`);
  assert.deepEqual(report.errors, [], 'no error callbacks');
});

const topic = 'ck-data';
const partitions = 3;
const produced: { tag: string; i: number; partition: number; offset: number }[] = [];

interface Delivery {
  error: string | null;
  partition: number;
  offset: number;
  key: string;
}

test('Producer (enable.idempotence=false): delivery reports carry partitions and contiguous offsets', async (t) => {
  if (!(await requireTool(t, systemPython, ['-c', 'import confluent_kafka'], 'confluent-kafka-python (python3-confluent-kafka)'))) return;
  await createTopic(topic, partitions);
  const next = new Array<number>(partitions).fill(0);
  for (const [acks, tag, count, compression] of [
    ['all', 'all', 500, 'none'],
    ['1', 'one', 300, 'lz4'],
  ] as const) {
    const report = (await confluent(t, 'produce', '--topic', topic, '--acks', acks, '--tag', tag, '--count', String(count), '--compression', compression))!;
    assert.equal(report.remaining, 0, 'flush delivered everything');
    assert.deepEqual(report.errors, []);
    const deliveries = report.deliveries as Delivery[];
    assert.equal(deliveries.length, count, 'one delivery report per message');
    assert.deepEqual(deliveries.filter((d) => d.error !== null), [], 'no delivery errors');
    // Delivery reports arrive in offset order per partition; offsets continue where the last run stopped.
    for (let partition = 0; partition < partitions; partition++) {
      const offsets = deliveries.filter((d) => d.partition === partition).map((d) => d.offset);
      assert.deepEqual(offsets, Array.from({ length: offsets.length }, (_, i) => next[partition]! + i), `acks ${acks}: partition ${partition} offsets contiguous`);
      next[partition]! += offsets.length;
    }
    assert.equal(new Set(deliveries.map((d) => d.partition)).size, partitions, 'keys spread over every partition');
    for (const d of deliveries) produced.push({ tag, i: Number(d.key.split('-k')[1]), partition: d.partition, offset: d.offset });
  }
});

test('Consumer with assign at OFFSET_BEGINNING (no subscribe, no commit) reads everything back', async (t) => {
  if (!(await requireTool(t, systemPython, ['-c', 'import confluent_kafka'], 'confluent-kafka-python (python3-confluent-kafka)'))) return;
  assert.equal(produced.length, 800, 'the producer test ran first');
  const report = (await confluent(t, 'consume', '--topic', topic))!;
  assert.deepEqual(report.partitions, [0, 1, 2]);
  assert.deepEqual(report.eof, [0, 1, 2], `every partition reached its end; errors: ${JSON.stringify(report.errors)}; coordinator: ${JSON.stringify(report.coordinator_logs)}`);
  const records = report.records as { partition: number; offset: number; key: string; value: string; headers: [string, string][] }[];
  assert.equal(records.length, produced.length, 'every record read once');
  const at = new Map(records.map((r) => [`${r.partition}:${r.offset}`, r]));
  for (const p of produced) {
    const r = at.get(`${p.partition}:${p.offset}`);
    assert.ok(r, `${p.tag}-k${p.i} at ${p.partition}:${p.offset}`);
    assert.equal(r.key, `${p.tag}-k${p.i}`);
    assert.equal(r.value, `${p.tag}-v${p.i}-${'y'.repeat(p.i % 41)}`);
    assert.deepEqual(r.headers, [['tag', p.tag], ['i', String(p.i)]]);
  }
  for (let partition = 0; partition < partitions; partition++) {
    const count = produced.filter((p) => p.partition === partition).length;
    assert.deepEqual(report.watermarks[String(partition)], [0, count], `partition ${partition} watermarks`);
  }
  // librdkafka starts its group machinery because group.id is set; the errors it reports must not stop the assign-only path.
  const unexpected = (report.errors as { name: string }[]).filter((e) => !/COORDINATOR|UNSUPPORTED_FEATURE/.test(e.name));
  assert.deepEqual(unexpected, []);
});
