/**
 * DescribeConfigs (key 32), versions 0-2 (none flexible).
 * v1 replaces is_default with config_source and adds synonyms (include_synonyms); v2 changes
 * nothing on the wire. Resources: TOPIC (2) by topic name, BROKER (4) by this broker's id.
 * Topic values come from the topic's own configs, else the broker's defaults.
 */
import type { Handler, RequestContext } from '../context.js';
import type { Message } from '../../protocol/codec.js';
import { errorCode } from '../../protocol/errors.js';

const resourceTopic = 2;
const resourceBroker = 4;
/** Kafka's ConfigSource numbering. */
const sourceTopic = 1;
const sourceStaticBroker = 4;
const sourceDefault = 5;

interface Resource {
  resourceType: number;
  resourceName: string;
  configurationKeys: string[] | null;
}

interface Entry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  isSensitive: boolean;
  source: number;
}

function render(entries: Entry[], keys: string[] | null, includeSynonyms: boolean): Message[] {
  const wanted = keys === null ? null : new Set(keys);
  return entries
    .filter((e) => wanted === null || wanted.has(e.name))
    .map((e) => ({
      name: e.name,
      value: e.value,
      readOnly: e.readOnly,
      isDefault: e.isDefault,
      configSource: e.source,
      isSensitive: e.isSensitive,
      synonyms: includeSynonyms ? [{ name: e.name, value: e.value, source: e.source }] : [],
    }));
}

function topicEntries(context: RequestContext, name: string): Entry[] | null {
  const topic = context.broker.topics.get(name);
  if (!topic) return null;
  const defaults = context.broker.settings.topicDefaults;
  const names = new Set([...Object.keys(defaults), ...Object.keys(topic.configs)]);
  return [...names].sort().map((key) => {
    const own = topic.configs[key];
    return {
      name: key,
      value: own ?? defaults[key] ?? null,
      readOnly: false,
      isDefault: own === undefined,
      isSensitive: false,
      source: own === undefined ? sourceDefault : sourceTopic,
    };
  });
}

export const describeConfigsHandler: Handler = {
  apiKey: 32,
  handle(context, request) {
    const includeSynonyms = request.includeSynonyms === true;
    const results: Message[] = [];
    for (const resource of request.resources as Resource[]) {
      const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
      if (resource.resourceType === resourceTopic) {
        const entries = topicEntries(context, resource.resourceName);
        if (entries === null) {
          results.push({ ...base, errorCode: errorCode('UNKNOWN_TOPIC_OR_PARTITION'), errorMessage: `topic ${resource.resourceName} does not exist`, configs: [] });
        } else {
          results.push({ ...base, errorCode: 0, errorMessage: null, configs: render(entries, resource.configurationKeys, includeSynonyms) });
        }
      } else if (resource.resourceType === resourceBroker) {
        const nodeId = String(context.broker.settings.nodeId);
        if (resource.resourceName !== nodeId && resource.resourceName !== '') {
          results.push({ ...base, errorCode: errorCode('INVALID_REQUEST'), errorMessage: `this is broker ${nodeId}`, configs: [] });
          continue;
        }
        const entries: Entry[] = context.broker.describeBrokerConfigs().map((e) => ({ ...e, source: e.isDefault ? sourceDefault : sourceStaticBroker }));
        results.push({ ...base, errorCode: 0, errorMessage: null, configs: render(entries, resource.configurationKeys, includeSynonyms) });
      } else {
        results.push({ ...base, errorCode: errorCode('INVALID_REQUEST'), errorMessage: `resource type ${resource.resourceType} is not supported`, configs: [] });
      }
    }
    return { throttleTimeMs: 0, results };
  },
};
