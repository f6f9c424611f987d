/** The client address the group coordinator records for a member. */
import type { RequestContext } from '../context.js';

/** The client's address as Kafka reports it in DescribeGroups: "/" and the IP, without the port. */
export function clientHost(context: RequestContext): string {
  const address = context.connection.remoteAddress;
  const colon = address.lastIndexOf(':');
  return `/${colon > 0 ? address.slice(0, colon) : address}`;
}
