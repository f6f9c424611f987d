/**
 * DeleteRecords (key 21), versions 0-2 (2 is flexible).
 * v1 changes nothing on the wire (throttling after the response); v2 is the first flexible version.
 *
 * Each partition's log start offset moves up to the requested offset (storage's
 * deleteRecordsBefore, which persists it and drops whole segments below it). As in Kafka's
 * Partition.deleteRecordsOnLeader: -1 means the high watermark; an offset above the high
 * watermark, or negative, is OFFSET_OUT_OF_RANGE; an offset at or below the log start offset
 * changes nothing and reports the current one. Partitions are handled concurrently; those not
 * done within timeout_ms are answered REQUEST_TIMED_OUT (the deletion still completes).
 * Idempotent producer state is kept (KIP-360): a producer whose batches were deleted carries on.
 */
import type { Handler, RequestContext } from '../context.js';
import type { Message } from '../../protocol/codec.js';
import { errorCode } from '../../protocol/errors.js';

/** Kafka's DeleteRecordsRequest.HIGH_WATERMARK. */
const highWatermark = -1n;

interface PartitionRequest {
  partitionIndex: number;
  offset: bigint;
}

interface TopicRequest {
  name: string;
  partitions: PartitionRequest[];
}

type Outcome = { lowWatermark: number } | { error: string };

function result(partitionIndex: number, outcome: Outcome): Message {
  if ('error' in outcome) return { partitionIndex, lowWatermark: -1n, errorCode: errorCode(outcome.error) };
  return { partitionIndex, lowWatermark: BigInt(outcome.lowWatermark), errorCode: 0 };
}

async function deleteBefore(context: RequestContext, topicName: string, request: PartitionRequest): Promise<Outcome> {
  const partition = context.broker.topics.partition(topicName, request.partitionIndex);
  if (!partition) return { error: 'UNKNOWN_TOPIC_OR_PARTITION' };
  const log = partition.log;
  const end = BigInt(log.logEndOffset);
  const target = request.offset === highWatermark ? end : request.offset;
  if (target < 0n || target > end) {
    context.broker.log(`DeleteRecords on ${topicName}-${request.partitionIndex}: offset ${request.offset} is outside 0..${end} (the high watermark)`);
    return { error: 'OFFSET_OUT_OF_RANGE' };
  }
  try {
    return { lowWatermark: await log.deleteRecordsBefore(Number(target)) };
  } catch (error) {
    if (error instanceof RangeError) return { error: 'OFFSET_OUT_OF_RANGE' };
    context.broker.log(`DeleteRecords on ${topicName}-${request.partitionIndex} failed: ${(error as Error).message}`);
    return { error: 'KAFKA_STORAGE_ERROR' };
  }
}

/** Resolves with `work`'s outcome, or REQUEST_TIMED_OUT once `timeout` settles first. */
function bounded(work: Promise<Outcome>, timeout: Promise<void> | null): Promise<Outcome> {
  if (timeout === null) return work;
  return Promise.race([work, timeout.then((): Outcome => ({ error: 'REQUEST_TIMED_OUT' }))]);
}

export const deleteRecordsHandler: Handler = {
  apiKey: 21,
  async handle(context, request) {
    const timeoutMs = request.timeoutMs as number;
    let timer: NodeJS.Timeout | undefined;
    const timeout = timeoutMs > 0 ? new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))) : null;
    try {
      const topics = await Promise.all(
        (request.topics as TopicRequest[]).map(async (topic) => ({
          name: topic.name,
          partitions: await Promise.all(
            topic.partitions.map(async (p) => result(p.partitionIndex, await bounded(deleteBefore(context, topic.name, p), timeout))),
          ),
        })),
      );
      return { throttleTimeMs: 0, topics };
    } finally {
      clearTimeout(timer);
    }
  },
};
