/**
 * CreateTopics (key 19), versions 0-4 (none flexible).
 * v1 adds validate_only and error messages; v2 throttle time; v4 lets num_partitions and
 * replication_factor be -1 for the broker defaults. A single node can only hold one replica,
 * so a replication factor other than 1 (or -1) is INVALID_REPLICATION_FACTOR, and manual
 * assignments must name this broker alone.
 */
import type { Handler, RequestContext } from '../context.js';
import type { Message } from '../../protocol/codec.js';
import { errorCode } from '../../protocol/errors.js';
import { topicNameProblem } from '../topic-names.js';
import { TopicError } from '../topics.js';

interface CreatableTopic {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  assignments: { partitionIndex: number; brokerIds: number[] }[];
  configs: { name: string; value: string | null }[];
}

function result(name: string, error: string, message: string | null): Message {
  return { name, errorCode: errorCode(error), errorMessage: message };
}

/** Checks one topic; returns [partitions, configs] or an error result. */
function check(context: RequestContext, topic: CreatableTopic): { partitions: number; configs: Record<string, string> } | Message {
  const { settings, topics } = context.broker;
  const problem = topicNameProblem(topic.name);
  if (problem !== null) return result(topic.name, 'INVALID_TOPIC_EXCEPTION', problem);
  if (topics.get(topic.name)) return result(topic.name, 'TOPIC_ALREADY_EXISTS', `topic ${topic.name} already exists`);
  let partitions = topic.numPartitions;
  if (topic.assignments.length > 0) {
    if (partitions !== -1 || topic.replicationFactor !== -1) {
      return result(topic.name, 'INVALID_REQUEST', 'num_partitions and replication_factor must be -1 when assignments are given');
    }
    const seen = new Set<number>();
    for (const assignment of topic.assignments) {
      if (assignment.brokerIds.length !== 1 || assignment.brokerIds[0] !== settings.nodeId) {
        return result(topic.name, 'INVALID_REPLICA_ASSIGNMENT', `partition ${assignment.partitionIndex} must be assigned to broker ${settings.nodeId} alone`);
      }
      seen.add(assignment.partitionIndex);
    }
    partitions = topic.assignments.length;
    for (let i = 0; i < partitions; i++) {
      if (!seen.has(i)) return result(topic.name, 'INVALID_REPLICA_ASSIGNMENT', 'partition indexes must run from 0 without gaps');
    }
  } else {
    if (partitions === -1) partitions = settings.numPartitions;
    if (partitions < 1) return result(topic.name, 'INVALID_PARTITIONS', `number of partitions must be at least 1, got ${topic.numPartitions}`);
    if (topic.replicationFactor !== -1 && topic.replicationFactor !== 1) {
      return result(topic.name, 'INVALID_REPLICATION_FACTOR', `replication factor ${topic.replicationFactor} is larger than the 1 broker available`);
    }
  }
  const configs: Record<string, string> = {};
  for (const config of topic.configs) {
    if (config.value === null) return result(topic.name, 'INVALID_CONFIG', `config ${config.name} has a null value`);
    const configProblem = context.broker.validateTopicConfig(config.name, config.value);
    if (configProblem !== null) return result(topic.name, 'INVALID_CONFIG', configProblem);
    configs[config.name] = config.value;
  }
  try {
    topics.checkCapacity(topic.name, partitions);
  } catch (error) {
    if (error instanceof TopicError) return result(topic.name, error.errorName, error.message);
    throw error;
  }
  return { partitions, configs };
}

export const createTopicsHandler: Handler = {
  apiKey: 19,
  async handle(context, request) {
    const requested = request.topics as CreatableTopic[];
    const validateOnly = request.validateOnly === true;
    const counts = new Map<string, number>();
    for (const topic of requested) counts.set(topic.name, (counts.get(topic.name) ?? 0) + 1);
    const topics: Message[] = [];
    for (const topic of requested) {
      if (counts.get(topic.name)! > 1) {
        topics.push(result(topic.name, 'INVALID_REQUEST', `topic ${topic.name} is named more than once in the request`));
        continue;
      }
      const checked = check(context, topic);
      if (!('partitions' in checked)) {
        topics.push(checked);
        continue;
      }
      if (!validateOnly) {
        try {
          await context.broker.topics.create(topic.name, checked.partitions as number, checked.configs as Record<string, string>);
        } catch (error) {
          if (error instanceof TopicError) {
            topics.push(result(topic.name, error.errorName, error.message));
            continue;
          }
          context.broker.log(`creating topic ${topic.name} failed: ${(error as Error).message}`);
          topics.push(result(topic.name, 'KAFKA_STORAGE_ERROR', (error as Error).message));
          continue;
        }
      }
      topics.push(result(topic.name, 'NONE', null));
    }
    return { throttleTimeMs: 0, topics };
  },
};
