/**
 * OffsetCommit (key 8), versions 0-8 (8 is flexible).
 * v0: group id and, per partition, offset and metadata; no membership (a commit without group
 * management). v1 adds generationId and memberId, and a per-partition commitTimestamp. v2
 * drops commitTimestamp and adds retentionTimeMs (-1: the broker's offsets.retention.minutes);
 * v3 adds throttleTimeMs; v4 is v3's layout. v5 drops retentionTimeMs. v6 adds
 * committedLeaderEpoch (KIP-320). v7 adds groupInstanceId (KIP-345). v8 is the first flexible
 * version.
 * As Kafka does, partitions that do not exist get UNKNOWN_TOPIC_OR_PARTITION and the others
 * are committed; the response is sent only once the commit is written to the offset log.
 */
import type { Handler } from '../context.js';
import { errorCode, type ErrorName } from '../../protocol/errors.js';
import type { CommitEntry } from '../groups/coordinator.js';

interface PartitionField {
  partitionIndex: number;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  commitTimestamp: bigint;
  committedMetadata: string | null;
}

interface TopicField {
  name: string;
  partitions: PartitionField[];
}

export const offsetCommitHandler: Handler = {
  apiKey: 8,
  async handle(context, request) {
    const version = context.apiVersion;
    const { topics: topicManager, groups } = context.broker;
    const topics = request.topics as TopicField[];
    const errors: ErrorName[][] = topics.map((t) => t.partitions.map(() => 'UNKNOWN_TOPIC_OR_PARTITION'));
    const entries: CommitEntry[] = [];
    const places: [number, number][] = [];
    topics.forEach((topic, t) =>
      topic.partitions.forEach((p, i) => {
        if (topicManager.partition(topic.name, p.partitionIndex) === undefined) return;
        places.push([t, i]);
        entries.push({
          topic: topic.name,
          partition: p.partitionIndex,
          offset: Number(p.committedOffset),
          leaderEpoch: version >= 6 ? p.committedLeaderEpoch : -1,
          metadata: p.committedMetadata,
          commitTimestamp: version === 1 ? Number(p.commitTimestamp) : -1,
        });
      }),
    );
    if (entries.length > 0) {
      const results = await groups.commitOffsets({
        groupId: request.groupId as string,
        generationId: version >= 1 ? (request.generationId as number) : -1,
        memberId: version >= 1 ? (request.memberId as string) : '',
        groupInstanceId: version >= 7 ? (request.groupInstanceId as string | null) : null,
        retentionTimeMs: version >= 2 && version <= 4 ? Number(request.retentionTimeMs as bigint) : -1,
        entries,
      });
      places.forEach(([t, i], k) => (errors[t]![i] = results[k]!));
    }
    return {
      throttleTimeMs: 0,
      topics: topics.map((topic, t) => ({
        name: topic.name,
        partitions: topic.partitions.map((p, i) => ({ partitionIndex: p.partitionIndex, errorCode: errorCode(errors[t]![i]!) })),
      })),
    };
  },
};
