/**
 * How long a consumer group takes to become stable, against an `inkwell serve` child process over
 * TLS: from a member joining until every member has received its SyncGroup assignment in the new
 * generation (the generation that counts every member).
 *
 *   npm run build && node dist/bench/group-join.js [--members 3,30] [--repetitions 5]
 *       [--heartbeat-ms 100] [--storage disk|memory] [--initial-delay-ms N] [--partitions 60]
 *       [--timeout-ms 60000]
 *
 * Two cases per group size N, each repetition on a fresh group of the same broker:
 *   form  N members start at once on an empty group (connections already open), until all N are
 *         stable in one generation;
 *   join  one more member joins the stable N-member group, until all N+1 are stable again. The
 *         N members learn of the rebalance from their next heartbeat, so this includes up to one
 *         heartbeat interval: that is the classic protocol, not the broker. The new member joins
 *         at a random point, 2 to 3 heartbeat intervals after the group became stable.
 * Members are small raw-protocol loops (bench/wire), one TLS connection each, all in this process:
 * JoinGroup v7 (answering MEMBER_ID_REQUIRED with a second join, as clients do), the leader
 * assigns the topic's partitions round robin, SyncGroup v5, then Heartbeat v4 every --heartbeat-ms
 * and rejoin on REBALANCE_IN_PROGRESS. One untimed warm-up repetition (3 members) comes first.
 * Prints min/median/max per case, how many generations it took, the broker's
 * group.initial.rebalance.delay.ms (read back with DescribeConfigs) and the exact command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCertificates } from '../src/cli/certs.js';
import { errorName } from '../src/protocol/errors.js';
import { Writer } from '../src/protocol/writer.js';
import type { Message } from '../src/protocol/codec.js';
import { WireConnection, type Endpoint } from './wire/connection.js';
import { spread, type Spread } from './stats.js';

interface Settings {
  members: number[];
  repetitions: number;
  heartbeatMs: number;
  storage: 'disk' | 'memory';
  initialDelayMs: number | null;
  partitions: number;
  timeoutMs: number;
}

const sessionTimeoutMs = 10_000;
const rebalanceTimeoutMs = 30_000;
const topic = 'group-join-bench';
const protocolName = 'roundrobin';
const versions = { JoinGroup: 7, SyncGroup: 5, Heartbeat: 4, LeaveGroup: 4 } as const;

function usage(problem: string): never {
  console.error(`${problem}\nusage: node dist/bench/group-join.js [--members 3,30] [--repetitions 5] [--heartbeat-ms 100] [--storage disk|memory] [--initial-delay-ms N] [--partitions 60] [--timeout-ms 60000]`);
  process.exit(2);
}

function positive(flag: string, text: string, allowZero = false): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) usage(`${flag} needs a ${allowZero ? 'non-negative' : 'positive'} integer, got ${text}`);
  return value;
}

function parse(argv: string[]): Settings {
  const settings: Settings = { members: [3, 30], repetitions: 5, heartbeatMs: 100, storage: 'disk', initialDelayMs: null, partitions: 60, timeoutMs: 60_000 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[++i];
    if (value === undefined) usage(`${flag} needs a value`);
    if (flag === '--members') settings.members = value.split(',').map((v) => positive(flag, v));
    else if (flag === '--repetitions') settings.repetitions = positive(flag, value);
    else if (flag === '--heartbeat-ms') settings.heartbeatMs = positive(flag, value);
    else if (flag === '--initial-delay-ms') settings.initialDelayMs = positive(flag, value, true);
    else if (flag === '--partitions') settings.partitions = positive(flag, value);
    else if (flag === '--timeout-ms') settings.timeoutMs = positive(flag, value);
    else if (flag === '--storage') {
      if (value !== 'disk' && value !== 'memory') usage(`--storage is disk or memory, got ${value}`);
      settings.storage = value;
    } else usage(`unknown flag ${flag}`);
  }
  return settings;
}

// --- The broker -------------------------------------------------------------------------------

interface Server {
  readonly child: ChildProcess;
  readonly endpoint: Endpoint;
  /** The broker's last stderr lines, shown when something fails. */
  readonly stderr: string[];
}

async function startServer(settings: Settings, dir: string, ca: Buffer): Promise<Server> {
  const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  const args = [main, 'serve', '--listeners', 'SSL://127.0.0.1:0', '--data-dir', join(dir, 'data'), '--storage', settings.storage];
  args.push('--tls-cert', join(dir, 'server-cert.pem'), '--tls-key', join(dir, 'server-key.pem'), '--tls-ca', join(dir, 'ca-cert.pem'));
  if (settings.initialDelayMs !== null) args.push('--set', `group.initial.rebalance.delay.ms=${settings.initialDelayMs}`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr.push(...chunk.toString().split('\n').filter((l) => l.length > 0));
    if (stderr.length > 20) stderr.splice(0, stderr.length - 20);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const address = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening SSL:\/\/(\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`inkwell serve exited with ${code}: ${stderr.join('\n')}`)));
      timer = setTimeout(() => reject(new Error(`inkwell serve did not listen within 30 s: ${stderr.join('\n')}`)), 30_000);
    });
    const at = address.lastIndexOf(':');
    return { child, endpoint: { host: address.slice(0, at), port: Number(address.slice(at + 1)), ca }, stderr };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function stopServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function check(response: Message, what: string, field = 'errorCode'): void {
  const code = response[field] as number;
  if (code !== 0) throw new Error(`${what}: ${errorName(code) ?? 'error'} (${code})`);
}

/** Creates the topic the members subscribe to, and reads back group.initial.rebalance.delay.ms. */
async function prepare(endpoint: Endpoint, settings: Settings): Promise<string> {
  const connection = await WireConnection.open(endpoint);
  try {
    const created = await connection.request('CreateTopics', 4, {
      topics: [{ name: topic, numPartitions: settings.partitions, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    check((created.topics as Message[])[0]!, `creating ${topic}`);
    const described = await connection.request('DescribeConfigs', 2, {
      resources: [{ resourceType: 4, resourceName: '', configurationKeys: ['group.initial.rebalance.delay.ms'] }],
      includeSynonyms: false,
    });
    const result = (described.results as { errorCode: number; configs: { name: string; value: string | null }[] }[])[0]!;
    check(result, 'DescribeConfigs');
    return result.configs.find((c) => c.name === 'group.initial.rebalance.delay.ms')?.value ?? '?';
  } finally {
    connection.close();
  }
}

// --- Consumer protocol bytes ------------------------------------------------------------------

/** ConsumerProtocolSubscription v0: the topic, no user data. */
const subscription = new Writer().int16(0).int32(1).string(topic).nullableBytes(null).toBuffer();

/** ConsumerProtocolAssignment v0 for one member. */
function assignmentBytes(partitions: number[]): Buffer {
  const writer = new Writer().int16(0).int32(1).string(topic).int32(partitions.length);
  for (const p of partitions) writer.int32(p);
  return writer.nullableBytes(null).toBuffer();
}

/** The leader's work: the topic's partitions round robin over the members, in member id order. */
function assign(memberIds: string[], partitions: number): { memberId: string; assignment: Buffer }[] {
  const sorted = [...memberIds].sort();
  const owned = sorted.map(() => [] as number[]);
  for (let p = 0; p < partitions; p++) owned[p % sorted.length]!.push(p);
  return sorted.map((memberId, i) => ({ memberId, assignment: assignmentBytes(owned[i]!) }));
}

// --- Members ----------------------------------------------------------------------------------

/** Knows every member's last synced generation and how many members each generation had. */
class Tracker {
  readonly generationSize = new Map<number, number>();
  private waiter: (() => void) | null = null;

  changed(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  /** Resolves with the time (performance.now) at which `members` were all synced in one generation that has exactly them; rejects after `timeoutMs`. */
  async stable(members: Member[], timeoutMs: number, what: string): Promise<{ at: number; generation: number }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const generation = members[0]!.syncedGeneration;
      if (generation > 0 && members.every((m) => m.syncedGeneration === generation) && this.generationSize.get(generation) === members.length) {
        return { at: Math.max(...members.map((m) => m.syncedAt)), generation };
      }
      const failed = members.find((m) => m.failure !== null);
      if (failed) throw new Error(`${what}: member ${failed.index} failed: ${failed.failure!.message}`);
      const left = deadline - performance.now();
      if (left <= 0) {
        const generations = members.map((m) => m.syncedGeneration).join(',');
        throw new Error(`${what}: not stable within ${timeoutMs} ms (synced generations ${generations}; sizes ${JSON.stringify([...this.generationSize])})`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}

class Member {
  memberId = '';
  generation = -1;
  syncedGeneration = -1;
  syncedAt = 0;
  failure: Error | null = null;
  private running = false;
  private needJoin = true;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    readonly index: number,
    private readonly connection: WireConnection,
    private readonly groupId: string,
    private readonly tracker: Tracker,
    private readonly settings: Settings,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run().catch((error: unknown) => {
      this.failure = error instanceof Error ? error : new Error(String(error));
      this.tracker.changed();
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.needJoin) {
        await this.joinAndSync();
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, this.settings.heartbeatMs));
      if (!this.running) break;
      const response = await this.connection.request('Heartbeat', versions.Heartbeat, { groupId: this.groupId, generationId: this.generation, memberId: this.memberId, groupInstanceId: null });
      const error = errorName(response.errorCode as number);
      if (error === 'NONE') continue;
      if (error === 'REBALANCE_IN_PROGRESS' || error === 'ILLEGAL_GENERATION') this.needJoin = true;
      else if (error === 'UNKNOWN_MEMBER_ID') {
        this.memberId = '';
        this.needJoin = true;
      } else check(response, 'Heartbeat');
    }
  }

  private async joinAndSync(): Promise<void> {
    const join = await this.connection.request('JoinGroup', versions.JoinGroup, {
      groupId: this.groupId,
      sessionTimeoutMs,
      rebalanceTimeoutMs,
      memberId: this.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: protocolName, metadata: subscription }],
    });
    const joinError = errorName(join.errorCode as number);
    if (joinError === 'MEMBER_ID_REQUIRED') {
      this.memberId = join.memberId as string;
      return;
    }
    if (joinError === 'UNKNOWN_MEMBER_ID') {
      this.memberId = '';
      return;
    }
    if (joinError === 'REBALANCE_IN_PROGRESS') return;
    check(join, 'JoinGroup');
    this.memberId = join.memberId as string;
    this.generation = join.generationId as number;
    const leader = join.leader === this.memberId;
    let assignments: { memberId: string; assignment: Buffer }[] = [];
    if (leader) {
      const memberIds = (join.members as { memberId: string }[]).map((m) => m.memberId);
      this.tracker.generationSize.set(this.generation, memberIds.length);
      assignments = assign(memberIds, this.settings.partitions);
    }
    const sync = await this.connection.request('SyncGroup', versions.SyncGroup, {
      groupId: this.groupId,
      generationId: this.generation,
      memberId: this.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName,
      assignments,
    });
    const syncError = errorName(sync.errorCode as number);
    if (syncError === 'REBALANCE_IN_PROGRESS' || syncError === 'ILLEGAL_GENERATION') return;
    if (syncError === 'UNKNOWN_MEMBER_ID') {
      this.memberId = '';
      return;
    }
    check(sync, 'SyncGroup');
    if ((sync.assignment as Buffer).length === 0) throw new Error(`member ${this.index} got an empty assignment in generation ${this.generation}`);
    this.needJoin = false;
    this.syncedGeneration = this.generation;
    this.syncedAt = performance.now();
    this.tracker.changed();
  }

  /** Stops the loop (after its current request) and leaves the group. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    if (this.memberId !== '' && this.failure === null) {
      await this.connection.request('LeaveGroup', versions.LeaveGroup, { groupId: this.groupId, members: [{ memberId: this.memberId, groupInstanceId: null }] }).catch(() => {});
    }
    this.connection.close();
  }

  close(): void {
    this.running = false;
    this.connection.close();
  }
}

interface Sample {
  formMs: number;
  formGenerations: number;
  joinMs: number;
  joinGenerations: number;
}

/** One repetition: N members form a fresh group, then one more joins it. */
async function repetition(endpoint: Endpoint, settings: Settings, size: number, groupId: string): Promise<Sample> {
  const tracker = new Tracker();
  const connections = await Promise.all(Array.from({ length: size + 1 }, () => WireConnection.open(endpoint)));
  const members = connections.map((connection, index) => new Member(index, connection, groupId, tracker, settings));
  const first = members.slice(0, size);
  const extra = members[size]!;
  try {
    const formStart = performance.now();
    for (const member of first) member.start();
    const formed = await tracker.stable(first, settings.timeoutMs, `${size} members forming ${groupId}`);
    // Let every member settle into its heartbeat rhythm, then join at a random point of it (the
    // members synced together, so their heartbeats are in phase with the end of the rebalance).
    await new Promise((resolve) => setTimeout(resolve, (2 + Math.random()) * settings.heartbeatMs));
    const joinStart = performance.now();
    extra.start();
    const joined = await tracker.stable(members, settings.timeoutMs, `member ${size + 1} joining ${groupId}`);
    return { formMs: formed.at - formStart, formGenerations: formed.generation, joinMs: joined.at - joinStart, joinGenerations: joined.generation - formed.generation };
  } finally {
    // Bounded: a loop blocked in a held JoinGroup is cut off by closing its connection.
    const stopped = Promise.all(members.map((m) => m.stop()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stopped, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
    clearTimeout(timer);
    for (const member of members) member.close();
  }
}

function ms(value: number): string {
  return value.toFixed(1);
}

function row(size: number, label: string, times: Spread, generations: Spread): string {
  return `${String(size).padStart(7)}  ${label.padEnd(34)} ${ms(times.min).padStart(9)} ${ms(times.median).padStart(10)} ${ms(times.max).padStart(9)}  ${String(generations.median).padStart(11)}`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const settings = parse(argv);
  const command = ['node', relative(process.cwd(), fileURLToPath(import.meta.url)) || 'group-join.js', ...argv].join(' ');
  const dir = mkdtempSync(join(tmpdir(), 'inkwell-group-join-'));
  let server: Server | null = null;
  try {
    await generateCertificates({ out: dir, hosts: ['localhost', '127.0.0.1'], days: 1 });
    server = await startServer(settings, dir, readFileSync(join(dir, 'ca-cert.pem')));
    const initialDelay = await prepare(server.endpoint, settings);
    const defaulted = settings.initialDelayMs === null ? ' (the broker default)' : '';
    await repetition(server.endpoint, settings, 3, 'group-join-warmup');
    const lines: string[] = [];
    for (const size of settings.members) {
      const samples: Sample[] = [];
      for (let r = 1; r <= settings.repetitions; r++) {
        samples.push(await repetition(server.endpoint, settings, size, `group-join-${size}-${r}`));
        process.stderr.write(`${size} members: repetition ${r} of ${settings.repetitions} done\n`);
      }
      lines.push(row(size, `form: ${size} from empty`, spread(samples.map((s) => s.formMs))!, spread(samples.map((s) => s.formGenerations))!));
      lines.push(row(size, `join: member ${size + 1} into stable ${size}`, spread(samples.map((s) => s.joinMs))!, spread(samples.map((s) => s.joinGenerations))!));
    }
    console.log(`group join: time until every member has its SyncGroup assignment in the generation with all of them`);
    console.log(`broker: inkwell serve (child process), TLS, ${settings.storage} storage, group.initial.rebalance.delay.ms=${initialDelay}${defaulted}`);
    console.log(
      `members: raw protocol, one TLS connection each, JoinGroup v${versions.JoinGroup}/SyncGroup v${versions.SyncGroup}, heartbeat every ${settings.heartbeatMs} ms, ` +
        `session timeout ${sessionTimeoutMs} ms, rebalance timeout ${rebalanceTimeoutMs} ms, ${settings.partitions} partitions assigned round robin`,
    );
    console.log(`${settings.repetitions} repetition(s) per size, a fresh group each, after one warm-up; "join" starts at a random point of the heartbeat interval and includes the stable members' wait for their next heartbeat`);
    console.log(`command: ${command}`);
    console.log('');
    console.log('members  case                                  min ms  median ms    max ms  generations');
    for (const line of lines) console.log(line);
  } finally {
    if (server) await stopServer(server);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
