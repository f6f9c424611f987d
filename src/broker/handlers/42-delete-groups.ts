/**
 * DeleteGroups (key 42), versions 0-2 (2 is flexible).
 * v1 is v0's layout; v2 is the first flexible version.
 * Only an Empty group can be deleted (NON_EMPTY_GROUP otherwise); its committed offsets go with
 * it (tombstones in the offset log). An unknown group is GROUP_ID_NOT_FOUND. A group id named
 * twice is answered once.
 */
import type { Handler } from '../context.js';
import { errorCode } from '../../protocol/errors.js';

export const deleteGroupsHandler: Handler = {
  apiKey: 42,
  async handle(context, request) {
    const results = await context.broker.groups.deleteGroups(request.groupsNames as string[]);
    return { throttleTimeMs: 0, results: results.map((r) => ({ groupId: r.groupId, errorCode: errorCode(r.error) })) };
  },
};
