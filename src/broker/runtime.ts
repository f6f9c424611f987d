/**
 * Starts a broker from fully resolved settings: storage, topics, handlers and listeners.
 * `startBroker` in broker.ts resolves user options and config files into these settings.
 */
import { registry } from '../protocol/registry.js';
import type { PartitionOptions, Storage } from '../storage/types.js';
import { TopicManager } from './topics.js';
import { Producers, type ProducerSettings } from './producers/producers.js';
import { GroupCoordinator } from './groups/coordinator.js';
import type { GroupSettings } from './groups/settings.js';
import { handlerTable } from './handlers/index.js';
import { ListenerSet, type BoundListener, type ListenerSpec, type TlsMaterial } from './server.js';
import type { BrokerConfigEntry, BrokerContext, BrokerSettings } from './context.js';

export interface RuntimeOptions {
  readonly settings: BrokerSettings;
  readonly storage: Storage;
  readonly listeners: readonly ListenerSpec[];
  /** advertised.listeners overrides, by listener name. */
  readonly advertised: ReadonlyMap<string, { host: string; port: number }>;
  readonly tls?: TlsMaterial;
  readonly segmentBytes: number;
  readonly indexIntervalBytes: number;
  readonly ringBufferBytes: number;
  readonly describeBrokerConfigs: () => BrokerConfigEntry[];
  readonly validateTopicConfig: (name: string, value: string) => string | null;
  /** Idempotent producer state: where it is kept (the data directory, or null in memory), expiry and bounds. */
  readonly producers: ProducerSettings;
  /** Group coordinator settings (group.* and offsets.* configs). */
  readonly groups: GroupSettings;
  /** log.retention.check.interval.ms: how often one timer runs a retention pass over all partitions. */
  readonly retentionCheckIntervalMs: number;
  readonly log: (line: string) => void;
}

/** Kafka's Long.MAX_VALUE as text: flush.messages / flush.ms without a bound. */
const unboundedText = '9223372036854775807';

/**
 * The storage settings of a topic's partitions: its own configs, else the broker's defaults for
 * them (settings.topicDefaults, derived from log.* configs).
 */
function partitionOptionsOf(options: RuntimeOptions, configs: Readonly<Record<string, string>>): PartitionOptions {
  const text = (name: string): string | undefined => configs[name] ?? options.settings.topicDefaults[name];
  const number = (name: string, fallback: number): number => {
    const value = text(name);
    return value === undefined ? fallback : Number(value);
  };
  const unbounded = (name: string): boolean => text(name)?.trim() === unboundedText;
  return {
    segmentBytes: number('segment.bytes', options.segmentBytes),
    indexIntervalBytes: number('index.interval.bytes', options.indexIntervalBytes),
    ringBufferBytesMax: options.ringBufferBytes,
    retentionMs: number('retention.ms', -1),
    retentionBytes: number('retention.bytes', -1),
    segmentMs: number('segment.ms', -1),
    flushIntervalMessages: unbounded('flush.messages') ? Number.MAX_SAFE_INTEGER : number('flush.messages', 1),
    flushIntervalMs: unbounded('flush.ms') ? -1 : number('flush.ms', -1),
  };
}

/**
 * Runs a retention pass over all partitions every `intervalMs` (one timer for the broker, not one
 * per partition; a pass still running when the next is due makes that one skip). Returns a stop
 * function that waits for a pass under way.
 */
function startRetentionTimer(storage: Storage, intervalMs: number, log: (line: string) => void): () => Promise<void> {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = storage
      .enforceRetention(Date.now())
      .then(
        () => {},
        (error: unknown) => log(`retention pass failed: ${(error as Error).message}`),
      )
      .finally(() => (running = null));
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

export interface RunningBroker {
  readonly listeners: readonly BoundListener[];
  readonly clusterId: string;
  readonly nodeId: number;
  /** Stops accepting, closes connections, wakes long polls and closes storage. */
  close(): Promise<void>;
}

export async function startRuntime(options: RuntimeOptions): Promise<RunningBroker> {
  const closeCallbacks = new Set<() => void>();
  const topics = new TopicManager(options.storage, (configs) => partitionOptionsOf(options, configs));
  await topics.open();
  let producers: Producers;
  try {
    producers = await Producers.open(options.producers, topics, options.log);
  } catch (error) {
    await options.storage.close();
    throw error;
  }
  let groups: GroupCoordinator;
  try {
    groups = await GroupCoordinator.open({
      storage: options.storage,
      settings: options.groups,
      partitionExists: (topic, partition) => topics.partition(topic, partition) !== undefined,
      log: options.log,
    });
  } catch (error) {
    await producers.close();
    await options.storage.close();
    throw error;
  }
  const handlers = handlerTable();
  const context: BrokerContext = {
    settings: options.settings,
    topics,
    producers,
    groups,
    registry: registry(),
    implementedKeys: new Set(handlers.keys()),
    describeBrokerConfigs: options.describeBrokerConfigs,
    validateTopicConfig: options.validateTopicConfig,
    onClosing: (callback) => {
      closeCallbacks.add(callback);
      return () => closeCallbacks.delete(callback);
    },
    log: options.log,
  };
  for (const key of handlers.keys()) {
    if (!context.registry.get(key)) throw new Error(`handler for api key ${key} has no definition in protocol-spec/apis`);
  }
  const listeners = new ListenerSet(context, handlers, options.advertised);
  try {
    await listeners.listen(options.listeners, options.tls);
  } catch (error) {
    await listeners.close();
    await groups.close();
    await producers.close();
    await options.storage.close();
    throw error;
  }
  const stopRetention = startRetentionTimer(options.storage, options.retentionCheckIntervalMs, options.log);
  let closing: Promise<void> | undefined;
  return {
    listeners: listeners.bound,
    clusterId: options.settings.clusterId,
    nodeId: options.settings.nodeId,
    close() {
      closing ??= (async () => {
        for (const callback of [...closeCallbacks]) callback();
        // Answers held JoinGroup/SyncGroup requests and stops the coordinator's timers.
        await groups.close();
        await listeners.close();
        await stopRetention();
        // After the listeners (no more appends), before storage closes (snapshots read log ends).
        await producers.close().catch((error: unknown) => options.log(`producer state snapshots failed at shutdown: ${(error as Error).message}`));
        await options.storage.close();
      })();
      return closing;
    },
  };
}
