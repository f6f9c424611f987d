/**
 * The numbers idempotent production lives by: Kafka's sequence and epoch ranges, how many batches
 * of each producer are remembered, and the bounds we add so that producer state cannot grow
 * without limit. Relations between them are asserted here, where they are defined.
 */
import assert from 'node:assert/strict';

/** Sequence numbers are int32 and wrap from this back to 0 (Kafka's Integer.MAX_VALUE). */
export const sequenceMax = 2 ** 31 - 1;
/** Producer epochs are int16. */
export const epochMax = 2 ** 15 - 1;
/**
 * An epoch at or above this is exhausted: bumping it would reach the int16 limit, so the producer
 * gets a fresh id instead (Kafka's TransactionMetadata.isEpochExhausted: epoch >= Short.MAX_VALUE - 1).
 */
export const epochExhausted = epochMax - 1;
/** "No producer id" and "no epoch" on the wire. */
export const noProducerId = -1n;
export const noProducerEpoch = -1;

/**
 * Batches remembered per producer and partition, so that a retry of any of them is recognised:
 * Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN, which is also why clients allow at most 5
 * requests in flight per connection with idempotence.
 */
export const batchesRetained = 5;

/** Ids in one block reserved on disk at a time (Kafka's ProducerIdManager uses blocks of 1000). */
export const producerIdBlockSize = 1000;

/**
 * Producer ids whose highest epoch the broker remembers for InitProducerId epoch bumps; the least
 * recently used are forgotten first (a forgotten id still gets a correct, if smaller, bump).
 */
export const epochsTrackedMax = 100_000;

/** Largest producer-state snapshot file read back (10 000 producers of 5 batches take about 2 MiB). */
export const snapshotBytesMax = 64 * 1024 * 1024;
/** Snapshots kept per partition: the newest, and the one before it in case the newest is ahead of a log cut back by a crash. */
export const snapshotsKeptPerPartition = 2;
/** Bytes of log read at a time while rebuilding producer state from batch headers. */
export const replayReadBytes = 1024 * 1024;
/** Default bound on producer ids tracked per partition (Kafka has none); the least recently active are evicted. */
export const producersPerPartitionMaxDefault = 10_000;
/** Upper bound a configuration may set for producersPerPartitionMax. */
export const producersPerPartitionMaxLimit = 1_000_000;

assert.ok(epochExhausted < epochMax, 'an exhausted epoch can still be used once');
assert.ok(batchesRetained >= 1, 'at least the last batch is remembered');
assert.ok(producerIdBlockSize >= 1 && Number.isSafeInteger(producerIdBlockSize), 'an id block holds ids');
assert.ok(snapshotsKeptPerPartition >= 2, 'a fallback snapshot is kept');
assert.ok(producersPerPartitionMaxDefault <= producersPerPartitionMaxLimit, 'the default bound is within the limit');
