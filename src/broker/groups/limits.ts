/**
 * Every bound the group coordinator keeps, in one place, with the relations between them
 * checked when the module loads. Bounds that operators may want to change are broker configs
 * (group.max.size, offset.metadata.max.bytes, ...) and arrive in GroupSettings; these are the
 * fixed ones.
 */
import { partitionsTotalMax } from '../topics.js';

/** Groups the coordinator holds at once (with members, or only committed offsets). */
export const groupsMax = 100_000;
/** Bytes of a group id (UTF-8). Kafka has no limit of its own beyond the int16 string length. */
export const groupIdBytesMax = 1024;
/** Protocols (assignors) one member may offer in a JoinGroup. */
export const protocolsPerMemberMax = 64;
/** Bytes of one member's protocol metadata, summed over the protocols it offers. */
export const memberMetadataBytesMax = 1024 * 1024;
/** Bytes of the assignment the leader gives one member. */
export const assignmentBytesMax = 1024 * 1024;
/** Bytes of a group's member state: every member's protocol metadata and assignment. */
export const groupStateBytesMax = 64 * 1024 * 1024;
/** Committed offsets one group holds (one per partition; there are at most partitionsTotalMax partitions). */
export const offsetsPerGroupMax = partitionsTotalMax;
/** Committed offsets across all groups. */
export const offsetsTotalMax = 2_000_000;
/** Characters of the client id (or group instance id) that begin a generated member id, which must fit an int16 string. */
export const memberIdPrefixCharsMax = 255;
/** Upper bound on group.max.size. */
export const groupMembersLimit = 100_000;

/** How long a member that joined for the first time may wait in a rebalance (Kafka's NewMemberJoinTimeoutMs). */
export const newMemberJoinTimeoutMs = 5 * 60 * 1000;
/** Records in one batch of the offset log (a snapshot is written as several batches). */
export const offsetLogBatchRecordsMax = 1000;
/** Bytes of records gathered into one batch of the offset log before starting the next. */
export const offsetLogBatchBytesMax = 1024 * 1024;
/** Bytes read at a time while replaying the offset log. */
export const offsetLogReadBytes = 1024 * 1024;
/** Ring buffer of the offset log's partitions: the log is only read back at start-up. */
export const offsetLogRingBytes = 1024 * 1024;
/** The longest delay one setTimeout accepts; later deadlines are reached in steps. */
export const timerDelayMsMax = 2 ** 31 - 1;

if (groupStateBytesMax < memberMetadataBytesMax + assignmentBytesMax) throw new Error('a group must hold at least one member');
if (offsetsTotalMax < offsetsPerGroupMax) throw new Error('one group must be able to hold its offsets');
if (groupIdBytesMax > 0x7fff) throw new Error('group ids are int16-length strings on the wire and in the offset log');
if (offsetLogBatchBytesMax > offsetLogReadBytes) throw new Error('a replay read must cover an ordinary batch');
