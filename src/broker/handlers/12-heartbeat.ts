/**
 * Heartbeat (key 12), versions 0-4 (4 is flexible).
 * v1 adds throttleTimeMs; v2 is v1's layout. v3 adds groupInstanceId for static members
 * (KIP-345). v4 is the first flexible version.
 * A heartbeat keeps the member's session alive; during a rebalance it answers
 * REBALANCE_IN_PROGRESS so that the member joins again.
 */
import type { Handler } from '../context.js';
import { errorCode } from '../../protocol/errors.js';

export const heartbeatHandler: Handler = {
  apiKey: 12,
  handle(context, request) {
    const error = context.broker.groups.heartbeat(
      request.groupId as string,
      request.memberId as string,
      context.apiVersion >= 3 ? (request.groupInstanceId as string | null) : null,
      request.generationId as number,
    );
    return { throttleTimeMs: 0, errorCode: errorCode(error) };
  },
};
