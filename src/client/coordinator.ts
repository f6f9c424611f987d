/**
 * Finding a consumer group's coordinator (FindCoordinator with key type 0), cached per cluster
 * until a request there says it moved.
 */
import type { Cluster } from './cluster.js';
import type { Connection } from './connection.js';
import { errorFromCode } from './errors.js';
import type { FindCoordinatorResponse } from './wire.js';

interface Coordinator {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

const cache = new WeakMap<Cluster, Map<string, Coordinator>>();

/** A connection to the group's coordinator, on `lane`; throws a retriable KafkaError while there is none. */
export async function findCoordinator(cluster: Cluster, groupId: string, lane: 'default' | 'group' = 'default'): Promise<Connection> {
  let groups = cache.get(cluster);
  if (groups === undefined) {
    groups = new Map();
    cache.set(cluster, groups);
  }
  let coordinator = groups.get(groupId);
  if (coordinator === undefined) {
    const connection = await cluster.anyConnection();
    const response = await connection.request<FindCoordinatorResponse>('FindCoordinator', { key: groupId, keyType: 0 });
    const error = errorFromCode(response.errorCode, `find the coordinator of group ${groupId}`, { message: response.errorMessage });
    if (error !== null) throw error;
    coordinator = { nodeId: response.nodeId, host: response.host, port: response.port };
    groups.set(groupId, coordinator);
  }
  try {
    return await cluster.connectionToAddress(coordinator, coordinator.nodeId, lane);
  } catch (error) {
    groups.delete(groupId);
    throw error;
  }
}

export function forgetCoordinator(cluster: Cluster, groupId: string): void {
  cache.get(cluster)?.delete(groupId);
}
