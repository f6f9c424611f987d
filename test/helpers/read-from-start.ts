/** Reading a topic back with our own Consumer, every partition from the earliest offset, without a group. */
import { Consumer, type ConsumerOptions, type ConsumerRecord } from '../../src/index.js';

/**
 * Reads records of `topic` from the start of every partition until `count` have arrived or
 * `timeoutMs` has passed (then it returns what it has; the caller checks the count).
 */
export async function readFromStart(options: ConsumerOptions, topic: string, count: number, timeoutMs = 30_000): Promise<ConsumerRecord[]> {
  const consumer = new Consumer({ maxWaitMs: 100, ...options });
  const timer = setTimeout(() => consumer.stop(), timeoutMs);
  try {
    const partitions = await consumer.partitionCount(topic);
    await consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 'earliest' as const })));
    const out: ConsumerRecord[] = [];
    for await (const record of consumer) {
      out.push(record);
      if (out.length >= count) break;
    }
    return out;
  } finally {
    clearTimeout(timer);
    await consumer.close();
  }
}
