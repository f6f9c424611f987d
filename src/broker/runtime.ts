/**
 * Starts a broker from fully resolved settings: storage, topics, handlers and listeners.
 * `startBroker` in broker.ts resolves user options and config files into these settings.
 */
import { registry } from '../protocol/registry.js';
import type { Storage } from '../storage/types.js';
import { TopicManager } from './topics.js';
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
  readonly log: (line: string) => void;
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
  const topics = new TopicManager(options.storage, (configs) => ({
    segmentBytes: configs['segment.bytes'] !== undefined ? Number(configs['segment.bytes']) : options.segmentBytes,
    indexIntervalBytes: configs['index.interval.bytes'] !== undefined ? Number(configs['index.interval.bytes']) : options.indexIntervalBytes,
    ringBufferBytesMax: options.ringBufferBytes,
  }));
  await topics.open();
  const handlers = handlerTable();
  const context: BrokerContext = {
    settings: options.settings,
    topics,
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
    await options.storage.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    listeners: listeners.bound,
    clusterId: options.settings.clusterId,
    nodeId: options.settings.nodeId,
    close() {
      closing ??= (async () => {
        for (const callback of [...closeCallbacks]) callback();
        await listeners.close();
        await options.storage.close();
      })();
      return closing;
    },
  };
}
