/**
 * The consumer protocol's subscription (ConsumerProtocolSubscription), the metadata a member of
 * a "consumer" group sends with each assignor in JoinGroup. The coordinator never needs it to
 * run a rebalance; it reads the topics only to know which topics a group consumes (OffsetDelete
 * refuses to drop offsets of those, and retention keeps them).
 *
 *   v0: version int16, topics [string], userData nullable bytes
 *   v1: + ownedPartitions [topic string, partitions [int32]]
 *   v2: + generationId int32
 *   v3: + rackId nullable string
 *
 * As Kafka does, it is read leniently: the v0 fields must be there (whatever the version says,
 * later versions only append), fields of later versions are read when present, and trailing
 * bytes are ignored. A subscription whose v0 part does not parse yields null.
 */
import { Reader } from '../../protocol/reader.js';

export const consumerProtocolType = 'consumer';

export interface Subscription {
  readonly version: number;
  readonly topics: string[];
  readonly userData: Buffer | null;
  readonly ownedPartitions: { topic: string; partitions: number[] }[];
  readonly generationId: number;
  readonly rackId: string | null;
}

/** Smallest encoded string: its int16 length. */
const stringBytesMin = 2;
/** Smallest owned-partitions entry: a topic string and an empty int32 array. */
const ownedEntryBytesMin = stringBytesMin + 4;

export function parseSubscription(metadata: Buffer): Subscription | null {
  const reader = new Reader(metadata);
  const version = reader.int16();
  const topicCount = reader.arrayLength(false, stringBytesMin);
  const topics: string[] = [];
  for (let i = 0; i < topicCount && !reader.failed; i++) topics.push(reader.string());
  const userData = reader.nullableBytes();
  if (!reader.complete() || version < 0 || topicCount < 0) return null;
  const subscription: Subscription = { version, topics, userData: userData && Buffer.from(userData), ownedPartitions: [], generationId: -1, rackId: null };
  if (version < 1 || reader.remaining === 0) return subscription;
  const owned = readOwnedPartitions(reader);
  if (owned === null) return subscription;
  if (version < 2 || reader.remaining < 4) return { ...subscription, ownedPartitions: owned };
  const generationId = reader.int32();
  if (version < 3 || reader.remaining < 2) return { ...subscription, ownedPartitions: owned, generationId };
  const rackId = reader.nullableString();
  return { ...subscription, ownedPartitions: owned, generationId, rackId: reader.complete() ? rackId : null };
}

function readOwnedPartitions(reader: Reader): { topic: string; partitions: number[] }[] | null {
  const count = reader.arrayLength(false, ownedEntryBytesMin);
  const out: { topic: string; partitions: number[] }[] = [];
  for (let i = 0; i < count && !reader.failed; i++) {
    const topic = reader.string();
    const partitionCount = reader.arrayLength(false, 4);
    const partitions: number[] = [];
    for (let p = 0; p < partitionCount && !reader.failed; p++) partitions.push(reader.int32());
    out.push({ topic, partitions });
  }
  return reader.complete() && count >= 0 ? out : null;
}

/**
 * The topics a consumer group's members subscribe to, read from each member's metadata for the
 * group's protocol; null when any member's subscription cannot be read (then every topic counts
 * as subscribed, to be safe).
 */
export function subscribedTopics(memberMetadata: Iterable<Buffer>): Set<string> | null {
  const topics = new Set<string>();
  for (const metadata of memberMetadata) {
    const subscription = parseSubscription(metadata);
    if (subscription === null) return null;
    for (const topic of subscription.topics) topics.add(topic);
  }
  return topics;
}
