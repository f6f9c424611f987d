/**
 * ListOffsets: the earliest (-2) or latest (-1) offset of partitions, or the first offset at or
 * after a timestamp, asked of each partition's leader and retried when leadership moved.
 */
import type { Cluster } from './cluster.js';
import { KafkaError, errorFromCode } from './errors.js';
import type { ListOffsetsResponse } from './wire.js';

export const earliestTimestamp = -2;
export const latestTimestamp = -1;

export interface OffsetQuery {
  readonly topic: string;
  readonly partition: number;
  /** -2 earliest, -1 latest, else milliseconds since the epoch. */
  readonly timestamp: number;
}

export interface OffsetAnswer {
  readonly topic: string;
  readonly partition: number;
  /** -1 when no record has a timestamp at or after the one asked for. */
  readonly offset: number;
}

export async function listOffsets(cluster: Cluster, queries: readonly OffsetQuery[], isolationLevel = 1): Promise<OffsetAnswer[]> {
  const answers = new Map<string, OffsetAnswer>();
  let remaining = [...queries];
  await cluster.withRetries('ListOffsets', async () => {
    for (const topic of new Set(remaining.map((query) => query.topic))) await cluster.topic(topic);
    const byLeader = new Map<number, OffsetQuery[]>();
    for (const query of remaining) {
      const leader = cluster.leaderOf(query.topic, query.partition);
      if (leader < 0) throw new KafkaError('LEADER_NOT_AVAILABLE', `${query.topic}[${query.partition}] has no leader`, { topic: query.topic, partition: query.partition });
      const list = byLeader.get(leader) ?? [];
      list.push(query);
      byLeader.set(leader, list);
    }
    const failed: OffsetQuery[] = [];
    let firstError: KafkaError | null = null;
    await Promise.all(
      [...byLeader].map(async ([leader, list]) => {
        const connection = await cluster.connectionTo(leader);
        const topics = new Map<string, { partitionIndex: number; currentLeaderEpoch: number; timestamp: bigint }[]>();
        for (const query of list) {
          const partitions = topics.get(query.topic) ?? [];
          partitions.push({ partitionIndex: query.partition, currentLeaderEpoch: -1, timestamp: BigInt(query.timestamp) });
          topics.set(query.topic, partitions);
        }
        const response = await connection.request<ListOffsetsResponse>('ListOffsets', {
          replicaId: -1,
          isolationLevel,
          topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
        });
        for (const topic of response.topics) {
          for (const partition of topic.partitions) {
            const error = errorFromCode(partition.errorCode, `list offsets of ${topic.name}[${partition.partitionIndex}]`, { topic: topic.name, partition: partition.partitionIndex });
            const query = list.find((q) => q.topic === topic.name && q.partition === partition.partitionIndex);
            if (query === undefined) continue;
            if (error !== null) {
              if (!error.retriable) throw error;
              failed.push(query);
              firstError ??= error;
              continue;
            }
            answers.set(`${topic.name}\u0000${partition.partitionIndex}`, { topic: topic.name, partition: partition.partitionIndex, offset: Number(partition.offset) });
          }
        }
      }),
    );
    remaining = failed;
    if (firstError !== null) throw firstError;
  });
  return queries.map((query) => {
    const answer = answers.get(`${query.topic}\u0000${query.partition}`);
    if (answer === undefined) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `no offset returned for ${query.topic}[${query.partition}]`, { topic: query.topic, partition: query.partition });
    return answer;
  });
}
