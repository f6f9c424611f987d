/**
 * DeleteTopics (key 20), versions 0-4 (4 is flexible).
 * v1 adds throttle time; v2 and v3 change nothing on the wire; v4 is the first flexible version.
 * A topic is removed with all its data; fetches waiting on it are woken and see it gone.
 */
import type { Handler } from '../context.js';
import type { Message } from '../../protocol/codec.js';
import { errorCode } from '../../protocol/errors.js';
import { TopicError } from '../topics.js';

export const deleteTopicsHandler: Handler = {
  apiKey: 20,
  async handle(context, request) {
    const responses: Message[] = [];
    for (const name of request.topicNames as string[]) {
      if (!context.broker.settings.deleteTopicEnable) {
        responses.push({ name, errorCode: errorCode('TOPIC_DELETION_DISABLED') });
        continue;
      }
      try {
        await context.broker.topics.delete(name);
        responses.push({ name, errorCode: 0 });
      } catch (error) {
        if (!(error instanceof TopicError)) {
          context.broker.log(`deleting topic ${name} failed: ${(error as Error).message}`);
          responses.push({ name, errorCode: errorCode('KAFKA_STORAGE_ERROR') });
          continue;
        }
        responses.push({ name, errorCode: errorCode(error.errorName) });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
};
