/**
 * `inkwell produce -t TOPIC`: one record per line of stdin (or --file), optionally split into
 * key and value at the first --key-separator, with fixed headers. Waits for every record to be
 * acknowledged; any failure is one line on stderr and exit 1.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Type } from '@sinclair/typebox';
import { Producer, type Acks } from '../client/producer.js';
import type { RecordHeader } from '../client/batch-builder.js';
import { compressionTypes, type CompressionType } from '../client/compression.js';
import { asCliError, checkBootstrap, clientFlagProperties, clientFlagsUsage, clientOptionsFromFlags, splitAssignment, timeoutOf, withDeadline } from './client-flags.js';
import { CliError, UsageError } from './errors.js';
import { parseFlags } from './flags.js';

const ProduceFlags = Type.Object({
  topic: Type.Optional(Type.String({ short: 't', minLength: 1, expected: 'a topic name' })),
  'key-separator': Type.Optional(Type.String({ minLength: 1, expected: 'a non-empty string' })),
  header: Type.Optional(Type.Array(Type.String())),
  partition: Type.Optional(Type.String({ short: 'p', pattern: '^[0-9]{1,9}$', expected: 'a partition number' })),
  acks: Type.Optional(Type.Union([Type.Literal('0'), Type.Literal('1'), Type.Literal('all'), Type.Literal('-1')])),
  compression: Type.Optional(Type.Union(compressionTypes.map((name) => Type.Literal(name)))),
  file: Type.Optional(Type.String({ short: 'f', minLength: 1, expected: 'a file' })),
  'linger-ms': Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$', expected: 'a whole number of milliseconds' })),
  ...clientFlagProperties,
});

export const produceUsage = `Usage: inkwell produce -t TOPIC [options] < records.txt

Sends one record per line of input; prints nothing on success.

Options:
  -t, --topic NAME          the topic to write to (required)
  --key-separator SEP       split each line at the first SEP into key and value
                            (a line without SEP has no key)
  --header KEY=VALUE        add a header to every record (repeatable)
  -p, --partition N         write to this partition (default: by key, or sticky)
  --acks 0|1|all            acknowledgement level (default all)
  --compression TYPE        none, gzip, snappy, lz4 or zstd (default none)
  -f, --file FILE           read records from FILE instead of stdin
  --linger-ms N             wait up to N ms to fill batches (default 5)

${clientFlagsUsage}`;

/** `inkwell produce ...`; returns the exit code. */
export async function runProduce(args: readonly string[]): Promise<number> {
  const flags = parseFlags('produce', args, ProduceFlags);
  if (flags.help === true) {
    process.stdout.write(produceUsage);
    return 0;
  }
  if (flags.topic === undefined) throw new UsageError('produce: --topic is required (see inkwell produce --help)');
  const options = clientOptionsFromFlags('produce', flags);
  checkBootstrap('produce', options);
  const headers: RecordHeader[] = (flags.header ?? []).map((text) => {
    const [key, value] = splitAssignment('produce', 'header', text);
    return { key, value };
  });
  const separator = flags['key-separator'];
  const partition = flags.partition === undefined ? undefined : Number(flags.partition);
  const acks: Acks = flags.acks === undefined || flags.acks === 'all' || flags.acks === '-1' ? 'all' : (Number(flags.acks) as 0 | 1);
  const producer = new Producer({
    ...options,
    acks,
    compression: (flags.compression ?? 'none') as CompressionType,
    lingerMs: flags['linger-ms'] === undefined ? 5 : Number(flags['linger-ms']),
    maxBlockMs: timeoutOf(flags),
  });
  const topic = flags.topic;
  try {
    await withDeadline('produce', timeoutOf(flags), `connecting to ${String(options.bootstrap)}`, () => producer.connect());
    const input = flags.file === undefined ? process.stdin : createReadStream(flags.file);
    const inputError = new Promise<never>((_, reject) => input.once('error', (error: Error) => reject(new CliError(`produce: cannot read ${flags.file ?? 'stdin'}: ${error.message}`))));
    inputError.catch(() => {});
    let failure: unknown = null;
    let sent = 0;
    const lines = createInterface({ input, crlfDelay: Infinity });
    const reading = (async () => {
      for await (const line of lines) {
        if (failure !== null) break;
        if (line.length === 0) continue;
        let key: string | null = null;
        let value = line;
        if (separator !== undefined) {
          const at = line.indexOf(separator);
          if (at >= 0) {
            key = line.slice(0, at);
            value = line.slice(at + separator.length);
          }
        }
        producer
          .send({ topic, key, value, ...(headers.length > 0 ? { headers } : {}), ...(partition !== undefined ? { partition } : {}) })
          .catch((error: unknown) => (failure ??= error));
        sent++;
        if (sent % 1024 === 0) await producer.waitForRoom();
      }
    })();
    await Promise.race([reading, inputError]);
    await producer.flush();
    if (failure !== null) throw failure;
    return 0;
  } catch (error) {
    throw asCliError('produce', error);
  } finally {
    await producer.close({ timeoutMs: 1000 }).catch(() => {});
  }
}
