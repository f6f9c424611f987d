/**
 * Consumer groups with kafkajs 2.2.4 over TLS.
 *
 * The first test runs one group of kafkajs consumers (`run({ eachMessage })`, auto-commit) on a
 * 6-partition topic while a producer keeps writing one record to every partition every few tens
 * of milliseconds. Three members join one after another, then leave (disconnect) one by one.
 * After each change it waits until the group is stable again: DescribeGroups says Stable with
 * exactly the live members, and the assignment the broker stored for each member is the one
 * that member received in its last SyncGroup (kafkajs' GROUP_JOIN event). Then the assignments
 * must split the six partitions with no partition owned twice, and records produced from then on
 * must be consumed by the owner of their partition only (and no member rejoined meanwhile).
 * At the end every record acknowledged to the producer was consumed at least once, with the
 * value it was produced with (per partition offsets run from 0 without a gap), and the offsets
 * committed are the end of every partition.
 *
 * The second test uses the kafkajs admin on the group the first one left behind: describeGroups,
 * listGroups, fetchOffsets (what was committed), resetOffsets to earliest and latest (only
 * allowed while the group is empty; fetchOffsets then shows it), and deleteGroups (a group with
 * members gets NON_EMPTY_GROUP, an unknown one GROUP_ID_NOT_FOUND; a deleted group is no longer
 * listed and has no offsets).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AssignerProtocol, Kafka, logLevel, type Admin, type KafkaJSDeleteGroupsError, type Consumer, type Producer, type logCreator } from 'kafkajs';
import { startBroker, type Broker } from '../../src/index.js';
import { testTls, type TestTls } from '../helpers/tls.js';
import { withTimeout } from '../helpers/raw-client.js';

const topic = 'grp-kjs-orders';
const partitions = 6;
const groupId = 'grp-kjs-group';
/** Every wait in this file is bounded by this. */
const limit = 30_000;

// Short enough for a quick file, long enough not to drop a member of a busy machine: members
// leave with LeaveGroup, so no step waits for a session to expire.
const memberOptions = { sessionTimeout: 10_000, rebalanceTimeout: 15_000, heartbeatInterval: 250, maxWaitTimeInMs: 200 };

let broker: Broker;
let material: TestTls;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
const logs: string[] = [];

const capture: logCreator = () => ({ label, namespace, log }) => {
  const { message, timestamp: _timestamp, logger: _logger, ...rest } = log;
  logs.push(`${label} [${namespace}] ${message} ${JSON.stringify(rest)}`);
};

function why(): string {
  return logs.length ? `kafkajs said:\n${logs.slice(-20).join('\n')}` : 'kafkajs logged nothing';
}

before(async () => {
  material = await testTls();
  broker = await startBroker({
    listeners: 'SSL://127.0.0.1:0',
    storage: 'memory',
    tls: material,
    log: () => {},
    // Kafka's defaults, stated: members may ask for a session of 6 s or more, and the first
    // rebalance of an empty group does not wait for more members.
    config: { 'group.min.session.timeout.ms': 6000, 'group.initial.rebalance.delay.ms': 0 },
  });
  kafka = new Kafka({
    clientId: 'grp-kjs',
    brokers: [`127.0.0.1:${broker.listeners[0]!.port}`],
    ssl: { ca: [material.ca.toString('utf8')] },
    connectionTimeout: 5000,
    requestTimeout: 15_000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: logLevel.WARN,
    logCreator: capture,
  });
  admin = kafka.admin();
  producer = kafka.producer({ idempotent: false, allowAutoTopicCreation: false });
  await withTimeout(admin.connect(), limit, 'admin.connect');
  await withTimeout(producer.connect(), limit, 'producer.connect');
  assert.equal(await withTimeout(admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] }), limit, 'createTopics'), true, why());
});

const started: Consumer[] = [];

after(async () => {
  producing = false;
  await withTimeout(producerLoop, limit, 'the producer loop').catch(() => {});
  for (const consumer of started) await withTimeout(consumer.disconnect(), limit, 'consumer.disconnect').catch(() => {});
  await producer?.disconnect().catch(() => {});
  await admin?.disconnect().catch(() => {});
  await broker?.close();
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` (which returns a value when satisfied, or a reason why not) until it is satisfied or `ms` pass. */
async function waitFor<T>(what: string, check: () => Promise<{ ok: T } | { not: string }>, ms = limit): Promise<T> {
  const deadline = Date.now() + ms;
  let last = 'not checked yet';
  while (Date.now() < deadline) {
    const result = await check();
    if ('ok' in result) return result.ok;
    last = result.not;
    await sleep(100);
  }
  throw new Error(`${what}: not reached within ${ms} ms; last: ${last}\n${why()}`);
}

// --- What was produced and what was consumed ---------------------------------------------------

/** partition → offset → value, for every record the broker acknowledged. */
const produced = new Map<number, Map<number, string>>(Array.from({ length: partitions }, (_, p) => [p, new Map()]));
/** partition → offset → the names of the members that consumed it, and the value each saw. */
const consumed = new Map<number, Map<number, { members: Set<string>; values: Set<string> }>>(Array.from({ length: partitions }, (_, p) => [p, new Map()]));
let producing = false;
let producerLoop: Promise<void> = Promise.resolve();
const producerErrors: string[] = [];

async function produceLoop(): Promise<void> {
  for (let round = 0; producing; round++) {
    const messages = Array.from({ length: partitions }, (_, partition) => ({ partition, value: `p${partition}-r${round}` }));
    try {
      const result = await withTimeout(producer.send({ topic, acks: -1, messages }), limit, 'producer.send');
      // One record per partition, so each partition's base offset is that record's offset.
      for (const r of result) produced.get(r.partition)!.set(Number(r.baseOffset), `p${r.partition}-r${round}`);
    } catch (error) {
      producerErrors.push(String(error));
      return;
    }
    await sleep(40);
  }
}

function record(member: string, partition: number, offset: number, value: string): void {
  const byOffset = consumed.get(partition)!;
  let seen = byOffset.get(offset);
  if (!seen) byOffset.set(offset, (seen = { members: new Set(), values: new Set() }));
  seen.members.add(member);
  seen.values.add(value);
}

/** The next offset to be produced per partition, as far as the producer has heard. */
function producedEnd(): number[] {
  return Array.from({ length: partitions }, (_, p) => Math.max(-1, ...produced.get(p)!.keys()) + 1);
}

/** Waits until every record acknowledged so far (up to `ends`, or the acknowledged end now) has been consumed. */
async function waitConsumedUpTo(what: string, ends = producedEnd()): Promise<void> {
  await waitFor(`${what}: every record produced is consumed`, async () => {
    for (let p = 0; p < partitions; p++) {
      for (let offset = 0; offset < ends[p]!; offset++) {
        if (!consumed.get(p)!.has(offset)) return { not: `partition ${p} offset ${offset} not consumed yet (of ${ends[p]})` };
      }
    }
    return { ok: true };
  });
}

// --- Members ------------------------------------------------------------------------------------

interface Member {
  readonly name: string;
  readonly consumer: Consumer;
  memberId: string;
  /** Partitions of the last assignment received (SyncGroup), sorted. */
  assignment: number[];
  joins: number;
  crashes: string[];
}

async function startMember(name: string, group = groupId): Promise<Member> {
  const consumer = kafka.consumer({ groupId: group, ...memberOptions });
  started.push(consumer);
  const member: Member = { name, consumer, memberId: '', assignment: [], joins: 0, crashes: [] };
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    member.memberId = payload.memberId;
    member.assignment = [...(payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    member.joins++;
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => member.crashes.push(String(payload.error)));
  await withTimeout(consumer.connect(), limit, `${name} connect`);
  await withTimeout(consumer.subscribe({ topics: [topic], fromBeginning: true }), limit, `${name} subscribe`);
  await withTimeout(
    consumer.run({
      eachMessage: async ({ partition, message }) => record(name, partition, Number(message.offset), message.value?.toString() ?? ''),
    }),
    limit,
    `${name} run`,
  );
  return member;
}

async function stopMember(member: Member): Promise<void> {
  await withTimeout(member.consumer.disconnect(), limit, `${member.name} disconnect`);
  started.splice(started.indexOf(member.consumer), 1);
}

function decodeAssignment(bytes: Buffer): number[] {
  const decoded = AssignerProtocol.MemberAssignment.decode(bytes);
  return [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b);
}

/**
 * Waits until the group is Stable with exactly `members`, each holding (by its own last SyncGroup)
 * the assignment the broker stored for it; checks that the assignments split the partitions
 * without overlap and returns each partition's owner.
 */
async function waitStable(members: Member[], what: string): Promise<string[]> {
  const owners = await waitFor<string[]>(`${what}: group stable with ${members.map((m) => m.name).join(', ')}`, async () => {
    const crashed = members.find((m) => m.crashes.length > 0);
    if (crashed) throw new Error(`${crashed.name} crashed: ${crashed.crashes.join('; ')}\n${why()}`);
    const { groups } = await withTimeout(admin.describeGroups([groupId]), limit, 'describeGroups');
    const group = groups[0]!;
    if (group.state !== 'Stable') return { not: `state ${group.state}` };
    if (group.members.length !== members.length) return { not: `${group.members.length} members` };
    const owner: (string | undefined)[] = new Array(partitions).fill(undefined);
    for (const described of group.members) {
      const member = members.find((m) => m.memberId === described.memberId);
      if (!member) return { not: `member ${described.memberId} is not one of the live members (yet)` };
      const stored = decodeAssignment(described.memberAssignment);
      if (stored.join() !== member.assignment.join()) return { not: `${member.name} holds [${member.assignment}], the broker has [${stored}]` };
      for (const p of stored) {
        assert.equal(owner[p], undefined, `${what}: partition ${p} assigned to both ${owner[p]} and ${member.name}`);
        owner[p] = member.name;
      }
    }
    const unowned = owner.flatMap((o, p) => (o === undefined ? [p] : []));
    assert.deepEqual(unowned, [], `${what}: every partition is assigned`);
    return { ok: owner as string[] };
  });
  // Each live member got a fair share (kafkajs' round robin: 6 partitions over N members).
  for (const member of members) assert.equal(member.assignment.length, partitions / members.length, `${what}: ${member.name} has [${member.assignment}]`);
  return owners;
}

/**
 * After stabilisation: the records produced from now on are consumed by their partition's owner
 * only, while no member rejoins; and everything produced up to then is consumed.
 */
async function checkOwnership(members: Member[], owners: string[], what: string): Promise<void> {
  const joins = members.map((m) => m.joins);
  const from = (await withTimeout(admin.fetchTopicOffsets(topic), limit, 'fetchTopicOffsets')).sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
  // A few more rounds of records after the mark.
  await waitFor(`${what}: records produced after stabilising`, async () => {
    const ends = producedEnd();
    return ends.every((end, p) => end >= from[p]! + 5) ? { ok: true } : { not: `produced up to [${ends}], mark [${from}]` };
  });
  await waitConsumedUpTo(what);
  assert.deepEqual(
    members.map((m) => m.joins),
    joins,
    `${what}: no member rejoined while ownership was checked (${members.map((m) => `${m.name} ${m.joins}`).join(', ')})\n${why()}`,
  );
  for (let p = 0; p < partitions; p++) {
    for (const [offset, seen] of consumed.get(p)!) {
      if (offset < from[p]!) continue;
      assert.deepEqual([...seen.members], [owners[p]], `${what}: partition ${p} offset ${offset} (owned by ${owners[p]}) was consumed by ${[...seen.members].join(', ')}`);
    }
  }
}

test('kafkajs group: three members join one by one and leave one by one while records are produced; nothing skipped, no partition owned twice', { timeout: 120_000 }, async (t) => {
  producing = true;
  producerLoop = produceLoop();
  const c1 = await startMember('c1');
  let owners = await waitStable([c1], 'c1 alone');
  assert.deepEqual(c1.assignment, [0, 1, 2, 3, 4, 5]);
  await checkOwnership([c1], owners, 'c1 alone');

  const c2 = await startMember('c2');
  owners = await waitStable([c1, c2], 'c2 joined');
  await checkOwnership([c1, c2], owners, 'c2 joined');

  const c3 = await startMember('c3');
  owners = await waitStable([c1, c2, c3], 'c3 joined');
  await checkOwnership([c1, c2, c3], owners, 'c3 joined');

  // DescribeGroups of the stable three-member group, as kafkajs reads it.
  const { groups } = await withTimeout(admin.describeGroups([groupId]), limit, 'describeGroups');
  const described = groups[0]!;
  assert.equal(described.groupId, groupId);
  assert.equal(described.state, 'Stable');
  assert.equal(described.protocolType, 'consumer');
  assert.equal(described.protocol, 'RoundRobinAssigner');
  assert.deepEqual(described.members.map((m) => m.memberId).sort(), [c1, c2, c3].map((m) => m.memberId).sort());
  for (const m of described.members) {
    assert.equal(m.clientId, 'grp-kjs');
    assert.match(m.clientHost, /127\.0\.0\.1/);
    assert.ok(m.memberId.startsWith('grp-kjs-'), `member id ${m.memberId} starts with the client id`);
    const metadata = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
    assert.deepEqual(metadata?.topics, [topic], 'the subscription, as the member sent it');
  }

  await stopMember(c1);
  owners = await waitStable([c2, c3], 'c1 left');
  await checkOwnership([c2, c3], owners, 'c1 left');

  await stopMember(c2);
  owners = await waitStable([c3], 'c2 left');
  assert.deepEqual(c3.assignment, [0, 1, 2, 3, 4, 5]);
  await checkOwnership([c3], owners, 'c2 left');

  producing = false;
  await withTimeout(producerLoop, limit, 'the producer loop');
  assert.deepEqual(producerErrors, [], 'the producer never failed');
  const ends = producedEnd();
  await waitConsumedUpTo('after the last record', ends);
  // kafkajs commits after every batch; wait for the last commit to reach the broker.
  await waitFor('committed offsets reach the end of every partition', async () => {
    const [fetched] = await withTimeout(admin.fetchOffsets({ groupId, topics: [topic] }), limit, 'fetchOffsets');
    const committed = fetched!.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
    return committed.join() === ends.join() ? { ok: true } : { not: `committed [${committed}], ends [${ends}]` };
  });
  await stopMember(c3);

  // Every acknowledged record was consumed, with its value; per partition, offsets run from 0 without a gap.
  for (let p = 0; p < partitions; p++) {
    const offsets = [...produced.get(p)!.keys()].sort((a, b) => a - b);
    assert.deepEqual(offsets, Array.from({ length: ends[p]! }, (_, i) => i), `partition ${p}: acknowledged offsets run from 0 without a gap`);
    assert.ok(offsets.length >= 20, `partition ${p}: ${offsets.length} records produced while the group changed`);
    for (const offset of offsets) {
      const seen = consumed.get(p)!.get(offset);
      assert.ok(seen, `partition ${p} offset ${offset} was consumed`);
      assert.deepEqual([...seen.values], [produced.get(p)!.get(offset)], `partition ${p} offset ${offset}: the value produced`);
    }
    // Nothing beyond what was produced.
    assert.ok(Math.max(...consumed.get(p)!.keys()) < ends[p]!, `partition ${p}: nothing consumed past the end`);
  }
  for (const m of [c1, c2, c3]) assert.deepEqual(m.crashes, [], `${m.name} did not crash`);
  const duplicates = [...consumed.values()].reduce((n, byOffset) => n + [...byOffset.values()].filter((s) => s.members.size > 1).length, 0);
  t.diagnostic(`records per partition [${ends}]; joins c1 ${c1.joins}, c2 ${c2.joins}, c3 ${c3.joins}; records consumed by two members (redelivered after a rebalance) ${duplicates}`);

  const { groups: after } = await withTimeout(admin.describeGroups([groupId]), limit, 'describeGroups');
  assert.equal(after[0]!.state, 'Empty');
  assert.deepEqual(after[0]!.members, []);
});

/** kafkajs does not export its error classes to ESM importers (they are spread into module.exports): known by name. */
function isDeleteGroupsError(error: unknown): error is KafkaJSDeleteGroupsError {
  return error instanceof Error && error.name === 'KafkaJSDeleteGroupsError' && Array.isArray((error as KafkaJSDeleteGroupsError).groups);
}

async function committed(): Promise<string[]> {
  const [fetched] = await withTimeout(admin.fetchOffsets({ groupId, topics: [topic] }), limit, 'fetchOffsets');
  assert.equal(fetched!.topic, topic);
  return fetched!.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset);
}

test('kafkajs admin: describeGroups, listGroups, fetchOffsets, resetOffsets, deleteGroups', { timeout: 120_000 }, async () => {
  const ends = (await withTimeout(admin.fetchTopicOffsets(topic), limit, 'fetchTopicOffsets')).sort((a, b) => a.partition - b.partition).map((o) => o.high);
  assert.ok(ends.every((e) => Number(e) > 0), `the first test produced records: [${ends}]`);

  // The group the first test left: Empty, its offsets kept.
  const { groups: [empty] } = await withTimeout(admin.describeGroups([groupId]), limit, 'describeGroups');
  assert.deepEqual({ state: empty!.state, protocolType: empty!.protocolType, members: empty!.members }, { state: 'Empty', protocolType: 'consumer', members: [] });
  const listed = await withTimeout(admin.listGroups(), limit, 'listGroups');
  assert.deepEqual(listed.groups.filter((g) => g.groupId === groupId), [{ groupId, protocolType: 'consumer' }]);
  assert.deepEqual(await committed(), ends, 'fetchOffsets: what the consumers committed, the end of every partition');

  // resetOffsets (allowed: the group is empty): kafkajs commits -2 (earliest) or -1 (latest),
  // which consumers resolve when they start; fetchOffsets shows them, and resolves them on request.
  // (Each resetOffsets takes about 5 s: kafkajs joins the group with a paused consumer and waits
  // out its fetch's maxWaitTime before it stops.)
  await withTimeout(admin.resetOffsets({ groupId, topic, earliest: true }), limit, 'resetOffsets earliest');
  assert.deepEqual(await committed(), new Array(partitions).fill('-2'), 'after resetOffsets earliest');
  await withTimeout(admin.resetOffsets({ groupId, topic, earliest: false }), limit, 'resetOffsets latest');
  assert.deepEqual(await committed(), new Array(partitions).fill('-1'), 'after resetOffsets latest');
  const [resolved] = await withTimeout(admin.fetchOffsets({ groupId, topics: [topic], resolveOffsets: true }), limit, 'fetchOffsets resolveOffsets');
  assert.deepEqual(resolved!.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset), ends, 'latest resolves to the end of every partition');
  assert.deepEqual(await committed(), ends, 'and is committed as such');
  assert.equal((await withTimeout(admin.describeGroups([groupId]), limit, 'describeGroups')).groups[0]!.state, 'Empty', 'the resets left the group empty');

  // A group with a member: resetOffsets and deleteGroups are refused.
  const busyGroup = 'grp-kjs-busy';
  const busy = await startMember('busy', busyGroup);
  await waitFor('the busy group is stable', async () => {
    const { groups } = await withTimeout(admin.describeGroups([busyGroup]), limit, 'describeGroups');
    return groups[0]!.state === 'Stable' && groups[0]!.members.length === 1 ? { ok: true } : { not: `${groups[0]!.state}, ${groups[0]!.members.length} members` };
  });
  const bothListed = await withTimeout(admin.listGroups(), limit, 'listGroups');
  assert.deepEqual(
    bothListed.groups.filter((g) => g.groupId.startsWith('grp-kjs-')).sort((a, b) => a.groupId.localeCompare(b.groupId)),
    [
      { groupId: busyGroup, protocolType: 'consumer' },
      { groupId, protocolType: 'consumer' },
    ],
  );
  await assert.rejects(withTimeout(admin.resetOffsets({ groupId: busyGroup, topic, earliest: true }), limit, 'resetOffsets of a busy group'), /must have no running instances, current state: Stable/);
  const refused = await withTimeout(
    admin.deleteGroups([busyGroup]).then(
      () => null,
      (error: unknown) => error,
    ),
    limit,
    'deleteGroups of a busy group',
  );
  assert.ok(isDeleteGroupsError(refused), `deleteGroups of a group with a member fails: ${String(refused)}`);
  assert.deepEqual(
    refused.groups.map((g) => ({ groupId: g.groupId, errorCode: g.errorCode, type: (g.error as { type?: string }).type })),
    [{ groupId: busyGroup, errorCode: 68, type: 'NON_EMPTY_GROUP' }],
  );
  assert.equal((await withTimeout(admin.describeGroups([busyGroup]), limit, 'describeGroups')).groups[0]!.state, 'Stable', 'still there');

  // An unknown group.
  const unknown = await withTimeout(
    admin.deleteGroups(['grp-kjs-never']).then(
      () => null,
      (error: unknown) => error,
    ),
    limit,
    'deleteGroups of an unknown group',
  );
  assert.ok(isDeleteGroupsError(unknown), `deleteGroups of an unknown group fails: ${String(unknown)}`);
  assert.deepEqual(
    unknown.groups.map((g) => ({ groupId: g.groupId, errorCode: g.errorCode, type: (g.error as { type?: string }).type })),
    [{ groupId: 'grp-kjs-never', errorCode: 69, type: 'GROUP_ID_NOT_FOUND' }],
  );

  // The empty group goes, with its offsets; the busy one goes once its member has left.
  const deleted = await withTimeout(admin.deleteGroups([groupId]), limit, 'deleteGroups');
  assert.deepEqual(
    deleted.map((d) => ({ groupId: d.groupId, errorCode: d.errorCode })),
    [{ groupId, errorCode: 0 }],
  );
  const afterDelete = await withTimeout(admin.listGroups(), limit, 'listGroups');
  assert.deepEqual(
    afterDelete.groups.filter((g) => g.groupId.startsWith('grp-kjs-')).map((g) => g.groupId),
    [busyGroup],
  );
  assert.equal((await withTimeout(admin.describeGroups([groupId]), limit, 'describeGroups')).groups[0]!.state, 'Dead');
  assert.deepEqual(await committed(), new Array(partitions).fill('-1'), 'no offsets left');

  await stopMember(busy);
  assert.deepEqual(busy.crashes, []);
  const gone = await withTimeout(admin.deleteGroups([busyGroup]), limit, 'deleteGroups of the busy group, now empty');
  assert.deepEqual(
    gone.map((d) => ({ groupId: d.groupId, errorCode: d.errorCode })),
    [{ groupId: busyGroup, errorCode: 0 }],
  );
  const none = await withTimeout(admin.listGroups(), limit, 'listGroups');
  assert.deepEqual(
    none.groups.filter((g) => g.groupId.startsWith('grp-kjs-')),
    [],
  );
});
