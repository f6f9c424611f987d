/**
 * Consumer example: joins the consumer group "inkwell-example" and prints what is published to
 * the topic, from the start the first time and then from where the group left off.
 *
 *   npm start                      # in one terminal: the broker, TLS on 127.0.0.1:9093
 *   npm run consumer               # reads "greetings"; Ctrl+C to stop
 *   npm run consumer -- news       # another topic
 *
 * Run two consumers at once to see the group split the partitions between them.
 */
import { Consumer } from '../index.js';
import { exampleClientOptions } from './tls-settings.js';

async function main(): Promise<void> {
  const topic = process.argv[2] ?? 'greetings';
  const consumer = new Consumer({
    ...exampleClientOptions('inkwell-consumer'),
    groupId: 'inkwell-example',
    autoOffsetReset: 'earliest',
  });
  const stop = (): void => consumer.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await consumer.subscribe([topic]);
    console.log(`reading ${topic} as group inkwell-example, partitions ${consumer.assignment().map((tp) => tp.partition).join(',') || '(none yet)'}; Ctrl+C to stop`);
    for await (const record of consumer) {
      const headers = record.headers.map((header) => `${header.key}=${header.value?.toString() ?? ''}`).join(',');
      console.log(`${record.topic}[${record.partition}]@${record.offset} key=${record.key?.toString() ?? '(none)'} value=${record.value?.toString() ?? '(null)'}${headers ? ` headers=${headers}` : ''}`);
    }
  } finally {
    await consumer.close();
  }
}

main().catch((error: unknown) => {
  console.error(`consumer: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
