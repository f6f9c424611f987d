/**
 * The consumer protocol carried inside JoinGroup and SyncGroup as opaque bytes: a member's
 * subscription (topics, user data, and from v1 the partitions it owns, which cooperative
 * rebalancing needs) and the assignment the leader hands each member. Java's client, librdkafka
 * and kafkajs all read and write these layouts; later versions only add fields at the end, so a
 * reader takes the fields its version has and ignores the rest.
 */
import { Reader } from '../protocol/reader.js';
import { Writer } from '../protocol/writer.js';

export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: number[];
}

export interface Subscription {
  readonly version: number;
  readonly topics: string[];
  readonly userData: Buffer | null;
  readonly ownedPartitions: TopicPartitions[];
}

export interface MemberAssignment {
  readonly version: number;
  readonly partitions: TopicPartitions[];
  readonly userData: Buffer | null;
}

export const subscriptionVersion = 1;
export const assignmentVersion = 1;

function writeTopicPartitions(writer: Writer, list: readonly TopicPartitions[]): void {
  writer.int32(list.length);
  for (const entry of list) {
    writer.string(entry.topic);
    writer.int32(entry.partitions.length);
    for (const partition of entry.partitions) writer.int32(partition);
  }
}

function readTopicPartitions(reader: Reader): TopicPartitions[] {
  const count = reader.arrayLength(false, 6);
  const out: TopicPartitions[] = [];
  for (let i = 0; i < count && !reader.failed; i++) {
    const topic = reader.string();
    const partitionCount = reader.arrayLength(false, 4);
    const partitions: number[] = [];
    for (let p = 0; p < partitionCount && !reader.failed; p++) partitions.push(reader.int32());
    out.push({ topic, partitions });
  }
  return out;
}

export function encodeSubscription(topics: readonly string[], ownedPartitions: readonly TopicPartitions[], userData: Buffer | null = null): Buffer {
  const writer = new Writer(128);
  writer.int16(subscriptionVersion);
  writer.int32(topics.length);
  for (const topic of topics) writer.string(topic);
  writer.nullableBytes(userData);
  writeTopicPartitions(writer, ownedPartitions);
  return writer.toBuffer();
}

export function decodeSubscription(bytes: Buffer): Subscription {
  const reader = new Reader(bytes);
  const version = reader.int16();
  const count = reader.arrayLength(false, 2);
  const topics: string[] = [];
  for (let i = 0; i < count && !reader.failed; i++) topics.push(reader.string());
  const userData = reader.remaining > 0 ? reader.nullableBytes() : null;
  const ownedPartitions = version >= 1 && reader.remaining > 0 ? readTopicPartitions(reader) : [];
  if (reader.failed) throw new Error(`malformed consumer subscription: ${reader.failure}`);
  return { version, topics, userData, ownedPartitions };
}

export function encodeMemberAssignment(partitions: readonly TopicPartitions[], userData: Buffer | null = null): Buffer {
  const writer = new Writer(128);
  writer.int16(assignmentVersion);
  writeTopicPartitions(writer, partitions);
  writer.nullableBytes(userData);
  return writer.toBuffer();
}

export function decodeMemberAssignment(bytes: Buffer): MemberAssignment {
  if (bytes.length === 0) return { version: 0, partitions: [], userData: null };
  const reader = new Reader(bytes);
  const version = reader.int16();
  const partitions = readTopicPartitions(reader);
  const userData = reader.remaining > 0 ? reader.nullableBytes() : null;
  if (reader.failed) throw new Error(`malformed consumer assignment: ${reader.failure}`);
  return { version, partitions, userData };
}
