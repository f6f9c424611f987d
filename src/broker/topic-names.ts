/** Kafka's rules for topic names, plus the names of the broker's internal logs. */
import { isOffsetLogName } from './groups/offset-log.js';

export const topicNameBytesMax = 249;
const legalTopicName = /^[a-zA-Z0-9._-]+$/;

/** Returns why a topic name is invalid, or null when it is fine. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return `topic name "${name}" is not allowed`;
  if (name.length > topicNameBytesMax) return `topic name is longer than ${topicNameBytesMax} characters`;
  if (name === '__consumer_offsets' || isOffsetLogName(name)) return `topic name "${name}" is reserved for the broker's committed offsets`;
  if (!legalTopicName.test(name)) return `topic name "${name}" has characters other than ASCII letters, digits, '.', '_' and '-'`;
  return null;
}
