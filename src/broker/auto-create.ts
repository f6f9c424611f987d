/** Auto-creation of topics named by Metadata and Produce (auto.create.topics.enable). */
import type { RequestContext } from './context.js';
import { TopicError, type Topic } from './topics.js';

export async function autoCreateTopic(context: RequestContext, name: string): Promise<{ topic: Topic; error?: undefined } | { topic?: undefined; error: string }> {
  const { topics, settings } = context.broker;
  try {
    const topic = await topics.getOrCreate(name, settings.numPartitions, {});
    return { topic };
  } catch (error) {
    if (error instanceof TopicError) {
      if (error.errorName === 'TOPIC_ALREADY_EXISTS') {
        const topic = topics.get(name);
        if (topic) return { topic };
      }
      return { error: error.errorName };
    }
    context.broker.log(`auto-creating topic ${name} failed: ${(error as Error).message}`);
    return { error: 'KAFKA_STORAGE_ERROR' };
  }
}
