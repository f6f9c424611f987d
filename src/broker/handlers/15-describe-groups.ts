/**
 * DescribeGroups (key 15), versions 0-5 (5 is flexible).
 * v1 adds throttleTimeMs; v2 is v1's layout. v3 can ask for authorized operations (KIP-430);
 * there are no ACLs here, so a group allows all it can (READ, DELETE, DESCRIBE). v4 adds each
 * member's groupInstanceId (KIP-345). v5 is the first flexible version.
 * An unknown group is described as Dead with no error, as Kafka does before v6. Member
 * metadata and assignments are only given while the group is Stable.
 */
import type { Handler } from '../context.js';
import { errorCode } from '../../protocol/errors.js';

/** Kafka's "not requested" value for authorized-operation bitfields. */
const operationsNotRequested = -2147483648;
/** Group ACL operations by Kafka's numbering: READ (3), DELETE (6), DESCRIBE (8). */
const groupOperations = [3, 6, 8].reduce((bits, op) => bits | (1 << op), 0);

export const describeGroupsHandler: Handler = {
  apiKey: 15,
  handle(context, request) {
    const includeOperations = context.apiVersion >= 3 && request.includeAuthorizedOperations === true;
    return {
      throttleTimeMs: 0,
      groups: (request.groups as string[]).map((groupId) => {
        const group = context.broker.groups.describeGroup(groupId);
        return {
          errorCode: errorCode(group.error),
          groupId: group.groupId,
          groupState: group.state,
          protocolType: group.protocolType,
          protocolData: group.protocolData,
          members: group.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            memberMetadata: m.metadata,
            memberAssignment: m.assignment,
          })),
          authorizedOperations: includeOperations ? groupOperations : operationsNotRequested,
        };
      }),
    };
  },
};
