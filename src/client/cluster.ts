/**
 * What a client knows about the cluster and how it reaches it: the bootstrap list, the brokers
 * and topics from the last Metadata response, and one connection per broker and lane. A lane is
 * a separate connection for traffic that must not queue behind other traffic on the same socket
 * (a broker answers a connection's requests in order, so a long-poll Fetch would hold up a
 * Heartbeat). Connections reopen on demand with exponential backoff after failures.
 */
import { Connection } from './connection.js';
import { KafkaError, errorFromCode, isRetriable } from './errors.js';
import { backoffMs, sleep, type BrokerAddress, type ResolvedClientOptions } from './options.js';
import type { MetadataResponse } from './wire.js';

export type Lane = 'default' | 'fetch' | 'group';

export interface BrokerInfo {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface PartitionInfo {
  readonly partition: number;
  /** Node id of the leader; -1 when there is none right now. */
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly offline: readonly number[];
  readonly errorCode: number;
}

export interface TopicInfo {
  readonly name: string;
  readonly internal: boolean;
  /** Indexed by partition number. */
  readonly partitions: readonly PartitionInfo[];
}

/** Errors after which the cached metadata is probably wrong. */
const staleMetadataErrors = new Set([
  'NOT_LEADER_OR_FOLLOWER',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_CONTROLLER',
  'NOT_COORDINATOR',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'REPLICA_NOT_AVAILABLE',
  'NETWORK_EXCEPTION',
  'CONNECTION_FAILED',
  'NO_BROKER',
  'KAFKA_STORAGE_ERROR',
]);

export function errorMeansStaleMetadata(error: unknown): boolean {
  return error instanceof KafkaError && staleMetadataErrors.has(error.errorName);
}

/** One broker and lane: the open connection, or the attempt to open one, and the failure count for backoff. */
class BrokerLink {
  private connection: Connection | null = null;
  private opening: Promise<Connection> | null = null;
  private failures = 0;
  private retryAtMs = 0;

  constructor(
    readonly address: BrokerAddress,
    readonly nodeId: number,
    private readonly options: ResolvedClientOptions,
  ) {}

  get connected(): Connection | null {
    return this.connection !== null && !this.connection.closed ? this.connection : null;
  }

  get(): Promise<Connection> {
    const open = this.connected;
    if (open !== null) return Promise.resolve(open);
    this.opening ??= this.open().finally(() => (this.opening = null));
    return this.opening;
  }

  private async open(): Promise<Connection> {
    const waitMs = this.retryAtMs - Date.now();
    if (waitMs > 0) await sleep(waitMs);
    try {
      const connection = await Connection.open(this.address, this.nodeId, this.options);
      this.failures = 0;
      this.connection = connection;
      connection.onClose(() => {
        if (this.connection === connection) this.connection = null;
      });
      return connection;
    } catch (error) {
      this.failures++;
      this.retryAtMs = Date.now() + backoffMs(this.failures, this.options.reconnectBackoffMs, this.options.reconnectBackoffMsMax);
      throw error;
    }
  }

  close(): void {
    this.connection?.close();
    this.connection = null;
  }
}

interface Refresh {
  readonly topics: ReadonlySet<string> | 'all';
  readonly promise: Promise<void>;
}

export interface ClusterOptions {
  /** Whether Metadata may create the topics it names (the broker decides whether it does). */
  readonly allowAutoTopicCreation: boolean;
}

export class Cluster {
  readonly brokers = new Map<number, BrokerInfo>();
  readonly topics = new Map<string, TopicInfo>();
  /** Topic-level error codes of the last Metadata response. */
  readonly lastTopicErrors = new Map<string, number>();
  clusterId: string | null = null;
  controllerId = -1;
  /** When metadata last arrived (0: never). */
  metadataAtMs = 0;
  private readonly interest = new Set<string>();
  private readonly links = new Map<string, BrokerLink>();
  private refreshing: Refresh | null = null;
  private closedError: KafkaError | null = null;

  constructor(
    readonly options: ResolvedClientOptions,
    private readonly clusterOptions: ClusterOptions = { allowAutoTopicCreation: false },
  ) {}

  get closed(): boolean {
    return this.closedError !== null;
  }

  /** Connects to a bootstrap broker and loads the broker list. */
  async connect(): Promise<void> {
    await this.refreshMetadata([]);
  }

  close(): void {
    this.closedError ??= new KafkaError('CLIENT_CLOSED', 'the client is closed');
    for (const link of this.links.values()) link.close();
    this.links.clear();
  }

  private checkOpen(): void {
    if (this.closedError !== null) throw this.closedError;
  }

  /** A connection to broker `nodeId`, opened if needed. */
  async connectionTo(nodeId: number, lane: Lane = 'default'): Promise<Connection> {
    this.checkOpen();
    let broker = this.brokers.get(nodeId);
    if (broker === undefined) {
      await this.refreshMetadata();
      broker = this.brokers.get(nodeId);
      if (broker === undefined) throw new KafkaError('NO_BROKER', `broker ${nodeId} is not in the cluster metadata`);
    }
    return this.link(`${nodeId}/${lane}`, broker, nodeId).get();
  }

  /** A connection to the broker at `address` (a coordinator found by FindCoordinator, for instance). */
  connectionToAddress(address: BrokerAddress, nodeId: number, lane: Lane = 'default'): Promise<Connection> {
    this.checkOpen();
    return this.link(`${nodeId}/${lane}`, address, nodeId).get();
  }

  private link(key: string, address: BrokerAddress, nodeId: number): BrokerLink {
    let link = this.links.get(key);
    if (link !== undefined && (link.address.host !== address.host || link.address.port !== address.port)) {
      link.close();
      link = undefined;
    }
    if (link === undefined) {
      link = new BrokerLink({ host: address.host, port: address.port }, nodeId, this.options);
      this.links.set(key, link);
    }
    return link;
  }

  /** Any broker: an open connection if there is one, else the known brokers and then the bootstrap list, in turn. */
  async anyConnection(): Promise<Connection> {
    this.checkOpen();
    for (const [key, link] of this.links) {
      if (key.endsWith('/default') && link.connected !== null) return link.connected;
    }
    const candidates: { key: string; address: BrokerAddress; nodeId: number }[] = [];
    for (const broker of shuffled([...this.brokers.values()])) candidates.push({ key: `${broker.nodeId}/default`, address: broker, nodeId: broker.nodeId });
    this.options.bootstrap.forEach((address, i) => candidates.push({ key: `bootstrap-${i}/default`, address, nodeId: -1 - i }));
    const problems: string[] = [];
    for (const candidate of candidates) {
      try {
        return await this.link(candidate.key, candidate.address, candidate.nodeId).get();
      } catch (error) {
        if (!(error instanceof KafkaError) || !error.retriable) throw error;
        problems.push(error.message);
      }
    }
    throw new KafkaError('CONNECTION_FAILED', `no broker reachable: ${problems.join('; ')}`);
  }

  /** The controller when it is a known broker, else any broker (librdkafka's mock names a controller that is not in its broker list). */
  async controllerConnection(): Promise<Connection> {
    if (this.metadataAtMs === 0) await this.refreshMetadata();
    if (this.brokers.has(this.controllerId)) return this.connectionTo(this.controllerId);
    return this.anyConnection();
  }

  /**
   * Refreshes the metadata of `topics` (added to the topics this client follows, which every
   * refresh includes), or of every topic with 'all'. Concurrent calls share one request when it
   * covers what they asked for.
   */
  async refreshMetadata(topics: readonly string[] | 'all' = []): Promise<void> {
    this.checkOpen();
    if (topics !== 'all') for (const topic of topics) this.interest.add(topic);
    for (;;) {
      const current = this.refreshing;
      if (current === null) break;
      const covers = current.topics === 'all' || (topics !== 'all' && topics.every((topic) => (current.topics as ReadonlySet<string>).has(topic)));
      if (covers) return current.promise;
      await current.promise.catch(() => {});
    }
    const wanted = topics === 'all' ? 'all' : new Set(this.interest);
    const promise = this.withRetries('Metadata', () => this.fetchMetadata(wanted));
    const refresh: Refresh = { topics: wanted, promise };
    this.refreshing = refresh;
    try {
      await promise;
    } finally {
      if (this.refreshing === refresh) this.refreshing = null;
    }
  }

  /** Forgets a topic (after deleting it). */
  forget(topic: string): void {
    this.interest.delete(topic);
    this.topics.delete(topic);
  }

  private async fetchMetadata(wanted: ReadonlySet<string> | 'all'): Promise<void> {
    const connection = await this.anyConnection();
    const version = connection.version('Metadata');
    let topicsField: { name: string }[] | null;
    // v0 has no null: an empty list means every topic there (so v0 cannot ask for brokers alone).
    if (wanted === 'all') topicsField = version === 0 ? [] : null;
    else topicsField = [...wanted].map((name) => ({ name }));
    const response = await connection.request<MetadataResponse>('Metadata', {
      topics: topicsField,
      allowAutoTopicCreation: this.clusterOptions.allowAutoTopicCreation,
    });
    this.brokers.clear();
    for (const broker of response.brokers) this.brokers.set(broker.nodeId, { nodeId: broker.nodeId, host: broker.host, port: broker.port, rack: broker.rack });
    this.clusterId = response.clusterId;
    this.controllerId = response.controllerId;
    if (wanted === 'all') this.topics.clear();
    for (const topic of response.topics) {
      if (topic.errorCode !== 0 && topic.partitions.length === 0) {
        this.topics.delete(topic.name);
        continue;
      }
      const partitions: PartitionInfo[] = [];
      for (const p of topic.partitions) {
        partitions[p.partitionIndex] = {
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offline: p.offlineReplicas,
          errorCode: p.errorCode,
        };
      }
      this.topics.set(topic.name, { name: topic.name, internal: topic.isInternal, partitions });
    }
    this.lastTopicErrors.clear();
    for (const topic of response.topics) if (topic.errorCode !== 0) this.lastTopicErrors.set(topic.name, topic.errorCode);
    this.metadataAtMs = Date.now();
  }

  /** Whether the cached metadata is older than metadataMaxAgeMs. */
  get stale(): boolean {
    return Date.now() - this.metadataAtMs > this.options.metadataMaxAgeMs;
  }

  /**
   * The topic's metadata, refreshed when missing, stale, or when a partition has no leader;
   * retried while the broker says the topic is unknown or leaderless (a topic just created).
   */
  async topic(name: string): Promise<TopicInfo> {
    let cached = this.topics.get(name);
    if (cached !== undefined && !this.stale && cached.partitions.every((p) => p !== undefined && p.leader >= 0)) return cached;
    for (let attempt = 0; ; attempt++) {
      await this.refreshMetadata([name]);
      cached = this.topics.get(name);
      const code = this.lastTopicErrors.get(name) ?? 0;
      const complete = cached !== undefined && cached.partitions.length > 0 && cached.partitions.every((p) => p !== undefined && p.leader >= 0);
      if (complete) return cached!;
      const error = errorFromCode(code === 0 ? 5 : code, `topic ${name}`, { topic: name }) ?? new KafkaError('LEADER_NOT_AVAILABLE', `topic ${name} has no leader`);
      if (!error.retriable || attempt >= this.options.retries) {
        if (cached !== undefined && cached.partitions.length > 0) return cached;
        throw error;
      }
      await sleep(backoffMs(attempt + 1, this.options.retryBackoffMs, this.options.retryBackoffMsMax));
    }
  }

  /** The leader of a partition per the cache; -1 when unknown. */
  leaderOf(topic: string, partition: number): number {
    return this.topics.get(topic)?.partitions[partition]?.leader ?? -1;
  }

  /**
   * Runs `operation` and runs it again (up to `retries` more times, with backoff) while it fails
   * retriably, refreshing metadata first when the error says it is stale.
   */
  async withRetries<T>(what: string, operation: (attempt: number) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await operation(attempt);
      } catch (error) {
        if (!isRetriable(error) || attempt >= this.options.retries || this.closed) throw error;
        this.options.log('debug', `${what} failed (${(error as Error).message}); retrying`);
        await sleep(backoffMs(attempt + 1, this.options.retryBackoffMs, this.options.retryBackoffMsMax));
        if (errorMeansStaleMetadata(error) && what !== 'Metadata') await this.refreshMetadata().catch(() => {});
      }
    }
  }
}

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
