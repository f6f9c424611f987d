/**
 * LeaveGroup (key 13), versions 0-4 (4 is flexible).
 * v0-v2: one member id; the response has one error code (the first member error, if any).
 * v1 adds throttleTimeMs; v2 is v1's layout. v3: a batch of members (member id and group
 * instance id; an empty member id removes a static member by its instance id) with one result
 * each (KIP-345). v4 is the first flexible version.
 */
import type { Handler } from '../context.js';
import { errorCode } from '../../protocol/errors.js';
import type { MemberIdentity } from '../groups/coordinator.js';

export const leaveGroupHandler: Handler = {
  apiKey: 13,
  handle(context, request) {
    const version = context.apiVersion;
    const leaving: MemberIdentity[] =
      version >= 3
        ? (request.members as { memberId: string; groupInstanceId: string | null }[]).map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
        : [{ memberId: request.memberId as string, groupInstanceId: null }];
    const result = context.broker.groups.leave(request.groupId as string, leaving);
    if (version <= 2) {
      const error = result.error !== 'NONE' ? result.error : (result.members.find((m) => m.error !== 'NONE')?.error ?? 'NONE');
      return { throttleTimeMs: 0, errorCode: errorCode(error) };
    }
    return {
      throttleTimeMs: 0,
      errorCode: errorCode(result.error),
      members: result.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: errorCode(m.error) })),
    };
  },
};
