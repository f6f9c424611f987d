/**
 * Consumer groups across broker restarts and member crashes, with the broker run as the real CLI
 * (`inkwell serve` on a data directory, as a child process) over TLS:
 *  - offsets committed by kafka-python 2.0.2 consumers (subscribe, consume, commit) and by plain
 *    OffsetCommit requests (without membership, with metadata, overwritten) are listed identically
 *    by ListGroups and OffsetFetch after a SIGTERM (exit 0) and a restart on the same directory,
 *    and a kafka-python consumer then resumes exactly at them; commits acknowledged just before a
 *    SIGKILL of the broker are there after the next start too;
 *  - of two kcat -G (librdkafka 2.0.2) consumers, one killed with SIGKILL (so it never leaves the
 *    group) stays a member until its session timeout expires, is then removed, and its partitions
 *    are reassigned to the survivor, which consumes new records of them;
 *  - a kcat -G consumer connected while the broker is stopped (SIGTERM) and started again on the
 *    same port and directory rejoins the group and carries on at its committed offsets.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTopic, requireTool, systemPython, tempDir } from '../helpers/interop.js';
import { RawClient, withTlsClient } from '../helpers/raw-client.js';
import { testTls, type TestTls } from '../helpers/tls.js';
import {
  Child,
  GroupInspector,
  allConsumed,
  checkAllConsumed,
  formatGroup,
  heartbeatIntervalMs,
  kcatAssigned,
  kcatGroupArgs,
  killAllChildren,
  parseKcatLines,
  produceRecords,
  serveBroker,
  sessionTimeoutMs,
  settledAssignment,
  stopServed,
  waitUntil,
  type ServedBroker,
  kafkaPython,
  kafkaPythonGroupConsume,
} from '../helpers/groups-interop.js';
import type { GroupDescription } from '../../src/client/index.js';

const directories: { remove: () => void }[] = [];
const inspectors: GroupInspector[] = [];

after(async () => {
  killAllChildren();
  for (const inspector of inspectors) await inspector.close();
  for (const dir of directories) dir.remove();
});

function dataDir(prefix: string): string {
  const dir = tempDir(prefix);
  directories.push(dir);
  return dir.path;
}

function inspect(material: TestTls, served: ServedBroker): GroupInspector {
  const inspector = new GroupInspector(material, served.bootstrap);
  inspectors.push(inspector);
  return inspector;
}

function withClient<T>(material: TestTls, port: number, body: (client: RawClient) => Promise<T>): Promise<T> {
  return withTlsClient(material.ca, port, body);
}

/** OffsetCommit v8 without group membership (generation -1, no member id); asserts every partition succeeded. */
async function commitRaw(material: TestTls, port: number, group: string, topic: string, offsets: Record<number, [number, string]>): Promise<void> {
  await withClient(material, port, async (client) => {
    const response = await client.request('OffsetCommit', 8, {
      groupId: group,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [
        {
          name: topic,
          partitions: Object.entries(offsets).map(([p, [offset, metadata]]) => ({ partitionIndex: Number(p), committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: metadata })),
        },
      ],
    });
    const codes = (response.topics as { partitions: { partitionIndex: number; errorCode: number }[] }[]).flatMap((t) => t.partitions.map((p) => `${p.partitionIndex}:${p.errorCode}`));
    assert.deepEqual(codes, Object.keys(offsets).map((p) => `${p}:0`), `OffsetCommit ${group}`);
  });
}

interface GroupsSnapshot {
  groups: string[];
  offsets: Record<string, string[]>;
  states: Record<string, string>;
}

/** Every group (ListGroups) with its state (DescribeGroups) and every committed offset (OffsetFetch v7 of all topics), as text. */
async function snapshot(material: TestTls, port: number): Promise<GroupsSnapshot> {
  return withClient(material, port, async (client) => {
    const listed = await client.request('ListGroups', 4, { statesFilter: [] });
    assert.equal(listed.errorCode, 0);
    const groups = (listed.groups as { groupId: string }[]).map((g) => g.groupId).sort();
    const offsets: Record<string, string[]> = {};
    const states: Record<string, string> = {};
    const described = await client.request('DescribeGroups', 5, { groups, includeAuthorizedOperations: false });
    for (const g of described.groups as { groupId: string; errorCode: number; groupState: string }[]) {
      assert.equal(g.errorCode, 0, `DescribeGroups ${g.groupId}`);
      states[g.groupId] = g.groupState;
    }
    for (const group of groups) {
      const fetched = await client.request('OffsetFetch', 7, { groupId: group, topics: null, requireStable: false });
      assert.equal(fetched.errorCode, 0, `OffsetFetch ${group}`);
      const lines: string[] = [];
      for (const topic of fetched.topics as { name: string; partitions: { partitionIndex: number; committedOffset: bigint; metadata: string | null; errorCode: number }[] }[]) {
        for (const p of topic.partitions) lines.push(`${topic.name}/${p.partitionIndex}=${p.committedOffset} "${p.metadata}" error ${p.errorCode}`);
      }
      offsets[group] = lines.sort();
    }
    return { groups, offsets, states };
  });
}

test('committed offsets are identical after SIGTERM and a restart of inkwell serve (and after SIGKILL), and a consumer resumes at them', async (t) => {
  if (!(await requireTool(t, systemPython, ['-c', 'import kafka'], kafkaPython.what))) return;
  const material = await testTls();
  const dir = dataDir('h-grp1-restart-');
  const topic = 'gr-offsets';
  const partitions = 4;
  const first = await serveBroker(material, dir);
  await createTopic(first.port, material.ca, topic, partitions);
  await produceRecords(material, first.bootstrap, topic, partitions, 25, 'gr');

  // Offsets committed by real consumers: part of the topic, and all of it.
  const partial = await kafkaPythonGroupConsume(t, material, first.bootstrap, topic, 'gr-kp-partial', 30);
  assert.equal((partial.records as unknown[]).length, 30);
  const everything = await kafkaPythonGroupConsume(t, material, first.bootstrap, topic, 'gr-kp-all', -1);
  assert.equal((everything.records as unknown[]).length, 100);
  // And by plain OffsetCommit requests, with metadata, some overwritten (the last commit counts).
  await commitRaw(material, first.port, 'gr-manual', topic, { 0: [1, 'm1-0'], 1: [2, 'm1-1'], 2: [3, 'm1-2'], 3: [4, 'm1-3'] });
  await commitRaw(material, first.port, 'gr-manual', topic, { 0: [11, 'm2-0'], 2: [13, ''] });
  await commitRaw(material, first.port, 'gr-manual', topic, { 0: [12, 'm3-0 ünïcödé'] });

  const before = await snapshot(material, first.port);
  t.diagnostic(`before restart: ${JSON.stringify(before)}`);
  assert.deepEqual(before.groups, ['gr-kp-all', 'gr-kp-partial', 'gr-manual']);
  assert.deepEqual(before.states, { 'gr-kp-all': 'Empty', 'gr-kp-partial': 'Empty', 'gr-manual': 'Empty' });
  assert.deepEqual(before.offsets['gr-manual'], [`${topic}/0=12 "m3-0 ünïcödé" error 0`, `${topic}/1=2 "m1-1" error 0`, `${topic}/2=13 "" error 0`, `${topic}/3=4 "m1-3" error 0`]);
  assert.deepEqual(before.offsets['gr-kp-all'], [0, 1, 2, 3].map((p) => `${topic}/${p}=25 "" error 0`));
  const partialCommitted = partial.committed as Record<string, number>;
  for (const [p, offset] of Object.entries(partialCommitted)) {
    assert.ok(before.offsets['gr-kp-partial']!.includes(`${topic}/${p}=${offset} "" error 0`), `gr-kp-partial ${p}=${offset} in ${JSON.stringify(before.offsets['gr-kp-partial'])}`);
  }

  assert.deepEqual(await stopServed(first), { code: 0, signal: null }, `exit after SIGTERM:\n${first.output()}`);

  const second = await serveBroker(material, dir);
  const again = await snapshot(material, second.port);
  assert.deepEqual(again, before, 'groups and committed offsets identical after the restart');

  // A real consumer of the partially consumed group resumes exactly at its committed offsets.
  const resumed = await kafkaPythonGroupConsume(t, material, second.bootstrap, topic, 'gr-kp-partial', -1);
  const records = resumed.records as { partition: number; offset: number }[];
  assert.equal(records.length, 100 - 30, 'exactly the records not consumed before the restart');
  for (let p = 0; p < partitions; p++) {
    const from = partialCommitted[String(p)] ?? 0;
    assert.deepEqual(
      records.filter((r) => r.partition === p).map((r) => r.offset),
      Array.from({ length: 25 - from }, (_, i) => from + i),
      `partition ${p} resumes at ${from}`,
    );
  }
  assert.deepEqual(resumed.committed, { 0: 25, 1: 25, 2: 25, 3: 25 });

  // Commits acknowledged just before a crash (SIGKILL, no clean shutdown) are there after the next start too.
  await commitRaw(material, second.port, 'gr-manual', topic, { 1: [21, 'before-crash'], 3: [23, 'before-crash'] });
  const beforeCrash = await snapshot(material, second.port);
  assert.deepEqual(beforeCrash.offsets['gr-kp-partial'], [0, 1, 2, 3].map((p) => `${topic}/${p}=25 "" error 0`));
  assert.ok(beforeCrash.offsets['gr-manual']!.includes(`${topic}/3=23 "before-crash" error 0`));
  second.child.kill('SIGKILL');
  assert.deepEqual(await second.exited, { code: null, signal: 'SIGKILL' });
  const third = await serveBroker(material, dir);
  assert.deepEqual(await snapshot(material, third.port), beforeCrash, 'groups and committed offsets identical after a crash and restart');
  assert.deepEqual(await stopServed(third), { code: 0, signal: null }, `exit after SIGTERM:\n${third.output()}`);
});

test('a kcat -G member killed with SIGKILL is removed after its session timeout and the survivor takes its partitions', async (t) => {
  if (!(await requireTool(t, 'kcat', ['-V'], 'kcat'))) return;
  const material = await testTls();
  const served = await serveBroker(material, dataDir('h-grp1-kill-'));
  const inspector = inspect(material, served);
  const topic = 'gr-kill';
  const group = 'gr-kill-group';
  const partitions = 4;
  await createTopic(served.port, material.ca, topic, partitions);
  const firstBatch = await produceRecords(material, served.bootstrap, topic, partitions, 10, 'one');

  const kcat = (name: string) => new Child(name, 'kcat', kcatGroupArgs(material, served.bootstrap, group, topic, '-X', `client.id=${name}`));
  let last: GroupDescription | null = null;
  const children: Child[] = [];
  const waitForMembers = (members: number, timeoutMs: number) =>
    waitUntil(
      async () => {
        last = await inspector.describe(group);
        const settled = settledAssignment(last, topic, members, partitions);
        return settled && new Map(last.members.map((m) => [m.clientId, settled.get(m.memberId)!]));
      },
      timeoutMs,
      `a Stable group of ${members} member(s) sharing ${partitions} partitions`,
      200,
      () => `${formatGroup(last)}\n${children.map((c) => `${c.name}: ${c.describe()}`).join('\n')}`,
    );

  const survivor = kcat('kcat-survivor');
  children.push(survivor);
  await waitForMembers(1, 30_000);
  const victim = kcat('kcat-victim');
  children.push(victim);
  const split = await waitForMembers(2, 40_000);
  const victims = split.get('kcat-victim')!;
  t.diagnostic(`split: ${JSON.stringify(Object.fromEntries(split))}`);
  for (const child of children) {
    const want = split.get(child.name)!;
    await child.waitFor((c) => JSON.stringify(kcatAssigned(c.stderr, topic)) === JSON.stringify(want), 20_000, `${child.name} reporting ${JSON.stringify(want)} assigned`);
  }
  const consumed = () => [...parseKcatLines(survivor.lines), ...parseKcatLines(victim.lines)];
  await waitUntil(async () => (allConsumed(firstBatch, consumed()) ? true : undefined), 30_000, 'the first records to be consumed');

  const killedAt = Date.now();
  victim.kill('SIGKILL');
  await victim.exited;
  // Until its session times out, the killed member is still a member with its partitions.
  const meanwhile = await inspector.describe(group);
  const describedAfterMs = Date.now() - killedAt;
  if (describedAfterMs < sessionTimeoutMs - 2 * heartbeatIntervalMs) {
    assert.equal(meanwhile.members.length, 2, `still two members ${describedAfterMs} ms after SIGKILL: ${formatGroup(meanwhile)}`);
  } else {
    t.diagnostic(`DescribeGroups took until ${describedAfterMs} ms after SIGKILL; not checking that the member was still there`);
  }

  const alone = await waitForMembers(1, sessionTimeoutMs + 20_000);
  const removedAfterMs = Date.now() - killedAt;
  t.diagnostic(`killed member removed and its partitions ${JSON.stringify(victims)} reassigned ${removedAfterMs} ms after SIGKILL (session timeout ${sessionTimeoutMs} ms)`);
  assert.deepEqual(alone.get('kcat-survivor'), [0, 1, 2, 3], 'the survivor has every partition');
  assert.ok(removedAfterMs >= sessionTimeoutMs - 2 * heartbeatIntervalMs, `removed by the session timeout, not before (${removedAfterMs} ms)`);
  await survivor.waitFor((c) => JSON.stringify(kcatAssigned(c.stderr, topic)) === '[0,1,2,3]', 20_000, 'the survivor reporting every partition assigned');

  // The survivor consumes new records of every partition, the killed member's included.
  const secondBatch = await produceRecords(material, served.bootstrap, topic, partitions, 10, 'two');
  await waitUntil(async () => (allConsumed(secondBatch, parseKcatLines(survivor.lines)) ? true : undefined), 30_000, 'the survivor to consume the new records', 200, () => survivor.describe());
  checkAllConsumed(secondBatch, parseKcatLines(survivor.lines));
  checkAllConsumed([...firstBatch, ...secondBatch], consumed());
  assert.ok(
    parseKcatLines(survivor.lines).some((r) => victims.includes(r.partition) && r.value.startsWith('two-')),
    "the survivor reads the killed member's partitions",
  );

  await survivor.stop('SIGTERM');
  assert.deepEqual(await stopServed(served), { code: 0, signal: null }, `exit after SIGTERM:\n${served.output()}`);
});

test('a kcat -G consumer carries on across a SIGTERM and restart of the broker, resuming at its committed offsets', async (t) => {
  if (!(await requireTool(t, 'kcat', ['-V'], 'kcat'))) return;
  const material = await testTls();
  const dir = dataDir('h-grp1-live-');
  const first = await serveBroker(material, dir);
  const topic = 'gr-live';
  const group = 'gr-live-group';
  const partitions = 3;
  await createTopic(first.port, material.ca, topic, partitions);
  const before = await produceRecords(material, first.bootstrap, topic, partitions, 10, 'before');
  // Auto-commit often, do not exit when every broker connection is down (-E), and reconnect quickly
  // once the broker is back (on the same port).
  const consumer = new Child(
    'kcat-live',
    'kcat',
    kcatGroupArgs(material, first.bootstrap, group, topic, '-E', '-X', 'client.id=kcat-live', '-X', 'auto.commit.interval.ms=200', '-X', 'reconnect.backoff.max.ms=500'),
  );
  await consumer.waitFor((c) => allConsumed(before, parseKcatLines(c.lines)), 30_000, 'the consumer reading the first records');
  const inspector = inspect(material, first);
  await waitUntil(
    async () => {
      const committed = (await inspector.committed(group)).filter((c) => c.topic === topic);
      return committed.length === partitions && committed.every((c) => c.offset === 10) ? true : undefined;
    },
    20_000,
    'the consumer to commit offset 10 on every partition',
  );
  await inspector.close();

  assert.deepEqual(await stopServed(first), { code: 0, signal: null }, `exit after SIGTERM:\n${first.output()}`);
  const second = await serveBroker(material, dir, {}, first.port);
  const after = await produceRecords(material, second.bootstrap, topic, partitions, 10, 'after');
  await consumer.waitFor((c) => allConsumed(after, parseKcatLines(c.lines)), 40_000, 'the consumer reading the records produced after the restart');
  const lines = parseKcatLines(consumer.lines);
  const printed = lines.map((r) => `${r.partition}:${r.offset}`);
  assert.equal(new Set(printed).size, printed.length, 'no record read twice: the consumer resumed at its committed offsets');
  checkAllConsumed([...before, ...after], lines);
  const described = await inspect(material, second).describe(group);
  assert.equal(described.state, 'Stable', formatGroup(described));
  assert.deepEqual(described.members.map((m) => [m.clientId, m.assignment]), [['kcat-live', [{ topic, partitions: [0, 1, 2] }]]], 'the consumer rejoined the group and has every partition');

  await consumer.stop('SIGTERM');
  assert.deepEqual(await stopServed(second), { code: 0, signal: null }, `exit after SIGTERM:\n${second.output()}`);
});
