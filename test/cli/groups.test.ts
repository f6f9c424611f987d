/**
 * `inkwell groups` end to end over TLS: list, describe (an empty group with committed offsets,
 * a live member of our Consumer, an unknown group), reset-offsets (every scenario, dry run and
 * --execute, clamping, partition lists, --all-topics, a group that still has members), delete
 * (one or several groups, a non-empty group, an unknown group); usage errors exit 2, operation
 * failures and an unreachable broker exit 1, each with one line on stderr.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Consumer, Producer } from '../../src/index.js';
import type { RunResult } from '../helpers/run.js';
import { assertFailure, assertUsageError, cli, startTlsBroker, type TlsBroker } from './client-cli.js';

let target: TlsBroker;
let admin: Admin;
let live: Consumer | undefined;

const topic = 'gr-events';
const other = 'gr-other';
/** Record i of gr-events goes to partition i % 3 with timestamp base + i s: offsets 0..9 per partition. */
const base = Date.UTC(2024, 4, 1, 12, 0, 0);

function clientOptions() {
  return { bootstrap: target.broker.bootstrap('SSL'), tls: { ca: target.material.ca }, connectTimeoutMs: 10_000 };
}

before(async () => {
  target = await startTlsBroker();
  admin = new Admin(clientOptions());
  await admin.createTopics([
    { topic, numPartitions: 3 },
    { topic: other, numPartitions: 1 },
  ]);
  const producer = new Producer(clientOptions());
  try {
    await Promise.all(Array.from({ length: 30 }, (_, i) => producer.send({ topic, partition: i % 3, key: `k${i}`, value: `v${i}`, timestamp: base + i * 1000 })));
    await Promise.all(Array.from({ length: 5 }, (_, i) => producer.send({ topic: other, partition: 0, value: `o${i}`, timestamp: base + i * 1000 })));
  } finally {
    await producer.close();
  }
  // gr-idle: a group that committed offsets and has no members left.
  const idle = new Consumer({ ...clientOptions(), groupId: 'gr-idle', autoCommit: false, heartbeatIntervalMs: 200 });
  try {
    await idle.subscribe([topic, other]);
    await idle.commit([
      { topic, partition: 0, offset: 4 },
      { topic, partition: 1, offset: 6 },
      { topic, partition: 2, offset: 10 },
      { topic: other, partition: 0, offset: 2 },
    ]);
  } finally {
    await idle.close();
  }
  // gr-live: one member that stays in the group (heartbeats) until the end.
  live = new Consumer({ ...clientOptions(), groupId: 'gr-live', clientId: 'live-client', autoCommit: false, heartbeatIntervalMs: 200, sessionTimeoutMs: 30_000 });
  await live.subscribe([topic]);
});

after(async () => {
  await live?.close().catch(() => {});
  await admin?.close();
  await target?.broker.close();
});

function lines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line.length > 0);
}

/** The rows of the table whose header starts with `first  second`, as cells. */
function tableRows(stdout: string, header: RegExp): string[][] {
  const all = stdout.split('\n');
  const start = all.findIndex((line) => header.test(line));
  assert.ok(start >= 0, `a table with header ${header} in:\n${stdout}`);
  const rows: string[][] = [];
  for (const line of all.slice(start + 1)) {
    if (line.trim().length === 0) break;
    rows.push(line.trim().split(/\s{2,}/));
  }
  return rows;
}

function ok(result: RunResult): RunResult {
  assert.equal(result.code, 0, `exit 0 expected, got ${result.code}\n${result.stderr}`);
  return result;
}

async function committed(groupId: string, name = topic): Promise<number[]> {
  return (await admin.fetchOffsets(groupId, [name])).map((c) => c.offset);
}

test('groups --help and each subcommand --help print usage and exit 0', async () => {
  const results = await Promise.all([['groups', '--help'], ['groups', 'list', '--help'], ['groups', 'describe', '-h'], ['groups', 'delete', '--help'], ['groups', 'reset-offsets', '--help']].map((args) => cli(args)));
  for (const result of results) {
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: inkwell groups <list\|describe\|delete\|reset-offsets>/);
    assert.match(result.stdout, /--to-datetime ISO/);
    assert.match(result.stdout, /--bootstrap LIST/);
  }
  const top = await cli(['--help']);
  assert.match(top.stdout, /\n {2}groups +list, describe, delete/);
});

test('list: group ids one per line; --json with state and protocol type', async () => {
  const listed = ok(await cli(['groups', 'list', ...target.flags]));
  assert.deepEqual(lines(listed.stdout), ['gr-idle', 'gr-live']);
  const json = ok(await cli(['groups', 'list', '--json', ...target.flags]));
  assert.deepEqual(
    lines(json.stdout).map((line) => JSON.parse(line) as unknown),
    [
      { group: 'gr-idle', state: 'Empty', protocolType: 'consumer' },
      { group: 'gr-live', state: 'Stable', protocolType: 'consumer' },
    ],
  );
});

test('describe an empty group: state, no members, committed offset, log end offset and lag per partition', async () => {
  const described = ok(await cli(['groups', 'describe', '-g', 'gr-idle', ...target.flags]));
  assert.deepEqual(tableRows(described.stdout, /^GROUP +STATE +PROTOCOL-TYPE +PROTOCOL +MEMBERS$/), [['gr-idle', 'Empty', 'consumer', '-', '0']]);
  assert.match(described.stdout, /Consumer group 'gr-idle' has no active members\./);
  assert.deepEqual(tableRows(described.stdout, /^GROUP +TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +CONSUMER-ID +HOST +CLIENT-ID$/), [
    ['gr-idle', topic, '0', '4', '10', '6', '-', '-', '-'],
    ['gr-idle', topic, '1', '6', '10', '4', '-', '-', '-'],
    ['gr-idle', topic, '2', '10', '10', '0', '-', '-', '-'],
    ['gr-idle', other, '0', '2', '5', '3', '-', '-', '-'],
  ]);
  const json = ok(await cli(['groups', 'describe', '-g', 'gr-idle', '--json', ...target.flags]));
  assert.deepEqual(JSON.parse(json.stdout) as unknown, {
    group: 'gr-idle',
    state: 'Empty',
    protocolType: 'consumer',
    protocol: '',
    members: [],
    offsets: [
      { topic, partition: 0, committedOffset: 4, logEndOffset: 10, lag: 6, memberId: null },
      { topic, partition: 1, committedOffset: 6, logEndOffset: 10, lag: 4, memberId: null },
      { topic, partition: 2, committedOffset: 10, logEndOffset: 10, lag: 0, memberId: null },
      { topic: other, partition: 0, committedOffset: 2, logEndOffset: 5, lag: 3, memberId: null },
    ],
  });
});

test('describe a live group: protocol, member with client id, host and partitions; several groups at once', async () => {
  const json = ok(await cli(['groups', 'describe', '-g', 'gr-live', '-g', 'gr-idle', '--json', ...target.flags]));
  const [liveGroup, idleGroup] = lines(json.stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(idleGroup!.group, 'gr-idle');
  assert.equal(liveGroup!.group, 'gr-live');
  assert.equal(liveGroup!.state, 'Stable');
  assert.equal(liveGroup!.protocolType, 'consumer');
  assert.match(liveGroup!.protocol as string, /^(cooperative-sticky|range)$/);
  const members = liveGroup!.members as { memberId: string; clientId: string; host: string; assignment: unknown }[];
  assert.equal(members.length, 1);
  assert.equal(members[0]!.clientId, 'live-client');
  assert.match(members[0]!.host, /127\.0\.0\.1/);
  assert.deepEqual(members[0]!.assignment, [{ topic, partitions: [0, 1, 2] }]);
  assert.deepEqual(
    liveGroup!.offsets,
    [0, 1, 2].map((partition) => ({ topic, partition, committedOffset: null, logEndOffset: 10, lag: null, memberId: members[0]!.memberId })),
  );

  const text = ok(await cli(['groups', 'describe', '-g', 'gr-live', ...target.flags]));
  const [state] = tableRows(text.stdout, /^GROUP +STATE /);
  assert.deepEqual(state!.slice(0, 3), ['gr-live', 'Stable', 'consumer']);
  assert.equal(state![4], '1');
  const memberRows = tableRows(text.stdout, /^GROUP +MEMBER-ID +CLIENT-ID +HOST +PARTITIONS$/);
  assert.equal(memberRows.length, 1);
  assert.deepEqual([memberRows[0]![0], memberRows[0]![1], memberRows[0]![2], memberRows[0]![4]], ['gr-live', members[0]!.memberId, 'live-client', `${topic}:0,1,2`]);
  const offsetRows = tableRows(text.stdout, /^GROUP +TOPIC +PARTITION /);
  assert.deepEqual(
    offsetRows.map((row) => row.slice(0, 7).concat(row[8]!)),
    [0, 1, 2].map((partition) => ['gr-live', topic, String(partition), '-', '10', '-', members[0]!.memberId, 'live-client']),
  );
});

test('describe an unknown group exits 1 with GROUP_ID_NOT_FOUND', async () => {
  assertFailure(await cli(['groups', 'describe', '-g', 'gr-nobody', ...target.flags]), /groups describe: group gr-nobody does not exist \(GROUP_ID_NOT_FOUND\)/);
});

test('reset-offsets: dry run by default, --execute commits; every scenario, clamped to the log', async () => {
  const reset = (...args: string[]) => cli(['groups', 'reset-offsets', '-g', 'gr-idle', ...args, ...target.flags]);

  const plan = ok(await reset('-t', topic, '--to-earliest'));
  assert.deepEqual(tableRows(plan.stdout, /^GROUP +TOPIC +PARTITION +NEW-OFFSET$/), [0, 1, 2].map((p) => ['gr-idle', topic, String(p), '0']));
  assert.match(plan.stderr, /dry run, nothing changed; add --execute/);
  assert.deepEqual(await committed('gr-idle'), [4, 6, 10], 'a dry run changes nothing');
  const explicitDryRun = ok(await reset('-t', topic, '--to-earliest', '--dry-run'));
  assert.equal(explicitDryRun.stderr, '');
  assert.deepEqual(await committed('gr-idle'), [4, 6, 10]);

  const latest = ok(await reset('-t', topic, '--to-latest', '--execute'));
  assert.deepEqual(tableRows(latest.stdout, /^GROUP +TOPIC /), [0, 1, 2].map((p) => ['gr-idle', topic, String(p), '10']));
  assert.deepEqual(await committed('gr-idle'), [10, 10, 10]);

  ok(await reset('-t', `${topic}:1`, '--to-offset', '3', '--execute'));
  assert.deepEqual(await committed('gr-idle'), [10, 3, 10], 'only the partition named');

  const beyond = ok(await reset('-t', `${topic}:0,2`, '--to-offset', '99', '--json'));
  assert.deepEqual(
    lines(beyond.stdout).map((line) => JSON.parse(line) as unknown),
    [
      { group: 'gr-idle', topic, partition: 0, currentOffset: 10, newOffset: 10, executed: false },
      { group: 'gr-idle', topic, partition: 2, currentOffset: 10, newOffset: 10, executed: false },
    ],
    'an offset past the end is the log end offset',
  );

  ok(await reset('-t', `${topic}:1`, '--shift-by', '-2', '--execute'));
  assert.deepEqual(await committed('gr-idle'), [10, 1, 10]);
  const shifted = ok(await reset('-t', topic, '--shift-by=-5', '--json'));
  assert.deepEqual(
    lines(shifted.stdout).map((line) => (JSON.parse(line) as { newOffset: number }).newOffset),
    [5, 0, 5],
    'shifted before the log start: the log start offset',
  );
  const forward = ok(await reset('-t', topic, '--shift-by', '+4', '--json'));
  assert.deepEqual(
    lines(forward.stdout).map((line) => (JSON.parse(line) as { newOffset: number }).newOffset),
    [10, 5, 10],
  );

  // Records are at base + i s, record i in partition i % 3: the first at or after base + 13 s
  // is record 15 (offset 5) in partition 0, 13 (offset 4) in 1 and 14 (offset 4) in 2.
  const at = new Date(base + 13_000).toISOString();
  ok(await reset('-t', topic, '--to-datetime', at, '--execute'));
  assert.deepEqual(await committed('gr-idle'), [5, 4, 4]);
  const zoned = ok(await reset('-t', topic, '--to-datetime', '2024-05-01T14:00:13+02:00', '--json'));
  assert.deepEqual(
    lines(zoned.stdout).map((line) => (JSON.parse(line) as { newOffset: number }).newOffset),
    [5, 4, 4],
    'a zone offset is honoured',
  );
  const late = ok(await reset('-t', topic, '--to-datetime', '2030-01-01', '--json'));
  assert.deepEqual(
    lines(late.stdout).map((line) => (JSON.parse(line) as { newOffset: number }).newOffset),
    [10, 10, 10],
    'later than every record: the log end',
  );

  const all = ok(await reset('--all-topics', '--to-earliest', '--json'));
  assert.deepEqual(
    lines(all.stdout).map((line) => {
      const p = JSON.parse(line) as { topic: string; partition: number; newOffset: number };
      return `${p.topic}:${p.partition}=${p.newOffset}`;
    }),
    [`${topic}:0=0`, `${topic}:1=0`, `${topic}:2=0`, `${other}:0=0`],
  );
});

test('reset-offsets of a group with members fails (exit 1) and changes nothing', async () => {
  for (const mode of ['--dry-run', '--execute']) {
    assertFailure(await cli(['groups', 'reset-offsets', '-g', 'gr-live', '-t', topic, '--to-earliest', mode, ...target.flags]), /inactive, but the current state is Stable/);
  }
  assert.deepEqual(await committed('gr-live'), [-1, -1, -1]);
});

test('reset-offsets failures: unknown topic, missing partition, nothing to shift', async () => {
  assertFailure(await cli(['groups', 'reset-offsets', '-g', 'gr-idle', '-t', 'gr-missing', '--to-earliest', ...target.flags]), /UNKNOWN_TOPIC_OR_PARTITION/);
  assertUsageError(await cli(['groups', 'reset-offsets', '-g', 'gr-idle', '-t', `${topic}:7`, '--to-earliest', ...target.flags]), /gr-events has 3 partitions; there is no partition 7/);
  assertFailure(await cli(['groups', 'reset-offsets', '-g', 'gr-fresh', '-t', topic, '--shift-by', '1', ...target.flags]), /group gr-fresh has no committed offset for gr-events:0 to shift/);
});

test('delete: empty groups go (several at once), a group with members and an unknown group do not', async () => {
  // reset-offsets --execute on a group that does not exist yet creates it, as in Kafka.
  for (const group of ['gr-new1', 'gr-new2']) ok(await cli(['groups', 'reset-offsets', '-g', group, '-t', other, '--to-latest', '--execute', ...target.flags]));
  assert.deepEqual(await committed('gr-new1', other), [5]);
  const deleted = ok(await cli(['groups', 'delete', '-g', 'gr-new1', '-g', 'gr-new2', ...target.flags]));
  assert.equal(deleted.stdout, 'deleted gr-new1\ndeleted gr-new2\n');

  assertFailure(await cli(['groups', 'delete', '-g', 'gr-live', ...target.flags]), /delete group gr-live: NON_EMPTY_GROUP/);
  const one = ok(await cli(['groups', 'delete', '-g', 'gr-idle', ...target.flags]));
  assert.equal(one.stdout, 'deleted gr-idle\n');
  assert.deepEqual(lines(ok(await cli(['groups', 'list', ...target.flags])).stdout), ['gr-live']);
  assertFailure(await cli(['groups', 'delete', '-g', 'gr-idle', ...target.flags]), /delete group gr-idle: GROUP_ID_NOT_FOUND/);
});

test('usage errors exit 2 with one line', async () => {
  const reset = ['groups', 'reset-offsets', '-g', 'g', '-t', topic];
  const cases: [string[], RegExp][] = [
    [['groups'], /missing action/],
    [['groups', 'rename', '-g', 'x'], /unknown action "rename"/],
    [['groups', 'describe'], /--group is needed/],
    [['groups', 'delete'], /--group is needed/],
    [['groups', 'list', '-g', 'x'], /--group is for describe, delete and reset-offsets/],
    [['groups', 'list', '--nope'], /unknown option --nope/],
    [['groups', 'describe', '-g', 'x', '--to-latest'], /--to-latest is for reset-offsets/],
    [['groups', 'delete', '-g', 'x', '--json'], /--json is for list, describe and reset-offsets/],
    [['groups', 'reset-offsets', '-g', 'g', '--to-latest'], /--topic or --all-topics is needed/],
    [[...reset], /say where to/],
    [[...reset, '--to-earliest', '--to-latest'], /give only one of/],
    [[...reset, '--to-latest', '--dry-run', '--execute'], /--dry-run and --execute cannot be used together/],
    [[...reset, '--all-topics', '--to-latest'], /--topic and --all-topics cannot be used together/],
    [['groups', 'reset-offsets', '-g', 'g', '-t', 'x:a', '--to-latest'], /--topic must be TOPIC or TOPIC:P/],
    [[...reset, '--to-offset', 'ten'], /--to-offset must be an offset/],
    [[...reset, '--to-datetime', 'yesterday'], /--to-datetime must be an ISO 8601 date/],
    [[...reset, '--shift-by', 'x'], /--shift-by must be a whole number/],
    [['groups', 'list', '--cert', 'c.pem'], /--cert and --key go together/],
    [['groups', 'list', '-b', 'nohost'], /--bootstrap must be host:port/],
  ];
  // A few at a time: the machine may be busy, and each is a Node process.
  const results: RunResult[] = [];
  for (let i = 0; i < cases.length; i += 4) results.push(...(await Promise.all(cases.slice(i, i + 4).map(([args]) => cli(args)))));
  results.forEach((result, i) => assertUsageError(result, cases[i]![1]));
});

test('an unreachable broker exits 1 with one line within the timeout', async () => {
  const started = Date.now();
  const [listed, described, reset] = await Promise.all([
    cli(['groups', 'list', '-b', '127.0.0.1:1', '--timeout-ms', '3000']),
    cli(['groups', 'describe', '-g', 'x', '-b', '127.0.0.1:1', '--tls', '--ca', target.material.paths.ca, '--timeout-ms', '3000']),
    cli(['groups', 'reset-offsets', '-g', 'x', '-t', 't', '--to-latest', '--execute', '-b', '127.0.0.1:1', '--timeout-ms', '3000']),
  ]);
  assertFailure(listed, /^inkwell: groups list: .*127\.0\.0\.1:1/);
  assertFailure(described, /^inkwell: groups describe: .*127\.0\.0\.1:1/);
  assertFailure(reset, /^inkwell: groups reset-offsets: .*127\.0\.0\.1:1/);
  assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
});
