/**
 * ApiVersions (key 18), versions 0-3 (3 is flexible).
 * The list comes from the protocol-spec registry, restricted to the APIs that have a handler,
 * so the broker never advertises what it does not implement. An unknown ApiVersions version is
 * answered by the connection in the v0 layout with UNSUPPORTED_VERSION (see connection.ts).
 */
import type { BrokerContext, Handler } from '../context.js';
import type { Message } from '../../protocol/codec.js';
import { errorCode } from '../../protocol/errors.js';

function apiKeys(broker: BrokerContext): Message[] {
  return broker.registry
    .all()
    .filter((api) => broker.implementedKeys.has(api.key))
    .map((api) => ({ apiKey: api.key, minVersion: api.minVersion, maxVersion: api.maxVersion }));
}

export function unsupportedApiVersionsResponse(broker: BrokerContext): Message {
  const own = broker.registry.get(18)!;
  return { errorCode: errorCode('UNSUPPORTED_VERSION'), apiKeys: [{ apiKey: 18, minVersion: own.minVersion, maxVersion: own.maxVersion }], throttleTimeMs: 0 };
}

export const apiVersionsHandler: Handler = {
  apiKey: 18,
  handle: (context) => ({ errorCode: 0, apiKeys: apiKeys(context.broker), throttleTimeMs: 0 }),
};
