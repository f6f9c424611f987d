/** Sequence number arithmetic: int32 sequences that wrap from Integer.MAX_VALUE to 0, as Kafka's. */
import { sequenceMax } from './limits.js';

/** The sequence of a batch's last record: `base + count - 1`, wrapping past sequenceMax. */
export function lastSequenceOf(baseSequence: number, recordCount: number): number {
  const increment = recordCount - 1;
  if (baseSequence > sequenceMax - increment) return increment - (sequenceMax - baseSequence) - 1;
  return baseSequence + increment;
}

/** Whether `next` directly follows `last` (including the wrap from sequenceMax to 0). */
export function followsSequence(last: number, next: number): boolean {
  return next === last + 1 || (next === 0 && last === sequenceMax);
}
