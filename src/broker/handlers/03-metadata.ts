/**
 * Metadata (key 3), versions 0-8 (none flexible).
 * v0: an empty topic list means every topic. v1+: null means every topic, empty means none;
 * adds rack, controller id and is_internal. v2 adds cluster id, v3 throttle time, v4 the
 * allow_auto_topic_creation flag, v5 offline replicas, v7 leader epoch, v8 authorized operations.
 * This broker is the only one, the controller and every partition's leader. The address given
 * is the one of the listener the client connected on, unless advertised.listeners overrides it.
 */
import type { Handler, RequestContext } from '../context.js';
import type { Message } from '../../protocol/codec.js';
import { errorCode } from '../../protocol/errors.js';
import { topicNameProblem } from '../topic-names.js';
import type { Topic } from '../topics.js';
import { autoCreateTopic } from '../auto-create.js';

/** Kafka's "not requested" value for authorized-operation bitfields. */
const operationsNotRequested = -2147483648;
/** ACL operations by Kafka's numbering; there are no ACLs here, so everything is allowed. */
const topicOperations = [3, 4, 5, 6, 7, 8, 10, 11].reduce((bits, op) => bits | (1 << op), 0);
const clusterOperations = [4, 5, 7, 8, 9, 10, 11, 12].reduce((bits, op) => bits | (1 << op), 0);

/** At most this many topics are named in one Metadata request. */
export const metadataTopicsMax = 100_000;

function topicMetadata(context: RequestContext, topic: Topic, includeOperations: boolean): Message {
  const nodeId = context.broker.settings.nodeId;
  return {
    errorCode: 0,
    name: topic.name,
    topicId: topic.id,
    isInternal: false,
    partitions: topic.partitions.map((p) => ({
      errorCode: 0,
      partitionIndex: p.index,
      leaderId: nodeId,
      leaderEpoch: 0,
      replicaNodes: [nodeId],
      isrNodes: [nodeId],
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: includeOperations ? topicOperations : operationsNotRequested,
  };
}

function missingTopic(name: string, error: string): Message {
  return { errorCode: errorCode(error), name, isInternal: false, partitions: [], topicAuthorizedOperations: operationsNotRequested };
}

export const metadataHandler: Handler = {
  apiKey: 3,
  async handle(context, request) {
    const { settings, topics } = context.broker;
    const version = context.apiVersion;
    const requested = request.topics as { name: string }[] | null;
    const includeTopicOperations = request.includeTopicAuthorizedOperations === true;
    const allTopics = requested === null || (version === 0 && requested.length === 0);
    const allowAutoCreate = version < 4 || request.allowAutoTopicCreation !== false;
    const out: Message[] = [];
    if (allTopics) {
      for (const topic of topics.list()) out.push(topicMetadata(context, topic, includeTopicOperations));
    } else {
      const seen = new Set<string>();
      for (const { name } of requested.slice(0, metadataTopicsMax)) {
        if (seen.has(name)) continue;
        seen.add(name);
        const existing = topics.get(name);
        if (existing) {
          out.push(topicMetadata(context, existing, includeTopicOperations));
          continue;
        }
        if (topicNameProblem(name) !== null) {
          out.push(missingTopic(name, 'INVALID_TOPIC_EXCEPTION'));
          continue;
        }
        if (!settings.autoCreateTopics || !allowAutoCreate) {
          out.push(missingTopic(name, 'UNKNOWN_TOPIC_OR_PARTITION'));
          continue;
        }
        const created = await autoCreateTopic(context, name);
        out.push(created.topic ? topicMetadata(context, created.topic, includeTopicOperations) : missingTopic(name, created.error));
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: settings.nodeId, host: context.connection.advertised.host, port: context.connection.advertised.port, rack: null }],
      clusterId: settings.clusterId,
      controllerId: settings.nodeId,
      topics: out,
      clusterAuthorizedOperations: request.includeClusterAuthorizedOperations === true ? clusterOperations : operationsNotRequested,
    };
  },
};
