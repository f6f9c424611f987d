/**
 * `inkwell consume -t TOPIC`: prints records, one per line, in a --format or as --json. Without
 * a group it reads every partition (or --partition) from the end, --from-beginning, or
 * --offset N; with -g it joins the group and commits as it goes. Stops after --max-messages,
 * at the end of the partitions with --exit, or on SIGINT/SIGTERM (exit 0 in each case).
 */
import { Type } from '@sinclair/typebox';
import { Consumer, type ConsumerRecord, type StartOffset, type TopicPartition } from '../client/consumer.js';
import { asCliError, checkBootstrap, clientFlagProperties, clientFlagsUsage, clientOptionsFromFlags, timeoutOf, withDeadline } from './client-flags.js';
import { UsageError } from './errors.js';
import { parseFlags } from './flags.js';
import { compileFormat, recordAsJson } from './record-format.js';

const ConsumeFlags = Type.Object({
  topic: Type.Optional(Type.String({ short: 't', minLength: 1, expected: 'a topic name' })),
  group: Type.Optional(Type.String({ short: 'g', minLength: 1, expected: 'a group id' })),
  'from-beginning': Type.Optional(Type.Boolean()),
  offset: Type.Optional(Type.String({ short: 'o', pattern: '^[0-9]{1,15}$', expected: 'an offset (a whole number)' })),
  partition: Type.Optional(Type.String({ short: 'p', pattern: '^[0-9]{1,9}$', expected: 'a partition number' })),
  'max-messages': Type.Optional(Type.String({ short: 'n', pattern: '^[0-9]{1,12}$', expected: 'a whole number' })),
  format: Type.Optional(Type.String({ short: 'f', expected: 'a format string' })),
  json: Type.Optional(Type.Boolean()),
  exit: Type.Optional(Type.Boolean({ short: 'e' })),
  'read-uncommitted': Type.Optional(Type.Boolean()),
  ...clientFlagProperties,
});

export const consumeUsage = `Usage: inkwell consume -t TOPIC [options]

Prints records, one per line.

Options:
  -t, --topic NAME          the topic to read (required)
  -g, --group ID            join this consumer group (offsets are committed as records are printed)
  --from-beginning          start at the earliest offset (default: only new records)
  -o, --offset N            start at offset N (without a group)
  -p, --partition N         read only partition N (without a group)
  -n, --max-messages N      exit after N records
  -e, --exit                exit once every partition is read to its end
  -f, --format FMT          %t topic, %p partition, %o offset, %k key, %v value, %h headers,
                            %T timestamp, %% a percent sign; \\n and \\t escapes (default '%v')
  --json                    one JSON object per record instead of --format
  --read-uncommitted        also show records of aborted transactions

${clientFlagsUsage}`;

function tpKey(tp: TopicPartition): string {
  return `${tp.topic}\u0000${tp.partition}`;
}

/** `inkwell consume ...`; returns the exit code. */
export async function runConsume(args: readonly string[]): Promise<number> {
  const flags = parseFlags('consume', args, ConsumeFlags);
  if (flags.help === true) {
    process.stdout.write(consumeUsage);
    return 0;
  }
  if (flags.topic === undefined) throw new UsageError('consume: --topic is required (see inkwell consume --help)');
  if (flags.group !== undefined && (flags.offset !== undefined || flags.partition !== undefined)) throw new UsageError('consume: --offset and --partition cannot be used with --group');
  if (flags.json === true && flags.format !== undefined) throw new UsageError('consume: --json and --format cannot be used together');
  if (flags['from-beginning'] === true && flags.offset !== undefined) throw new UsageError('consume: --from-beginning and --offset cannot be used together');
  const options = clientOptionsFromFlags('consume', flags);
  checkBootstrap('consume', options);
  const render = flags.json === true ? recordAsJson : compileFormat(flags.format ?? '%v');
  const maxMessages = flags['max-messages'] === undefined ? Infinity : Number(flags['max-messages']);
  const topic = flags.topic;
  const timeoutMs = timeoutOf(flags);
  const consumer = new Consumer({
    ...options,
    ...(flags.group !== undefined ? { groupId: flags.group } : {}),
    autoOffsetReset: flags['from-beginning'] === true ? 'earliest' : 'latest',
    isolationLevel: flags['read-uncommitted'] === true ? 'read_uncommitted' : 'read_committed',
    maxWaitMs: 200,
  });
  let stopping = false;
  const stop = (): void => {
    stopping = true;
    consumer.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') stop();
  });
  let endTimer: NodeJS.Timeout | null = null;
  try {
    await withDeadline('consume', timeoutMs, `connecting to ${String(options.bootstrap)}`, async () => {
      await consumer.connect();
      const partitionCount = await consumer.partitionCount(topic);
      if (flags.group !== undefined) {
        await consumer.subscribe([topic]);
        return;
      }
      let partitions = Array.from({ length: partitionCount }, (_, partition) => partition);
      if (flags.partition !== undefined) {
        const partition = Number(flags.partition);
        if (partition >= partitionCount) throw new UsageError(`consume: ${topic} has ${partitionCount} partitions; there is no partition ${partition}`);
        partitions = [partition];
      }
      const start: StartOffset = flags.offset !== undefined ? Number(flags.offset) : flags['from-beginning'] === true ? 'earliest' : 'latest';
      await consumer.assign(partitions.map((partition) => ({ topic, partition, offset: start })));
    });
    const ends = new Map<string, number>();
    const atEnd = async (): Promise<boolean> => {
      const assigned = consumer.assignment();
      const missing = assigned.filter((tp) => !ends.has(tpKey(tp)));
      if (missing.length > 0) for (const end of await consumer.endOffsets(missing)) ends.set(tpKey(end), end.offset);
      return assigned.every((tp) => {
        const position = consumer.position(tp.topic, tp.partition);
        return position >= 0 && position >= ends.get(tpKey(tp))!;
      });
    };
    if (flags.exit === true) {
      const check = (): void => {
        endTimer = null;
        atEnd().then(
          (done) => {
            if (done) stop();
            else if (!stopping) endTimer = setTimeout(check, 100);
          },
          () => {
            if (!stopping) endTimer = setTimeout(check, 200);
          },
        );
      };
      check();
    }
    let printed = 0;
    if (printed >= maxMessages) return 0;
    await consumer.run({
      eachBatch: async (batch) => {
        let records: readonly ConsumerRecord[] = batch.records;
        if (printed + records.length >= maxMessages) {
          records = records.slice(0, maxMessages - printed);
          // Leave the position (and any commit) just after the last record printed.
          const last = records[records.length - 1];
          if (last !== undefined && last !== batch.records[batch.records.length - 1]) consumer.seek(batch.topic, batch.partition, last.offset + 1);
        }
        let text = '';
        for (const record of records) text += render(record) + '\n';
        printed += records.length;
        if (text.length > 0 && !process.stdout.write(text)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
        if (printed >= maxMessages) stop();
      },
    });
    return 0;
  } catch (error) {
    throw asCliError('consume', error);
  } finally {
    if (endTimer !== null) clearTimeout(endTimer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await consumer.close().catch(() => {});
  }
}
