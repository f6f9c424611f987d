/**
 * startBroker: the embedding entry point (and what `inkwell serve` calls). Resolves options and
 * Kafka-named configuration into broker settings, opens storage and starts the listeners.
 */
import { resolve } from 'node:path';
import { resolveConfig, describeBrokerConfigs, topicConfigDefaults, validateTopicConfig, type BrokerConfig } from './config.js';
import { parseListeners } from './listeners.js';
import { startRuntime, type RunningBroker } from './runtime.js';
import type { ClientAuth, ListenerSpec, TlsMaterial } from './server.js';
import { loadOrCreateClusterId, newClusterId } from './cluster-id.js';
import { createMemoryStorage, openDiskStorage } from '../storage/index.js';
import type { FileSystem, Storage } from '../storage/types.js';

export interface StartBrokerOptions {
  /** Kafka listener syntax; default for embedding: one plaintext listener on 127.0.0.1, port chosen by the OS (plus SSL when `tls` is given). */
  listeners?: string;
  /** Where the log lives (log.dirs). When absent, and `storage` is not "disk", the broker keeps data in memory. */
  dataDir?: string;
  storage?: 'disk' | 'memory';
  /** PEM certificate, key and CA for SSL listeners. */
  tls?: { cert: Buffer | string; key: Buffer | string; ca: Buffer | string; clientAuth?: ClientAuth };
  /** Broker configuration by Kafka's names (num.partitions, message.max.bytes, ...). */
  config?: Record<string, string | number | boolean>;
  /** Where log lines go; default: stderr. */
  log?: (line: string) => void;
  /**
   * @internal For durability tests only: the file layer the disk storage runs on instead of the
   * real file system (a SimulatedFileSystem from src/storage/simulated-file-system.ts, which can
   * lose power or fail with ENOSPC/EIO). Not part of the public API; may change without notice.
   */
  fileSystem?: FileSystem;
}

export interface Broker extends RunningBroker {
  /** "host:port" of the first listener with this security protocol (or the first listener). */
  bootstrap(securityProtocol?: 'PLAINTEXT' | 'SSL'): string;
}

export async function startBroker(options: StartBrokerOptions = {}): Promise<Broker> {
  const overrides: Record<string, string | number | boolean> = { ...(options.config ?? {}) };
  if (options.listeners !== undefined) overrides.listeners = options.listeners;
  else if (overrides.listeners === undefined) overrides.listeners = options.tls ? 'PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0' : 'PLAINTEXT://127.0.0.1:0';
  if (options.dataDir !== undefined) overrides['log.dirs'] = options.dataDir;
  const storageKind = options.storage ?? (options.dataDir !== undefined || overrides['log.dirs'] !== undefined ? 'disk' : 'memory');
  overrides['inkwell.storage'] = storageKind;
  if (options.tls?.clientAuth) overrides['ssl.client.auth'] = options.tls.clientAuth;
  const config = resolveConfig({ overrides });
  return startBrokerFromConfig(config, {
    tls: options.tls && {
      cert: Buffer.from(options.tls.cert),
      key: Buffer.from(options.tls.key),
      ca: Buffer.from(options.tls.ca),
      clientAuth: options.tls.clientAuth ?? config['ssl.client.auth'],
    },
    log: options.log,
    fileSystem: options.fileSystem,
    // TLS material given as PEM: the certificate paths in the config are not what the broker uses.
    configNotInUse: options.tls ? new Set(['inkwell.tls.cert', 'inkwell.tls.key', 'inkwell.tls.ca']) : undefined,
  });
}

export async function startBrokerFromConfig(
  config: BrokerConfig,
  extras: { tls?: TlsMaterial; log?: (line: string) => void; fileSystem?: FileSystem; configNotInUse?: ReadonlySet<string> },
): Promise<Broker> {
  const log = extras.log ?? ((line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`));
  const listeners: ListenerSpec[] = parseListeners(config.listeners);
  const advertised = new Map<string, { host: string; port: number }>();
  if (config['advertised.listeners']) {
    for (const listener of parseListeners(config['advertised.listeners'])) advertised.set(listener.name, { host: listener.host, port: listener.port });
  }
  const nodeId = config['node.id'];
  let storage: Storage;
  let clusterId: string;
  let dataDir: string | null = null;
  if (config['inkwell.storage'] === 'memory') {
    storage = createMemoryStorage({ memoryBytesMax: config['inkwell.memory.bytes.max'] });
    clusterId = newClusterId();
  } else {
    dataDir = resolve(config['log.dirs']);
    clusterId = await loadOrCreateClusterId(dataDir, nodeId);
    storage = await openDiskStorage(dataDir, {
      fileSystem: extras.fileSystem,
      log,
      recoveryCheckpointIntervalMs: config['log.flush.offset.checkpoint.interval.ms'],
    });
  }
  const running = await startRuntime({
    settings: {
      nodeId,
      clusterId,
      numPartitions: config['num.partitions'],
      autoCreateTopics: config['auto.create.topics.enable'],
      deleteTopicEnable: config['delete.topic.enable'],
      messageBytesMax: config['message.max.bytes'],
      frameBytesMax: config['socket.request.max.bytes'],
      inflightRequestsMax: config['inkwell.connection.inflight.requests.max'],
      fetchWaitMsMax: config['inkwell.fetch.wait.ms.max'],
      topicDefaults: topicConfigDefaults(config),
    },
    storage,
    listeners,
    advertised,
    tls: extras.tls,
    segmentBytes: config['log.segment.bytes'],
    indexIntervalBytes: config['log.index.interval.bytes'],
    ringBufferBytes: config['inkwell.ring.buffer.bytes'],
    describeBrokerConfigs: () => describeBrokerConfigs(config, extras.configNotInUse),
    validateTopicConfig,
    retentionCheckIntervalMs: config['log.retention.check.interval.ms'],
    producers: {
      dataDir,
      expirationMs: config['producer.id.expiration.ms'],
      expirationCheckIntervalMs: config['producer.id.expiration.check.interval.ms'],
      snapshotIntervalMs: config['inkwell.producer.state.snapshot.interval.ms'],
      producersPerPartitionMax: config['inkwell.producer.ids.per.partition.max'],
    },
    groups: {
      minSessionTimeoutMs: config['group.min.session.timeout.ms'],
      maxSessionTimeoutMs: config['group.max.session.timeout.ms'],
      initialRebalanceDelayMs: config['group.initial.rebalance.delay.ms'],
      maxSize: config['group.max.size'],
      offsetsRetentionMs: config['offsets.retention.minutes'] * 60_000,
      offsetsRetentionCheckIntervalMs: config['offsets.retention.check.interval.ms'],
      offsetMetadataMaxBytes: config['offset.metadata.max.bytes'],
      offsetsTopicSegmentBytes: config['offsets.topic.segment.bytes'],
    },
    log,
  });
  return {
    ...running,
    close: () => running.close(),
    bootstrap(securityProtocol) {
      const listener = running.listeners.find((l) => securityProtocol === undefined || l.securityProtocol === securityProtocol) ?? running.listeners[0]!;
      return `${listener.host}:${listener.port}`;
    },
  };
}
