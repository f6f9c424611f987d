/** What handlers see: the broker's state and settings, and the request being answered. */
import type { ApiRegistry } from '../protocol/registry.js';
import type { Message } from '../protocol/codec.js';
import type { RequestHeader } from '../protocol/headers.js';
import type { TopicManager } from './topics.js';
import type { Producers } from './producers/producers.js';
import type { GroupCoordinator } from './groups/coordinator.js';

/** Settings handlers need, resolved from the broker configuration. */
export interface BrokerSettings {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly numPartitions: number;
  readonly autoCreateTopics: boolean;
  readonly deleteTopicEnable: boolean;
  /** message.max.bytes: the largest record batch accepted. */
  readonly messageBytesMax: number;
  /** socket.request.max.bytes: the largest request frame accepted. */
  readonly frameBytesMax: number;
  /** Requests read from one connection and not yet answered before it stops reading. */
  readonly inflightRequestsMax: number;
  /** Upper bound on a Fetch's max_wait_ms. */
  readonly fetchWaitMsMax: number;
  /** Topic configs that apply when a topic does not set its own (topic config names). */
  readonly topicDefaults: Readonly<Record<string, string>>;
}

/** The address clients should use to reach this broker, for the listener they are on. */
export interface AdvertisedAddress {
  readonly host: string;
  readonly port: number;
}

export interface ConnectionInfo {
  readonly listenerName: string;
  readonly advertised: AdvertisedAddress;
  readonly remoteAddress: string;
}

export interface BrokerContext {
  readonly settings: BrokerSettings;
  readonly topics: TopicManager;
  /** Idempotent producers: producer ids for InitProducerId, per-partition sequence state for Produce. */
  readonly producers: Producers;
  /** The group coordinator: consumer groups and committed offsets. */
  readonly groups: GroupCoordinator;
  readonly registry: ApiRegistry;
  /** Keys of the APIs that have a handler (only those are advertised). */
  readonly implementedKeys: ReadonlySet<number>;
  /** Topic-level configs and broker configs for DescribeConfigs. */
  readonly describeBrokerConfigs: () => BrokerConfigEntry[];
  readonly validateTopicConfig: (name: string, value: string) => string | null;
  /** Calls back once when the broker begins shutting down (long polls return early); returns an unsubscribe. */
  readonly onClosing: (callback: () => void) => () => void;
  readonly log: (line: string) => void;
}

export interface BrokerConfigEntry {
  readonly name: string;
  readonly value: string | null;
  readonly readOnly: boolean;
  readonly isDefault: boolean;
  readonly isSensitive: boolean;
}

export interface RequestContext {
  readonly broker: BrokerContext;
  readonly connection: ConnectionInfo;
  readonly header: RequestHeader;
  readonly apiVersion: number;
  /**
   * Runs `callback` once the response has been written to the socket (never when it is dropped:
   * the connection closed first, or the write failed). For handing buffers the response refers
   * to back to their pool.
   */
  readonly afterWrite?: (callback: () => void) => void;
}

export type HandlerResult = Message | null;

export interface Handler {
  readonly apiKey: number;
  /** Returns the response body, or null when no response is sent (Produce with acks=0). */
  handle(context: RequestContext, request: Message): HandlerResult | Promise<HandlerResult>;
}
