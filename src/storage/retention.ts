/**
 * Which segments a retention pass deletes, as Kafka decides it: the longest run of oldest
 * segments such that each one
 *
 * - is past retention.ms: its largest timestamp is more than retentionMs before now; or
 * - lies beyond retention.bytes: the log still holds at least retentionBytes without it and the
 *   segments before it; or
 * - lies wholly below the log start offset (moved up by DeleteRecords): the next segment starts
 *   at or below it.
 *
 * The three rules give three runs from the oldest segment; the longest wins (Kafka applies them
 * one after the other, which comes to the same). A segment is deletable only once all its
 * records are visible (durable under the flush policy). The active (last) segment can be
 * deleted too when it holds data, by time or size (the log then rolls first, as Kafka does);
 * the log-start-offset rule never takes it.
 */

export interface SegmentFacts {
  readonly baseOffset: number;
  /** The offset after its last batch. */
  readonly endOffset: number;
  readonly sizeBytes: number;
  /** Its largest batch timestamp, or the file's modification time when it has none. */
  readonly largestTimestampMs: number;
}

export interface RetentionLimits {
  /** retention.ms; negative: no bound by time. */
  readonly retentionMs: number;
  /** retention.bytes; negative: no bound by size. */
  readonly retentionBytes: number;
  readonly logStartOffset: number;
  /** Records below this are visible (durable); a segment reaching past it stays. */
  readonly visibleEndOffset: number;
  readonly nowMs: number;
}

/** How many of the oldest segments to delete (segments are oldest first; the last is active). */
export function segmentsToDelete(segments: readonly SegmentFacts[], limits: RetentionLimits): number {
  const last = segments.length - 1;
  const deletable = (i: number): boolean => {
    const segment = segments[i]!;
    if (i === last && segment.sizeBytes === 0) return false;
    return segment.endOffset <= limits.visibleEndOffset;
  };
  let byTime = 0;
  if (limits.retentionMs >= 0) {
    while (byTime <= last && deletable(byTime) && limits.nowMs - segments[byTime]!.largestTimestampMs > limits.retentionMs) byTime++;
  }
  let bySize = 0;
  if (limits.retentionBytes >= 0) {
    let remaining = segments.reduce((sum, segment) => sum + segment.sizeBytes, 0);
    while (bySize <= last && deletable(bySize) && remaining - segments[bySize]!.sizeBytes >= limits.retentionBytes) {
      remaining -= segments[bySize]!.sizeBytes;
      bySize++;
    }
  }
  let byStart = 0;
  while (byStart < last && deletable(byStart) && segments[byStart + 1]!.baseOffset <= limits.logStartOffset) byStart++;
  return Math.max(byTime, bySize, byStart);
}
