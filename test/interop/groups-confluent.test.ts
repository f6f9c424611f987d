/**
 * Consumer groups with confluent-kafka-python 1.7.0 (Debian's python3-confluent-kafka on
 * librdkafka 2.0.2, under /usr/bin/python3) over TLS, verifying our CA: two Consumers in one group,
 * once with partition.assignment.strategy=range (eager rebalancing) and once with
 * cooperative-sticky (incremental rebalancing). Both get partitions, together covering the topic
 * with no overlap, and the broker describes the group the same way (Stable, with the chosen
 * assignor); each reads its partitions to the end, commits synchronously
 * (commit(asynchronous=False)), and committed() returns what was committed, as does our own
 * OffsetFetch. The consumers run test/interop/python/groups_confluent.py, which reports what it saw
 * as JSON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTopic, pythonReport, pythonScript, requireTool, systemPython, type Report } from '../helpers/interop.js';
import { produceRecords, sessionTimeoutMs, useGroupBroker, waitUntil } from '../helpers/groups-interop.js';

const groups = useGroupBroker();
const script = pythonScript('groups_confluent.py');
const confluent = { module: 'confluent_kafka', what: 'confluent-kafka-python (python3-confluent-kafka)' };

interface Consumed {
  partition: number;
  offset: number;
  value: string;
}

const partitions = 6;
const perPartition = 20;

for (const strategy of ['range', 'cooperative-sticky']) {
  test(`two confluent-kafka Consumers with ${strategy}: disjoint assignments covering the topic, synchronous commit, committed()`, async (t) => {
    if (!(await requireTool(t, systemPython, ['-c', `import ${confluent.module}`], confluent.what))) return;
    const topic = `gck-${strategy}`;
    const group = `gck-group-${strategy}`;
    await createTopic(groups.target.port, groups.target.material.ca, topic, partitions);
    const produced = await produceRecords(groups.target.material, groups.target.bootstrap, topic, partitions, perPartition, 'ck');
    const report = await pythonReport(t, confluent, script, [
      'pair',
      '--bootstrap',
      groups.target.bootstrap,
      '--cafile',
      groups.target.material.paths.ca,
      '--topic',
      topic,
      '--group',
      group,
      '--strategy',
      strategy,
      '--session-timeout-ms',
      String(sessionTimeoutMs),
    ]);
    assert.ok(report, 'the confluent-kafka run reported');
    const all = Array.from({ length: partitions }, (_, p) => p);
    const ends = Object.fromEntries(all.map((p) => [String(p), perPartition]));
    assert.deepEqual(report.partitions, all);
    assert.deepEqual(report.ends, ends);

    const a = report['ck-a'].assignment as number[];
    const b = report['ck-b'].assignment as number[];
    t.diagnostic(`assignments: ck-a ${JSON.stringify(a)}, ck-b ${JSON.stringify(b)}; rebalance callbacks: ck-a ${JSON.stringify(report['ck-a'].events)}, ck-b ${JSON.stringify(report['ck-b'].events)}`);
    assert.ok(a.length > 0 && b.length > 0, 'both consumers get partitions');
    assert.deepEqual([...a, ...b].sort((x, y) => x - y), all, 'together they cover every partition, with no overlap');
    if (strategy === 'range') assert.deepEqual([a.length, b.length], [3, 3], 'range: three partitions each');
    else assert.ok(Math.abs(a.length - b.length) <= 1, 'cooperative-sticky: balanced');
    assert.equal(report.group.state, 'Stable');
    assert.equal(report.group.protocol_type, 'consumer');
    assert.equal(report.group.protocol, strategy, 'the broker chose the assignor both members named');
    assert.deepEqual(report.group.members, [
      { client_id: 'ck-a', assignment: a },
      { client_id: 'ck-b', assignment: b },
    ]);
    // ck-a joined alone and got everything; ck-b's joining then moved partitions away from it.
    const eventsA = report['ck-a'].events as [string, number[]][];
    const eventsB = report['ck-b'].events as [string, number[]][];
    assert.deepEqual(eventsA[0], ['assign', all], 'the first member alone is assigned every partition');
    const revokedA = eventsA.filter(([kind]) => kind === 'revoke').flatMap(([, ps]) => ps);
    if (strategy === 'cooperative-sticky') {
      // Incremental: ck-a gives up exactly what moves to ck-b and keeps the rest throughout.
      assert.deepEqual([...revokedA].sort((x, y) => x - y), b, `ck-a revokes only the partitions that move: ${JSON.stringify(eventsA)}`);
      assert.deepEqual(
        eventsB.filter(([kind]) => kind === 'assign').flatMap(([, ps]) => ps).sort((x, y) => x - y),
        b,
        `ck-b is assigned (incrementally) exactly its partitions: ${JSON.stringify(eventsB)}`,
      );
    } else {
      // Eager: ck-a gives up everything, then is assigned its share.
      assert.deepEqual(eventsA[1], ['revoke', all], `ck-a: eager revoke of everything: ${JSON.stringify(eventsA)}`);
      assert.deepEqual(eventsA.filter(([kind]) => kind === 'assign').at(-1), ['assign', a], `ck-a is then assigned its share: ${JSON.stringify(eventsA)}`);
      assert.deepEqual(eventsB.filter(([kind]) => kind === 'assign').at(-1), ['assign', b], `ck-b: ${JSON.stringify(eventsB)}`);
    }

    const values = new Map(produced.map((p) => [`${p.partition}:${p.offset}`, p.value]));
    for (const name of ['ck-a', 'ck-b']) {
      const member: Report = report[name];
      const assigned = member.assignment as number[];
      const records = member.records as Consumed[];
      for (const r of records) assert.equal(r.value, values.get(`${r.partition}:${r.offset}`), `${name}: value at ${r.partition}:${r.offset}`);
      for (const p of assigned) {
        // Nothing is committed before the end, so the owner reads each of its partitions from 0 (after its last assignment).
        const offsets = records.filter((r) => r.partition === p).map((r) => r.offset);
        const lastStart = offsets.lastIndexOf(0);
        assert.ok(lastStart >= 0, `${name} read partition ${p} from offset 0`);
        assert.deepEqual(offsets.slice(lastStart), Array.from({ length: perPartition }, (_, i) => i), `${name}: partition ${p} read to the end, in order, none skipped`);
      }
      const want = Object.fromEntries(assigned.map((p) => [String(p), perPartition]));
      assert.deepEqual(member.commit, want, `${name}: commit(asynchronous=False) returns the committed offsets`);
      assert.deepEqual(member.commit_errors, []);
      assert.deepEqual(member.committed, want, `${name}: committed() returns them`);
      assert.deepEqual(member.committed_errors, []);
    }
    const unexpected = (report.errors as { name: string }[]).filter((e) => !/_TRANSPORT|_ALL_BROKERS_DOWN/.test(e.name));
    assert.deepEqual(unexpected, [], 'no error callbacks');

    const committed = await groups.inspector.committed(group);
    assert.deepEqual(
      committed.filter((c) => c.topic === topic).map((c) => [c.partition, c.offset]),
      all.map((p) => [p, perPartition]),
      'OffsetFetch: every partition committed at its end',
    );
    // Both consumers closed: the group empties (bounded wait; close sends LeaveGroup).
    await waitUntil(async () => ((await groups.inspector.describe(group)).state === 'Empty' ? true : undefined), 15_000, `${group} to become Empty`);
  });
}
