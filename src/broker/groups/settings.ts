/** The group coordinator's settings, from the broker configs of the same Kafka names. */
import { groupMembersLimit } from './limits.js';

export interface GroupSettings {
  /** group.min.session.timeout.ms */
  readonly minSessionTimeoutMs: number;
  /** group.max.session.timeout.ms */
  readonly maxSessionTimeoutMs: number;
  /** group.initial.rebalance.delay.ms: how long the first rebalance of an empty group waits for more members. */
  readonly initialRebalanceDelayMs: number;
  /** group.max.size: members per group. */
  readonly maxSize: number;
  /** offsets.retention.minutes, in ms. */
  readonly offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms */
  readonly offsetsRetentionCheckIntervalMs: number;
  /** offset.metadata.max.bytes: the longest metadata string of a commit (in characters, as Kafka counts). */
  readonly offsetMetadataMaxBytes: number;
  /** offsets.topic.segment.bytes: segment size of the offset log, and the growth that triggers its rewrite. */
  readonly offsetsTopicSegmentBytes: number;
}

/** Kafka's defaults, except the initial rebalance delay (0 here, 3000 in Kafka) and group.max.size (bounded here). */
export const defaultGroupSettings: GroupSettings = {
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
  initialRebalanceDelayMs: 0,
  maxSize: 1000,
  offsetsRetentionMs: 10_080 * 60_000,
  offsetsRetentionCheckIntervalMs: 600_000,
  offsetMetadataMaxBytes: 4096,
  offsetsTopicSegmentBytes: 104_857_600,
};

/** Throws when the settings contradict each other. */
export function checkGroupSettings(settings: GroupSettings): void {
  const problems: string[] = [];
  if (settings.minSessionTimeoutMs > settings.maxSessionTimeoutMs) {
    problems.push(`group.min.session.timeout.ms (${settings.minSessionTimeoutMs}) is more than group.max.session.timeout.ms (${settings.maxSessionTimeoutMs})`);
  }
  if (settings.maxSize < 1 || settings.maxSize > groupMembersLimit) problems.push(`group.max.size must be between 1 and ${groupMembersLimit}`);
  if (settings.offsetsRetentionMs <= 0) problems.push('offsets.retention.minutes must be positive');
  if (settings.offsetsRetentionCheckIntervalMs <= 0) problems.push('offsets.retention.check.interval.ms must be positive');
  if (problems.length > 0) throw new Error(`invalid group coordinator settings: ${problems.join('; ')}`);
}
