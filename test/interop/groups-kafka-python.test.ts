/**
 * Consumer groups with kafka-python 2.0.2 (Debian's python3-kafka, under /usr/bin/python3) over
 * TLS, verifying our CA: a KafkaConsumer with a group_id subscribes, consumes some records, commits
 * and closes; a new one in the same group resumes exactly at the committed offsets (nothing read
 * again, nothing skipped), reads to the end and commits; after more records are produced a third
 * reads exactly those. What each consumer committed is checked with committed() and with our own
 * OffsetFetch. The consumers run test/interop/python/groups_kafka_python.py, which reports what it
 * saw as JSON.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createTopic, requireTool, systemPython, type Report } from '../helpers/interop.js';
import { kafkaPython, kafkaPythonGroupConsume, produceRecords, useGroupBroker, type ProducedRecord } from '../helpers/groups-interop.js';

const groups = useGroupBroker();

interface Consumed {
  partition: number;
  offset: number;
  value: string;
}

function consume(t: TestContext, topic: string, group: string, count: number): Promise<Report> {
  return kafkaPythonGroupConsume(t, groups.target.material, groups.target.bootstrap, topic, group, count);
}

/** Per partition, the offsets the consumer read, in the order read. */
function offsetsByPartition(records: Consumed[], partitions: number): number[][] {
  const out = Array.from({ length: partitions }, () => [] as number[]);
  for (const r of records) out[r.partition]!.push(r.offset);
  return out;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/** The group's committed offsets of `topic` by partition, as OffsetFetch gives them (absent: none). */
async function fetched(group: string, topic: string): Promise<Record<string, number>> {
  const offsets = await groups.inspector.committed(group);
  return Object.fromEntries(offsets.filter((o) => o.topic === topic && o.offset >= 0).map((o) => [String(o.partition), o.offset]));
}

function checkValues(records: Consumed[], produced: ProducedRecord[]): void {
  const at = new Map(produced.map((p) => [`${p.partition}:${p.offset}`, p.value]));
  for (const r of records) assert.equal(r.value, at.get(`${r.partition}:${r.offset}`), `value at ${r.partition}:${r.offset}`);
}

test('KafkaConsumer with group_id: consume some, commit, close; a new consumer resumes exactly at the committed offsets', async (t) => {
  if (!(await requireTool(t, systemPython, ['-c', 'import kafka'], kafkaPython.what))) return;
  const topic = 'gkp-three';
  const group = 'gkp-group';
  const partitions = 3;
  await createTopic(groups.target.port, groups.target.material.ca, topic, partitions);
  const produced = await produceRecords(groups.target.material, groups.target.bootstrap, topic, partitions, 30, 'kp');
  for (let p = 0; p < partitions; p++) {
    assert.deepEqual(produced.filter((r) => r.partition === p).map((r) => r.offset), range(0, 30), `partition ${p} offsets`);
  }

  // 1: consume 40 of the 90 records, commit, close.
  const first = await consume(t, topic, group, 40);
  const firstRecords = first.records as Consumed[];
  assert.equal(firstRecords.length, 40, 'exactly 40 records returned');
  assert.deepEqual(first.assignment, [0, 1, 2], 'the only member is assigned every partition');
  checkValues(firstRecords, produced);
  const firstOffsets = offsetsByPartition(firstRecords, partitions);
  const resumeAt: Record<string, number> = {};
  for (let p = 0; p < partitions; p++) {
    const read = firstOffsets[p]!;
    assert.deepEqual(read, range(0, read.length), `partition ${p}: read from offset 0 in order, none skipped`);
    resumeAt[String(p)] = read.length;
  }
  t.diagnostic(`first consumer committed ${JSON.stringify(first.committed)} (positions ${JSON.stringify(first.positions)})`);
  assert.deepEqual(first.positions, resumeAt, 'positions: one past the last record read from each partition');
  assert.deepEqual(first.committed, resumeAt, 'committed() returns the positions just committed');
  // kafka-python commits every assigned partition that has a position, so a partition it read nothing from may be committed at 0.
  const fetchedFirst = await fetched(group, topic);
  for (const [p, offset] of Object.entries(fetchedFirst)) assert.equal(offset, resumeAt[p], `OffsetFetch partition ${p}`);
  for (const [p, offset] of Object.entries(resumeAt)) if (offset > 0) assert.equal(fetchedFirst[p], offset, `OffsetFetch partition ${p}`);

  // 2: a new consumer in the group resumes at the committed offsets and reads to the end.
  const second = await consume(t, topic, group, -1);
  const secondRecords = second.records as Consumed[];
  checkValues(secondRecords, produced);
  const secondOffsets = offsetsByPartition(secondRecords, partitions);
  for (let p = 0; p < partitions; p++) {
    assert.deepEqual(secondOffsets[p], range(resumeAt[String(p)]!, 30), `partition ${p}: resumes at the committed offset ${resumeAt[String(p)]} and reads to the end`);
  }
  assert.equal(secondRecords.length, 90 - 40, 'the rest of the records, each once');
  assert.deepEqual(second.committed, { 0: 30, 1: 30, 2: 30 });
  assert.deepEqual(await fetched(group, topic), { 0: 30, 1: 30, 2: 30 });

  // 3: after more records, a third consumer reads exactly those.
  const more = await produceRecords(groups.target.material, groups.target.bootstrap, topic, partitions, 5, 'kp-more');
  const third = await consume(t, topic, group, -1);
  const thirdRecords = third.records as Consumed[];
  checkValues(thirdRecords, more);
  const thirdOffsets = offsetsByPartition(thirdRecords, partitions);
  for (let p = 0; p < partitions; p++) assert.deepEqual(thirdOffsets[p], range(30, 35), `partition ${p}: only the new records`);
  assert.deepEqual(third.committed, { 0: 35, 1: 35, 2: 35 });
  assert.deepEqual(await fetched(group, topic), { 0: 35, 1: 35, 2: 35 });

  // The group is left empty: each consumer left it on close.
  const description = await groups.inspector.describe(group);
  assert.equal(description.state, 'Empty', `group state after the last close: ${description.state}`);
  assert.equal(description.members.length, 0);
});
