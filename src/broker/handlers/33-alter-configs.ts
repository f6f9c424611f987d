/**
 * AlterConfigs (key 33), versions 0-1 (none flexible; Kafka's v2 is the first flexible one).
 * v1 changes nothing on the wire (throttling after the response).
 *
 * The configs given become the resource's whole config: topic overrides left out go back to
 * their defaults. Topic configs are checked, persisted in the catalog and applied to the
 * partitions at once; broker configs are read-only (INVALID_REQUEST). See topic-configs.ts for
 * every check, in Kafka's order.
 */
import type { Handler } from '../context.js';
import { alterResources, operationSet } from '../topic-configs.js';

interface Resource {
  resourceType: number;
  resourceName: string;
  configs: { name: string; value: string | null }[];
}

export const alterConfigsHandler: Handler = {
  apiKey: 33,
  async handle(context, request) {
    const resources = (request.resources as Resource[]).map((resource) => ({
      resourceType: resource.resourceType,
      resourceName: resource.resourceName,
      changes: resource.configs.map((config) => ({ name: config.name, operation: operationSet, value: config.value })),
    }));
    const responses = await alterResources(context, resources, { replaceAll: true, validateOnly: request.validateOnly === true });
    return { throttleTimeMs: 0, responses };
  },
};
