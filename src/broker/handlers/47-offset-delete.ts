/**
 * OffsetDelete (key 47), version 0 only (KIP-496; not flexible).
 * Deletes a group's committed offsets for some partitions. Partitions that do not exist get
 * UNKNOWN_TOPIC_OR_PARTITION. An Empty group loses the offsets asked for; a consumer group with
 * members keeps those of topics it subscribes to (GROUP_SUBSCRIBED_TO_TOPIC, read from the
 * members' subscriptions; when they cannot be read, every topic counts as subscribed); a
 * non-consumer group with members is NON_EMPTY_GROUP. Group-level errors come with no topics.
 * An Empty group left without offsets is removed.
 */
import type { Handler } from '../context.js';
import { errorCode, type ErrorName } from '../../protocol/errors.js';

interface TopicField {
  name: string;
  partitions: { partitionIndex: number }[];
}

export const offsetDeleteHandler: Handler = {
  apiKey: 47,
  async handle(context, request) {
    const { topics: topicManager, groups } = context.broker;
    const topics = request.topics as TopicField[];
    const errors: ErrorName[][] = topics.map((t) => t.partitions.map(() => 'UNKNOWN_TOPIC_OR_PARTITION'));
    const known: { topic: string; partition: number }[] = [];
    const places: [number, number][] = [];
    topics.forEach((topic, t) =>
      topic.partitions.forEach((p, i) => {
        if (topicManager.partition(topic.name, p.partitionIndex) === undefined) return;
        known.push({ topic: topic.name, partition: p.partitionIndex });
        places.push([t, i]);
      }),
    );
    const result = await groups.deleteOffsets(request.groupId as string, known);
    if (result.error !== 'NONE') return { errorCode: errorCode(result.error), throttleTimeMs: 0, topics: [] };
    places.forEach(([t, i], k) => (errors[t]![i] = result.results[k]!));
    return {
      errorCode: 0,
      throttleTimeMs: 0,
      topics: topics.map((topic, t) => ({
        name: topic.name,
        partitions: topic.partitions.map((p, i) => ({ partitionIndex: p.partitionIndex, errorCode: errorCode(errors[t]![i]!) })),
      })),
    };
  },
};
