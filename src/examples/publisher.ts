/**
 * Publisher example: creates the topic if needed and publishes messages over TLS.
 *
 *   npm start                      # in one terminal: the broker, TLS on 127.0.0.1:9093
 *   npm run publisher              # publishes 10 greetings to "greetings"
 *   npm run publisher -- news "hello world" "second message"
 *
 * Each message gets a key (so equal keys land on the same partition) and a header; the
 * publisher prints where each one was stored.
 */
import { Admin, Producer } from '../index.js';
import { exampleClientOptions } from './tls-settings.js';

async function main(): Promise<void> {
  const [topic = 'greetings', ...texts] = process.argv.slice(2);
  const messages = texts.length > 0 ? texts : Array.from({ length: 10 }, (_, i) => `hello #${i + 1} from the publisher`);
  const options = exampleClientOptions('inkwell-publisher');

  const admin = new Admin(options);
  await admin.createTopics([{ topic, numPartitions: 3 }], { ifNotExists: true });
  await admin.close();

  const producer = new Producer({ ...options, compression: 'lz4' });
  try {
    const sent = await Promise.all(
      messages.map((text, i) =>
        producer.send({
          topic,
          key: `publisher-${i % 3}`,
          value: text,
          headers: { 'sent-by': 'publisher.ts' },
        }),
      ),
    );
    sent.forEach((metadata, i) => console.log(`published ${JSON.stringify(messages[i])} to ${metadata.topic}[${metadata.partition}] at offset ${metadata.offset}`));
  } finally {
    await producer.close();
  }
}

main().catch((error: unknown) => {
  console.error(`publisher: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
