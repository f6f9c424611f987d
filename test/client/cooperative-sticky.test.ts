/**
 * Cooperative-sticky rebalancing (KIP-429) against Inkwell over TLS, observed through the
 * consumer's onRebalance events: when a third member joins a group of two while records keep
 * arriving, the two revoke only the partitions that move to the newcomer (the ones they keep are
 * never revoked and never re-read), and no record is skipped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Producer, Consumer, Admin, type RebalanceEvent, type TopicPartition } from '../../src/index.js';
import { useClientBroker } from '../helpers/client-broker.js';
import { eventually } from './fake-broker.js';

const target = useClientBroker('h-cl-coop-');
const { track } = target;
const client = target.client;

interface Member {
  readonly name: string;
  readonly consumer: Consumer;
  readonly events: RebalanceEvent[];
  run: Promise<void>;
}

function keys(list: readonly TopicPartition[]): number[] {
  return list.map((tp) => tp.partition).sort((a, b) => a - b);
}

test('cooperative-sticky: a third member joins; the others revoke only the partitions that move, nothing is skipped', async () => {
  const topic = 'coop';
  const groupId = 'coop-group';
  const partitions = 6;
  const admin = track(new Admin(client()));
  await admin.createTopics([{ topic, numPartitions: partitions }]);

  /** partition → offsets read, in the order read, by every member together. */
  const reads = new Map<number, number[]>();
  /** partition → the members that read from it. */
  const readers = new Map<number, Set<string>>();
  const member = (name: string): Member => {
    const events: RebalanceEvent[] = [];
    const consumer = track(
      new Consumer({
        ...client(),
        clientId: name,
        groupId,
        assignors: ['cooperative-sticky'],
        autoOffsetReset: 'earliest',
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        heartbeatIntervalMs: 100,
        autoCommitIntervalMs: 100,
        maxWaitMs: 100,
        onRebalance: (event) => void events.push(event),
      }),
    );
    return { name, consumer, events, run: Promise.resolve() };
  };
  const start = (m: Member) => {
    m.run = m.consumer.run({
      eachBatch: (batch) => {
        const list = reads.get(batch.partition) ?? [];
        for (const record of batch.records) list.push(record.offset);
        reads.set(batch.partition, list);
        const who = readers.get(batch.partition) ?? new Set<string>();
        who.add(m.name);
        readers.set(batch.partition, who);
      },
    });
  };

  const a = member('a');
  const b = member('b');
  await a.consumer.subscribe([topic]);
  start(a);
  await b.consumer.subscribe([topic]);
  start(b);
  await eventually(() => a.consumer.assignment().length === 3 && b.consumer.assignment().length === 3 && a.consumer.groupMetadata()!.generationId === b.consumer.groupMetadata()!.generationId, 30_000, 'three partitions each');
  // From now on records arrive all along, through both rounds of the rebalance.
  const producer = track(new Producer({ ...client(), lingerMs: 5 }));
  let producing = true;
  let produced = 0;
  const production = (async () => {
    while (producing) {
      await Promise.all(Array.from({ length: 30 }, (_, i) => producer.send({ topic, partition: (produced + i) % partitions, value: String(produced + i) })));
      produced += 30;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();

  await eventually(() => produced >= 300, 30_000, 'records flowing');

  const aBefore = keys(a.consumer.assignment());
  const bBefore = keys(b.consumer.assignment());
  const aSeen = a.events.length;
  const bSeen = b.events.length;
  const generation = a.consumer.groupMetadata()!.generationId;

  const c = member('c');
  await c.consumer.subscribe([topic]);
  start(c);
  await eventually(
    () => [a, b, c].every((m) => m.consumer.assignment().length === 2) && c.consumer.groupMetadata()!.generationId === a.consumer.groupMetadata()!.generationId,
    30_000,
    'two partitions each after the third member joined',
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}: ${[a, b, c].map((m) => `${m.name} ${JSON.stringify(keys(m.consumer.assignment()))} gen ${m.consumer.groupMetadata()!.generationId} ${JSON.stringify(m.events.map((e) => [e.type, keys(e.partitions), e.generationId]))}`).join('; ')}`);
  });
  const aAfter = keys(a.consumer.assignment());
  const bAfter = keys(b.consumer.assignment());
  const cAfter = keys(c.consumer.assignment());
  assert.ok(a.consumer.groupMetadata()!.generationId > generation);

  // Sticky: the old members keep two of their three; the newcomer gets one from each.
  assert.ok(aAfter.every((p) => aBefore.includes(p)), `a kept only its own partitions: ${aBefore} → ${aAfter}`);
  assert.ok(bAfter.every((p) => bBefore.includes(p)), `b kept only its own partitions: ${bBefore} → ${bAfter}`);
  const movedFromA = aBefore.filter((p) => !aAfter.includes(p));
  const movedFromB = bBefore.filter((p) => !bAfter.includes(p));
  assert.deepEqual([...movedFromA, ...movedFromB].sort((x, y) => x - y), cAfter);

  // Cooperative: each old member's events since are exactly one revocation of what moved; nothing it keeps is ever revoked.
  for (const [m, moved] of [
    [a, movedFromA],
    [b, movedFromB],
  ] as const) {
    const events = m.events.slice(m === a ? aSeen : bSeen);
    assert.deepEqual(
      events.map((e) => [e.type, keys(e.partitions)]),
      [['revoked', moved]],
      `${m.name} revoked only the partition that moved`,
    );
  }
  assert.deepEqual(
    c.events.map((e) => [e.type, keys(e.partitions)]),
    [['assigned', cAfter]],
  );

  // Let records flow a little longer, then stop and read to the end.
  const producedAtRebalance = produced;
  await eventually(() => produced >= producedAtRebalance + 300, 30_000, 'more records after the rebalance');
  producing = false;
  await production;
  const ends = await a.consumer.endOffsets(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  const total = ends.reduce((sum, e) => sum + e.offset, 0);
  assert.equal(total, produced);
  await eventually(
    () => ends.every((e) => new Set(reads.get(e.partition) ?? []).size === e.offset),
    30_000,
    'every record read',
  );
  for (const { partition, offset: end } of ends) {
    const offsets = reads.get(partition)!;
    const distinct = [...new Set(offsets)].sort((x, y) => x - y);
    assert.deepEqual(distinct, [...Array(end).keys()], `partition ${partition}: no record skipped`);
    if (!cAfter.includes(partition)) {
      // Never revoked: read once, in order, by one member.
      assert.deepEqual(offsets, [...Array(end).keys()], `partition ${partition} (kept) was read exactly once, in order`);
      assert.equal(readers.get(partition)!.size, 1);
    }
  }

  for (const m of [a, b, c]) await m.consumer.close();
  await Promise.all([a.run, b.run, c.run]);
  await producer.close();
  await admin.close();
});
