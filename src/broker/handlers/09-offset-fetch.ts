/**
 * OffsetFetch (key 9), versions 0-7 (6+ flexible).
 * v0 and v1 read the same offsets here (Kafka's v0 read those kept in ZooKeeper). v2: a null
 * topic list asks for every partition the group has an offset for, and a top-level errorCode
 * carries group-level errors (before v2 they are repeated in every partition). v3 adds
 * throttleTimeMs; v4 is v3's layout. v5 adds committedLeaderEpoch (KIP-320). v6 is the first
 * flexible version (librdkafka uses it). v7 adds requireStable (KIP-447): a partition whose
 * commit is still being written is answered UNSTABLE_OFFSET_COMMIT.
 * A partition without a committed offset (or of an unknown group or topic) gets offset -1,
 * empty metadata and no error, as in Kafka.
 */
import type { Handler } from '../context.js';
import { errorCode } from '../../protocol/errors.js';

interface TopicField {
  name: string;
  partitionIndexes: number[];
}

export const offsetFetchHandler: Handler = {
  apiKey: 9,
  handle(context, request) {
    const version = context.apiVersion;
    const requested = request.topics as TopicField[] | null;
    const result = context.broker.groups.fetchOffsets(
      request.groupId as string,
      requested && requested.map((t) => ({ name: t.name, partitions: t.partitionIndexes })),
      version >= 7 && request.requireStable === true,
    );
    if (result.error !== 'NONE') {
      const code = errorCode(result.error);
      const topics =
        version >= 2
          ? []
          : (requested ?? []).map((t) => ({
              name: t.name,
              partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: code })),
            }));
      return { throttleTimeMs: 0, topics, errorCode: code };
    }
    return {
      throttleTimeMs: 0,
      topics: result.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partition,
          committedOffset: BigInt(p.offset),
          committedLeaderEpoch: p.leaderEpoch,
          metadata: p.metadata,
          errorCode: errorCode(p.error),
        })),
      })),
      errorCode: 0,
    };
  },
};
