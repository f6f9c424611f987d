/**
 * A group member that crashes: our Consumer in a child process is killed with SIGKILL (no
 * LeaveGroup, no last commit). The broker keeps it until its session times out; then the
 * surviving member, our Consumer in this process, is given its partitions and starts from what the
 * dead member committed. Every record produced before, during and after is read at least once by
 * one of the two, and none is skipped.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Producer, Consumer, Admin, type Broker } from '../../src/index.js';
import { useTlsBroker, type TlsBroker } from '../helpers/shared-broker.js';
import { eventually } from './fake-broker.js';

let fixture: TlsBroker;
let broker: Broker;
useTlsBroker((started) => ({ broker } = fixture = started));

const sessionTimeoutMs = 6000;
const partitions = 4;
const child = fileURLToPath(new URL('./crash-member-child.js', import.meta.url));

const closers: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
});

function client() {
  return { bootstrap: broker.bootstrap('SSL'), tls: { ca: fixture.material.ca }, connectTimeoutMs: 10_000 };
}

test('a member killed with SIGKILL is removed after its session timeout; the survivor takes over with nothing skipped', async () => {
  const topic = 'crash-member';
  const groupId = 'crash-group';
  await fixture.createTopic(topic, partitions);
  const seen = new Set<string>();

  const producer = new Producer({ ...client(), lingerMs: 1 });
  closers.push(() => producer.close());
  const produced: string[] = [];
  const produce = async (count: number) => {
    const sent = await Promise.all(Array.from({ length: count }, (_, i) => producer.send({ topic, key: `k${produced.length + i}`, value: 'v' })));
    for (const metadata of sent) produced.push(`${metadata.partition}:${metadata.offset}`);
  };
  await produce(200);

  // The member that will crash: a child process printing what it reads.
  const member: ChildProcess = spawn(process.execPath, [child, broker.bootstrap('SSL'), fixture.material.paths.ca, topic, groupId], { stdio: ['ignore', 'pipe', 'pipe'] });
  closers.push(() => void member.kill('SIGKILL'));
  const childAssignment = new Set<number>();
  let childStderr = '';
  member.stderr!.on('data', (chunk: Buffer) => (childStderr += chunk.toString()));
  createInterface({ input: member.stdout! }).on('line', (line) => {
    const event = JSON.parse(line) as { assigned?: number[]; revoked?: number[]; lost?: number[]; read?: [number, number] };
    for (const partition of event.assigned ?? []) childAssignment.add(partition);
    for (const partition of [...(event.revoked ?? []), ...(event.lost ?? [])]) childAssignment.delete(partition);
    if (event.read) seen.add(`${event.read[0]}:${event.read[1]}`);
  });
  await eventually(() => childAssignment.size === partitions, 20_000, `the child member owns all partitions (stderr: ${childStderr})`);

  // The survivor joins; the two split the partitions.
  const survivor = new Consumer({ ...client(), groupId, autoOffsetReset: 'earliest', sessionTimeoutMs, heartbeatIntervalMs: 500, rebalanceTimeoutMs: 10_000, autoCommitIntervalMs: 100, maxWaitMs: 100 });
  closers.push(() => survivor.close());
  await survivor.subscribe([topic]);
  const running = survivor.run({ eachBatch: (batch) => void batch.records.forEach((r) => seen.add(`${r.partition}:${r.offset}`)) });
  await eventually(() => survivor.assignment().length === 2 && childAssignment.size === 2, 20_000, 'two partitions each');
  await produce(200);
  await eventually(() => produced.every((key) => seen.has(key)), 20_000, 'everything so far read by one of the two');

  // Crash: SIGKILL, then records keep arriving on every partition.
  const killedAt = performance.now();
  member.kill('SIGKILL');
  await produce(200);
  const admin = new Admin(client());
  closers.push(() => admin.close());
  const [right] = await admin.describeGroups([groupId]);
  assert.equal(right!.members.length, 2, 'just after the kill the dead member is still in the group');
  await eventually(() => survivor.assignment().length === partitions, sessionTimeoutMs + 20_000, 'the survivor owns every partition');
  const tookMs = performance.now() - killedAt;
  assert.ok(tookMs < sessionTimeoutMs + 15_000, `taken over ${tookMs.toFixed(0)} ms after the kill`);
  await produce(200);
  await eventually(() => produced.every((key) => seen.has(key)), 20_000, `every produced record read (missing ${produced.filter((key) => !seen.has(key)).slice(0, 5).join(', ')})`);
  const [after] = await admin.describeGroups([groupId]);
  assert.equal(after!.members.length, 1, 'only the survivor is left');
  assert.equal(after!.state, 'Stable');

  await survivor.commit();
  await survivor.close();
  await running;
  const committed = await admin.fetchOffsets(groupId, [topic]);
  assert.equal(committed.reduce((sum, c) => sum + c.offset, 0), produced.length, 'committed offsets are the end of every partition');
});
