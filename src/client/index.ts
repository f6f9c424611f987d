/** The bundled client: Producer, Consumer, Admin and the types they take and give. */
export { Producer, type ProducerOptions, type ProducerRecord, type RecordMetadata, type RecordData, type RecordHeader, type Acks } from './producer.js';
export {
  Consumer,
  type ConsumerOptions,
  type ConsumerRecord,
  type ReceivedHeader,
  type PartitionAssignment,
  type RecordBatch,
  type RunHandlers,
  type StartOffset,
  type OffsetResetPolicy,
  type TopicPartition,
  type OffsetToCommit,
  type RebalanceEvent,
  type ConsumerGroupMetadata,
} from './consumer.js';
export {
  Admin,
  type NewTopic,
  type CreateTopicsOptions,
  type TopicDescription,
  type ConfigEntry,
  type ConfigResourceType,
  type ClusterDescription,
  type GroupListing,
  type GroupDescription,
  type GroupMemberDescription,
  type CommittedOffset,
  type OffsetReset,
  type OffsetSpec,
  type ListedOffset,
  type OffsetToAlter,
} from './admin.js';
export type { PartitionInfo } from './cluster.js';
export { KafkaError, type KafkaErrorName } from './errors.js';
export type { ClientOptions, TlsOptions, Logger, LogLevel } from './options.js';
export type { CompressionType } from './compression.js';
export type { AssignorName } from './assignors.js';
