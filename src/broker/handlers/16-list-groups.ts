/**
 * ListGroups (key 16), versions 0-4 (3+ flexible).
 * v1 adds throttleTimeMs; v2 is v1's layout. v3 is the first flexible version. v4 adds a
 * statesFilter (empty: every state; compared without regard to case) and each group's state
 * (KIP-518).
 * Groups that only hold offsets (committed without group management) are listed with an empty
 * protocol type, as in Kafka.
 */
import type { Handler } from '../context.js';
import { errorCode } from '../../protocol/errors.js';

export const listGroupsHandler: Handler = {
  apiKey: 16,
  handle(context, request) {
    const filter = context.apiVersion >= 4 ? (request.statesFilter as string[]) : [];
    const result = context.broker.groups.listGroups(filter);
    return {
      throttleTimeMs: 0,
      errorCode: errorCode(result.error),
      groups: result.groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state })),
    };
  },
};
