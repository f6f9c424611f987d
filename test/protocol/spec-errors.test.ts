import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allErrors, errorCode, errorInfo, errorName, errors, isErrorName } from '../../src/protocol/errors.js';

/** Codes checked against Apache Kafka's error table (org.apache.kafka.common.protocol.Errors). */
const kafka: [string, number, boolean][] = [
  ['UNKNOWN_SERVER_ERROR', -1, false],
  ['NONE', 0, false],
  ['OFFSET_OUT_OF_RANGE', 1, false],
  ['CORRUPT_MESSAGE', 2, true],
  ['UNKNOWN_TOPIC_OR_PARTITION', 3, true],
  ['INVALID_FETCH_SIZE', 4, false],
  ['LEADER_NOT_AVAILABLE', 5, true],
  ['NOT_LEADER_OR_FOLLOWER', 6, true],
  ['REQUEST_TIMED_OUT', 7, true],
  ['MESSAGE_TOO_LARGE', 10, false],
  ['COORDINATOR_LOAD_IN_PROGRESS', 14, true],
  ['COORDINATOR_NOT_AVAILABLE', 15, true],
  ['NOT_COORDINATOR', 16, true],
  ['INVALID_TOPIC_EXCEPTION', 17, false],
  ['RECORD_LIST_TOO_LARGE', 18, false],
  ['NOT_ENOUGH_REPLICAS', 19, true],
  ['INVALID_REQUIRED_ACKS', 21, false],
  ['ILLEGAL_GENERATION', 22, false],
  ['INCONSISTENT_GROUP_PROTOCOL', 23, false],
  ['INVALID_GROUP_ID', 24, false],
  ['UNKNOWN_MEMBER_ID', 25, false],
  ['INVALID_SESSION_TIMEOUT', 26, false],
  ['REBALANCE_IN_PROGRESS', 27, false],
  ['INVALID_COMMIT_OFFSET_SIZE', 28, false],
  ['TOPIC_AUTHORIZATION_FAILED', 29, false],
  ['GROUP_AUTHORIZATION_FAILED', 30, false],
  ['CLUSTER_AUTHORIZATION_FAILED', 31, false],
  ['INVALID_TIMESTAMP', 32, false],
  ['UNSUPPORTED_VERSION', 35, false],
  ['TOPIC_ALREADY_EXISTS', 36, false],
  ['INVALID_PARTITIONS', 37, false],
  ['INVALID_REPLICATION_FACTOR', 38, false],
  ['INVALID_REPLICA_ASSIGNMENT', 39, false],
  ['INVALID_CONFIG', 40, false],
  ['NOT_CONTROLLER', 41, true],
  ['INVALID_REQUEST', 42, false],
  ['UNSUPPORTED_FOR_MESSAGE_FORMAT', 43, false],
  ['POLICY_VIOLATION', 44, false],
  ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45, false],
  ['DUPLICATE_SEQUENCE_NUMBER', 46, false],
  ['INVALID_PRODUCER_EPOCH', 47, false],
  ['INVALID_TXN_STATE', 48, false],
  ['INVALID_PRODUCER_ID_MAPPING', 49, false],
  ['INVALID_TRANSACTION_TIMEOUT', 50, false],
  ['CONCURRENT_TRANSACTIONS', 51, true],
  ['TRANSACTIONAL_ID_AUTHORIZATION_FAILED', 53, false],
  ['KAFKA_STORAGE_ERROR', 56, true],
  ['UNKNOWN_PRODUCER_ID', 59, false],
  ['NON_EMPTY_GROUP', 68, false],
  ['GROUP_ID_NOT_FOUND', 69, false],
  ['FETCH_SESSION_ID_NOT_FOUND', 70, true],
  ['INVALID_FETCH_SESSION_EPOCH', 71, true],
  ['TOPIC_DELETION_DISABLED', 73, false],
  ['FENCED_LEADER_EPOCH', 74, true],
  ['UNKNOWN_LEADER_EPOCH', 75, true],
  ['UNSUPPORTED_COMPRESSION_TYPE', 76, false],
  ['OFFSET_NOT_AVAILABLE', 78, true],
  ['MEMBER_ID_REQUIRED', 79, false],
  ['GROUP_MAX_SIZE_REACHED', 81, false],
  ['FENCED_INSTANCE_ID', 82, false],
  ['GROUP_SUBSCRIBED_TO_TOPIC', 86, false],
  ['INVALID_RECORD', 87, false],
  ['UNSTABLE_OFFSET_COMMIT', 88, true],
  ['THROTTLING_QUOTA_EXCEEDED', 89, true],
  ['PRODUCER_FENCED', 90, false],
  ['UNKNOWN_TOPIC_ID', 100, true],
  ['TRANSACTION_ABORTABLE', 120, false],
];

test('error codes and retriable flags match Kafka', () => {
  for (const [name, code, retriable] of kafka) {
    assert.equal(errorCode(name), code, name);
    assert.equal(errorName(code), name, String(code));
    assert.equal(errorInfo(name)?.retriable, retriable, `${name} retriable`);
  }
});

test('codes are unique, contiguous from -1 and every entry has a description', () => {
  const list = allErrors();
  assert.deepEqual(
    list.map((e) => e.code),
    Array.from({ length: list.length }, (_, i) => i - 1),
  );
  for (const e of list) {
    assert.match(e.name, /^[A-Z_]+$/);
    assert.ok(e.description.length > 5 && !e.description.includes('\n'), e.name);
    assert.equal(errors[e.name].code, e.code);
  }
});

test('unknown names throw and unknown codes have no name', () => {
  assert.throws(() => errorCode('NO_SUCH_ERROR'), /unknown Kafka error name/);
  assert.equal(errorName(9999), undefined);
  assert.equal(errorInfo(9999), undefined);
  assert.equal(isErrorName('toString'), false);
  assert.equal(errorInfo(3)?.name, 'UNKNOWN_TOPIC_OR_PARTITION');
});
