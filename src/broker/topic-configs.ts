/**
 * Changing configs at runtime, shared by AlterConfigs (key 33: the resource's whole config is
 * replaced) and IncrementalAlterConfigs (key 44: single keys are set, deleted, appended to or
 * subtracted from). The checks follow Kafka's ConfigAdminManager, in its order and (mostly) its
 * words:
 *
 *   - a resource named twice: INVALID_REQUEST "Each resource must appear at most once." (both);
 *   - a config named twice in a resource: INVALID_REQUEST "Error due to duplicate config keys";
 *   - a null value (except for DELETE): INVALID_REQUEST "Null value not supported for : <names>";
 *   - BROKER: the name must be "" or this broker's id; any change is INVALID_REQUEST "Cannot update
 *     these configs dynamically", as Kafka says of a read-only broker config, because every
 *     Inkwell broker config is read at start; an empty change list is accepted;
 *   - TOPIC: an unknown topic is UNKNOWN_TOPIC_OR_PARTITION; the resulting configs are checked
 *     with validateTopicConfig (INVALID_CONFIG); APPEND/SUBTRACT only on list configs;
 *   - anything else (BROKER_LOGGER included) is INVALID_REQUEST.
 *
 * Changes to one topic are made one at a time, so that two concurrent incremental changes do not
 * lose each other's keys.
 */
import type { Message } from '../protocol/codec.js';
import { errorCode } from '../protocol/errors.js';
import type { RequestContext } from './context.js';
import { TopicError } from './topics.js';

export const resourceTopic = 2;
export const resourceBroker = 4;

export const operationSet = 0;
export const operationDelete = 1;
export const operationAppend = 2;
export const operationSubtract = 3;

/** Topic configs whose values are comma-separated lists (Kafka's ConfigDef.Type.LIST). */
const listConfigs: ReadonlySet<string> = new Set(['cleanup.policy']);

export interface ConfigChange {
  readonly name: string;
  /** operationSet .. operationSubtract; AlterConfigs gives operationSet for every entry. */
  readonly operation: number;
  readonly value: string | null;
}

export interface ResourceChange {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly changes: readonly ConfigChange[];
}

export interface AlterOptions {
  /** AlterConfigs: the changes are the resource's whole new config (anything unnamed goes back to its default). */
  readonly replaceAll: boolean;
  readonly validateOnly: boolean;
}

class Refusal extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
  }
}

const topicChanges = new Map<string, Promise<unknown>>();

/** Runs `work` after every earlier change to the same topic has finished. */
async function oneAtATime<T>(topic: string, work: () => Promise<T>): Promise<T> {
  const previous = topicChanges.get(topic) ?? Promise.resolve();
  const current = previous.catch(() => {}).then(work);
  topicChanges.set(topic, current);
  try {
    return await current;
  } finally {
    if (topicChanges.get(topic) === current) topicChanges.delete(topic);
  }
}

function response(resource: ResourceChange, error: string, message: string | null): Message {
  return { errorCode: errorCode(error), errorMessage: message, resourceType: resource.resourceType, resourceName: resource.resourceName };
}

/** Checks and applies every resource's changes; one response per resource, in request order. */
export async function alterResources(context: RequestContext, resources: readonly ResourceChange[], options: AlterOptions): Promise<Message[]> {
  const seen = new Map<string, number>();
  for (const resource of resources) {
    const id = `${resource.resourceType}:${resource.resourceName}`;
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  const responses: Message[] = [];
  for (const resource of resources) {
    if (seen.get(`${resource.resourceType}:${resource.resourceName}`)! > 1) {
      responses.push(response(resource, 'INVALID_REQUEST', 'Each resource must appear at most once.'));
      continue;
    }
    try {
      await alterResource(context, resource, options);
      responses.push(response(resource, 'NONE', null));
    } catch (error) {
      if (error instanceof Refusal || error instanceof TopicError) {
        responses.push(response(resource, error.errorName, error.message));
        continue;
      }
      context.broker.log(`changing the configs of ${resource.resourceName} failed: ${(error as Error).message}`);
      responses.push(response(resource, 'KAFKA_STORAGE_ERROR', (error as Error).message));
    }
  }
  return responses;
}

async function alterResource(context: RequestContext, resource: ResourceChange, options: AlterOptions): Promise<void> {
  const names = resource.changes.map((change) => change.name);
  if (new Set(names).size !== names.length) throw new Refusal('INVALID_REQUEST', 'Error due to duplicate config keys');
  const nulls = resource.changes.filter((change) => change.value === null && change.operation !== operationDelete).map((change) => change.name);
  if (nulls.length > 0) throw new Refusal('INVALID_REQUEST', `Null value not supported for : ${nulls.join(', ')}`);
  for (const change of resource.changes) {
    if (change.operation < operationSet || change.operation > operationSubtract) throw new Refusal('INVALID_REQUEST', `Unknown operations type ${change.operation}`);
  }
  if (resource.resourceType === resourceBroker) return checkBrokerChange(context, resource);
  if (resource.resourceType !== resourceTopic) throw new Refusal('INVALID_REQUEST', `Unknown resource type ${resource.resourceType}: only TOPIC (2) configs can be changed`);
  const name = resource.resourceName;
  await oneAtATime(name, async () => {
    const topic = context.broker.topics.get(name);
    if (!topic) throw new Refusal('UNKNOWN_TOPIC_OR_PARTITION', `The topic '${name}' does not exist.`);
    const configs = newTopicConfigs(context, topic.configs, resource.changes, options.replaceAll);
    for (const [key, value] of Object.entries(configs)) {
      const problem = context.broker.validateTopicConfig(key, value);
      if (problem !== null) throw new Refusal('INVALID_CONFIG', problem);
    }
    if (options.validateOnly) return;
    await context.broker.topics.replaceConfigs(name, configs);
    context.broker.log(`topic ${name} configs are now ${JSON.stringify(configs)}`);
  });
}

function checkBrokerChange(context: RequestContext, resource: ResourceChange): void {
  const nodeId = String(context.broker.settings.nodeId);
  if (resource.resourceName !== '' && resource.resourceName !== nodeId) {
    throw new Refusal('INVALID_REQUEST', `Unexpected broker id, expected ${nodeId} or empty string, but received ${resource.resourceName}`);
  }
  if (resource.changes.length === 0) return;
  const names = resource.changes.map((change) => change.name).join(', ');
  throw new Refusal(
    'INVALID_REQUEST',
    `Cannot update these configs dynamically: ${names} (every broker config is read-only; change it in the configuration file and restart)`,
  );
}

/** The topic's configs after the changes. */
function newTopicConfigs(
  context: RequestContext,
  current: Readonly<Record<string, string>>,
  changes: readonly ConfigChange[],
  replaceAll: boolean,
): Record<string, string> {
  const configs: Record<string, string> = replaceAll ? {} : { ...current };
  for (const change of changes) {
    switch (change.operation) {
      case operationSet:
        configs[change.name] = change.value!;
        break;
      case operationDelete:
        delete configs[change.name];
        break;
      default: {
        const appending = change.operation === operationAppend;
        if (!listConfigs.has(change.name)) {
          throw new Refusal('INVALID_CONFIG', `Config value ${appending ? 'append' : 'subtract'} is not allowed for config key: ${change.name}`);
        }
        const items = (configs[change.name] ?? context.broker.settings.topicDefaults[change.name] ?? '').split(',').filter((item) => item !== '');
        const given = change.value!.split(',').filter((item) => item !== '');
        const result = appending ? [...items, ...given.filter((item) => !items.includes(item))] : items.filter((item) => !given.includes(item));
        configs[change.name] = result.join(',');
      }
    }
  }
  return configs;
}
