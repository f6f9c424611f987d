/**
 * ListOffsets (key 2), versions 1-5 (none flexible).
 * v1 returns one offset and its timestamp per partition; v2 adds isolation level and throttle
 * time; v4 adds the current leader epoch to the request and the leader epoch to the response.
 * Timestamp -2 asks for the earliest offset, -1 for the latest (the high watermark, which is
 * also the last stable offset without transactions); any other value asks for the first offset
 * whose record timestamp is at or after it (-1/-1 when there is none).
 */
import type { Handler } from '../context.js';
import type { Message } from '../../protocol/codec.js';
import { errorCode } from '../../protocol/errors.js';

const latestTimestamp = -1n;
const earliestTimestamp = -2n;

interface ListPartition {
  partitionIndex: number;
  timestamp: bigint;
}

interface ListTopic {
  name: string;
  partitions: ListPartition[];
}

export const listOffsetsHandler: Handler = {
  apiKey: 2,
  async handle(context, request) {
    const topics: Message[] = [];
    for (const requested of request.topics as ListTopic[]) {
      const topic = context.broker.topics.get(requested.name);
      const partitions: Message[] = [];
      topics.push({ name: requested.name, partitions });
      for (const p of requested.partitions) {
        const partition = topic?.partitions[p.partitionIndex];
        if (!partition) {
          partitions.push({ partitionIndex: p.partitionIndex, errorCode: errorCode('UNKNOWN_TOPIC_OR_PARTITION'), timestamp: -1n, offset: -1n, leaderEpoch: -1 });
          continue;
        }
        const log = partition.log;
        const answer = { partitionIndex: p.partitionIndex, errorCode: 0, timestamp: -1n, offset: -1n, leaderEpoch: 0 };
        if (p.timestamp === latestTimestamp) {
          answer.offset = BigInt(log.logEndOffset);
        } else if (p.timestamp === earliestTimestamp) {
          answer.offset = BigInt(log.logStartOffset);
        } else if (p.timestamp < 0n) {
          answer.errorCode = errorCode('INVALID_REQUEST');
        } else {
          const found = await log.offsetForTimestamp(Number(p.timestamp));
          if (found) {
            answer.offset = BigInt(found.offset);
            answer.timestamp = BigInt(found.timestamp);
          }
        }
        partitions.push(answer);
      }
    }
    return { throttleTimeMs: 0, topics };
  },
};
