/** The handler table: one handler per API key. Only these keys are advertised by ApiVersions. */
import type { Handler } from '../context.js';
import { produceHandler } from './00-produce.js';
import { fetchHandler } from './01-fetch.js';
import { listOffsetsHandler } from './02-list-offsets.js';
import { metadataHandler } from './03-metadata.js';
import { apiVersionsHandler } from './18-api-versions.js';
import { createTopicsHandler } from './19-create-topics.js';
import { deleteTopicsHandler } from './20-delete-topics.js';
import { describeConfigsHandler } from './32-describe-configs.js';
import { createPartitionsHandler } from './37-create-partitions.js';

const all: Handler[] = [
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  apiVersionsHandler,
  createTopicsHandler,
  deleteTopicsHandler,
  describeConfigsHandler,
  createPartitionsHandler,
];

export function handlerTable(): Map<number, Handler> {
  const table = new Map<number, Handler>();
  for (const handler of all) {
    if (table.has(handler.apiKey)) throw new Error(`two handlers for api key ${handler.apiKey}`);
    table.set(handler.apiKey, handler);
  }
  return table;
}
