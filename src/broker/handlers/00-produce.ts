/**
 * Produce (key 0), versions 3-7 (none flexible).
 * v3 is the first version that carries RecordBatch v2 and a transactional id; v5 adds
 * log_start_offset to the response; v6 and v7 change only client-side behaviour.
 * Each partition's batches are checked (magic, lengths, CRC-32C, record count, size) before any
 * of them is appended, so a partition's data goes in whole or not at all, and an error in one
 * partition leaves the others of the same request unaffected. Batches are stored as received,
 * with only the base offset (and, for LogAppendTime topics, the timestamp) written in.
 * acks=0 requests get no response at all.
 */
import type { Handler, RequestContext } from '../context.js';
import type { Message } from '../../protocol/codec.js';
import { errorCode } from '../../protocol/errors.js';
import { splitBatches, validateBatch, setLogAppendTime } from '../../protocol/record-batch.js';
import type { BatchInfo } from '../../storage/types.js';
import { topicNameProblem } from '../topic-names.js';
import { autoCreateTopic } from '../auto-create.js';
import type { Topic } from '../topics.js';

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
  const split = splitBatches(data.records);
  if ('error' in split) {
    context.broker.log(`produce to ${topic.name}-${data.index} rejected: ${split.reason}`);
    return partitionError(data.index, split.error);
  }
  const limits = { messageBytesMax: topicLimit(topic, context.broker.settings.messageBytesMax) };
  const infos: BatchInfo[] = [];
  for (const batch of split.batches) {
    const checked = validateBatch(batch, limits);
    if (!checked.ok) {
      context.broker.log(`produce to ${topic.name}-${data.index} rejected: ${checked.reason}`);
      return partitionError(data.index, checked.error);
    }
    infos.push(checked.info);
  }
  const logAppendTime = topic.configs['message.timestamp.type'] === 'LogAppendTime' ? Date.now() : -1;
  let baseOffset = -1;
  for (let i = 0; i < split.batches.length; i++) {
    const batch = split.batches[i]!;
    let info = infos[i]!;
    if (logAppendTime >= 0) {
      setLogAppendTime(batch, logAppendTime);
      info = { ...info, maxTimestamp: logAppendTime };
    }
    const result = partition.append(batch, info);
    if (i === 0) baseOffset = result.baseOffset;
    waits.push(result.written);
  }
  return {
    index: data.index,
    errorCode: 0,
    baseOffset: BigInt(baseOffset),
    logAppendTimeMs: BigInt(logAppendTime),
    logStartOffset: BigInt(partition.log.logStartOffset),
  };
}

export const produceHandler: Handler = {
  apiKey: 0,
  async handle(context, request) {
    const acks = request.acks as number;
    const topicData = request.topicData as TopicData[];
    const responses: Message[] = [];
    const waits: Promise<void>[] = [];
    for (const data of topicData) {
      const partitionResponses: Message[] = [];
      responses.push({ name: data.name, partitionResponses });
      if (acks !== 0 && acks !== 1 && acks !== -1) {
        for (const p of data.partitionData) partitionResponses.push(partitionError(p.index, 'INVALID_REQUIRED_ACKS'));
        continue;
      }
      if (request.transactionalId !== null && request.transactionalId !== undefined) {
        // Transactions are not implemented; InitProducerId is not advertised.
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

async function waitAll(waits: Promise<void>[]): Promise<Error | null> {
  const results = await Promise.allSettled(waits);
  const rejected = results.find((r) => r.status === 'rejected');
  return rejected ? (rejected.reason as Error) : null;
}
