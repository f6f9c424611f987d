/**
 * Produce (key 0), versions 0-7 (none flexible).
 * v3 is the first version that carries RecordBatch v2 and a transactional id; v5 adds
 * log_start_offset to the response; v6 and v7 change only client-side behaviour.
 * v0-v2 carry legacy message sets (magic 0, or magic 1 from v2; Kafka accepts either, and v2
 * batches too, in any of them): a partition's legacy set is checked and converted to one
 * RecordBatch v2 (protocol/legacy-upconvert.ts) and then takes the same path as any batch. v1
 * adds throttle_time_ms to the response and v2 log_append_time_ms.
 * Each partition's batches are checked (magic, lengths, CRC-32C, record count, size) before any
 * of them is appended, so a partition's data goes in whole or not at all, and an error in one
 * partition leaves the others of the same request unaffected. Batches are stored as received,
 * with only the base offset (and, for LogAppendTime topics, the timestamp) written in.
 * acks=0 requests get no response at all.
 *
 * Idempotence: batches that carry a producer id are checked against the partition's producer
 * state (producers/partition-producers.ts) after validation and before anything is appended; a
 * retry of one of a producer's last 5 batches is answered with its original offsets and no error
 * (as Kafka answers since 1.0; early brokers said DUPLICATE_SEQUENCE_NUMBER), a gap is
 * OUT_OF_ORDER_SEQUENCE_NUMBER and an old epoch INVALID_PRODUCER_EPOCH, for the whole partition.
 * Checking, appending and recording happen in one synchronous step. Transactional batches are
 * refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED: there are no transactions.
 * The append phases of one connection's produce requests run one after another, in request
 * order (as Kafka handles a connection's requests one at a time), so that a producer's pipelined
 * requests reach each partition in the order it sent them; waiting for the writes overlaps.
 */
import type { ConnectionInfo, Handler, RequestContext } from '../context.js';
import type { Message } from '../../protocol/codec.js';
import { errorCode } from '../../protocol/errors.js';
import { splitBatches, validateBatch, setLogAppendTime, transactionalFlag, type BatchHeader } from '../../protocol/record-batch.js';
import { isLegacyMessageSet } from '../../protocol/legacy-message-set.js';
import { upconvertMessageSet } from '../../protocol/legacy-upconvert.js';
import type { BatchInfo } from '../../storage/types.js';
import { topicNameProblem } from '../topic-names.js';
import { autoCreateTopic } from '../auto-create.js';
import type { Topic } from '../topics.js';
import type { AppendedBatch, PartitionProducers } from '../producers/partition-producers.js';

/** The highest Produce version whose records may be a legacy message set (magic 0 or 1). */
const legacyVersionMax = 2;

/** Per connection: the append phase of its latest produce request (the next one waits for it). */
const appendTurns = new WeakMap<ConnectionInfo, Promise<void>>();

interface PartitionData {
  index: number;
  records: Buffer | null;
}

interface TopicData {
  name: string;
  partitionData: PartitionData[];
}

function partitionError(index: number, error: string): Message {
  return { index, errorCode: errorCode(error), baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n };
}

function topicLimit(topic: Topic, fallback: number): number {
  const configured = topic.configs['max.message.bytes'];
  return configured === undefined ? fallback : Number(configured);
}

async function producePartition(context: RequestContext, topic: Topic, data: PartitionData, waits: Promise<void>[]): Promise<Message> {
  const partition = topic.partitions[data.index];
  if (!partition) return partitionError(data.index, 'UNKNOWN_TOPIC_OR_PARTITION');
  if (data.records === null || data.records.length === 0) return partitionError(data.index, 'INVALID_RECORD');
  const limits = { messageBytesMax: topicLimit(topic, context.broker.settings.messageBytesMax) };
  let records = data.records;
  if (context.apiVersion <= legacyVersionMax && isLegacyMessageSet(records)) {
    const converted = await upconvertMessageSet(records, limits);
    if (!converted.ok) {
      context.broker.log(`produce to ${topic.name}-${data.index} rejected: ${converted.reason}`);
      return partitionError(data.index, converted.error);
    }
    records = converted.batch;
  }
  const split = splitBatches(records);
  if ('error' in split) {
    context.broker.log(`produce to ${topic.name}-${data.index} rejected: ${split.reason}`);
    return partitionError(data.index, split.error);
  }
  const infos: BatchInfo[] = [];
  const headers: BatchHeader[] = [];
  for (const batch of split.batches) {
    const checked = validateBatch(batch, limits);
    if (!checked.ok) {
      context.broker.log(`produce to ${topic.name}-${data.index} rejected: ${checked.reason}`);
      return partitionError(data.index, checked.error);
    }
    infos.push(checked.info);
    headers.push(checked.header);
  }
  if (headers.some((header) => (header.attributes & transactionalFlag) !== 0)) {
    context.broker.log(`produce to ${topic.name}-${data.index} rejected: transactional batches need transactions, which Inkwell does not have`);
    return partitionError(data.index, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
  }
  let producers: PartitionProducers | null = null;
  if (headers.some((header) => header.producerId >= 0n)) {
    try {
      const state = context.broker.producers.stateOf(topic, data.index);
      producers = state instanceof Promise ? await state : state;
    } catch (error) {
      context.broker.log(`producer state of ${topic.name}-${data.index} cannot be loaded: ${(error as Error).message}`);
      return partitionError(data.index, 'KAFKA_STORAGE_ERROR');
    }
  }
  // From here to the commit nothing awaits: no other request can slip between check and append.
  const plan = producers?.plan(
    headers.map((h) => ({ producerId: h.producerId, producerEpoch: h.producerEpoch, baseSequence: h.baseSequence, recordCount: h.recordCount })),
    Date.now(),
  );
  if (plan?.kind === 'refused') {
    context.broker.log(`produce to ${topic.name}-${data.index} rejected: ${plan.reason}`);
    return partitionError(data.index, plan.error);
  }
  if (plan?.kind === 'duplicate') {
    const response: Message = {
      index: data.index,
      errorCode: 0,
      baseOffset: BigInt(plan.batch.firstOffset),
      logAppendTimeMs: -1n,
      logStartOffset: BigInt(partition.log.logStartOffset),
    };
    if (plan.batch.settled) waits.push(storageErrorOnFailure(context, topic, response, plan.batch.settled));
    return response;
  }
  const appended: AppendedBatch[] = [];
  const logAppendTime = topic.configs['message.timestamp.type'] === 'LogAppendTime' ? Date.now() : -1;
  let baseOffset = -1;
  const durable: Promise<void>[] = [];
  for (let i = 0; i < split.batches.length; i++) {
    const batch = split.batches[i]!;
    let info = infos[i]!;
    if (logAppendTime >= 0) {
      setLogAppendTime(batch, logAppendTime);
      info = { ...info, maxTimestamp: logAppendTime };
    }
    const result = partition.append(batch, info);
    if (i === 0) baseOffset = result.baseOffset;
    // Acknowledged once durable under the flush policy (and so visible to readers): see AppendResult.durable.
    durable.push(result.durable);
    appended.push({ baseOffset: result.baseOffset, lastOffset: result.lastOffset, settled: result.durable });
  }
  plan?.commit(appended);
  const response: Message = {
    index: data.index,
    errorCode: 0,
    baseOffset: BigInt(baseOffset),
    logAppendTimeMs: BigInt(logAppendTime),
    logStartOffset: BigInt(partition.log.logStartOffset),
  };
  // Batches become visible to readers when durable, which may be after the append woke the
  // partition's long-polling fetches: wake them again then.
  const allDurable = (durable.length === 1 ? durable[0]! : Promise.all(durable)).then(() => partition.wakeAll());
  waits.push(storageErrorOnFailure(context, topic, response, allDurable));
  return response;
}

/**
 * Waits for a partition's batches to be durable; when they cannot be (the storage failed to
 * write or sync them, e.g. ENOSPC or EIO), answers that partition, and only that one,
 * KAFKA_STORAGE_ERROR: nothing of it is acknowledged.
 */
function storageErrorOnFailure(context: RequestContext, topic: Topic, response: Message, settled: Promise<unknown>): Promise<void> {
  return settled.then(
    () => {},
    (error: unknown) => {
      context.broker.log(`produce to ${topic.name}-${response.index as number} failed: ${(error as Error).message}`);
      Object.assign(response, partitionError(response.index as number, 'KAFKA_STORAGE_ERROR'));
    },
  );
}

export const produceHandler: Handler = {
  apiKey: 0,
  async handle(context, request) {
    const acks = request.acks as number;
    const topicData = request.topicData as TopicData[];
    const responses: Message[] = [];
    const waits: Promise<void>[] = [];
    const previous = appendTurns.get(context.connection);
    let release!: () => void;
    const turn = new Promise<void>((resolve) => (release = resolve));
    appendTurns.set(context.connection, turn);
    try {
      if (previous) await previous;
      await appendAll(context, request, topicData, responses, waits);
    } finally {
      release();
      if (appendTurns.get(context.connection) === turn) appendTurns.delete(context.connection);
    }
    const failed = await waitAll(waits);
    // acks=0 gets no response, but its slot stays in flight until the write is done, so the
    // connection's in-flight bound also bounds how far unwritten acks=0 data can pile up.
    if (acks === 0) return null;
    if (failed) {
      context.broker.log(`produce write failed: ${failed.message}`);
      for (const topic of responses) {
        for (const p of topic.partitionResponses as Message[]) {
          if (p.errorCode === 0) Object.assign(p, partitionError(p.index as number, 'KAFKA_STORAGE_ERROR'));
        }
      }
    }
    return { responses, throttleTimeMs: 0 };
  },
};

/** The append phase of a produce request: every partition checked and appended, in request order. */
async function appendAll(context: RequestContext, request: Message, topicData: TopicData[], responses: Message[], waits: Promise<void>[]): Promise<void> {
  const acks = request.acks as number;
  for (const data of topicData) {
    const partitionResponses: Message[] = [];
    responses.push({ name: data.name, partitionResponses });
    if (acks !== 0 && acks !== 1 && acks !== -1) {
      for (const p of data.partitionData) partitionResponses.push(partitionError(p.index, 'INVALID_REQUIRED_ACKS'));
      continue;
    }
    if (request.transactionalId !== null && request.transactionalId !== undefined) {
      // Transactions are not implemented (InitProducerId refuses transactional ids too).
      for (const p of data.partitionData) partitionResponses.push(partitionError(p.index, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'));
      continue;
    }
    let topic = context.broker.topics.get(data.name);
    if (!topic) {
      const problem = topicNameProblem(data.name);
      if (problem === null && context.broker.settings.autoCreateTopics) {
        const created = await autoCreateTopic(context, data.name);
        if (created.error !== undefined) {
          for (const p of data.partitionData) partitionResponses.push(partitionError(p.index, created.error));
          continue;
        }
        topic = created.topic;
      } else {
        const error = problem === null ? 'UNKNOWN_TOPIC_OR_PARTITION' : 'INVALID_TOPIC_EXCEPTION';
        for (const p of data.partitionData) partitionResponses.push(partitionError(p.index, error));
        continue;
      }
    }
    for (const p of data.partitionData) partitionResponses.push(await producePartition(context, topic, p, waits));
  }
}

async function waitAll(waits: Promise<void>[]): Promise<Error | null> {
  const results = await Promise.allSettled(waits);
  const rejected = results.find((r) => r.status === 'rejected');
  return rejected ? (rejected.reason as Error) : null;
}
