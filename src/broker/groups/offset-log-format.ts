/**
 * The records of the offset log: our own key/value encoding, carried in ordinary uncompressed
 * RecordBatch v2 batches (built with protocol/record-batch.ts) so that the log is stored and
 * recovered like any partition.
 *
 * Integers are big-endian. `string` is an int16 length then UTF-8; `nullable string` uses
 * length -1 for null; `bytes` is an int32 length then the bytes (-1 for null). Every key starts
 * with an int16 record type; every value starts with an int16 value version (0 for all types
 * today). A record whose value is null is a tombstone.
 *
 *   type 0  log start    key: type, int64 epoch
 *                        value: version, int64 createdMs
 *   type 1  offset       key: type, string group, string topic, int32 partition
 *                        value: version, int64 offset, int32 leaderEpoch, bytes metadata (UTF-8),
 *                               int64 commitTimestampMs, int64 expireTimestampMs (-1: none)
 *                        tombstone: the offset was deleted (DeleteGroups, OffsetDelete, expiry)
 *   type 2  group        key: type, string group
 *                        value: version, nullable string protocolType, int32 generationId,
 *                               nullable string protocolName, nullable string leaderId,
 *                               int64 stateTimestampMs, int32 memberCount, then per member:
 *                               string memberId, nullable string groupInstanceId,
 *                               string clientId, string clientHost, int32 rebalanceTimeoutMs,
 *                               int32 sessionTimeoutMs, bytes subscription (the metadata for
 *                               protocolName), bytes assignment
 *                        tombstone: the group was deleted
 *   type 3  snapshot end key: type, int64 epoch
 *                        value: version, int64 records in the snapshot
 *
 * A log begins with a log-start record, then a snapshot of the whole state (group and offset
 * records), then a snapshot-end record with the same epoch; after that come the records of
 * changes as they happen. A log without its snapshot end is incomplete and ignored.
 */
import { Reader } from '../../protocol/reader.js';
import { Writer } from '../../protocol/writer.js';
import { attributesAt, batchHeaderBytes, batchMagic, compressionMask, compressionNone, crcAt, magicAt, recordCountAt } from '../../protocol/record-batch.js';
import { crc32c } from '../../protocol/crc32c.js';
import type { CommittedOffset } from './group.js';

export const recordTypes = { logStart: 0, offset: 1, group: 2, snapshotEnd: 3 } as const;
const valueVersion = 0;

export interface StoredMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly subscription: Buffer;
  readonly assignment: Buffer;
}

export interface StoredGroup {
  readonly protocolType: string | null;
  readonly generationId: number;
  readonly protocolName: string | null;
  readonly leaderId: string | null;
  readonly stateTimestamp: number;
  readonly members: readonly StoredMember[];
}

export type LogRecord =
  | { readonly type: 'logStart'; readonly epoch: number; readonly createdMs: number }
  | { readonly type: 'offset'; readonly group: string; readonly topic: string; readonly partition: number; readonly value: CommittedOffset | null }
  | { readonly type: 'group'; readonly group: string; readonly value: StoredGroup | null }
  | { readonly type: 'snapshotEnd'; readonly epoch: number; readonly records: number };

export interface EncodedRecord {
  readonly key: Buffer;
  readonly value: Buffer | null;
}

function int64(value: number): bigint {
  return BigInt(Math.trunc(value));
}

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

export function encodeRecord(record: LogRecord): EncodedRecord {
  const key = new Writer(64);
  switch (record.type) {
    case 'logStart':
      key.int16(recordTypes.logStart).int64(int64(record.epoch));
      return { key: key.toBuffer(), value: new Writer(16).int16(valueVersion).int64(int64(record.createdMs)).toBuffer() };
    case 'snapshotEnd':
      key.int16(recordTypes.snapshotEnd).int64(int64(record.epoch));
      return { key: key.toBuffer(), value: new Writer(16).int16(valueVersion).int64(int64(record.records)).toBuffer() };
    case 'offset': {
      key.int16(recordTypes.offset).string(record.group).string(record.topic).int32(record.partition);
      const v = record.value;
      if (v === null) return { key: key.toBuffer(), value: null };
      const value = new Writer(64)
        .int16(valueVersion)
        .int64(int64(v.offset))
        .int32(v.leaderEpoch)
        .nullableBytes(utf8(v.metadata))
        .int64(int64(v.commitTimestamp))
        .int64(int64(v.expireTimestamp));
      return { key: key.toBuffer(), value: value.toBuffer() };
    }
    case 'group': {
      key.int16(recordTypes.group).string(record.group);
      const v = record.value;
      if (v === null) return { key: key.toBuffer(), value: null };
      const value = new Writer(256)
        .int16(valueVersion)
        .nullableString(v.protocolType)
        .int32(v.generationId)
        .nullableString(v.protocolName)
        .nullableString(v.leaderId)
        .int64(int64(v.stateTimestamp))
        .int32(v.members.length);
      for (const m of v.members) {
        value
          .string(m.memberId)
          .nullableString(m.groupInstanceId)
          .string(m.clientId)
          .string(m.clientHost)
          .int32(m.rebalanceTimeoutMs)
          .int32(m.sessionTimeoutMs)
          .nullableBytes(m.subscription)
          .nullableBytes(m.assignment);
      }
      return { key: key.toBuffer(), value: value.toBuffer() };
    }
  }
}

/** Smallest encoded member: four empty strings, two int32s and two empty byte arrays. */
const storedMemberBytesMin = 4 * 2 + 2 * 4 + 2 * 4;

/** Decodes one record; returns a reason string when it is not one of ours. */
export function decodeRecord(key: Buffer, value: Buffer | null): LogRecord | string {
  const k = new Reader(key);
  const type = k.int16();
  let record: LogRecord | string;
  switch (type) {
    case recordTypes.logStart:
    case recordTypes.snapshotEnd: {
      const epoch = Number(k.int64());
      if (value === null) return `record type ${type} without a value`;
      const v = new Reader(value);
      if (v.int16() !== valueVersion) return `record type ${type} has an unknown value version`;
      const count = Number(v.int64());
      if (!v.complete(true)) return `record type ${type} has a malformed value`;
      record = type === recordTypes.logStart ? { type: 'logStart', epoch, createdMs: count } : { type: 'snapshotEnd', epoch, records: count };
      break;
    }
    case recordTypes.offset: {
      const group = k.string();
      const topic = k.string();
      const partition = k.int32();
      record = { type: 'offset', group, topic, partition, value: value === null ? null : decodeOffset(value, topic, partition) };
      if (value !== null && record.value === null) return 'malformed offset value';
      break;
    }
    case recordTypes.group: {
      const group = k.string();
      record = { type: 'group', group, value: value === null ? null : decodeGroup(value) };
      if (value !== null && record.value === null) return 'malformed group value';
      break;
    }
    default:
      return `unknown record type ${type}`;
  }
  return k.complete(true) ? record : `malformed key of record type ${type}`;
}

function decodeOffset(value: Buffer, topic: string, partition: number): CommittedOffset | null {
  const v = new Reader(value);
  if (v.int16() !== valueVersion) return null;
  const offset = Number(v.int64());
  const leaderEpoch = v.int32();
  const metadata = v.nullableBytes();
  const commitTimestamp = Number(v.int64());
  const expireTimestamp = Number(v.int64());
  if (!v.complete(true)) return null;
  return { topic, partition, offset, leaderEpoch, metadata: metadata === null ? '' : metadata.toString('utf8'), commitTimestamp, expireTimestamp };
}

function decodeGroup(value: Buffer): StoredGroup | null {
  const v = new Reader(value);
  if (v.int16() !== valueVersion) return null;
  const protocolType = v.nullableString();
  const generationId = v.int32();
  const protocolName = v.nullableString();
  const leaderId = v.nullableString();
  const stateTimestamp = Number(v.int64());
  const count = v.arrayLength(false, storedMemberBytesMin);
  const members: StoredMember[] = [];
  for (let i = 0; i < count && !v.failed; i++) {
    const memberId = v.string();
    const groupInstanceId = v.nullableString();
    const clientId = v.string();
    const clientHost = v.string();
    const rebalanceTimeoutMs = v.int32();
    const sessionTimeoutMs = v.int32();
    const subscription = v.nullableBytes();
    const assignment = v.nullableBytes();
    members.push({
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      rebalanceTimeoutMs,
      sessionTimeoutMs,
      subscription: Buffer.from(subscription ?? []),
      assignment: Buffer.from(assignment ?? []),
    });
  }
  if (!v.complete(true) || count < 0) return null;
  return { protocolType, generationId, protocolName, leaderId, stateTimestamp, members };
}

export interface BatchRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

/**
 * The records of one stored batch of the offset log, or a reason it cannot be read. Only what
 * we write is accepted: magic 2, uncompressed, a correct CRC.
 */
export function readBatchRecords(batch: Buffer): BatchRecord[] | string {
  if (batch.length < batchHeaderBytes) return `a batch of ${batch.length} bytes is shorter than its header`;
  if (batch.readInt8(magicAt) !== batchMagic) return `batch magic ${batch.readInt8(magicAt)}`;
  if ((batch.readUInt16BE(attributesAt) & compressionMask) !== compressionNone) return 'a compressed batch';
  if (crc32c(batch.subarray(attributesAt)) !== batch.readUInt32BE(crcAt)) return 'a batch with a bad CRC';
  const count = batch.readInt32BE(recordCountAt);
  const reader = new Reader(batch, batchHeaderBytes);
  const out: BatchRecord[] = [];
  for (let i = 0; i < count && !reader.failed; i++) {
    const length = reader.varint();
    const end = reader.offset + length;
    if (length < 0 || end > batch.length) return `record ${i} does not fit in its batch`;
    reader.int8();
    reader.varlong();
    reader.varint();
    const key = sized(reader);
    const value = sized(reader);
    reader.offset = end;
    out.push({ key, value });
  }
  return reader.complete() ? out : `records cut short: ${reader.failure}`;
}

function sized(reader: Reader): Buffer | null {
  const length = reader.varint();
  return length < 0 ? null : reader.bytesOf(length);
}
