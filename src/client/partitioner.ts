/**
 * Choosing a partition. A keyed record goes to toPositive(murmur2(key)) % partitionCount, as the
 * Java client and kafkajs's default partitioner do, so a key lands on the same partition
 * whichever of them produced it. An unkeyed record goes to the topic's sticky partition, which
 * changes each time a batch for it is closed, so unkeyed records fill whole batches (KIP-480).
 */

const murmurSeed = 0x9747b28c;
const murmurMix = 0x5bd1e995;

/** Kafka's murmur2 (Utils.murmur2 of the Java client) as a signed 32-bit number. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = murmurSeed ^ length;
  const whole = length - (length & 3);
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, murmurMix);
    k ^= k >>> 24;
    k = Math.imul(k, murmurMix);
    h = Math.imul(h, murmurMix);
    h ^= k;
  }
  const tail = length & 3;
  if (tail === 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, murmurMix);
  }
  h ^= h >>> 13;
  h = Math.imul(h, murmurMix);
  h ^= h >>> 15;
  return h | 0;
}

export function toPositive(value: number): number {
  return value & 0x7fffffff;
}

/** The partition of a keyed record among `partitionCount` partitions. */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  return toPositive(murmur2(key)) % partitionCount;
}

/** A random partition among those with a leader (any partition when none has one), other than `avoid` when there is a choice. */
export function pickStickyPartition(leaders: readonly number[], avoid: number): number {
  const available: number[] = [];
  for (let p = 0; p < leaders.length; p++) if (leaders[p]! >= 0 && p !== avoid) available.push(p);
  if (available.length === 0) {
    if (leaders.length <= 1) return 0;
    let choice = Math.floor(Math.random() * (leaders.length - 1));
    if (choice >= avoid && avoid >= 0) choice++;
    return choice;
  }
  return available[Math.floor(Math.random() * available.length)]!;
}
