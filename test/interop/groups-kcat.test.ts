/**
 * Consumer groups with kcat -G (librdkafka 2.0.2's balanced consumer) over TLS, verifying our CA.
 * Records are produced to a 6-partition topic the whole time. One kcat joins and gets every
 * partition; a second joins and the group splits the partitions between them (checked with
 * DescribeGroups, with kcat's own "rebalanced ... assigned:" lines, and with which partitions each
 * prints new records from). The first is stopped with SIGTERM: it commits where it got to and
 * leaves the group, and the survivor gets all six partitions within the session timeout and
 * carries on exactly at the committed offsets. Every produced record is consumed at least once by
 * the two of them together, none skipped.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTopic, requireTool } from '../helpers/interop.js';
import {
  Child,
  ContinualProducer,
  GroupInspector,
  allConsumed,
  checkAllConsumed,
  formatGroup,
  kcatAssigned,
  kcatGroupArgs,
  killAllChildren,
  missingRecords,
  parseKcatLines,
  sessionTimeoutMs,
  settledAssignment,
  startGroupBroker,
  waitUntil,
  type GroupBroker,
} from '../helpers/groups-interop.js';
import type { GroupDescription } from '../../src/client/index.js';

let target: GroupBroker;
let inspector: GroupInspector;
let producer: ContinualProducer | null = null;

before(async () => {
  target = await startGroupBroker();
  inspector = new GroupInspector(target.material, target.bootstrap);
});

after(async () => {
  killAllChildren();
  await producer?.abandon();
  await inspector?.close();
  await target?.broker.close();
});

const topic = 'gk-six';
const group = 'gk-group';
const partitions = 6;

function kcat(clientId: string): Child {
  return new Child(clientId, 'kcat', kcatGroupArgs(target.material, target.bootstrap, group, topic, '-X', `client.id=${clientId}`));
}

/** Each member's partitions by client id, once the group is Stable with `members` members sharing all partitions. */
async function waitForSplit(members: number, timeoutMs: number, children: Child[]): Promise<Map<string, number[]>> {
  let last: GroupDescription | null = null;
  return waitUntil(
    async () => {
      last = await inspector.describe(group);
      const settled = settledAssignment(last, topic, members, partitions);
      if (!settled) return undefined;
      const byClient = new Map<string, number[]>();
      for (const member of last.members) byClient.set(member.clientId, settled.get(member.memberId)!);
      return byClient.size === members ? byClient : undefined;
    },
    timeoutMs,
    `a Stable group of ${members} member(s) sharing ${partitions} partitions`,
    200,
    () => `${formatGroup(last)}\n${children.map((c) => `${c.name}: ${c.describe()}`).join('\n')}`,
  );
}

test('two kcat -G consumers split a 6-partition topic; when one stops the other takes over, and every record is consumed', async (t) => {
  if (!(await requireTool(t, 'kcat', ['-V'], 'kcat'))) return;
  await createTopic(target.port, target.material.ca, topic, partitions);
  producer = new ContinualProducer(target.material, target.bootstrap, topic, partitions, 'gk', 20);
  await producer.waitForCount(30, 30_000);

  const first = kcat('kcat-a');
  const alone = await waitForSplit(1, 30_000, [first]);
  assert.deepEqual(alone.get('kcat-a'), [0, 1, 2, 3, 4, 5], 'the only member gets every partition');
  await first.waitFor((c) => JSON.stringify(kcatAssigned(c.stderr, topic)) === JSON.stringify([0, 1, 2, 3, 4, 5]), 20_000, 'kcat-a reporting all six partitions assigned');

  const second = kcat('kcat-b');
  const split = await waitForSplit(2, 40_000, [first, second]);
  const mine = { 'kcat-a': split.get('kcat-a')!, 'kcat-b': split.get('kcat-b')! };
  t.diagnostic(`split: ${JSON.stringify(mine)}`);
  assert.ok(mine['kcat-a'].length > 0 && mine['kcat-b'].length > 0, 'both consumers have partitions');
  assert.deepEqual([...mine['kcat-a'], ...mine['kcat-b']].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5], 'together they cover every partition once');
  // librdkafka's default assignor (range first) gives each of two members three of six partitions.
  assert.equal(mine['kcat-a'].length, 3);
  for (const child of [first, second]) {
    const want = mine[child.name as 'kcat-a' | 'kcat-b'];
    await child.waitFor((c) => JSON.stringify(kcatAssigned(c.stderr, topic)) === JSON.stringify(want), 20_000, `${child.name} reporting ${JSON.stringify(want)} assigned`);
  }

  // Records produced from now on can only be read by the owner of their partition.
  const mark = producer.count;
  const isLater = (value: string) => Number(value.slice(3)) >= mark;
  for (const child of [first, second]) {
    const want = mine[child.name as 'kcat-a' | 'kcat-b'];
    await child.waitFor(
      (c) => {
        const later = parseKcatLines(c.lines).filter((r) => isLater(r.value));
        return want.every((p) => later.some((r) => r.partition === p));
      },
      30_000,
      `${child.name} printing new records from each of ${JSON.stringify(want)}`,
    );
    const printed = new Set(parseKcatLines(child.lines).filter((r) => isLater(r.value)).map((r) => r.partition));
    assert.deepEqual([...printed].sort((x, y) => x - y), want, `${child.name} prints new records only from its own partitions`);
  }

  // Stop the first with SIGTERM: kcat closes its consumer, which commits the offsets it stored and
  // leaves the group. kcat does not print a record returned by the poll that the signal interrupts,
  // although librdkafka has already stored its offset and then commits it, so such a record would
  // look skipped. Production to the first consumer's partitions therefore pauses until it has
  // printed all of them and resumes as soon as it has exited; the other partitions get records throughout.
  const hers = mine['kcat-a'];
  await producer.pause(hers);
  const beforeStop = [...producer.produced];
  await first.waitFor((c) => allConsumed(beforeStop.filter((r) => hers.includes(r.partition)), parseKcatLines(c.lines)), 30_000, 'kcat-a printing every record of its partitions');
  const survivorLinesBefore = second.lines.length;
  const stoppedAt = Date.now();
  const exit = await first.stop('SIGTERM', 20_000);
  producer.resume();
  t.diagnostic(`kcat-a exited ${JSON.stringify(exit)} after ${Date.now() - stoppedAt} ms`);
  assert.deepEqual(exit, { code: 0, signal: null }, 'kcat-a exits cleanly after SIGTERM');
  // What it committed: for each of its partitions, the offset after the last record (it read them all).
  const ends = new Map(hers.map((p) => [p, Math.max(...beforeStop.filter((r) => r.partition === p).map((r) => r.offset)) + 1]));
  const committedAtStop = new Map((await inspector.committed(group)).filter((c) => c.topic === topic).map((c) => [c.partition, c.offset]));
  assert.deepEqual(
    hers.map((p) => [p, committedAtStop.get(p)]),
    hers.map((p) => [p, ends.get(p)]),
    'kcat-a committed the end of each of its partitions when it closed',
  );
  const survivor = await waitForSplit(1, sessionTimeoutMs + 20_000, [second]);
  const handoverMs = Date.now() - stoppedAt;
  t.diagnostic(`all partitions with kcat-b ${handoverMs} ms after SIGTERM to kcat-a`);
  assert.deepEqual(survivor.get('kcat-b'), [0, 1, 2, 3, 4, 5], 'the survivor gets every partition');
  assert.ok(handoverMs <= sessionTimeoutMs, `handed over within the session timeout (${handoverMs} ms)`);
  await second.waitFor((c) => JSON.stringify(kcatAssigned(c.stderr, topic)) === JSON.stringify([0, 1, 2, 3, 4, 5]), 20_000, 'kcat-b reporting all six partitions assigned');

  // Keep producing a little longer, then stop and wait for the survivor to read everything.
  const handover = producer.count;
  await producer.waitForCount(handover + 60, 30_000);
  const produced = await producer.stop();
  producer = null;
  const consumed = () => [...parseKcatLines(first.lines), ...parseKcatLines(second.lines)];
  await waitUntil(
    async () => (allConsumed(produced, consumed()) ? true : undefined),
    30_000,
    'every produced record to be consumed',
    200,
    () => `missing: ${JSON.stringify(missingRecords(produced, consumed()).slice(0, 30))}\nkcat-a: ${first.describe()}\nkcat-b: ${second.describe()}`,
  );
  checkAllConsumed(produced, consumed());
  // The survivor took over each of the stopped consumer's partitions exactly at the committed offset.
  const takenOver = parseKcatLines(second.lines.slice(survivorLinesBefore));
  for (const p of hers) {
    const offsets = takenOver.filter((r) => r.partition === p).map((r) => r.offset);
    assert.ok(offsets.length > 0, `the survivor reads partition ${p} after the handover`);
    assert.equal(Math.min(...offsets), ends.get(p), `the survivor resumes partition ${p} at the committed offset`);
  }
  t.diagnostic(`${produced.length} produced; kcat-a printed ${first.lines.length}, kcat-b ${second.lines.length}`);

  const last = await second.stop('SIGTERM', 20_000);
  t.diagnostic(`kcat-b exited ${JSON.stringify(last)}`);
});
