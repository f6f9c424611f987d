/**
 * Fetch (key 1), versions 4-11 (none flexible).
 * v4 adds isolation level, last stable offset and aborted transactions; v5 log start offset;
 * v7 fetch sessions (KIP-227) and forgotten topics; v9 current leader epoch; v11 rack id and
 * preferred read replica.
 * Fetch sessions are declined: every response carries session id 0, so clients send full
 * fetches. Without transactions the last stable offset equals the high watermark.
 * Long poll: when fewer than min_bytes are available the request waits, woken by appends to
 * any partition it asked for, until max_wait_ms (capped by inkwell.fetch.wait.ms.max) passes.
 * Records are served as views of the stored batches, never decoded or copied.
 */
import type { BrokerContext, Handler, RequestContext } from '../context.js';
import type { Message } from '../../protocol/codec.js';
import { errorCode } from '../../protocol/errors.js';
import type { Partition } from '../partition.js';

interface FetchPartition {
  partition: number;
  fetchOffset: bigint;
  partitionMaxBytes: number;
}

interface FetchTopic {
  topic: string;
  partitions: FetchPartition[];
}

/** The most record bytes one Fetch response carries, whatever the client asks (Kafka's fetch.max.bytes default, 55 MiB). */
export const fetchResponseBytesMax = 55 * 1024 * 1024;

/** Partitions named in one Fetch; a larger request is answered for the first this many only. */
export const fetchPartitionsMax = 100_000;

interface Plan {
  topic: string;
  request: FetchPartition;
  partition: Partition | undefined;
}

interface ReadRound {
  responses: Message[];
  bytes: number;
  /** What to call once the responses are written or dropped (pooled read buffers go back). */
  releases: (() => void)[];
}

async function readOnce(plans: Plan[][], responseBytesMax: number, readCommitted: boolean): Promise<ReadRound> {
  let bytes = 0;
  const responses: Message[] = [];
  const releases: (() => void)[] = [];
  for (const topicPlans of plans) {
    const partitions: Message[] = [];
    responses.push({ topic: topicPlans[0]?.topic ?? '', partitions });
    for (const plan of topicPlans) {
      const { request, partition } = plan;
      if (!partition) {
        partitions.push({
          partitionIndex: request.partition,
          errorCode: errorCode('UNKNOWN_TOPIC_OR_PARTITION'),
          highWatermark: -1n,
          lastStableOffset: -1n,
          logStartOffset: -1n,
          abortedTransactions: null,
          preferredReadReplica: -1,
          records: null,
        });
        continue;
      }
      const log = partition.log;
      const end = log.logEndOffset;
      const start = log.logStartOffset;
      const base = {
        partitionIndex: request.partition,
        highWatermark: BigInt(end),
        lastStableOffset: BigInt(end),
        logStartOffset: BigInt(start),
        abortedTransactions: readCommitted ? [] : null,
        preferredReadReplica: -1,
      };
      const offset = request.fetchOffset;
      if (offset < BigInt(start) || offset > BigInt(end)) {
        partitions.push({ ...base, errorCode: errorCode('OFFSET_OUT_OF_RANGE'), records: null });
        continue;
      }
      const budget = Math.min(request.partitionMaxBytes, responseBytesMax - bytes);
      if (Number(offset) === end || request.partitionMaxBytes <= 0 || (budget <= 0 && bytes > 0)) {
        partitions.push({ ...base, errorCode: 0, records: [] });
        continue;
      }
      const read = await log.read(Number(offset), Math.max(budget, 1));
      bytes += read.bytes;
      if (read.release) releases.push(read.release);
      partitions.push({ ...base, errorCode: 0, records: read.chunks });
    }
  }
  return { responses, bytes, releases };
}

/** Answers with a round's records; its pooled buffers go back once the response is written. */
function answer(context: RequestContext, top: Message, round: ReadRound): Message {
  if (round.releases.length > 0 && context.afterWrite) {
    const releases = round.releases;
    context.afterWrite(() => releases.forEach((release) => release()));
  }
  return { ...top, errorCode: 0, responses: round.responses };
}

export const fetchHandler: Handler = {
  apiKey: 1,
  async handle(context, request) {
    const version = context.apiVersion;
    const sessionId = (request.sessionId as number | undefined) ?? 0;
    const sessionEpoch = (request.sessionEpoch as number | undefined) ?? -1;
    const top = { throttleTimeMs: 0, sessionId: 0 };
    if (version >= 7 && sessionId !== 0) {
      // We never hand out session ids, so any non-zero id is unknown.
      return { ...top, errorCode: errorCode('FETCH_SESSION_ID_NOT_FOUND'), responses: [] };
    }
    if (version >= 7 && sessionEpoch !== 0 && sessionEpoch !== -1) {
      return { ...top, errorCode: errorCode('INVALID_FETCH_SESSION_EPOCH'), responses: [] };
    }
    const plans = planFetch(context, request.topics as FetchTopic[]);
    const maxBytes = Math.min(Math.max(0, request.maxBytes as number), fetchResponseBytesMax);
    const minBytes = request.minBytes as number;
    const readCommitted = request.isolationLevel === 1;
    const waitMs = Math.min(Math.max(0, request.maxWaitMs as number), context.broker.settings.fetchWaitMsMax);

    let result = await readOnce(plans, maxBytes, readCommitted);
    if (result.bytes >= minBytes || minBytes <= 0 || waitMs === 0) return answer(context, top, result);
    const deadline = Date.now() + waitMs;
    const partitions = plans.flat().flatMap((p) => (p.partition ? [p.partition] : []));
    while (Date.now() < deadline) {
      const woken = await waitForAppend(partitions, deadline - Date.now(), context.broker);
      // The earlier round's records are not sent: nothing refers to its buffers any more.
      for (const release of result.releases) release();
      result = await readOnce(plans, maxBytes, readCommitted);
      if (!woken || result.bytes >= minBytes) break;
    }
    return answer(context, top, result);
  },
};

function planFetch(context: RequestContext, topics: FetchTopic[]): Plan[][] {
  const plans: Plan[][] = [];
  let count = 0;
  for (const requested of topics) {
    const topic = context.broker.topics.get(requested.topic);
    const list: Plan[] = [];
    for (const p of requested.partitions) {
      if (count++ >= fetchPartitionsMax) break;
      list.push({ topic: requested.topic, request: p, partition: topic?.partitions[p.partition] });
    }
    if (list.length > 0) plans.push(list);
  }
  return plans;
}

/** Resolves true when any partition gets an append, false on timeout or broker shutdown. */
function waitForAppend(partitions: Partition[], timeoutMs: number, broker: BrokerContext): Promise<boolean> {
  if (partitions.length === 0 || timeoutMs <= 0) {
    return new Promise((resolve) => setTimeout(() => resolve(false), Math.max(0, timeoutMs)).unref());
  }
  return new Promise((resolve) => {
    const cancels: (() => void)[] = [];
    let settled = false;
    const finish = (woken: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const cancel of cancels) cancel();
      resolve(woken);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    for (const partition of partitions) cancels.push(partition.onAppend(() => finish(true)));
    cancels.push(broker.onClosing(() => finish(false)));
  });
}
