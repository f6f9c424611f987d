/**
 * Typed views of the decoded responses the client reads. The codecs (compiled from
 * protocol-spec/) produce plain objects with these field names; these interfaces name only the
 * fields the client uses, and fields absent from a version take the spec's default.
 */

export interface MetadataBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface MetadataPartition {
  errorCode: number;
  partitionIndex: number;
  leaderId: number;
  leaderEpoch: number;
  replicaNodes: number[];
  isrNodes: number[];
  offlineReplicas: number[];
}

export interface MetadataTopic {
  errorCode: number;
  name: string;
  isInternal: boolean;
  partitions: MetadataPartition[];
}

export interface MetadataResponse {
  brokers: MetadataBroker[];
  clusterId: string | null;
  controllerId: number;
  topics: MetadataTopic[];
}

export interface ProduceResponse {
  responses: {
    name: string;
    partitionResponses: { index: number; errorCode: number; baseOffset: bigint; logAppendTimeMs: bigint; logStartOffset: bigint }[];
  }[];
}

export interface FetchResponsePartition {
  partitionIndex: number;
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  abortedTransactions: { producerId: bigint; firstOffset: bigint }[] | null;
  records: Buffer | null;
}

export interface FetchResponse {
  errorCode: number;
  responses: { topic: string; partitions: FetchResponsePartition[] }[];
}

export interface ListOffsetsResponse {
  topics: { name: string; partitions: { partitionIndex: number; errorCode: number; timestamp: bigint; offset: bigint }[] }[];
}

export interface TopicErrorResult {
  name: string;
  errorCode: number;
  errorMessage?: string | null;
}

export interface CreateTopicsResponse {
  topics: TopicErrorResult[];
}

export interface DeleteTopicsResponse {
  responses: TopicErrorResult[];
}

export interface CreatePartitionsResponse {
  results: TopicErrorResult[];
}

export interface DescribeConfigsResponse {
  results: {
    errorCode: number;
    errorMessage: string | null;
    resourceType: number;
    resourceName: string;
    configs: { name: string; value: string | null; readOnly: boolean; isDefault: boolean; configSource: number; isSensitive: boolean }[];
  }[];
}

export interface FindCoordinatorResponse {
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}

export interface InitProducerIdResponse {
  errorCode: number;
  producerId: bigint;
  producerEpoch: number;
}

export interface JoinGroupResponse {
  errorCode: number;
  generationId: number;
  protocolName: string | null;
  leader: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncGroupResponse {
  errorCode: number;
  assignment: Buffer;
}

export interface ErrorCodeResponse {
  errorCode: number;
}

export interface LeaveGroupResponse {
  errorCode: number;
  /** v3+: one result per member named in the request. */
  members?: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export interface OffsetCommitResponse {
  topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];
}

export interface OffsetFetchResponse {
  errorCode: number;
  topics: { name: string; partitions: { partitionIndex: number; committedOffset: bigint; metadata: string | null; errorCode: number }[] }[];
}

export interface ListGroupsResponse {
  errorCode: number;
  groups: { groupId: string; protocolType: string; groupState: string }[];
}

export interface DescribeGroupsResponse {
  groups: {
    errorCode: number;
    groupId: string;
    groupState: string;
    protocolType: string;
    protocolData: string;
    members: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; memberMetadata: Buffer; memberAssignment: Buffer }[];
  }[];
}

export interface DeleteGroupsResponse {
  results: { groupId: string; errorCode: number }[];
}

export interface IncrementalAlterConfigsResponse {
  responses: { errorCode: number; errorMessage: string | null; resourceType: number; resourceName: string }[];
}

export interface DeleteRecordsResponse {
  topics: { name: string; partitions: { partitionIndex: number; lowWatermark: bigint; errorCode: number }[] }[];
}
