/**
 * Changing topic configs with real admin clients over TLS, and reading them back:
 * kafka-python 2.0.2 KafkaAdminClient.alter_configs / describe_configs, confluent-kafka-python
 * 1.7.0 AdminClient.alter_configs / describe_configs (futures), and kafkajs 2.2.4
 * admin.alterConfigs / describeConfigs. Changed values are reported as DYNAMIC_TOPIC_CONFIG
 * (source 1), AlterConfigs replaces the whole set, bad values are INVALID_CONFIG and broker
 * configs are refused.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type ConfigResourceTypes } from 'kafkajs';
import type { Broker } from '../../src/index.js';
import type { TestTls } from '../helpers/tls.js';
import { useTlsBroker } from '../helpers/shared-broker.js';
import { RawClient, withTimeout } from '../helpers/raw-client.js';
import { run } from '../helpers/run.js';
import { requireTool, systemPython } from '../helpers/interop.js';
import { repoPath } from '../helpers/paths.js';
import { createTopic } from '../broker/idempotence-helpers.js';

/** ConfigResourceTypes.TOPIC (kafkajs exports its enums only through its CommonJS default export). */
const topicResource = 2 as ConfigResourceTypes;

let broker: Broker;
let material: TestTls;
let port = 0;
useTlsBroker((started) => ({ broker, material, port } = started));

async function create(topic: string): Promise<void> {
  const client = await RawClient.connect({ port, tls: { ca: material.ca } });
  try {
    await createTopic(client, topic, 1, { 'retention.bytes': '1000000' });
  } finally {
    client.close();
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Report = Record<string, any>;

async function python(t: TestContext, command: 'kafka-python' | 'confluent', topic: string): Promise<Report | null> {
  const module = command === 'kafka-python' ? 'kafka' : 'confluent_kafka';
  if (!(await requireTool(t, systemPython, ['-c', `import ${module}`], `${command} (python3-${command === 'kafka-python' ? 'kafka' : 'confluent-kafka'})`))) return null;
  const script = repoPath('test/interop/python/admin_config_check.py');
  const result = await run(systemPython, [script, command, '--bootstrap', `127.0.0.1:${port}`, '--cafile', material.paths.ca, '--topic', topic, '--broker-id', String(broker.nodeId)], { timeoutMs: 60_000 });
  assert.equal(result.code, 0, `admin_config_check.py ${command} exited ${result.code ?? result.signal}:\n${result.stderr.slice(-4000)}`);
  const lines = result.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Report;
}

test('kafka-python alter_configs and describe_configs', async (t) => {
  const topic = 'kp-configs';
  await create(topic);
  const report = await python(t, 'kafka-python', topic);
  if (!report) return;
  assert.deepEqual(report.altered.results, [[0, null]]);
  const described = report.described.entries;
  assert.equal(described['retention.ms'].value, '7200000');
  assert.equal(described['segment.bytes'].value, '2097152');
  // describe_configs v0 reports is_default (false), v1+ the source (1, DYNAMIC_TOPIC_CONFIG).
  assert.ok([false, 1].includes(described['retention.ms'].default_or_source), JSON.stringify(described['retention.ms']));
  assert.equal(described['retention.bytes'].value, '-1', 'AlterConfigs replaced the whole set: the creation-time override is gone');
  assert.equal(report.invalid.results[0][0], 40, 'INVALID_CONFIG');
  assert.match(report.invalid.results[0][1], /retention\.ms/);
  assert.equal(report.broker.results[0][0], 42, 'INVALID_REQUEST');
  assert.match(report.broker.results[0][1], /Cannot update these configs dynamically: num\.partitions/);
  assert.deepEqual(report.replaced.results, [[0, null]]);
  assert.equal(report.described_after_replace.entries['max.message.bytes'].value, '65536');
  assert.equal(report.described_after_replace.entries['retention.ms'].value, '604800000');
});

test('confluent-kafka-python AdminClient alter_configs and describe_configs', async (t) => {
  const topic = 'ck-configs';
  await create(topic);
  const report = await python(t, 'confluent', topic);
  if (!report) return;
  assert.deepEqual(report.altered, { [topic]: null }, 'the future resolves');
  assert.deepEqual(report.described['retention.ms'], { value: '7200000', source: 1, is_default: false });
  assert.deepEqual(report.described['segment.bytes'], { value: '2097152', source: 1, is_default: false });
  assert.equal(report.described['retention.bytes'].source, 5, 'back to its default');
  assert.equal(report.invalid[topic].name, 'INVALID_CONFIG');
  assert.equal(report.broker[String(broker.nodeId)].name, 'INVALID_REQUEST');
  assert.deepEqual(report.replaced, { [topic]: null });
  assert.deepEqual(report.described_after_replace['max.message.bytes'], { value: '65536', source: 1, is_default: false });
  assert.equal(report.described_after_replace['retention.ms'].source, 5);
});

test('kafkajs admin alterConfigs and describeConfigs', async () => {
  const topic = 'kjs-configs';
  await create(topic);
  const kafka = new Kafka({ clientId: 'inkwell-kafkajs-configs', brokers: [`127.0.0.1:${port}`], ssl: { ca: [material.ca.toString('utf8')] }, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await withTimeout(admin.connect(), 30_000, 'admin.connect');
  try {
    await withTimeout(
      admin.alterConfigs({ validateOnly: false, resources: [{ type: topicResource, name: topic, configEntries: [{ name: 'retention.ms', value: '5400000' }, { name: 'cleanup.policy', value: 'delete' }] }] }),
      30_000,
      'alterConfigs',
    );
    const described = await withTimeout(
      admin.describeConfigs({ includeSynonyms: false, resources: [{ type: topicResource, name: topic, configNames: ['retention.ms', 'cleanup.policy', 'retention.bytes'] }] }),
      30_000,
      'describeConfigs',
    );
    const entries = new Map(described.resources[0]!.configEntries.map((e) => [e.configName, e]));
    assert.equal(entries.get('retention.ms')?.configValue, '5400000');
    assert.equal(entries.get('retention.ms')?.isDefault, false);
    assert.equal(entries.get('cleanup.policy')?.configValue, 'delete');
    assert.equal(entries.get('retention.bytes')?.configValue, '-1', 'replaced: the creation-time override is gone');
    await assert.rejects(
      admin.alterConfigs({ validateOnly: false, resources: [{ type: topicResource, name: topic, configEntries: [{ name: 'segment.bytes', value: '12' }] }] }),
      (error: Error & { type?: string }) => error.type === 'INVALID_CONFIG' || /INVALID_CONFIG|at least/.test(error.message),
    );
    // validateOnly changes nothing.
    await admin.alterConfigs({ validateOnly: true, resources: [{ type: topicResource, name: topic, configEntries: [{ name: 'retention.ms', value: '1' }] }] });
    const again = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: topicResource, name: topic, configNames: ['retention.ms'] }] });
    assert.equal(again.resources[0]!.configEntries[0]!.configValue, '5400000');
  } finally {
    await admin.disconnect();
  }
});
