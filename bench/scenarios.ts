/**
 * The benchmark's scenarios: what is measured, against which systems, with which clients, at
 * full size and in quick mode (`--quick`, which must finish in under 3 minutes on the project's
 * 2-core machine). Each one is run `--repetitions` times, on a fresh broker each time.
 */
import type { SystemId } from './systems/types.js';

/** kcat/librdkafka, kafkajs, our own client (src/client, when it exists), our raw-protocol clients. */
export type ClientId = 'kcat' | 'kafkajs' | 'ours' | 'raw';

export type Workload =
  /** Produce `records` records, then consume them all (consume only with clients that can). */
  | { readonly kind: 'throughput'; readonly records: number; readonly recordBytes: number; readonly partitions: number }
  /** End-to-end latency at a fixed rate, acks=all, one partition. */
  | { readonly kind: 'latency'; readonly rate: number; readonly seconds: number; readonly warmupSeconds: number; readonly recordBytes: number }
  /** `records` records produced over `connections` connections at once, acks=all. */
  | { readonly kind: 'connections'; readonly connections: number; readonly records: number; readonly recordBytes: number }
  /** `connections` TLS connections opened and held idle. */
  | { readonly kind: 'idle'; readonly connections: number; readonly holdSeconds: number };

export type ScenarioGroup = 'records' | 'size' | 'latency' | 'partitions' | 'connections' | 'idle' | 'smoke';

export interface Scenario {
  readonly id: string;
  readonly group: ScenarioGroup;
  readonly title: string;
  readonly workload: Workload;
  readonly systems: readonly SystemId[];
  readonly clients: readonly ClientId[];
  /** Broker configs for Inkwell in this scenario. */
  readonly settings?: Readonly<Record<string, string>>;
}

export type Mode = 'full' | 'quick';

const MiB = 1024 * 1024;
const brokers: readonly SystemId[] = ['inkwell', 'inkwell-pagecache', 'mock'];
const pipes: readonly SystemId[] = ['tls-pipe', 'tcp-pipe'];

export function formatBytes(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** Every scenario of a full or quick run, in the order they run. */
export function scenarios(mode: Mode): Scenario[] {
  const quick = mode === 'quick';
  // Quick mode runs the page-cache variant only where durability matters most (100 B records, latency).
  const someBrokers: readonly SystemId[] = quick ? ['inkwell', 'mock'] : brokers;
  const smallRecords = quick ? 100_000 : 1_000_000;
  /** Bytes moved per record-size scenario. */
  const volume = quick ? 24 * MiB : 256 * MiB;
  const list: Scenario[] = [
    {
      id: 'records-100B',
      group: 'records',
      title: `${formatCount(smallRecords)} records of 100 B, 1 partition`,
      workload: { kind: 'throughput', records: smallRecords, recordBytes: 100, partitions: 1 },
      systems: [...brokers, ...pipes],
      clients: ['kcat', 'kafkajs', 'ours'],
    },
  ];
  for (const recordBytes of [1024, 100 * 1024, MiB]) {
    const records = Math.max(8, Math.round(volume / recordBytes));
    list.push({
      id: `size-${formatBytes(recordBytes).replace(' ', '')}`,
      group: 'size',
      title: `${formatCount(records)} records of ${formatBytes(recordBytes)}, 1 partition`,
      workload: { kind: 'throughput', records, recordBytes, partitions: 1 },
      systems: [...someBrokers, ...pipes],
      clients: ['kcat', 'kafkajs', 'ours'],
      // Kafka's default message.max.bytes (1 MiB + 12) cannot hold a 1 MiB record and its framing.
      settings: recordBytes >= MiB ? { 'message.max.bytes': String(4 * MiB) } : {},
    });
  }
  for (const rate of [1_000, 10_000, 100_000]) {
    list.push({
      id: `latency-${rate / 1000}k`,
      group: 'latency',
      title: `end-to-end latency at ${formatCount(rate)} records/s, acks=all, 100 B`,
      workload: { kind: 'latency', rate, seconds: quick ? 2 : 10, warmupSeconds: quick ? 0.5 : 1, recordBytes: 100 },
      systems: brokers,
      clients: ['raw'],
    });
  }
  for (const partitions of [1, 100, 1_000, 10_000]) {
    list.push({
      id: `partitions-${partitions}`,
      group: 'partitions',
      title: `${formatCount(smallRecords)} records of 100 B over ${formatCount(partitions)} partition(s)`,
      workload: { kind: 'throughput', records: smallRecords, recordBytes: 100, partitions },
      // The mock always creates 4 partitions, so it has no place here. Disk storage holds files
      // open per partition; the memory engine shows what the partitions cost without them.
      // (Quick mode leaves the memory engine out, to stay under 3 minutes.)
      systems: partitions >= 10_000 && !quick ? ['inkwell', 'inkwell-memory'] : ['inkwell'],
      clients: ['kcat'],
    });
  }
  for (const connections of [1, 100, 1_000]) {
    list.push({
      id: `connections-${connections}`,
      group: 'connections',
      title: `${formatCount(smallRecords)} records of 100 B over ${formatCount(connections)} connection(s)`,
      workload: { kind: 'connections', connections, records: smallRecords, recordBytes: 100 },
      systems: someBrokers,
      clients: ['raw'],
    });
  }
  const idle = quick ? 1_000 : 10_000;
  list.push({
    id: `idle-${idle}`,
    group: 'idle',
    title: `${formatCount(idle)} idle connections`,
    workload: { kind: 'idle', connections: idle, holdSeconds: quick ? 1 : 3 },
    systems: ['inkwell', 'mock'],
    clients: ['raw'],
  });
  return list;
}

/** The smallest scenario, for the smoke test: a few thousand records, kcat, Inkwell, the mock and the TLS pipe. */
export function smokeScenario(): Scenario {
  return {
    id: 'smoke',
    group: 'smoke',
    title: '2,000 records of 100 B, 1 partition (smoke test)',
    workload: { kind: 'throughput', records: 2_000, recordBytes: 100, partitions: 1 },
    systems: ['inkwell', 'mock', 'tls-pipe'],
    clients: ['kcat'],
  };
}
