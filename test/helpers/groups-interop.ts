/**
 * Shared set-up for the consumer-group interop tests (test/interop/groups-*.test.ts): a TLS
 * broker with group settings, long-running client processes (kcat -G, python consumers) whose
 * output is read line by line and which are always killed, bounded polling, the group's state
 * as DescribeGroups and OffsetFetch give it, and a producer that keeps producing in the
 * background.
 */
import { before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startBroker, type Broker } from '../../src/index.js';
import { Admin, Producer, type CommittedOffset, type GroupDescription, type RecordMetadata } from '../../src/client/index.js';
import { testTls, type TestTls } from './tls.js';
import { withTimeout } from './raw-client.js';
import { pythonReport, pythonScript, type Report } from './interop.js';

/** Session timeout the tests' consumers ask for: the broker's default minimum (group.min.session.timeout.ms). */
export const sessionTimeoutMs = 6000;
/** Heartbeat interval the tests' consumers use: well under a third of the session timeout. */
export const heartbeatIntervalMs = 1000;

export interface GroupBroker {
  broker: Broker;
  material: TestTls;
  port: number;
  bootstrap: string;
}

/** Broker settings of every test broker: a session timeout as short as the tests' consumers ask for is allowed. */
export const groupBrokerConfig = { 'group.min.session.timeout.ms': sessionTimeoutMs };

/** An in-process broker with one SSL listener on 127.0.0.1 (port from the OS), in memory unless dataDir is given. */
export async function startGroupBroker(config: Record<string, string | number | boolean> = {}, dataDir?: string): Promise<GroupBroker> {
  const material = await testTls();
  const broker = await startBroker({
    listeners: 'SSL://127.0.0.1:0',
    ...(dataDir ? { dataDir, storage: 'disk' as const } : { storage: 'memory' as const }),
    tls: material,
    log: () => {},
    config: { ...groupBrokerConfig, ...config },
  });
  const port = broker.listeners[0]!.port;
  return { broker, material, port, bootstrap: `127.0.0.1:${port}` };
}

/**
 * startGroupBroker() in `before` and a GroupInspector on it, both closed in `after`; the
 * returned object's fields are there once `before` has run.
 */
export function useGroupBroker(): { readonly target: GroupBroker; readonly inspector: GroupInspector } {
  let target: GroupBroker | undefined;
  let inspector: GroupInspector | undefined;
  before(async () => {
    target = await startGroupBroker();
    inspector = new GroupInspector(target.material, target.bootstrap);
  });
  after(async () => {
    await inspector?.close();
    await target?.broker.close();
  });
  return {
    get target() {
      if (!target) throw new Error('the broker is started in before()');
      return target;
    },
    get inspector() {
      if (!inspector) throw new Error('the broker is started in before()');
      return inspector;
    },
  };
}

export const kafkaPython = { module: 'kafka', what: 'kafka-python (python3-kafka)' };

/**
 * A kafka-python KafkaConsumer in `group` (test/interop/python/groups_kafka_python.py consume):
 * reads `count` records of `topic` (-1: to the end), commits, closes, and reports as JSON.
 */
export async function kafkaPythonGroupConsume(t: TestContext, material: TestTls, bootstrap: string, topic: string, group: string, count: number): Promise<Report> {
  const report = await pythonReport(t, kafkaPython, pythonScript('groups_kafka_python.py'), [
    'consume',
    '--bootstrap',
    bootstrap,
    '--cafile',
    material.paths.ca,
    '--topic',
    topic,
    '--group',
    group,
    '--count',
    String(count),
    '--session-timeout-ms',
    String(sessionTimeoutMs),
  ]);
  assert.ok(report, 'the kafka-python run reported');
  return report;
}

/** kcat's connection flags for our TLS listener, verifying our CA. */
export function kcatArgs(material: TestTls, bootstrap: string, ...args: string[]): string[] {
  return ['-b', bootstrap, '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${material.paths.ca}`, ...args];
}

/**
 * `kcat -G group topic` flags: a balanced consumer with our short session timeout, reading from
 * the earliest offset when the group has none committed, unbuffered output `partition offset value`.
 */
export function kcatGroupArgs(material: TestTls, bootstrap: string, group: string, topic: string, ...extra: string[]): string[] {
  return kcatArgs(
    material,
    bootstrap,
    '-G',
    group,
    '-X',
    `session.timeout.ms=${sessionTimeoutMs}`,
    '-X',
    `heartbeat.interval.ms=${heartbeatIntervalMs}`,
    '-X',
    'auto.offset.reset=earliest',
    '-X',
    'fetch.wait.max.ms=100',
    ...extra,
    '-u',
    '-f',
    '%p %o %s\n',
    topic,
  );
}

/** Every child process started by any Child, so an after hook can kill what a failed test left. */
const running = new Set<Child>();

/** Kills (SIGKILL) every client and broker process the tests started that is still running. */
export function killAllChildren(): void {
  for (const child of running) child.kill('SIGKILL');
  for (const served of servedBrokers) served.child.kill('SIGKILL');
}

/** A long-running client process whose stdout is kept as lines and stderr as text. */
export class Child {
  readonly process: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = '';

  constructor(
    readonly name: string,
    command: string,
    args: string[],
  ) {
    this.process = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this);
    this.process.stdout!.on('data', (chunk: Buffer) => {
      const text = this.partial + chunk.toString('utf8');
      const parts = text.split('\n');
      this.partial = parts.pop()!;
      for (const line of parts) if (line.length > 0) this.lines.push(line);
    });
    this.process.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
      if (this.stderr.length > 200_000) this.stderr = this.stderr.slice(-100_000);
    });
    this.exited = new Promise((resolve) => {
      this.process.on('error', (error) => {
        this.stderr += `\nspawn error: ${error.message}`;
        running.delete(this);
        this.exit = { code: null, signal: null };
        resolve(this.exit);
      });
      this.process.on('close', (code, signal) => {
        running.delete(this);
        if (this.partial.length > 0) this.lines.push(this.partial);
        this.partial = '';
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get alive(): boolean {
    return this.exit === null;
  }

  kill(signal: NodeJS.Signals): void {
    if (this.exit === null) this.process.kill(signal);
  }

  /** Sends `signal` and waits (bounded) for the exit; SIGKILL when it does not come. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.kill(signal);
    try {
      return await withTimeout(this.exited, timeoutMs, `${this.name} exit after ${signal}`);
    } catch (error) {
      this.kill('SIGKILL');
      await withTimeout(this.exited, 10_000, `${this.name} exit after SIGKILL`).catch(() => {});
      throw error;
    }
  }

  /** Resolves once `predicate` holds for the output so far (checked every 50 ms); fails after timeoutMs or when the process exits first. */
  async waitFor(predicate: (child: this) => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (this.exit !== null) throw new Error(`${this.name} exited (${this.exit.code ?? this.exit.signal}) before ${what}:\n${this.describe()}`);
      if (Date.now() >= deadline) throw new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}:\n${this.describe()}`);
      await sleep(50);
    }
  }

  describe(): string {
    const stderr = this.stderr
      .split('\n')
      .filter((line) => !line.startsWith('% Reached end of'))
      .join('\n');
    return `stdout (${this.lines.length} lines, last 5): ${this.lines.slice(-5).join(' | ')}\nstderr (tail, without "Reached end" lines):\n${stderr.slice(-3000)}`;
  }
}

/** Calls `check` every intervalMs until it returns something other than undefined; fails after timeoutMs with the last value seen. */
export async function waitUntil<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string, intervalMs = 200, last?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  while (true) {
    try {
      const value = await check();
      if (value !== undefined) return value;
      lastError = null;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError ? ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}${last ? `\n${last()}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** Our bundled Admin client, for looking at groups the way a tool would (DescribeGroups, OffsetFetch). */
export class GroupInspector {
  private readonly admin: Admin;

  constructor(material: TestTls, bootstrap: string) {
    this.admin = new Admin({ bootstrap, tls: { ca: material.ca }, clientId: 'inkwell-groups-test', requestTimeoutMs: 10_000, connectTimeoutMs: 10_000 });
  }

  async describe(group: string): Promise<GroupDescription> {
    const [description] = await withTimeout(this.admin.describeGroups([group]), 20_000, `DescribeGroups ${group}`);
    return description!;
  }

  /** The group's committed offsets, of every topic it committed. */
  async committed(group: string): Promise<CommittedOffset[]> {
    return withTimeout(this.admin.fetchOffsets(group), 20_000, `OffsetFetch ${group}`);
  }

  async close(): Promise<void> {
    await withTimeout(this.admin.close(), 10_000, 'Admin close').catch(() => {});
  }
}

/** Each member's partitions of `topic`, sorted, from a Stable group's description. */
export function assignments(description: GroupDescription, topic: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const member of description.members) {
    const partitions = member.assignment.filter((a) => a.topic === topic).flatMap((a) => a.partitions);
    out.set(member.memberId, [...partitions].sort((a, b) => a - b));
  }
  return out;
}

/**
 * The group's assignment when it is Stable with exactly `members` members whose partitions of
 * `topic` are disjoint, each non-empty, and together 0..partitions-1; otherwise undefined.
 */
export function settledAssignment(description: GroupDescription, topic: string, members: number, partitions: number): Map<string, number[]> | undefined {
  if (description.state !== 'Stable' || description.members.length !== members) return undefined;
  const byMember = assignments(description, topic);
  const all = [...byMember.values()].flat().sort((a, b) => a - b);
  if ([...byMember.values()].some((p) => p.length === 0)) return undefined;
  if (all.length !== partitions || all.some((p, i) => p !== i)) return undefined;
  return byMember;
}

export function formatGroup(description: GroupDescription | null): string {
  if (description === null) return 'group: (not described yet)';
  return `group ${description.groupId}: ${description.state}, protocol ${description.protocol}, members ${JSON.stringify(description.members.map((m) => ({ id: m.memberId, client: m.clientId, assignment: m.assignment })))}`;
}

export interface ProducedRecord {
  partition: number;
  offset: number;
  value: string;
}

/**
 * Produces records to every partition of a topic in turn (value `<prefix>-<n>`, n counting from 0,
 * so n is also the record's index in `produced`) with our bundled Producer, one at a time, every
 * intervalMs, until stopped; partitions can be paused. Each record's partition and offset come
 * from its acknowledgement.
 */
export class ContinualProducer {
  readonly produced: ProducedRecord[] = [];
  private readonly producer: Producer;
  private running = true;
  private readonly paused = new Set<number>();
  private sending: Promise<RecordMetadata> | null = null;
  private readonly loop: Promise<void>;
  private failure: unknown = null;

  constructor(
    material: TestTls,
    bootstrap: string,
    readonly topic: string,
    readonly partitions: number,
    readonly prefix: string,
    readonly intervalMs = 20,
  ) {
    this.producer = new Producer({ bootstrap, tls: { ca: material.ca }, clientId: 'inkwell-groups-producer', acks: 'all', lingerMs: 0, deliveryTimeoutMs: 30_000, requestTimeoutMs: 10_000 });
    this.loop = this.run();
  }

  get count(): number {
    return this.produced.length;
  }

  private async run(): Promise<void> {
    let n = 0;
    let slot = 0;
    try {
      while (this.running) {
        const partition = slot++ % this.partitions;
        if (this.paused.has(partition)) {
          if (this.paused.size >= this.partitions) await sleep(this.intervalMs);
          continue;
        }
        const value = `${this.prefix}-${n}`;
        this.sending = this.producer.send({ topic: this.topic, partition, value });
        const metadata = await this.sending;
        this.sending = null;
        this.produced.push({ partition: metadata.partition, offset: metadata.offset, value });
        n++;
        await sleep(this.intervalMs);
      }
    } catch (error) {
      this.failure = error;
    }
  }

  /** Stops producing to these partitions (the others go on) and waits for a send in flight to finish. */
  async pause(partitions: readonly number[]): Promise<void> {
    for (const p of partitions) this.paused.add(p);
    await withTimeout(this.sending?.catch(() => {}) ?? Promise.resolve(), 40_000, 'the send in flight');
  }

  /** Produces to every partition again. */
  resume(): void {
    this.paused.clear();
  }

  /** Resolves once at least `count` records are acknowledged (bounded). */
  async waitForCount(count: number, timeoutMs: number): Promise<void> {
    await waitUntil(async () => {
      if (this.failure) throw this.failure;
      return this.count >= count ? true : undefined;
    }, timeoutMs, `${count} produced records`, 50);
  }

  /** Stops producing, closes the producer and returns everything acknowledged; throws if a send failed. */
  async stop(): Promise<ProducedRecord[]> {
    this.running = false;
    await withTimeout(this.loop, 40_000, 'producer loop stop');
    await withTimeout(this.producer.close(), 20_000, 'producer close').catch(() => {});
    if (this.failure) throw this.failure;
    return this.produced;
  }

  /** Stops without checking, for after hooks. */
  async abandon(): Promise<void> {
    this.running = false;
    await withTimeout(this.loop, 40_000, 'producer loop stop').catch(() => {});
    await withTimeout(this.producer.close(), 10_000, 'producer close').catch(() => {});
  }
}

/** A consumed record as kcat -f '%p %o %s\n' prints it. */
export interface ConsumedRecord {
  partition: number;
  offset: number;
  value: string;
}

export function parseKcatLines(lines: readonly string[]): ConsumedRecord[] {
  return lines.map((line) => {
    const match = /^(\d+) (\d+) (.*)$/.exec(line);
    assert.ok(match, `kcat line "${line}"`);
    return { partition: Number(match[1]), offset: Number(match[2]), value: match[3]! };
  });
}

/** Partitions named in kcat -G's latest "% Group ... rebalanced ...: assigned: topic [p], ..." line on stderr, or null before any. */
export function kcatAssigned(stderr: string, topic: string): number[] | null {
  const lines = stderr.split('\n').filter((l) => /rebalanced .*: (assigned|revoked):/.test(l));
  const last = lines[lines.length - 1];
  if (last === undefined || !/: assigned:/.test(last)) return null;
  const partitions: number[] = [];
  const pattern = new RegExp(`${topic.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\[(\\d+)\\]`, 'g');
  for (const match of last.matchAll(pattern)) partitions.push(Number(match[1]));
  return partitions.sort((a, b) => a - b);
}

/**
 * Checks at-least-once delivery: every produced record (by partition and offset, and by value)
 * was consumed by someone, and every consumed record is one that was produced (or produced twice
 * by a retry) at that partition and offset.
 */
export function checkAllConsumed(produced: readonly ProducedRecord[], consumed: readonly ConsumedRecord[]): void {
  const at = new Map<string, string>();
  for (const record of consumed) {
    const key = `${record.partition}:${record.offset}`;
    const seen = at.get(key);
    assert.ok(seen === undefined || seen === record.value, `${key} read as "${seen}" and as "${record.value}"`);
    at.set(key, record.value);
  }
  const missing = missingRecords(produced, consumed);
  assert.deepEqual(missing.slice(0, 20), [], `${missing.length} of ${produced.length} produced records were never consumed (first 20 shown)`);
}

/** The produced records nobody consumed (by value, and at their partition and offset). */
export function missingRecords(produced: readonly ProducedRecord[], consumed: readonly ConsumedRecord[]): ProducedRecord[] {
  const at = new Map(consumed.map((r) => [`${r.partition}:${r.offset}`, r.value]));
  const values = new Set(consumed.map((r) => r.value));
  return produced.filter((p) => !values.has(p.value) || (p.offset >= 0 && at.get(`${p.partition}:${p.offset}`) !== p.value));
}

/** Whether checkAllConsumed passes (for polling until it does). */
export function allConsumed(produced: readonly ProducedRecord[], consumed: readonly ConsumedRecord[]): boolean {
  try {
    checkAllConsumed(produced, consumed);
    return true;
  } catch {
    return false;
  }
}

/** Produces `perPartition` records to each partition (value `<prefix>-<partition>-<i>`) with our bundled Producer; returns them with their offsets. */
export async function produceRecords(material: TestTls, bootstrap: string, topic: string, partitions: number, perPartition: number, prefix: string): Promise<ProducedRecord[]> {
  const producer = new Producer({ bootstrap, tls: { ca: material.ca }, clientId: 'inkwell-groups-producer', acks: 'all', idempotent: false, deliveryTimeoutMs: 30_000, requestTimeoutMs: 10_000 });
  try {
    const sends: Promise<ProducedRecord>[] = [];
    for (let i = 0; i < perPartition; i++) {
      for (let partition = 0; partition < partitions; partition++) {
        const value = `${prefix}-${partition}-${i}`;
        sends.push(producer.send({ topic, partition, value }).then((m) => ({ partition: m.partition, offset: m.offset, value })));
      }
    }
    const produced = await withTimeout(Promise.all(sends), 60_000, `producing ${sends.length} records`);
    await withTimeout(producer.flush(), 30_000, 'producer flush');
    return produced;
  } finally {
    await withTimeout(producer.close(), 20_000, 'producer close').catch(() => {});
  }
}

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const servedBrokers = new Set<ServedBroker>();

export interface ServedBroker {
  child: ChildProcess;
  port: number;
  bootstrap: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the real CLI, `inkwell serve`, as a child process on an SSL listener (on `port`, by
 * default one from the OS) with a data directory, and waits (at most 30 s) for its `listening SSL://host:port` line.
 */
export async function serveBroker(material: TestTls, dir: string, settings: Record<string, string | number> = {}, port = 0): Promise<ServedBroker> {
  const sets = Object.entries({ ...groupBrokerConfig, ...settings }).flatMap(([name, value]) => ['--set', `${name}=${value}`]);
  const child = spawn(
    process.execPath,
    [cli, 'serve', '--listeners', `SSL://127.0.0.1:${port}`, '--data-dir', dir, '--tls-cert', material.paths.cert, '--tls-key', material.paths.key, '--tls-ca', material.paths.ca, ...sets],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', () => resolve({ code: null, signal: null }));
  });
  const served: ServedBroker = { child, port: 0, bootstrap: '', output: () => `${stdout}\n${stderr.slice(-5000)}`, exited };
  servedBrokers.add(served);
  void exited.then(() => servedBrokers.delete(served));
  const bound = await withTimeout(
    new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        const match = /^listening SSL:\/\/127\.0\.0\.1:(\d+)$/m.exec(stdout);
        if (match) resolve(Number(match[1]));
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
      });
      void exited.then(({ code, signal }) => reject(new Error(`inkwell serve exited (${code ?? signal}) before listening:\n${stdout}\n${stderr}`)));
    }),
    30_000,
    'inkwell serve start-up',
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  served.port = bound;
  served.bootstrap = `127.0.0.1:${bound}`;
  return served;
}

/** SIGTERM, then waits (at most 30 s, then SIGKILL) for the exit; returns how it exited. */
export async function stopServed(served: ServedBroker): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  served.child.kill('SIGTERM');
  return withTimeout(served.exited, 30_000, 'inkwell serve shutdown after SIGTERM').catch((error: unknown) => {
    served.child.kill('SIGKILL');
    throw error;
  });
}
