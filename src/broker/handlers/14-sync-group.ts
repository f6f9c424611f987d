/**
 * SyncGroup (key 14), versions 0-5 (4+ flexible).
 * v1 adds throttleTimeMs; v2 is v1's layout. v3 adds groupInstanceId (KIP-345). v4 is the first
 * flexible version. v5 adds protocolType and protocolName to request and response (KIP-559):
 * both must be given, and must match the group's, else INCONSISTENT_GROUP_PROTOCOL.
 * The leader's request carries the assignments; every member's request (the leader's too) is
 * held until the assignment is stored, then each member gets its own.
 */
import type { Handler } from '../context.js';
import { errorCode } from '../../protocol/errors.js';
import { syncError } from '../groups/member.js';

export const syncGroupHandler: Handler = {
  apiKey: 14,
  async handle(context, request) {
    const version = context.apiVersion;
    const protocolType = version >= 5 ? (request.protocolType as string | null) : null;
    const protocolName = version >= 5 ? (request.protocolName as string | null) : null;
    const result =
      version >= 5 && (protocolType === null || protocolName === null)
        ? syncError('INCONSISTENT_GROUP_PROTOCOL')
        : await context.broker.groups.sync({
            groupId: request.groupId as string,
            generationId: request.generationId as number,
            memberId: request.memberId as string,
            groupInstanceId: version >= 3 ? (request.groupInstanceId as string | null) : null,
            protocolType,
            protocolName,
            assignments: request.assignments as { memberId: string; assignment: Buffer }[],
          });
    return {
      throttleTimeMs: 0,
      errorCode: errorCode(result.error),
      protocolType: result.protocolType,
      protocolName: result.protocolName,
      assignment: result.assignment,
    };
  },
};
