/**
 * Static membership (groupInstanceId, KIP-345) against Inkwell over TLS: a static consumer that
 * closes does not leave, and started again with the same instance id it takes its partitions
 * back without a rebalance (the other member keeps its generation and assignment) and goes on
 * from the committed offsets; close({ leaveGroup: true }) does leave; a second live consumer
 * with the same instance id fences the first, which fails with FENCED_INSTANCE_ID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer, Consumer, Admin, KafkaError, type ConsumerOptions, type RebalanceEvent, type TopicPartition } from '../../src/index.js';
import { useClientBroker } from '../helpers/client-broker.js';
import { eventually } from './fake-broker.js';

const target = useClientBroker('h-cl-static-');
const { track } = target;
const client = target.client;

function sorted(list: readonly TopicPartition[]): string[] {
  return list.map((tp) => `${tp.topic}:${tp.partition}`).sort();
}

interface Reader {
  readonly consumer: Consumer;
  readonly events: RebalanceEvent[];
  /** partition → offsets read, in order. */
  readonly offsets: Map<number, number[]>;
  run: Promise<void>;
}

function staticMember(groupId: string, instance: string | undefined, extra: Partial<ConsumerOptions> = {}): Reader {
  const events: RebalanceEvent[] = [];
  const offsets = new Map<number, number[]>();
  const consumer = track(
    new Consumer({
      ...client(),
      groupId,
      ...(instance !== undefined ? { groupInstanceId: instance } : {}),
      autoOffsetReset: 'earliest',
      sessionTimeoutMs: 30_000,
      rebalanceTimeoutMs: 20_000,
      heartbeatIntervalMs: 200,
      autoCommitIntervalMs: 200,
      maxWaitMs: 100,
      onRebalance: (event) => void events.push(event),
      ...extra,
    }),
  );
  return { consumer, events, offsets, run: Promise.resolve() };
}

function startReading(reader: Reader): void {
  reader.run = reader.consumer.run({
    eachBatch: (batch) => {
      const list = reader.offsets.get(batch.partition) ?? [];
      for (const record of batch.records) list.push(record.offset);
      reader.offsets.set(batch.partition, list);
    },
  });
}

function count(reader: Reader): number {
  let total = 0;
  for (const list of reader.offsets.values()) total += list.length;
  return total;
}

test('a static member restarts within the session timeout: no rebalance, same assignment, continues from the committed offsets', async () => {
  const topic = 'static-restart';
  const groupId = 'static-group';
  const admin = track(new Admin(client()));
  await admin.createTopics([{ topic, numPartitions: 4 }]);
  const producer = track(new Producer(client()));
  const a = staticMember(groupId, 'member-a');
  const b = staticMember(groupId, 'member-b');
  await a.consumer.subscribe([topic]);
  startReading(a);
  await b.consumer.subscribe([topic]);
  startReading(b);
  const stable = () => {
    const ma = a.consumer.groupMetadata()!;
    const mb = b.consumer.groupMetadata()!;
    return a.consumer.assignment().length === 2 && b.consumer.assignment().length === 2 && ma.generationId === mb.generationId && ma.generationId > 0;
  };
  await eventually(stable, 30_000, 'two partitions each, one generation');
  await Promise.all(Array.from({ length: 200 }, (_, i) => producer.send({ topic, partition: i % 4, value: `first-${i}` })));
  await eventually(() => count(a) + count(b) === 200, 30_000, 'the first 200 records read');

  const generation = b.consumer.groupMetadata()!.generationId;
  const bAssignment = sorted(b.consumer.assignment());
  const aAssignment = sorted(a.consumer.assignment());
  const bEvents = b.events.length;
  const aPartitions = a.consumer.assignment().map((tp) => tp.partition);
  const positions = new Map(aPartitions.map((p) => [p, a.consumer.position(topic, p)]));
  assert.deepEqual([...positions.values()], [50, 50], 'member a read its two partitions to the end');

  // Close without leaving: the auto commit stores the positions, and the member stays in the group.
  await a.consumer.close();
  await a.run;
  const committed = await admin.fetchOffsets(groupId, [topic]);
  for (const p of aPartitions) assert.equal(committed.find((c) => c.partition === p)?.offset, positions.get(p), `committed offset of partition ${p}`);
  const [whileAway] = await admin.describeGroups([groupId]);
  assert.equal(whileAway!.state, 'Stable');
  assert.deepEqual(whileAway!.members.map((m) => m.groupInstanceId).sort(), ['member-a', 'member-b'], 'the closed static member did not leave');

  // Records produced while a is away: b keeps reading its own partitions.
  const bRead = count(b);
  await Promise.all(Array.from({ length: 100 }, (_, i) => producer.send({ topic, partition: i % 4, value: `second-${i}` })));
  await eventually(() => count(b) === bRead + 50, 30_000, 'b reads its share of the new records');

  const again = staticMember(groupId, 'member-a');
  await again.consumer.subscribe([topic]);
  assert.deepEqual(sorted(again.consumer.assignment()), aAssignment, 'the same partitions as before the restart');
  assert.equal(again.consumer.groupMetadata()!.generationId, generation, 'the restarted member joined the current generation');
  startReading(again);
  await eventually(() => count(again) === 50, 30_000, 'the restarted member reads what was produced while it was away');
  for (const p of aPartitions) {
    assert.deepEqual(
      again.offsets.get(p),
      Array.from({ length: 25 }, (_, i) => positions.get(p)! + i),
      `partition ${p} continues at the committed offset, with nothing skipped or repeated`,
    );
  }
  // Let b heartbeat a few more times: a rebalance would show up in its generation or events.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(b.consumer.groupMetadata()!.generationId, generation, 'the other member saw no rebalance');
  assert.deepEqual(sorted(b.consumer.assignment()), bAssignment, 'the other member kept its partitions');
  assert.equal(b.events.length, bEvents, 'the other member got no rebalance callbacks');
  assert.deepEqual(
    again.events.map((e) => [e.type, sorted(e.partitions)]),
    [['assigned', aAssignment]],
  );
  const [settled] = await admin.describeGroups([groupId]);
  assert.equal(settled!.members.length, 2);

  // close({ leaveGroup: true }) does leave (LeaveGroup v3+ with the instance id): b takes everything.
  await again.consumer.close({ leaveGroup: true });
  await again.run;
  // Well within the 30 s session timeout: the LeaveGroup, not the session expiry, ended the membership.
  await eventually(() => b.consumer.assignment().length === 4, 15_000, 'b owns all four partitions after the static member left');
  assert.ok(b.consumer.groupMetadata()!.generationId > generation);
  await b.consumer.close();
  await b.run;
  await producer.close();
  await admin.close();
});

test('a second live consumer with the same instance id fences the first: FENCED_INSTANCE_ID, fatal', async () => {
  const topic = 'static-fenced';
  const groupId = 'fenced-group';
  const admin = track(new Admin(client()));
  await admin.createTopics([{ topic, numPartitions: 2 }]);
  await admin.close();
  const first = staticMember(groupId, 'twin');
  await first.consumer.subscribe([topic]);
  startReading(first);
  const outcome = first.run.then(
    () => null,
    (error: unknown) => error,
  );
  const second = staticMember(groupId, 'twin');
  await second.consumer.subscribe([topic]);
  assert.equal(second.consumer.assignment().length, 2, 'the newcomer took the instance over with its partitions');
  let timer: NodeJS.Timeout | undefined;
  const error = await Promise.race([outcome, new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), 30_000)))]);
  clearTimeout(timer);
  assert.ok(error instanceof KafkaError, `run() failed with a KafkaError, got ${String(error)}`);
  assert.equal(error.errorName, 'FENCED_INSTANCE_ID');
  assert.equal(error.retriable, false);
  assert.deepEqual(first.consumer.assignment(), [], 'the fenced member lost its partitions');
  assert.ok(first.events.some((e) => e.type === 'lost'));
  await assert.rejects(first.consumer.commit([{ topic, partition: 0, offset: 0 }]), (e: unknown) => e instanceof KafkaError && e.errorName === 'FENCED_INSTANCE_ID');
  await first.consumer.close();
  await second.consumer.close({ leaveGroup: true });
});

test('groupInstanceId needs a groupId and a valid name', () => {
  assert.throws(() => new Consumer({ ...client(), groupInstanceId: 'x' }), RangeError);
  assert.throws(() => new Consumer({ ...client(), groupId: 'g', groupInstanceId: '' }), RangeError);
  assert.throws(() => new Consumer({ ...client(), groupId: 'g', groupInstanceId: 'a b' }), RangeError);
});
