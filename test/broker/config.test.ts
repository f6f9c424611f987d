/**
 * Broker configuration: defaults, server.properties and JSON files, --set and override
 * precedence, unknown keys, one clear line per bad value, DescribeConfigs rows and topic configs.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  PropertiesSyntaxError,
  configKeys,
  defaultBrokerConfig,
  describeBrokerConfigs,
  parseProperties,
  resolveConfig,
  topicConfigDefaults,
  topicConfigNames,
  validateTopicConfig,
  type ConfigSources,
} from '../../src/broker/config.js';

const dir = mkdtempSync(join(tmpdir(), 'inkwell-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function file(name: string, text: string): string {
  const path = join(dir, `${fileCount++}-${name}`);
  writeFileSync(path, text);
  return path;
}

/** The problems resolveConfig reports for these sources (fails when it resolves). */
function problems(sources: ConfigSources): readonly string[] {
  try {
    resolveConfig(sources);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(sources)}`);
}

test('defaults are Kafka’s (and ours for inkwell.*)', () => {
  const config = resolveConfig();
  assert.deepEqual(config, defaultBrokerConfig());
  assert.equal(config['node.id'], 1);
  assert.equal(config.listeners, 'PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093');
  assert.equal(config['advertised.listeners'], null);
  assert.equal(config['log.dirs'], './data');
  assert.equal(config['num.partitions'], 1);
  assert.equal(config['default.replication.factor'], 1);
  assert.equal(config['auto.create.topics.enable'], true);
  assert.equal(config['message.max.bytes'], 1048588);
  assert.equal(config['log.segment.bytes'], 1073741824);
  assert.equal(config['log.index.interval.bytes'], 4096);
  assert.equal(config['socket.request.max.bytes'], 104857600);
  assert.equal(config['delete.topic.enable'], true);
  assert.equal(config['ssl.client.auth'], 'none');
  assert.equal(config['inkwell.storage'], 'disk');
  assert.equal(config['inkwell.ring.buffer.bytes'], 4 * 1024 * 1024);
  assert.equal(config['inkwell.connection.inflight.requests.max'], 100);
  assert.equal(config['inkwell.fetch.wait.ms.max'], 30000);
  assert.equal(config['inkwell.tls.cert'], 'certs/server-cert.pem');
  assert.equal(config['inkwell.tls.key'], 'certs/server-key.pem');
  assert.equal(config['inkwell.tls.ca'], 'certs/ca-cert.pem');
  assert.ok(Object.isFrozen(config));
});

test('properties syntax: separators, comments, blank lines, continuations, escapes', () => {
  const text = [
    '# a comment',
    '   ! another comment \\',
    'still.a.key = value',
    '',
    '   ',
    'a=1',
    'b: 2',
    'c 3',
    'd\t=\t  spaced value  ',
    'e = first, \\',
    '    second, \\',
    '\t  third',
    'f = tab\\there \\u0041\\u00e9 back\\\\slash',
    'key\\ with\\=odd\\:chars = x',
    'g =',
    'h',
    'i = ends with escaped backslash \\\\',
    'j = 5',
    'k = last line continues \\',
  ].join('\r\n');
  assert.deepEqual(parseProperties(text), [
    { key: 'still.a.key', value: 'value', line: 3 },
    { key: 'a', value: '1', line: 6 },
    { key: 'b', value: '2', line: 7 },
    { key: 'c', value: '3', line: 8 },
    { key: 'd', value: 'spaced value  ', line: 9 },
    { key: 'e', value: 'first, second, third', line: 10 },
    { key: 'f', value: 'tab\there Aé back\\slash', line: 13 },
    { key: 'key with=odd:chars', value: 'x', line: 14 },
    { key: 'g', value: '', line: 15 },
    { key: 'h', value: '', line: 16 },
    { key: 'i', value: 'ends with escaped backslash \\', line: 17 },
    { key: 'j', value: '5', line: 18 },
    { key: 'k', value: 'last line continues ', line: 19 },
  ]);
  assert.throws(() => parseProperties('x = \\u12'), (error: unknown) => error instanceof PropertiesSyntaxError && error.line === 1);
});

test('a server.properties file sets typed values', () => {
  const path = file(
    'server.properties',
    [
      '# Inkwell test broker',
      'broker.id=7',
      'listeners=PLAINTEXT://127.0.0.1:0, \\',
      '          SSL://127.0.0.1:0',
      'log.dir: /tmp/inkwell-data',
      'num.partitions = 3',
      'auto.create.topics.enable=FALSE',
      'log.segment.bytes=2048',
      'ssl.client.auth=required',
      'inkwell.storage=memory',
      'advertised.listeners=',
    ].join('\n'),
  );
  const config = resolveConfig({ file: path });
  assert.equal(config['node.id'], 7);
  assert.equal(config.listeners, 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0');
  assert.equal(config['log.dirs'], '/tmp/inkwell-data');
  assert.equal(config['num.partitions'], 3);
  assert.equal(config['auto.create.topics.enable'], false);
  assert.equal(config['log.segment.bytes'], 2048);
  assert.equal(config['ssl.client.auth'], 'required');
  assert.equal(config['inkwell.storage'], 'memory');
  assert.equal(config['advertised.listeners'], null);
});

test('a JSON file sets values with JSON types (or text, converted the same way)', () => {
  const path = file(
    'broker.json',
    JSON.stringify({
      'node.id': 2,
      listeners: ['PLAINTEXT://127.0.0.1:0', 'SSL://[::1]:0'],
      'num.partitions': '4',
      'delete.topic.enable': false,
      'advertised.listeners': null,
      'inkwell.fetch.wait.ms.max': 500,
    }),
  );
  const config = resolveConfig({ file: path });
  assert.equal(config['node.id'], 2);
  assert.equal(config.listeners, 'PLAINTEXT://127.0.0.1:0,SSL://[::1]:0');
  assert.equal(config['num.partitions'], 4);
  assert.equal(config['delete.topic.enable'], false);
  assert.equal(config['inkwell.fetch.wait.ms.max'], 500);
  // Content that opens with "{" is JSON whatever the file is called.
  assert.equal(resolveConfig({ file: file('broker.conf', ' {"num.partitions": 9}') })['num.partitions'], 9);
});

test('precedence: defaults < file < --set < overrides; a later --set wins', () => {
  const path = file('p.properties', 'num.partitions=2\nmessage.max.bytes=1000\nlog.index.interval.bytes=10\n');
  const config = resolveConfig({
    file: path,
    set: ['message.max.bytes=2000', 'log.index.interval.bytes=20', 'log.index.interval.bytes=30'],
    overrides: { 'log.index.interval.bytes': 40, 'inkwell.storage': undefined },
  });
  assert.equal(config['num.partitions'], 2);
  assert.equal(config['message.max.bytes'], 2000);
  assert.equal(config['log.index.interval.bytes'], 40);
  assert.equal(config['inkwell.storage'], 'disk', 'an undefined override leaves the value alone');
  // An alias in a later source overrides its key from an earlier one.
  assert.equal(resolveConfig({ file: file('a.properties', 'node.id=3'), set: ['broker.id=5'] })['node.id'], 5);
  // --set values may contain "=".
  assert.equal(resolveConfig({ set: ['inkwell.tls.cert=a=b.pem'] })['inkwell.tls.cert'], 'a=b.pem');
});

test('an alias and its key set to different values in one source is an error', () => {
  assert.deepEqual(problems({ set: ['node.id=1', 'broker.id=2'] }), ['node.id and broker.id name the same config and are set to different values']);
  assert.equal(resolveConfig({ set: ['node.id=2', 'broker.id=2'] })['node.id'], 2);
});

test('an unknown key is an error naming it, wherever it comes from', () => {
  assert.deepEqual(problems({ set: ['nope=1'] }), ['unknown config key: nope']);
  assert.deepEqual(problems({ overrides: { 'num.partition': 3 } }), ['unknown config key: num.partition']);
  const path = file('unknown.properties', '# first\nnum.partitions=2\nzookeeper.connect=localhost:2181\n');
  assert.deepEqual(problems({ file: path }), [`${path}:3: unknown config key: zookeeper.connect`]);
  const json = file('unknown.json', '{"log.cleaner.threads": 1}');
  assert.deepEqual(problems({ file: json }), [`${json}: unknown config key: log.cleaner.threads`]);
});

test('each bad value is one line naming the key and saying what is wrong', () => {
  const cases: [string, string][] = [
    ['num.partitions=abc', 'invalid value for num.partitions: "abc" is not an integer'],
    ['num.partitions=1.5', 'invalid value for num.partitions: "1.5" is not an integer'],
    ['num.partitions=0', 'invalid value for num.partitions: 0 is less than the minimum 1'],
    ['node.id=2147483648', 'invalid value for node.id: "2147483648" is out of range for an int'],
    ['node.id=-1', 'invalid value for node.id: -1 is less than the minimum 0'],
    ['auto.create.topics.enable=yes', 'invalid value for auto.create.topics.enable: "yes" is not a boolean (true or false)'],
    ['ssl.client.auth=maybe', 'invalid value for ssl.client.auth: "maybe" is not one of none, requested, required'],
    ['inkwell.storage=tape', 'invalid value for inkwell.storage: "tape" is not one of disk, memory'],
    ['log.segment.bytes=100', 'invalid value for log.segment.bytes: 100 is less than the minimum 1024'],
    ['inkwell.connection.inflight.requests.max=0', 'invalid value for inkwell.connection.inflight.requests.max: 0 is less than the minimum 1'],
    ['inkwell.tls.cert=', 'invalid value for inkwell.tls.cert: "" is empty'],
    ['log.dirs=/a,/b', 'invalid value for log.dirs: "/a,/b" names 2 directories; this broker keeps its log in exactly one'],
    [
      'default.replication.factor=3',
      'invalid value for default.replication.factor: 3 is more than the maximum 1: a single broker holds one copy of each partition, so only 1 is valid',
    ],
    ['listeners=PLAINTEXT://127.0.0.1:99999', 'invalid value for listeners: listener "PLAINTEXT://127.0.0.1:99999": port 99999 is larger than 65535'],
    ['listeners=', 'invalid value for listeners: "" is empty'],
    ['noequals', '--set expects key=value, got "noequals"'],
  ];
  for (const [pair, expected] of cases) assert.deepEqual(problems({ set: [pair] }), [expected], pair);
});

test('JSON values of the wrong type are named the same way', () => {
  const path = file('types.json', JSON.stringify({ 'num.partitions': true, 'delete.topic.enable': 'maybe', listeners: [1], 'inkwell.tls.ca': 5, 'log.dirs': null }));
  assert.deepEqual(problems({ file: path }), [
    `${path}: invalid value for num.partitions: true is not an integer`,
    `${path}: invalid value for delete.topic.enable: "maybe" is not a boolean (true or false)`,
    `${path}: invalid value for listeners: [1] is not a comma-separated list`,
    `${path}: invalid value for inkwell.tls.ca: 5 is not a string`,
    `${path}: invalid value for log.dirs: null is not allowed`,
  ]);
  const array = file('array.json', '[1, 2]');
  assert.deepEqual(problems({ file: array }), [`${array}: a JSON config file must hold one object of "key": value pairs`]);
  const broken = file('broken.json', '{"num.partitions": ');
  assert.match(problems({ file: broken })[0]!, new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON: `));
});

test('every problem is reported, with file and line, not just the first', () => {
  const path = file('many.properties', 'num.partitions=abc\n\nssl.client.auth=sometimes\nbogus=1\n');
  assert.deepEqual(problems({ file: path, set: ['message.max.bytes=-1'] }), [
    `${path}:1: invalid value for num.partitions: "abc" is not an integer`,
    `${path}:3: invalid value for ssl.client.auth: "sometimes" is not one of none, requested, required`,
    `${path}:4: unknown config key: bogus`,
    'invalid value for message.max.bytes: -1 is less than the minimum 0',
  ]);
  const escapes = file('escape.properties', 'a=1\nb=\\u00zz\n');
  assert.deepEqual(problems({ file: escapes }), [`${escapes}:2: malformed \\uXXXX escape`]);
});

test('a missing config file is one clear line', () => {
  const path = join(dir, 'does-not-exist.properties');
  assert.deepEqual(problems({ file: path }), [`cannot read config file ${path}: no such file`]);
});

test('relations between keys: message.max.bytes < socket.request.max.bytes; advertised listeners', () => {
  assert.deepEqual(problems({ set: ['socket.request.max.bytes=2048', 'message.max.bytes=4096'] }), [
    'invalid value for message.max.bytes: 4096 must be less than socket.request.max.bytes (2048), since a Produce request frame has to hold a whole batch',
  ]);
  assert.equal(resolveConfig({ set: ['socket.request.max.bytes=2048', 'message.max.bytes=2047'] })['message.max.bytes'], 2047);
  const listeners = 'listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0';
  assert.equal(resolveConfig({ set: [listeners, 'advertised.listeners=SSL://broker.example:9093'] })['advertised.listeners'], 'SSL://broker.example:9093');
  assert.deepEqual(problems({ set: ['listeners=SSL://:0', 'advertised.listeners=PLAINTEXT://example.com:9092'] }), [
    'invalid value for advertised.listeners: PLAINTEXT is not one of the listeners (SSL)',
  ]);
  assert.deepEqual(problems({ set: [listeners, 'advertised.listeners=SSL://:9093'] }), [
    'invalid value for advertised.listeners: SSL advertises 0.0.0.0, which clients cannot connect to',
  ]);
  assert.deepEqual(problems({ set: [listeners, 'advertised.listeners=SSL://example.com:0'] }), [
    'invalid value for advertised.listeners: SSL advertises port 0, which clients cannot connect to',
  ]);
});

test('describeBrokerConfigs lists every key with value, default flag, read-only flag and type', () => {
  const config = resolveConfig({ set: ['num.partitions=1', 'inkwell.storage=memory'], overrides: { 'log.dirs': '/tmp/x' } });
  const rows = describeBrokerConfigs(config);
  assert.deepEqual(
    rows.map((row) => row.name),
    configKeys,
  );
  const byName = new Map(rows.map((row) => [row.name, row]));
  assert.deepEqual(byName.get('num.partitions'), {
    name: 'num.partitions',
    value: '1',
    isDefault: false,
    readOnly: true,
    isSensitive: false,
    type: 'INT',
    documentation: byName.get('num.partitions')!.documentation,
  });
  assert.equal(byName.get('num.partitions')!.isDefault, false, 'set explicitly, even to the default value');
  assert.equal(byName.get('log.dirs')!.value, '/tmp/x');
  assert.equal(byName.get('message.max.bytes')!.isDefault, true);
  assert.equal(byName.get('auto.create.topics.enable')!.type, 'BOOLEAN');
  assert.equal(byName.get('auto.create.topics.enable')!.value, 'true');
  assert.equal(byName.get('listeners')!.type, 'LIST');
  assert.equal(byName.get('advertised.listeners')!.value, null);
  assert.equal(byName.get('ssl.client.auth')!.type, 'STRING');
  for (const row of rows) assert.ok(row.documentation.length > 0, `${row.name} is documented`);
  // A config built without resolveConfig falls back to comparing with the defaults.
  const plain = { ...defaultBrokerConfig(), 'num.partitions': 5 };
  const plainRows = describeBrokerConfigs(plain);
  assert.equal(plainRows.find((row) => row.name === 'num.partitions')!.isDefault, false);
  assert.equal(plainRows.find((row) => row.name === 'node.id')!.isDefault, true);
});

test('topic config defaults come from the broker config', () => {
  const config = resolveConfig({ set: ['message.max.bytes=5000', 'log.segment.bytes=4096', 'log.index.interval.bytes=128'] });
  assert.deepEqual(topicConfigDefaults(config), {
    'cleanup.policy': 'delete',
    'flush.messages': '1',
    'flush.ms': '9223372036854775807',
    'index.interval.bytes': '128',
    'max.message.bytes': '5000',
    'message.timestamp.type': 'CreateTime',
    'retention.bytes': '-1',
    'retention.ms': '604800000',
    'segment.bytes': '4096',
    'segment.ms': '604800000',
  });
  // Kafka's precedence: log.retention.ms over .minutes over .hours; log.roll.ms over log.roll.hours.
  const retention = (set: string[]) => topicConfigDefaults(resolveConfig({ set }));
  assert.equal(retention(['log.retention.hours=1'])['retention.ms'], '3600000');
  assert.equal(retention(['log.retention.hours=1', 'log.retention.minutes=2'])['retention.ms'], '120000');
  assert.equal(retention(['log.retention.minutes=2', 'log.retention.ms=5'])['retention.ms'], '5');
  assert.equal(retention(['log.retention.hours=-1'])['retention.ms'], '-1');
  assert.equal(retention(['log.retention.bytes=1000', 'log.roll.ms=60000', 'log.flush.interval.messages=100', 'log.flush.interval.ms=50'])['segment.ms'], '60000');
  assert.deepEqual(
    Object.entries(retention(['log.retention.bytes=1000', 'log.flush.interval.messages=100', 'log.flush.interval.ms=50'])).filter(([name]) => /^(retention.bytes|flush)/.test(name)),
    [['flush.messages', '100'], ['flush.ms', '50'], ['retention.bytes', '1000']],
  );
  assert.deepEqual(Object.keys(topicConfigDefaults(config)).sort(), [...topicConfigNames]);
});

test('validateTopicConfig accepts the supported topic configs and explains the rest in Kafka’s words', () => {
  for (const [name, value] of [
    ['cleanup.policy', 'delete'],
    ['max.message.bytes', '100'],
    ['segment.bytes', '1024'],
    ['index.interval.bytes', '0'],
    ['message.timestamp.type', 'LogAppendTime'],
    ['message.timestamp.type', 'CreateTime'],
    ['retention.ms', '-1'],
    ['retention.ms', '9007199254740991'],
    ['retention.bytes', '1073741824'],
    ['segment.ms', '1'],
    ['flush.messages', '1'],
    ['flush.messages', '9223372036854775807'],
    ['flush.ms', '0'],
  ]) {
    assert.equal(validateTopicConfig(name!, value!), null, `${name}=${value}`);
  }
  assert.equal(validateTopicConfig('min.insync.replicas', '1'), 'Unknown topic config name: min.insync.replicas');
  assert.equal(validateTopicConfig('segment.bytes', 'big'), 'Invalid value big for configuration segment.bytes: Not a number of type INT');
  assert.equal(validateTopicConfig('segment.bytes', '10'), 'Invalid value 10 for configuration segment.bytes: Value must be at least 1024');
  assert.equal(validateTopicConfig('retention.ms', '-2'), 'Invalid value -2 for configuration retention.ms: Value must be at least -1');
  assert.equal(validateTopicConfig('max.message.bytes', '2147483648'), 'Invalid value 2147483648 for configuration max.message.bytes: Not a number of type INT');
  assert.equal(
    validateTopicConfig('cleanup.policy', 'compact'),
    'Invalid value compact for configuration cleanup.policy: log compaction is not supported; only delete is',
  );
  assert.equal(
    validateTopicConfig('message.timestamp.type', 'Now'),
    'Invalid value Now for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime',
  );
});
