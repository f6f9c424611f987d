/**
 * kcat (librdkafka 2.0.2) as producer and consumer: `kcat -P` with a file of one record per line
 * on stdin (linger.ms=5, batch.size=1000000, acks=all, librdkafka's defaults), timed from spawn
 * to exit; and `kcat -C -o beginning -e`, one line per record so that the count can be checked,
 * timed from its first output to its exit. That leaves out kcat's start-up, in which librdkafka
 * now and then sleeps 500 ms before its first Fetch (a client-side timer: we saw it in about one
 * start in five against the mock), which would otherwise swamp a short run.
 */
import { runCommand, type CommandResult } from '../child.js';
import type { RunningBroker } from '../systems/types.js';

export function kcatBrokerArgs(broker: RunningBroker): string[] {
  const tls = broker.caFile ? ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${broker.caFile}`] : [];
  return ['-b', broker.bootstrap, ...tls];
}

/** librdkafka refuses records over message.max.bytes (1,000,000) before sending them. */
function sizeArgs(recordBytes: number): string[] {
  const needed = recordBytes + 64 * 1024;
  return needed > 1_000_000 ? ['-X', `message.max.bytes=${needed * 2}`] : [];
}

/**
 * `spread`: send each record to a random partition. By default librdkafka sticks to one partition
 * for 10 ms at a time (sticky.partitioning.linger.ms), so a fast run would fill only a handful.
 */
export function kcatProduce(broker: RunningBroker, topic: string, inputFile: string, recordBytes: number, timeoutMs: number, spread = false): Promise<CommandResult> {
  const spreadArgs = spread ? ['-X', 'sticky.partitioning.linger.ms=0'] : [];
  const args = [...kcatBrokerArgs(broker), '-P', '-t', topic, '-X', 'linger.ms=5', '-X', 'batch.size=1000000', ...spreadArgs, ...sizeArgs(recordBytes)];
  return runCommand('kcat', args, { stdinFile: inputFile, timeoutMs });
}

/**
 * Creates `topic` (with the broker's num.partitions) by asking kcat for its metadata, which
 * auto-creates it (on Inkwell and on the mock alike): the throughput scenarios do this before
 * the timed produce, so that creating the partitions (folders and files, seconds for 1,000 of
 * them) is not counted as produce throughput.
 */
export function kcatCreateTopic(broker: RunningBroker, topic: string, timeoutMs: number): Promise<CommandResult> {
  return runCommand('kcat', [...kcatBrokerArgs(broker), '-L', '-t', topic, '-m', String(Math.ceil(timeoutMs / 1000))], { timeoutMs });
}

export function kcatConsume(broker: RunningBroker, topic: string, recordBytes: number, timeoutMs: number): Promise<CommandResult> {
  // Records of 1 KiB or more are printed whole (a few fill stdout's 4 KiB buffer, so the first
  // line comes out as soon as the first records arrive); smaller ones print just their offset.
  const format = recordBytes >= 1024 ? '%s\\n' : '%o\\n';
  // fetch.wait.max.ms=10: at the end of the log both brokers hold the last, empty Fetch for the
  // whole wait before kcat sees the end; at librdkafka's 500 ms default that wait would be timed.
  const args = [...kcatBrokerArgs(broker), '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', format, '-X', 'fetch.wait.max.ms=10', ...sizeArgs(recordBytes)];
  return runCommand('kcat', args, { timeoutMs });
}
