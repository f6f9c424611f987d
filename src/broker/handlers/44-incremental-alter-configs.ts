/**
 * IncrementalAlterConfigs (key 44), versions 0-1 (1 is flexible).
 *
 * Each config entry is an operation on one key: 0 SET, 1 DELETE (back to the default),
 * 2 APPEND and 3 SUBTRACT (list configs only: cleanup.policy). Keys not named keep their values.
 * Topic configs are checked, persisted in the catalog and applied to the partitions at once;
 * broker configs are read-only and broker loggers unsupported (INVALID_REQUEST). See
 * topic-configs.ts for every check, in Kafka's order.
 */
import type { Handler } from '../context.js';
import { alterResources } from '../topic-configs.js';

interface Resource {
  resourceType: number;
  resourceName: string;
  configs: { name: string; configOperation: number; value: string | null }[];
}

export const incrementalAlterConfigsHandler: Handler = {
  apiKey: 44,
  async handle(context, request) {
    const resources = (request.resources as Resource[]).map((resource) => ({
      resourceType: resource.resourceType,
      resourceName: resource.resourceName,
      changes: resource.configs.map((config) => ({ name: config.name, operation: config.configOperation, value: config.value })),
    }));
    const responses = await alterResources(context, resources, { replaceAll: false, validateOnly: request.validateOnly === true });
    return { throttleTimeMs: 0, responses };
  },
};
