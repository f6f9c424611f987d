/**
 * JoinGroup (key 11), versions 0-7 (6+ flexible).
 * v0: the session timeout doubles as the rebalance timeout. v1 adds rebalanceTimeoutMs. v2 adds
 * throttleTimeMs; v3 is v2's layout. v4: a member joining with an empty member id is given one
 * with MEMBER_ID_REQUIRED and joins again with it (KIP-394); earlier versions are added at once.
 * v5 adds groupInstanceId for static members, in the request and in the leader's member list
 * (KIP-345). v6 is the first flexible version. v7 adds protocolType to the response and makes
 * protocolName nullable (KIP-559); before v7 a missing protocol name is sent as "".
 * The response is held until the rebalance ends (see groups/rebalance.ts).
 */
import type { Handler } from '../context.js';
import { errorCode } from '../../protocol/errors.js';
import { clientHost } from '../groups/client-host.js';

interface ProtocolField {
  name: string;
  metadata: Buffer;
}

export const joinGroupHandler: Handler = {
  apiKey: 11,
  async handle(context, request) {
    const version = context.apiVersion;
    const sessionTimeoutMs = request.sessionTimeoutMs as number;
    const result = await context.broker.groups.join({
      groupId: request.groupId as string,
      memberId: request.memberId as string,
      groupInstanceId: version >= 5 ? (request.groupInstanceId as string | null) : null,
      requireKnownMemberId: version >= 4,
      clientId: context.header.clientId ?? '',
      clientHost: clientHost(context),
      rebalanceTimeoutMs: version >= 1 ? (request.rebalanceTimeoutMs as number) : sessionTimeoutMs,
      sessionTimeoutMs,
      protocolType: request.protocolType as string,
      // Copied: the coordinator keeps them, and the request frame should not stay alive for them.
      protocols: (request.protocols as ProtocolField[]).map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
    });
    return {
      throttleTimeMs: 0,
      errorCode: errorCode(result.error),
      generationId: result.generationId,
      protocolType: result.protocolType,
      protocolName: version >= 7 ? result.protocolName : (result.protocolName ?? ''),
      leader: result.leaderId,
      memberId: result.memberId,
      members: result.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata })),
    };
  },
};
