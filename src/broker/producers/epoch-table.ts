/**
 * The highest epoch the broker has seen for each producer id, across partitions and
 * InitProducerId answers, so that an epoch bump lands above every epoch the id has used (a Java
 * client bumps the epoch of an idempotent producer by itself, without asking). Bounded: the least
 * recently touched ids are forgotten first, and idle ids expire with producer state.
 */
import { epochsTrackedMax } from './limits.js';

interface Known {
  epoch: number;
  touchedMs: number;
}

export class EpochTable {
  private readonly known = new Map<bigint, Known>();

  constructor(private readonly entriesMax = epochsTrackedMax) {}

  get size(): number {
    return this.known.size;
  }

  highest(producerId: bigint): number | undefined {
    return this.known.get(producerId)?.epoch;
  }

  /** Records that `producerId` uses `epoch` (keeps the highest). */
  observe(producerId: bigint, epoch: number, nowMs: number): void {
    const before = this.known.get(producerId);
    this.known.delete(producerId);
    this.known.set(producerId, { epoch: Math.max(epoch, before?.epoch ?? epoch), touchedMs: nowMs });
    while (this.known.size > this.entriesMax) this.known.delete(this.known.keys().next().value as bigint);
  }

  expire(nowMs: number, expirationMs: number): void {
    for (const [id, entry] of this.known) {
      if (nowMs - entry.touchedMs >= expirationMs) this.known.delete(id);
    }
  }
}
