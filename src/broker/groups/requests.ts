/** What the group handlers ask the coordinator, and what it answers, once decoded from the wire. */
import type { ErrorName } from '../../protocol/errors.js';

export interface SyncRequest {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  /** v5+: must match the group's; null in earlier versions. */
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignments: readonly { memberId: string; assignment: Buffer }[];
}

export interface MemberIdentity {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export interface LeaveResult {
  readonly error: ErrorName;
  readonly members: readonly (MemberIdentity & { error: ErrorName })[];
}

/** One partition of an OffsetCommit, before the coordinator fills in defaults. */
export interface CommitEntry {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string | null;
  /** OffsetCommit v1's per-partition timestamp, or -1 for now. */
  readonly commitTimestamp: number;
}

export interface CommitRequest {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  /** OffsetCommit v2-v4's retention time, or -1 for the broker's. */
  readonly retentionTimeMs: number;
  readonly entries: readonly CommitEntry[];
}

export interface FetchedOffset {
  readonly partition: number;
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly error: ErrorName;
}

export interface FetchResult {
  readonly error: ErrorName;
  readonly topics: readonly { name: string; partitions: FetchedOffset[] }[];
}

export interface GroupDescription {
  readonly error: ErrorName;
  readonly groupId: string;
  readonly state: string;
  readonly protocolType: string;
  readonly protocolData: string;
  readonly members: readonly {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    metadata: Buffer;
    assignment: Buffer;
  }[];
}

export interface GroupOverview {
  readonly groupId: string;
  readonly protocolType: string;
  readonly state: string;
}
