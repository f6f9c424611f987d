/**
 * CreatePartitions (key 37), versions 0-2 (2 is flexible).
 * v1 changes nothing on the wire; v2 is the first flexible version. Partitions can only be
 * added; manual assignments must name this broker alone.
 */
import type { Handler } from '../context.js';
import type { Message } from '../../protocol/codec.js';
import { errorCode } from '../../protocol/errors.js';
import { TopicError, partitionsPerTopicMax } from '../topics.js';

interface PartitionsTopic {
  name: string;
  count: number;
  assignments: { brokerIds: number[] }[] | null;
}

function result(name: string, error: string, message: string | null): Message {
  return { name, errorCode: errorCode(error), errorMessage: message };
}

export const createPartitionsHandler: Handler = {
  apiKey: 37,
  async handle(context, request) {
    const nodeId = context.broker.settings.nodeId;
    const results: Message[] = [];
    const validateOnly = request.validateOnly === true;
    const seen = new Set<string>();
    for (const requested of request.topics as PartitionsTopic[]) {
      if (seen.has(requested.name)) {
        results.push(result(requested.name, 'INVALID_REQUEST', `topic ${requested.name} is named more than once`));
        continue;
      }
      seen.add(requested.name);
      const topic = context.broker.topics.get(requested.name);
      if (!topic) {
        results.push(result(requested.name, 'UNKNOWN_TOPIC_OR_PARTITION', `topic ${requested.name} does not exist`));
        continue;
      }
      const current = topic.partitions.length;
      if (requested.count <= current) {
        results.push(result(requested.name, 'INVALID_PARTITIONS', `topic has ${current} partitions; the new count ${requested.count} must be larger`));
        continue;
      }
      if (requested.count > partitionsPerTopicMax) {
        results.push(result(requested.name, 'INVALID_PARTITIONS', `at most ${partitionsPerTopicMax} partitions per topic`));
        continue;
      }
      if (requested.assignments !== null) {
        const bad = requested.assignments.length !== requested.count - current || requested.assignments.some((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== nodeId);
        if (bad) {
          results.push(result(requested.name, 'INVALID_REPLICA_ASSIGNMENT', `each new partition must be assigned to broker ${nodeId} alone`));
          continue;
        }
      }
      if (validateOnly) {
        results.push(result(requested.name, 'NONE', null));
        continue;
      }
      try {
        await context.broker.topics.addPartitions(requested.name, requested.count);
        results.push(result(requested.name, 'NONE', null));
      } catch (error) {
        if (error instanceof TopicError) results.push(result(requested.name, error.errorName, error.message));
        else {
          context.broker.log(`adding partitions to ${requested.name} failed: ${(error as Error).message}`);
          results.push(result(requested.name, 'KAFKA_STORAGE_ERROR', (error as Error).message));
        }
      }
    }
    return { throttleTimeMs: 0, results };
  },
};
