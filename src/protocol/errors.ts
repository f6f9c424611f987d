/**
 * Kafka protocol error codes: every code a broker can put in an `errorCode` field, by the name
 * Kafka gives it. Numbers and the retriable flag follow Apache Kafka's error table (a code is
 * retriable when Kafka's client maps it to a retriable exception, so a client may simply try
 * the same request again, usually after refreshing metadata). Descriptions are our own.
 */

export interface ErrorInfo {
  readonly code: number;
  /** Whether a client may retry the same request and expect it to succeed eventually. */
  readonly retriable: boolean;
  /** One line, in our words. */
  readonly description: string;
}

export const errors = {
  UNKNOWN_SERVER_ERROR: { code: -1, retriable: false, description: 'The broker hit an unexpected problem while handling the request.' },
  NONE: { code: 0, retriable: false, description: 'No error.' },
  OFFSET_OUT_OF_RANGE: { code: 1, retriable: false, description: 'The requested offset is below the log start offset or above the log end offset.' },
  CORRUPT_MESSAGE: { code: 2, retriable: true, description: 'A record batch failed its CRC check, has impossible lengths, or is otherwise malformed.' },
  UNKNOWN_TOPIC_OR_PARTITION: { code: 3, retriable: true, description: 'The topic or partition does not exist on this broker.' },
  INVALID_FETCH_SIZE: { code: 4, retriable: false, description: 'The fetch size asked for is not acceptable.' },
  LEADER_NOT_AVAILABLE: { code: 5, retriable: true, description: 'The partition has no leader right now (for example while a topic is being created).' },
  NOT_LEADER_OR_FOLLOWER: { code: 6, retriable: true, description: 'This broker is not the leader (or, for follower fetches, a replica) of the partition.' },
  REQUEST_TIMED_OUT: { code: 7, retriable: true, description: 'The operation did not complete within the time the request allowed.' },
  BROKER_NOT_AVAILABLE: { code: 8, retriable: false, description: 'The broker is not available.' },
  REPLICA_NOT_AVAILABLE: { code: 9, retriable: true, description: 'A replica of the partition is not available on the broker asked.' },
  MESSAGE_TOO_LARGE: { code: 10, retriable: false, description: 'A record batch is larger than the broker or topic accepts (max.message.bytes).' },
  STALE_CONTROLLER_EPOCH: { code: 11, retriable: false, description: 'The request came from a controller that has since been replaced.' },
  OFFSET_METADATA_TOO_LARGE: { code: 12, retriable: false, description: 'The metadata string of an offset commit is longer than allowed.' },
  NETWORK_EXCEPTION: { code: 13, retriable: true, description: 'The connection failed before a response arrived.' },
  COORDINATOR_LOAD_IN_PROGRESS: { code: 14, retriable: true, description: 'The coordinator is still loading its state and cannot answer yet.' },
  COORDINATOR_NOT_AVAILABLE: { code: 15, retriable: true, description: 'No coordinator is available for the group or transaction right now.' },
  NOT_COORDINATOR: { code: 16, retriable: true, description: 'This broker is not the coordinator for the group or transaction.' },
  INVALID_TOPIC_EXCEPTION: { code: 17, retriable: false, description: 'The topic name is not valid, or the operation is not allowed on that topic.' },
  RECORD_LIST_TOO_LARGE: { code: 18, retriable: false, description: 'The records sent to one partition exceed the size of a log segment.' },
  NOT_ENOUGH_REPLICAS: { code: 19, retriable: true, description: 'Fewer in-sync replicas than min.insync.replicas; the records were not written.' },
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: { code: 20, retriable: true, description: 'The records were written, but to fewer in-sync replicas than required.' },
  INVALID_REQUIRED_ACKS: { code: 21, retriable: false, description: 'The acks value of a produce request is not -1, 0 or 1.' },
  ILLEGAL_GENERATION: { code: 22, retriable: false, description: 'The group generation in the request is not the current one.' },
  INCONSISTENT_GROUP_PROTOCOL: { code: 23, retriable: false, description: "The member's protocol type or protocols do not match the group's." },
  INVALID_GROUP_ID: { code: 24, retriable: false, description: 'The group id is empty or otherwise not acceptable.' },
  UNKNOWN_MEMBER_ID: { code: 25, retriable: false, description: 'The coordinator does not know this member id in this group.' },
  INVALID_SESSION_TIMEOUT: { code: 26, retriable: false, description: "The session timeout is outside the broker's allowed range." },
  REBALANCE_IN_PROGRESS: { code: 27, retriable: false, description: 'The group is rebalancing; the member must join again.' },
  INVALID_COMMIT_OFFSET_SIZE: { code: 28, retriable: false, description: 'The offset commit is too large to store.' },
  TOPIC_AUTHORIZATION_FAILED: { code: 29, retriable: false, description: 'The client is not allowed to perform this operation on the topic.' },
  GROUP_AUTHORIZATION_FAILED: { code: 30, retriable: false, description: 'The client is not allowed to perform this operation on the group.' },
  CLUSTER_AUTHORIZATION_FAILED: { code: 31, retriable: false, description: 'The client is not allowed to perform this operation on the cluster.' },
  INVALID_TIMESTAMP: { code: 32, retriable: false, description: 'A record timestamp is outside the range the topic accepts.' },
  UNSUPPORTED_SASL_MECHANISM: { code: 33, retriable: false, description: 'The broker does not offer the SASL mechanism asked for.' },
  ILLEGAL_SASL_STATE: { code: 34, retriable: false, description: 'The request is not allowed at this point of SASL authentication.' },
  UNSUPPORTED_VERSION: { code: 35, retriable: false, description: 'The broker does not implement this version of the API.' },
  TOPIC_ALREADY_EXISTS: { code: 36, retriable: false, description: 'A topic with this name already exists.' },
  INVALID_PARTITIONS: { code: 37, retriable: false, description: 'The partition count is not acceptable (below 1, or not above the current count).' },
  INVALID_REPLICATION_FACTOR: { code: 38, retriable: false, description: 'The replication factor is below 1 or above the number of brokers.' },
  INVALID_REPLICA_ASSIGNMENT: { code: 39, retriable: false, description: 'The manual replica assignment is not valid.' },
  INVALID_CONFIG: { code: 40, retriable: false, description: 'A configuration name or value is not valid.' },
  NOT_CONTROLLER: { code: 41, retriable: true, description: 'This broker is not the controller of the cluster.' },
  INVALID_REQUEST: { code: 42, retriable: false, description: 'The request is malformed or contradicts itself; see the error message if any.' },
  UNSUPPORTED_FOR_MESSAGE_FORMAT: { code: 43, retriable: false, description: "The request needs a newer record format than the topic's." },
  POLICY_VIOLATION: { code: 44, retriable: false, description: 'The request is refused by a broker-side policy.' },
  OUT_OF_ORDER_SEQUENCE_NUMBER: { code: 45, retriable: false, description: 'An idempotent producer sent a sequence number that skips ahead.' },
  DUPLICATE_SEQUENCE_NUMBER: { code: 46, retriable: false, description: 'An idempotent producer re-sent a batch the broker already has.' },
  INVALID_PRODUCER_EPOCH: { code: 47, retriable: false, description: 'The producer epoch is older than the current one for this producer id.' },
  INVALID_TXN_STATE: { code: 48, retriable: false, description: 'The transactional operation is not allowed in the current transaction state.' },
  INVALID_PRODUCER_ID_MAPPING: { code: 49, retriable: false, description: 'The producer id is not the one assigned to this transactional id.' },
  INVALID_TRANSACTION_TIMEOUT: { code: 50, retriable: false, description: 'The transaction timeout exceeds the broker maximum.' },
  CONCURRENT_TRANSACTIONS: { code: 51, retriable: true, description: 'Another operation on the same transaction is still in progress.' },
  TRANSACTION_COORDINATOR_FENCED: { code: 52, retriable: false, description: 'The transaction coordinator that sent the request has been superseded.' },
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: { code: 53, retriable: false, description: 'The client may not use this transactional id.' },
  SECURITY_DISABLED: { code: 54, retriable: false, description: 'Security features are turned off on this broker.' },
  OPERATION_NOT_ATTEMPTED: { code: 55, retriable: false, description: 'The broker skipped this operation because another part of the request failed.' },
  KAFKA_STORAGE_ERROR: { code: 56, retriable: true, description: 'A disk or log directory error on the broker.' },
  LOG_DIR_NOT_FOUND: { code: 57, retriable: false, description: 'The log directory named in the request is not configured.' },
  SASL_AUTHENTICATION_FAILED: { code: 58, retriable: false, description: 'SASL authentication failed.' },
  UNKNOWN_PRODUCER_ID: { code: 59, retriable: false, description: 'The broker has no state for this producer id (for example after it expired).' },
  REASSIGNMENT_IN_PROGRESS: { code: 60, retriable: false, description: 'A partition reassignment is under way.' },
  DELEGATION_TOKEN_AUTH_DISABLED: { code: 61, retriable: false, description: 'Delegation tokens are not enabled.' },
  DELEGATION_TOKEN_NOT_FOUND: { code: 62, retriable: false, description: 'No such delegation token.' },
  DELEGATION_TOKEN_OWNER_MISMATCH: { code: 63, retriable: false, description: 'The principal is not the owner or renewer of the token.' },
  DELEGATION_TOKEN_REQUEST_NOT_ALLOWED: { code: 64, retriable: false, description: 'Delegation token requests are not allowed on this kind of connection.' },
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: { code: 65, retriable: false, description: 'The client may not use delegation tokens.' },
  DELEGATION_TOKEN_EXPIRED: { code: 66, retriable: false, description: 'The delegation token has expired.' },
  INVALID_PRINCIPAL_TYPE: { code: 67, retriable: false, description: 'The principal type is not supported.' },
  NON_EMPTY_GROUP: { code: 68, retriable: false, description: 'The group still has members, so it cannot be deleted.' },
  GROUP_ID_NOT_FOUND: { code: 69, retriable: false, description: 'No group with this id exists.' },
  FETCH_SESSION_ID_NOT_FOUND: { code: 70, retriable: true, description: 'The fetch session id is unknown; start a new session (session id 0).' },
  INVALID_FETCH_SESSION_EPOCH: { code: 71, retriable: true, description: 'The fetch session epoch is not the one expected; start a new session.' },
  LISTENER_NOT_FOUND: { code: 72, retriable: true, description: 'The leader has no listener matching the one the request arrived on.' },
  TOPIC_DELETION_DISABLED: { code: 73, retriable: false, description: 'Topic deletion is turned off (delete.topic.enable=false).' },
  FENCED_LEADER_EPOCH: { code: 74, retriable: true, description: "The leader epoch in the request is older than the broker's." },
  UNKNOWN_LEADER_EPOCH: { code: 75, retriable: true, description: "The leader epoch in the request is newer than the broker's." },
  UNSUPPORTED_COMPRESSION_TYPE: { code: 76, retriable: false, description: 'The data uses a compression type the requesting client version cannot read.' },
  STALE_BROKER_EPOCH: { code: 77, retriable: false, description: 'The broker epoch in the request is out of date.' },
  OFFSET_NOT_AVAILABLE: { code: 78, retriable: true, description: 'The offset is not known yet (the high watermark has not caught up after a leader change).' },
  MEMBER_ID_REQUIRED: { code: 79, retriable: false, description: 'Join again using the member id given in this response.' },
  PREFERRED_LEADER_NOT_AVAILABLE: { code: 80, retriable: true, description: 'The preferred leader could not be elected.' },
  GROUP_MAX_SIZE_REACHED: { code: 81, retriable: false, description: 'The group already has as many members as group.max.size allows.' },
  FENCED_INSTANCE_ID: { code: 82, retriable: false, description: 'Another member with the same group instance id has replaced this one.' },
  ELIGIBLE_LEADERS_NOT_AVAILABLE: { code: 83, retriable: true, description: 'No eligible leader is available for the partition.' },
  ELECTION_NOT_NEEDED: { code: 84, retriable: true, description: 'The partition already has the leader the election would choose.' },
  NO_REASSIGNMENT_IN_PROGRESS: { code: 85, retriable: false, description: 'There is no partition reassignment to cancel.' },
  GROUP_SUBSCRIBED_TO_TOPIC: { code: 86, retriable: false, description: "Offsets of a topic cannot be deleted while the group is subscribed to it." },
  INVALID_RECORD: { code: 87, retriable: false, description: 'A record failed broker-side validation (for example a null key on a compacted topic).' },
  UNSTABLE_OFFSET_COMMIT: { code: 88, retriable: true, description: 'Offsets of an open transaction are pending; try again later.' },
  THROTTLING_QUOTA_EXCEEDED: { code: 89, retriable: true, description: 'The request would exceed a rate quota.' },
  PRODUCER_FENCED: { code: 90, retriable: false, description: 'A newer producer with the same transactional id has taken over.' },
  RESOURCE_NOT_FOUND: { code: 91, retriable: false, description: 'The request names a resource that does not exist.' },
  DUPLICATE_RESOURCE: { code: 92, retriable: false, description: 'The request names the same resource twice.' },
  UNACCEPTABLE_CREDENTIAL: { code: 93, retriable: false, description: 'The credential does not meet the acceptance criteria.' },
  INCONSISTENT_VOTER_SET: { code: 94, retriable: false, description: 'The sender or receiver is not in the expected set of quorum voters.' },
  INVALID_UPDATE_VERSION: { code: 95, retriable: false, description: 'The update version is not valid.' },
  FEATURE_UPDATE_FAILED: { code: 96, retriable: false, description: 'Finalized features could not be updated.' },
  PRINCIPAL_DESERIALIZATION_FAILURE: { code: 97, retriable: false, description: 'A forwarded request carried a principal that could not be read.' },
  SNAPSHOT_NOT_FOUND: { code: 98, retriable: false, description: 'The requested snapshot does not exist.' },
  POSITION_OUT_OF_RANGE: { code: 99, retriable: false, description: 'The position asked for lies outside the snapshot.' },
  UNKNOWN_TOPIC_ID: { code: 100, retriable: true, description: 'No topic with this topic id exists on this broker.' },
  DUPLICATE_BROKER_REGISTRATION: { code: 101, retriable: false, description: 'The broker id is already registered by another broker.' },
  BROKER_ID_NOT_REGISTERED: { code: 102, retriable: false, description: 'The broker id has not been registered.' },
  INCONSISTENT_TOPIC_ID: { code: 103, retriable: true, description: "The topic id in the request does not match the log's." },
  INCONSISTENT_CLUSTER_ID: { code: 104, retriable: false, description: "The cluster id in the request does not match the broker's." },
  TRANSACTIONAL_ID_NOT_FOUND: { code: 105, retriable: false, description: 'No such transactional id.' },
  FETCH_SESSION_TOPIC_ID_ERROR: { code: 106, retriable: true, description: 'The fetch session mixes topic ids and topic names inconsistently.' },
  INELIGIBLE_REPLICA: { code: 107, retriable: false, description: 'The proposed in-sync replica set contains an ineligible replica.' },
  NEW_LEADER_ELECTED: { code: 108, retriable: false, description: 'The partition state was updated but the leader changed meanwhile.' },
  OFFSET_MOVED_TO_TIERED_STORAGE: { code: 109, retriable: false, description: 'The offset is only available in tiered storage.' },
  FENCED_MEMBER_EPOCH: { code: 110, retriable: false, description: 'The member epoch is fenced; the member must rejoin the group.' },
  UNRELEASED_INSTANCE_ID: { code: 111, retriable: false, description: 'The group instance id is still held by another member.' },
  UNSUPPORTED_ASSIGNOR: { code: 112, retriable: false, description: 'The group does not support the requested assignor.' },
  STALE_MEMBER_EPOCH: { code: 113, retriable: false, description: 'The member epoch is stale; the member must learn its new epoch first.' },
  MISMATCHED_ENDPOINT_TYPE: { code: 114, retriable: false, description: 'The request was sent to the wrong kind of endpoint (broker or controller).' },
  UNSUPPORTED_ENDPOINT_TYPE: { code: 115, retriable: false, description: 'This kind of endpoint is not supported yet.' },
  UNKNOWN_CONTROLLER_ID: { code: 116, retriable: false, description: 'No controller with this id is known.' },
  UNKNOWN_SUBSCRIPTION_ID: { code: 117, retriable: false, description: 'The telemetry subscription id is unknown or out of date.' },
  TELEMETRY_TOO_LARGE: { code: 118, retriable: false, description: 'The telemetry payload is larger than the broker accepts.' },
  INVALID_REGISTRATION: { code: 119, retriable: false, description: 'The controller considers the broker registration invalid.' },
  TRANSACTION_ABORTABLE: { code: 120, retriable: false, description: 'The transaction hit an error; the client can abort it and carry on.' },
  INVALID_RECORD_STATE: { code: 121, retriable: false, description: 'The record is not in a state that allows this acknowledgement.' },
  SHARE_SESSION_NOT_FOUND: { code: 122, retriable: true, description: 'The share session id is unknown.' },
  INVALID_SHARE_SESSION_EPOCH: { code: 123, retriable: true, description: 'The share session epoch is not the one expected.' },
  FENCED_STATE_EPOCH: { code: 124, retriable: false, description: 'The share-group state epoch does not match.' },
  INVALID_VOTER_KEY: { code: 125, retriable: false, description: "The voter key does not match the receiving replica's." },
  DUPLICATE_VOTER: { code: 126, retriable: false, description: 'The voter is already in the voter set.' },
  VOTER_NOT_FOUND: { code: 127, retriable: false, description: 'The voter is not in the voter set.' },
  INVALID_REGULAR_EXPRESSION: { code: 128, retriable: false, description: 'The regular expression is not valid.' },
} as const satisfies Record<string, ErrorInfo>;

/** The name of a Kafka error code, e.g. "UNKNOWN_TOPIC_OR_PARTITION". */
export type ErrorName = keyof typeof errors;

const nameByCode = new Map<number, ErrorName>();
for (const [name, info] of Object.entries(errors) as [ErrorName, ErrorInfo][]) {
  if (nameByCode.has(info.code)) throw new Error(`error code ${info.code} is listed twice`);
  nameByCode.set(info.code, name);
}

export function isErrorName(name: string): name is ErrorName {
  return Object.hasOwn(errors, name);
}

/**
 * The numeric code of an error name. Accepts any string so that names can be carried in
 * variables, but throws for a name that is not in the table (a typo is a bug, not a runtime
 * condition to paper over).
 */
export function errorCode(name: ErrorName | (string & {})): number {
  if (!isErrorName(name)) throw new Error(`unknown Kafka error name ${JSON.stringify(name)}`);
  return errors[name].code;
}

/** The name of a numeric error code, or undefined when Kafka defines no such code. */
export function errorName(code: number): ErrorName | undefined {
  return nameByCode.get(code);
}

/** The table entry for a name or a code; undefined when unknown. */
export function errorInfo(nameOrCode: string | number): (ErrorInfo & { name: ErrorName }) | undefined {
  const name = typeof nameOrCode === 'number' ? errorName(nameOrCode) : isErrorName(nameOrCode) ? nameOrCode : undefined;
  return name === undefined ? undefined : { name, ...errors[name] };
}

/** Every error, ordered by code. */
export function allErrors(): (ErrorInfo & { name: ErrorName })[] {
  return [...nameByCode.entries()].sort((a, b) => a[0] - b[0]).map(([, name]) => ({ name, ...errors[name] }));
}
