/**
 * The few requests the benchmark's own clients send (Metadata to create and find a topic,
 * Produce, Fetch), built with the registry codecs, and checks of their responses.
 */
import { errorName } from '../../src/protocol/errors.js';
import { registry } from '../../src/protocol/registry.js';
import { decodeResponse, encodeRequest, type EncodedRequest, type WireConnection } from './connection.js';

/**
 * The versions used, per API: the highest our codecs (protocol-spec/) and the broker both speak,
 * found by `negotiate`. The defaults are Inkwell's highest; the mock, for one, stops at Metadata v2.
 */
const versions: Record<'Produce' | 'Fetch' | 'Metadata', number> = { Produce: 7, Fetch: 11, Metadata: 8 };

/** Asks the broker for its ApiVersions and settles the versions every later request uses. */
export async function negotiate(connection: WireConnection): Promise<void> {
  const response = await connection.request('ApiVersions', 0, {});
  if (response.errorCode !== 0) throw new Error(`ApiVersions: ${describe(response.errorCode as number)}`);
  const offered = response.apiKeys as { apiKey: number; minVersion: number; maxVersion: number }[];
  for (const name of Object.keys(versions) as (keyof typeof versions)[]) {
    const ours = registry().named(name);
    const theirs = offered.find((api) => api.apiKey === ours.key);
    const version = theirs ? Math.min(theirs.maxVersion, ours.maxVersion) : -1;
    if (!theirs || version < Math.max(theirs.minVersion, ours.minVersion)) throw new Error(`the broker and the benchmark share no version of ${name}`);
    versions[name] = version;
  }
}

function describe(code: number): string {
  return `${errorName(code) ?? 'error'} (${code})`;
}

/**
 * Asks for the topic's metadata (creating it when the broker auto-creates topics) until every
 * partition has a leader; resolves with the partition count. Negotiates versions first.
 */
export async function awaitTopic(connection: WireConnection, topic: string, timeoutMs = 60_000): Promise<number> {
  await negotiate(connection);
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    const response = await connection.request('Metadata', versions.Metadata, { topics: [{ name: topic }], allowAutoTopicCreation: true });
    const found = (response.topics as { errorCode: number; name: string; partitions: { errorCode: number; leaderId: number }[] }[]).find((t) => t.name === topic);
    if (found && found.errorCode === 0 && found.partitions.length > 0 && found.partitions.every((p) => p.errorCode === 0 && p.leaderId >= 0)) {
      return found.partitions.length;
    }
    last = found ? `topic error ${describe(found.errorCode)}, ${found.partitions.length} partitions` : 'topic missing';
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`topic ${topic} not ready within ${timeoutMs} ms: ${last}`);
}

export function produceRequest(topic: string, partition: number, batch: Buffer, acks: number): EncodedRequest {
  return encodeRequest('Produce', versions.Produce, {
    transactionalId: null,
    acks,
    timeoutMs: 30_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
  });
}

/** Throws when any partition of a Produce response carries an error. */
export function checkProduce(frame: Buffer): void {
  const response = decodeResponse('Produce', versions.Produce, frame);
  for (const topic of response.responses as { name: string; partitionResponses: { index: number; errorCode: number }[] }[]) {
    for (const partition of topic.partitionResponses) {
      if (partition.errorCode !== 0) throw new Error(`Produce to ${topic.name}/${partition.index}: ${describe(partition.errorCode)}`);
    }
  }
}

export function fetchRequest(topic: string, partition: number, offset: number, maxWaitMs: number, maxBytes: number): EncodedRequest {
  return encodeRequest('Fetch', versions.Fetch, {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: BigInt(offset), logStartOffset: -1n, partitionMaxBytes: maxBytes }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
}

/** The record bytes of the first partition of a single-partition Fetch response. */
export function fetchedRecords(frame: Buffer): Buffer {
  const response = decodeResponse('Fetch', versions.Fetch, frame);
  if (response.errorCode !== 0) throw new Error(`Fetch: ${describe(response.errorCode as number)}`);
  const partition = (response.responses as { partitions: { errorCode: number; records: Buffer | null }[] }[])[0]?.partitions[0];
  if (!partition) throw new Error('Fetch response without the partition asked for');
  if (partition.errorCode !== 0) throw new Error(`Fetch: ${describe(partition.errorCode)}`);
  return partition.records ?? Buffer.alloc(0);
}
