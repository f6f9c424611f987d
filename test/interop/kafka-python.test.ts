/**
 * kafka-python 2.0.2 (Debian's python3-kafka, under /usr/bin/python3) over TLS, verifying our CA,
 * with its automatic broker-version probe: KafkaAdminClient (create, list, describe, describe
 * configs, delete topics), KafkaProducer with acks 0, 1 and 'all', and a KafkaConsumer without a
 * group (assign, seek_to_beginning, seek) reading everything back. The work is done by
 * test/interop/python/kafka_python_check.py, which reports what it saw as JSON.
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

const script = pythonScript('kafka_python_check.py');

async function kafkaPython(t: TestContext, command: string, ...args: string[]): Promise<Report | null> {
  return pythonReport(t, { module: 'kafka', what: 'kafka-python (python3-kafka)' }, script, [command, '--bootstrap', bootstrap, '--cafile', material.paths.ca, ...args]);
}

test('KafkaAdminClient: create, list, describe, describe configs and delete topics', async (t) => {
  const report = await kafkaPython(t, 'admin', '--topic', 'kp-admin', '--partitions', '3', '--doomed', 'kp-doomed');
  if (!report) return;
  // kafka-python guesses a broker release from ApiVersions: Fetch v11 without Produce v8 reads as 2.3.0.
  assert.equal(report.api_version, '2.3.0', 'version inferred by the automatic probe');
  assert.equal(report.create_version, 3, 'CreateTopics: the highest version kafka-python has');
  assert.deepEqual(report.created, [
    { topic: 'kp-admin', error_code: 0 },
    { topic: 'kp-doomed', error_code: 0 },
  ]);
  assert.deepEqual(report.created_again, { error: 'TopicAlreadyExistsError', errno: 36 }, 'creating it again: TOPIC_ALREADY_EXISTS');
  assert.ok(report.listed.includes('kp-admin') && report.listed.includes('kp-doomed'), `listed: ${report.listed}`);

  const [node] = report.node_ids as number[];
  assert.equal(report.node_ids.length, 1);
  const described = new Map((report.described as Report[]).map((topic) => [topic.topic, topic]));
  for (const [name, count] of [['kp-admin', 3], ['kp-doomed', 1]] as const) {
    const topic = described.get(name);
    assert.ok(topic, `${name} described`);
    assert.equal(topic.error_code, 0);
    assert.equal(topic.is_internal, false);
    assert.deepEqual(
      (topic.partitions as Report[]).map((p) => ({ error: p.error_code, partition: p.partition, leader: p.leader, replicas: p.replicas, isr: p.isr })).sort((a, b) => a.partition - b.partition),
      Array.from({ length: count }, (_, partition) => ({ error: 0, partition, leader: node, replicas: [node], isr: [node] })),
    );
  }

  const [topicConfigs] = report.topic_configs[0].resources as Report[];
  assert.equal(topicConfigs.error_code, 0);
  assert.equal(topicConfigs.resource_name, 'kp-doomed');
  const entries = new Map((topicConfigs.config_entries as Report[]).map((e) => [e.config_names, e]));
  assert.equal(entries.get('retention.ms')?.config_value, '3600000', 'the config given at creation');
  assert.equal(entries.get('cleanup.policy')?.config_value, 'delete');
  const [brokerConfigs] = report.broker_configs[0].resources as Report[];
  assert.equal(brokerConfigs.error_code, 0);
  assert.ok((brokerConfigs.config_entries as Report[]).some((e) => e.config_names === 'num.partitions'), 'broker configs include num.partitions');

  assert.deepEqual(report.deleted, [{ topic: 'kp-doomed', error_code: 0 }]);
  assert.ok(report.listed_after_delete.includes('kp-admin'));
  assert.ok(!report.listed_after_delete.includes('kp-doomed'), `kp-doomed still listed: ${report.listed_after_delete}`);
});

const topic = 'kp-data';
const partitions = 3;
/** What the producer runs reported: per record, its tag, key and (partition, offset). */
const produced: { acks: string; key: string; partition: number; offset: number }[] = [];

test('KafkaProducer with acks 1, all (plain and gzip) and 0: send, flush, record metadata', async (t) => {
  if (!(await requireTool(t, systemPython, ['-c', 'import kafka'], 'kafka-python (python3-kafka)'))) return;
  await createTopic(topic, partitions);
  const next = new Array<number>(partitions).fill(0);
  for (const [acks, tag, count, compression] of [
    ['1', 'one', 60, 'none'],
    ['all', 'all', 60, 'none'],
    ['all', 'gzip', 50, 'gzip'],
    ['0', 'zero', 40, 'none'],
  ] as const) {
    const report = (await kafkaPython(t, 'produce', '--topic', topic, '--acks', acks, '--tag', tag, '--count', String(count), '--compression', compression))!;
    const results = report.results as { key: string; partition: number; offset: number }[];
    assert.equal(results.length, count);
    results.forEach((r, i) => assert.equal(r.key, `${tag}-k${i}`));
    for (const r of results) {
      assert.ok(r.partition >= 0 && r.partition < partitions, `partition ${r.partition}`);
      if (acks === '0') {
        assert.equal(r.offset, -1, 'acks 0: no offset comes back');
      } else {
        // Offsets continue where the previous run stopped, contiguous and in send order.
        assert.equal(r.offset, next[r.partition], `acks ${acks}: ${r.key} on partition ${r.partition}`);
      }
      next[r.partition]!++;
      produced.push({ acks, key: r.key, partition: r.partition, offset: r.offset });
    }
    assert.ok(new Set(results.map((r) => r.partition)).size > 1, 'keys spread over partitions');
  }
});

test('KafkaConsumer without a group: assign, seek_to_beginning, read back everything; seek', async (t) => {
  if (!(await requireTool(t, systemPython, ['-c', 'import kafka'], 'kafka-python (python3-kafka)'))) return;
  assert.equal(produced.length, 210, 'the producer test ran first');
  const counts = new Array<number>(partitions).fill(0);
  for (const p of produced) counts[p.partition]!++;
  const report = (await kafkaPython(t, 'consume', '--topic', topic, '--seek-partition', '1', '--seek-offset', '7'))!;
  assert.deepEqual(report.beginning, { 0: 0, 1: 0, 2: 0 });
  assert.deepEqual(report.end, Object.fromEntries(counts.map((c, p) => [String(p), c])));

  const records = report.records as { partition: number; offset: number; key: string; value: string; headers: [string, string][] }[];
  assert.equal(records.length, produced.length, 'every record read once');
  const byKey = new Map(records.map((r) => [r.key, r]));
  for (const p of produced) {
    const r = byKey.get(p.key);
    assert.ok(r, `${p.key} read back`);
    assert.equal(r.partition, p.partition, `${p.key} partition`);
    if (p.offset >= 0) assert.equal(r.offset, p.offset, `${p.key} offset`);
    const [tag, i] = [p.key.split('-k')[0]!, Number(p.key.split('-k')[1])];
    assert.equal(r.value, `${tag}-v${i}-${'x'.repeat(i % 37)}`);
    assert.deepEqual(r.headers, [['tag', tag], ['i', String(i)]]);
  }
  for (let partition = 0; partition < partitions; partition++) {
    const offsets = records.filter((r) => r.partition === partition).map((r) => r.offset);
    assert.deepEqual(offsets, Array.from({ length: counts[partition]! }, (_, i) => i), `partition ${partition}: offsets 0..n-1 in order`);
  }

  const afterSeek = report.after_seek as { partition: number; offset: number }[];
  assert.deepEqual(
    afterSeek.map((r) => `${r.partition}:${r.offset}`),
    Array.from({ length: counts[1]! - 7 }, (_, i) => `1:${i + 7}`),
    'seek(partition 1, 7) reads partition 1 again from offset 7',
  );
});
