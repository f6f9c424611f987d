/**
 * FindCoordinator (key 10), versions 0-3 (3 is flexible).
 * v0: group coordinators only. v1 adds keyType (0 group, 1 transaction) and, in the response,
 * throttleTimeMs and errorMessage. v2 is v1's layout. v3 is the first flexible version. (The
 * batched coordinatorKeys form is v4, beyond our range.)
 * This broker coordinates every group, so a group key gets this broker's node id and the
 * address of the listener the client is on (advertised.listeners applies). There is no
 * transaction coordinator: keyType 1 gets COORDINATOR_NOT_AVAILABLE; other key types are
 * INVALID_REQUEST.
 */
import type { Handler } from '../context.js';
import type { Message } from '../../protocol/codec.js';
import { errorCode, type ErrorName } from '../../protocol/errors.js';

const keyTypeGroup = 0;
const keyTypeTransaction = 1;

function noCoordinator(error: ErrorName, message: string): Message {
  return { throttleTimeMs: 0, errorCode: errorCode(error), errorMessage: message, nodeId: -1, host: '', port: -1 };
}

export const findCoordinatorHandler: Handler = {
  apiKey: 10,
  handle(context, request) {
    const keyType = context.apiVersion >= 1 ? (request.keyType as number) : keyTypeGroup;
    if (keyType === keyTypeTransaction) return noCoordinator('COORDINATOR_NOT_AVAILABLE', 'This broker has no transaction coordinator.');
    if (keyType !== keyTypeGroup) return noCoordinator('INVALID_REQUEST', `Unknown coordinator key type ${keyType}.`);
    const { host, port } = context.connection.advertised;
    // Kafka puts the error's name in errorMessage when there is no error.
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: 'NONE', nodeId: context.broker.settings.nodeId, host, port };
  },
};
