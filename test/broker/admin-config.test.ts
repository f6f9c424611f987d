/**
 * AlterConfigs and IncrementalAlterConfigs through the wire: topic configs changed, replaced,
 * deleted, appended to; every refusal (invalid and unknown configs, nulls, duplicates, unknown
 * topics, broker configs, other resource types, unknown operations); validate_only; and
 * DescribeConfigs reporting the new values as TOPIC_CONFIG (source 1), and no certificate paths
 * for TLS material given as PEM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type Broker } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { useRawBroker } from '../helpers/shared-broker.js';
import { testTls } from '../helpers/tls.js';
import type { Message } from '../../src/protocol/codec.js';
import { createTopic } from './idempotence-helpers.js';

const UNKNOWN_TOPIC_OR_PARTITION = 3;
const INVALID_CONFIG = 40;
const INVALID_REQUEST = 42;
const TOPIC = 2;
const BROKER = 4;
const BROKER_LOGGER = 8;
const [SET, DELETE, APPEND, SUBTRACT] = [0, 1, 2, 3];

let broker: Broker;
let client: RawClient;
useRawBroker((started) => ({ broker, client } = started));

type Result = { errorCode: number; errorMessage: string | null; resourceType: number; resourceName: string };

async function alter(version: number, resources: { resourceType: number; resourceName: string; configs: { name: string; value: string | null }[] }[], validateOnly = false): Promise<Result[]> {
  const response = await client.request('AlterConfigs', version, { resources, validateOnly });
  return response.responses as Result[];
}

async function incremental(version: number, resources: { resourceType: number; resourceName: string; configs: { name: string; configOperation: number; value: string | null }[] }[], validateOnly = false): Promise<Result[]> {
  const response = await client.request('IncrementalAlterConfigs', version, { resources, validateOnly });
  return response.responses as Result[];
}

/** DescribeConfigs v1 of a topic: name → [value, configSource]. */
async function describe(topic: string, version = 1): Promise<Map<string, [string | null, number]>> {
  const response = await client.request('DescribeConfigs', version, { resources: [{ resourceType: TOPIC, resourceName: topic, configurationKeys: null }], includeSynonyms: false });
  const result = (response.results as { errorCode: number; configs: Message[] }[])[0]!;
  assert.equal(result.errorCode, 0);
  return new Map(result.configs.map((c) => [c.name as string, [c.value as string | null, version === 0 ? (c.isDefault ? 5 : 1) : (c.configSource as number)]]));
}

test('AlterConfigs sets topic configs, DescribeConfigs reports them as TOPIC_CONFIG, and unnamed overrides go back to defaults', async () => {
  await createTopic(client, 'altered', 2, { 'max.message.bytes': '50000' });
  for (const version of [0, 1]) {
    const results = await alter(version, [{ resourceType: TOPIC, resourceName: 'altered', configs: [{ name: 'retention.ms', value: String(3_600_000 + version) }, { name: 'segment.bytes', value: '1048576' }] }]);
    assert.deepEqual(results, [{ errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: 'altered' }], `v${version}`);
    const configs = await describe('altered');
    assert.deepEqual(configs.get('retention.ms'), [String(3_600_000 + version), 1]);
    assert.deepEqual(configs.get('segment.bytes'), ['1048576', 1]);
    assert.deepEqual(configs.get('max.message.bytes'), ['1048588', 5], 'the override left out is back to the default');
    assert.deepEqual((await describe('altered', 0)).get('retention.ms'), [String(3_600_000 + version), 1]);
  }
  const cleared = await alter(1, [{ resourceType: TOPIC, resourceName: 'altered', configs: [] }]);
  assert.equal(cleared[0]!.errorCode, 0);
  assert.deepEqual((await describe('altered')).get('retention.ms'), ['604800000', 5]);
});

test('AlterConfigs refuses bad values, unknown names, nulls, duplicates and unknown topics, each resource on its own', async () => {
  await createTopic(client, 'strict', 1, { 'retention.ms': '1000' });
  const results = await alter(1, [
    { resourceType: TOPIC, resourceName: 'strict', configs: [{ name: 'retention.ms', value: 'soon' }] },
    { resourceType: TOPIC, resourceName: 'no-such-topic', configs: [{ name: 'retention.ms', value: '1' }] },
  ]);
  assert.equal(results[0]!.errorCode, INVALID_CONFIG);
  assert.match(results[0]!.errorMessage!, /Invalid value soon for configuration retention\.ms/);
  assert.equal(results[1]!.errorCode, UNKNOWN_TOPIC_OR_PARTITION);
  assert.match(results[1]!.errorMessage!, /does not exist/);
  const cases: [{ name: string; value: string | null }[], number, RegExp][] = [
    [[{ name: 'no.such.config', value: '1' }], INVALID_CONFIG, /Unknown topic config name: no\.such\.config/],
    [[{ name: 'cleanup.policy', value: 'compact' }], INVALID_CONFIG, /compaction is not supported/],
    [[{ name: 'segment.bytes', value: '10' }], INVALID_CONFIG, /at least/],
    [[{ name: 'retention.ms', value: null }], INVALID_REQUEST, /Null value not supported for : retention\.ms/],
    [[{ name: 'retention.ms', value: '1' }, { name: 'retention.ms', value: '2' }], INVALID_REQUEST, /duplicate config keys/],
  ];
  for (const [configs, code, message] of cases) {
    const [result] = await alter(0, [{ resourceType: TOPIC, resourceName: 'strict', configs }]);
    assert.equal(result!.errorCode, code, JSON.stringify(configs));
    assert.match(result!.errorMessage!, message);
  }
  const twice = await alter(1, [
    { resourceType: TOPIC, resourceName: 'strict', configs: [{ name: 'retention.ms', value: '5' }] },
    { resourceType: TOPIC, resourceName: 'strict', configs: [{ name: 'retention.ms', value: '6' }] },
  ]);
  assert.deepEqual(twice.map((r) => [r.errorCode, r.errorMessage]), [[INVALID_REQUEST, 'Each resource must appear at most once.'], [INVALID_REQUEST, 'Each resource must appear at most once.']]);
  assert.deepEqual((await describe('strict')).get('retention.ms'), ['1000', 1], 'nothing changed');
});

test('validate_only checks without changing anything', async () => {
  await createTopic(client, 'dry', 1);
  const ok = await alter(1, [{ resourceType: TOPIC, resourceName: 'dry', configs: [{ name: 'retention.ms', value: '1234' }] }], true);
  assert.equal(ok[0]!.errorCode, 0);
  const bad = await alter(1, [{ resourceType: TOPIC, resourceName: 'dry', configs: [{ name: 'retention.ms', value: 'x' }] }], true);
  assert.equal(bad[0]!.errorCode, INVALID_CONFIG);
  const inc = await incremental(1, [{ resourceType: TOPIC, resourceName: 'dry', configs: [{ name: 'retention.ms', configOperation: SET, value: '99' }] }], true);
  assert.equal(inc[0]!.errorCode, 0);
  assert.deepEqual((await describe('dry')).get('retention.ms'), ['604800000', 5]);
});

test('broker configs are read-only: any change is INVALID_REQUEST, an empty change is accepted', async () => {
  const nodeId = String(broker.nodeId);
  const changed = await alter(1, [{ resourceType: BROKER, resourceName: nodeId, configs: [{ name: 'num.partitions', value: '3' }, { name: 'log.segment.bytes', value: '2000' }] }]);
  assert.equal(changed[0]!.errorCode, INVALID_REQUEST);
  assert.match(changed[0]!.errorMessage!, /^Cannot update these configs dynamically: num\.partitions, log\.segment\.bytes/);
  const shared = await incremental(0, [{ resourceType: BROKER, resourceName: '', configs: [{ name: 'num.partitions', configOperation: SET, value: '3' }] }]);
  assert.equal(shared[0]!.errorCode, INVALID_REQUEST);
  const other = await alter(0, [{ resourceType: BROKER, resourceName: '99', configs: [] }]);
  assert.equal(other[0]!.errorCode, INVALID_REQUEST);
  assert.match(other[0]!.errorMessage!, /Unexpected broker id/);
  assert.equal((await alter(0, [{ resourceType: BROKER, resourceName: nodeId, configs: [] }]))[0]!.errorCode, 0);
  assert.equal((await incremental(1, [{ resourceType: BROKER_LOGGER, resourceName: nodeId, configs: [] }]))[0]!.errorCode, INVALID_REQUEST);
  assert.equal((await alter(1, [{ resourceType: 99, resourceName: 'x', configs: [] }]))[0]!.errorCode, INVALID_REQUEST);
});

test('IncrementalAlterConfigs sets, deletes, appends and subtracts single keys', async () => {
  await createTopic(client, 'inc', 1, { 'max.message.bytes': '60000', 'retention.bytes': '1000000' });
  for (const version of [0, 1]) {
    const results = await incremental(version, [
      {
        resourceType: TOPIC,
        resourceName: 'inc',
        configs: [
          { name: 'retention.ms', configOperation: SET, value: String(7200000 + version) },
          { name: 'retention.bytes', configOperation: DELETE, value: null },
          { name: 'no.such.config', configOperation: DELETE, value: null },
        ],
      },
    ]);
    assert.deepEqual(results, [{ errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: 'inc' }], `v${version}`);
    const configs = await describe('inc');
    assert.deepEqual(configs.get('retention.ms'), [String(7200000 + version), 1]);
    assert.deepEqual(configs.get('max.message.bytes'), ['60000', 1], 'keys not named are kept');
    assert.deepEqual(configs.get('retention.bytes'), ['-1', 5], 'deleted: back to the default');
  }
  // cleanup.policy is a list: appending what is there is a no-op, appending compact is refused.
  assert.equal((await incremental(1, [{ resourceType: TOPIC, resourceName: 'inc', configs: [{ name: 'cleanup.policy', configOperation: APPEND, value: 'delete' }] }]))[0]!.errorCode, 0);
  assert.deepEqual((await describe('inc')).get('cleanup.policy'), ['delete', 1]);
  const compact = await incremental(1, [{ resourceType: TOPIC, resourceName: 'inc', configs: [{ name: 'cleanup.policy', configOperation: APPEND, value: 'compact' }] }]);
  assert.equal(compact[0]!.errorCode, INVALID_CONFIG);
  const subtract = await incremental(1, [{ resourceType: TOPIC, resourceName: 'inc', configs: [{ name: 'cleanup.policy', configOperation: SUBTRACT, value: 'delete' }] }]);
  assert.equal(subtract[0]!.errorCode, INVALID_CONFIG, 'an empty cleanup.policy is not accepted');
  const notList = await incremental(1, [{ resourceType: TOPIC, resourceName: 'inc', configs: [{ name: 'retention.ms', configOperation: APPEND, value: '5' }] }]);
  assert.equal(notList[0]!.errorCode, INVALID_CONFIG);
  assert.match(notList[0]!.errorMessage!, /Config value append is not allowed for config key: retention\.ms/);
  const unknownOperation = await incremental(1, [{ resourceType: TOPIC, resourceName: 'inc', configs: [{ name: 'retention.ms', configOperation: 9, value: '5' }] }]);
  assert.equal(unknownOperation[0]!.errorCode, INVALID_REQUEST);
  const nullSet = await incremental(0, [{ resourceType: TOPIC, resourceName: 'inc', configs: [{ name: 'retention.ms', configOperation: SET, value: null }] }]);
  assert.equal(nullSet[0]!.errorCode, INVALID_REQUEST);
  const unknown = await incremental(0, [{ resourceType: TOPIC, resourceName: 'nope', configs: [{ name: 'retention.ms', configOperation: SET, value: '1' }] }]);
  assert.equal(unknown[0]!.errorCode, UNKNOWN_TOPIC_OR_PARTITION);
  const unknownName = await incremental(0, [{ resourceType: TOPIC, resourceName: 'inc', configs: [{ name: 'bogus', configOperation: SET, value: '1' }] }]);
  assert.equal(unknownName[0]!.errorCode, INVALID_CONFIG);
});

test('concurrent incremental changes to one topic keep each other', async () => {
  await createTopic(client, 'racing', 1);
  const keys = ['retention.ms', 'retention.bytes', 'max.message.bytes', 'segment.bytes', 'index.interval.bytes'];
  const values = ['1000', '2000', '3000', '4096', '5000'];
  const ids = keys.map((name, i) => client.send('IncrementalAlterConfigs', 1, { resources: [{ resourceType: TOPIC, resourceName: 'racing', configs: [{ name, configOperation: SET, value: values[i] }] }], validateOnly: false }));
  for (const id of ids) {
    const response = await client.readResponse('IncrementalAlterConfigs', 1);
    assert.equal(response?.correlationId, id);
    assert.equal((response!.responses as Result[])[0]!.errorCode, 0);
  }
  const configs = await describe('racing');
  keys.forEach((name, i) => assert.deepEqual(configs.get(name), [values[i], 1], name));
});

test('configs changed at runtime survive a restart (disk storage)', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-alter-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let disk = await startBroker({ dataDir: dir, log: () => {} });
  let c = await RawClient.connect({ port: disk.listeners[0]!.port });
  try {
    await createTopic(c, 'durable-configs', 1, { 'retention.ms': '1000' });
    const response = await c.request('IncrementalAlterConfigs', 1, {
      resources: [{ resourceType: TOPIC, resourceName: 'durable-configs', configs: [{ name: 'retention.ms', configOperation: DELETE, value: null }, { name: 'segment.bytes', configOperation: SET, value: '65536' }] }],
      validateOnly: false,
    });
    assert.equal((response.responses as Result[])[0]!.errorCode, 0, (response.responses as Result[])[0]!.errorMessage ?? '');
    c.close();
    await disk.close();
    disk = await startBroker({ dataDir: dir, log: () => {} });
    c = await RawClient.connect({ port: disk.listeners[0]!.port });
    const described = await c.request('DescribeConfigs', 1, { resources: [{ resourceType: TOPIC, resourceName: 'durable-configs', configurationKeys: ['retention.ms', 'segment.bytes'] }], includeSynonyms: false });
    const configs = (described.results as { configs: Message[] }[])[0]!.configs.map((e) => [e.name, e.value, e.configSource]);
    assert.deepEqual(configs, [['retention.ms', '604800000', 5], ['segment.bytes', '65536', 1]]);
  } finally {
    c.close();
    await disk.close();
  }
});

test('DescribeConfigs(BROKER) shows no certificate paths when the TLS material was handed to startBroker as PEM', async () => {
  const describeBroker = async (target: Broker) => {
    const raw = await RawClient.connect({ port: target.listeners[0]!.port });
    try {
      const response = await raw.request('DescribeConfigs', 1, { resources: [{ resourceType: BROKER, resourceName: String(target.nodeId), configurationKeys: ['inkwell.tls.cert', 'inkwell.tls.key', 'inkwell.tls.ca', 'log.dirs'] }], includeSynonyms: false });
      const configs = (response.results as { errorCode: number; configs: { name: string; value: string | null }[] }[])[0]!;
      assert.equal(configs.errorCode, 0);
      return new Map(configs.configs.map((c) => [c.name, c.value]));
    } finally {
      raw.close();
    }
  };
  const withPem = await startBroker({ storage: 'memory', tls: await testTls(), log: () => {} });
  try {
    const described = await describeBroker(withPem);
    for (const key of ['inkwell.tls.cert', 'inkwell.tls.key', 'inkwell.tls.ca']) assert.equal(described.get(key), null, key);
    assert.equal(typeof described.get('log.dirs'), 'string');
  } finally {
    await withPem.close();
  }
  const described = await describeBroker(broker);
  assert.equal(described.get('inkwell.tls.cert'), 'certs/server-cert.pem', 'without PEM material the configured path is shown');
});
