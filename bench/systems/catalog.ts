/**
 * The systems a suite run compares, what each one is, whether it can run on this machine, and
 * how to start the brokers among them.
 */
import { execFileSync } from 'node:child_process';
import { BrokerConfigSchema } from '../../src/broker/config.js';
import { startInkwell, type InkwellSetup } from './inkwell.js';
import { startMock } from './mock.js';
import type { BrokerStartOptions, RunningBroker, SystemId, SystemInfo } from './types.js';

/** The durability config the "page cache" variant turns off (fsync never forced by count). */
export const flushKey = 'log.flush.interval.messages';
/** Kafka's own default for it (Long.MAX_VALUE): leave syncing to the OS. */
const kafkaNeverFlush = 9223372036854775807n;

function flushProperty(): { default?: unknown; maximum?: number } | undefined {
  const properties = BrokerConfigSchema.properties as Record<string, { default?: unknown; maximum?: number } | undefined>;
  return Object.hasOwn(properties, flushKey) ? properties[flushKey] : undefined;
}

/** The default of log.flush.interval.messages in this build, or undefined when it has no such key. */
export function flushDefault(): unknown {
  const property = flushProperty();
  return property ? (property.default ?? null) : undefined;
}

/** Kafka's Long.MAX_VALUE, or the largest value this build accepts when it caps the key lower. */
export function pageCacheFlushValue(): string {
  const maximum = flushProperty()?.maximum;
  return maximum !== undefined && BigInt(maximum) < kafkaNeverFlush ? String(maximum) : String(kafkaNeverFlush);
}

let kcatChecked: string | null | undefined;

/** Why kcat cannot be used, or null when it can. */
export function kcatUnavailable(): string | null {
  if (kcatChecked === undefined) {
    try {
      execFileSync('kcat', ['-V'], { stdio: 'ignore' });
      kcatChecked = null;
    } catch {
      kcatChecked = 'kcat is not installed (apt-get install kcat)';
    }
  }
  return kcatChecked;
}

export function systemCatalog(): SystemInfo[] {
  const flush = flushDefault();
  const hasFlushKey = flush !== undefined;
  const never = pageCacheFlushValue();
  const capped = never !== String(kafkaNeverFlush) ? ` (this build refuses Kafka's 9223372036854775807 and caps the key at ${never})` : '';
  const durability = hasFlushKey
    ? `default durability policy (${flushKey}=${String(flush)})`
    : `this build's only policy: appends go to the page cache, no fsync before the acknowledgement (there is no ${flushKey} yet)`;
  return [
    { id: 'inkwell', label: hasFlushKey ? 'Inkwell TLS' : 'Inkwell TLS (page cache)', description: `Inkwell over TLS, disk storage, ${durability}.`, kind: 'broker', tls: true, unavailable: null },
    {
      id: 'inkwell-pagecache',
      label: 'Inkwell TLS page cache',
      description: `Inkwell over TLS, disk storage, --set ${flushKey}=${never}${capped}: appends left to the page cache, no fsync before the acknowledgement.`,
      kind: 'broker',
      tls: true,
      unavailable: hasFlushKey ? null : `this build has no ${flushKey} config, so the default run already is the page-cache run`,
    },
    { id: 'inkwell-memory', label: 'Inkwell TLS memory', description: 'Inkwell over TLS, --storage memory (ring buffers only, no files).', kind: 'broker', tls: true, unavailable: null },
    {
      id: 'mock',
      label: 'mock (plaintext)',
      description: "librdkafka 2.0.2's mock cluster (1 broker, plaintext, in memory, ~5 MiB kept per partition, 4 partitions per topic), hosted by kcat.",
      kind: 'broker',
      tls: false,
      unavailable: kcatUnavailable(),
    },
    { id: 'tls-pipe', label: 'TLS pipe', description: 'A raw Node TLS socket between two Node processes moving the same bytes, no protocol: the machine\'s TLS limit.', kind: 'pipe', tls: true, unavailable: null },
    { id: 'tcp-pipe', label: 'TCP pipe', description: 'The same over plain TCP.', kind: 'pipe', tls: false, unavailable: null },
  ];
}

export function startBroker(id: SystemId, setup: InkwellSetup, options: BrokerStartOptions): Promise<RunningBroker> {
  switch (id) {
    case 'inkwell':
      return startInkwell(id, setup, {}, options);
    case 'inkwell-pagecache':
      return startInkwell(id, setup, { [flushKey]: pageCacheFlushValue() }, options);
    case 'inkwell-memory':
      return startInkwell(id, setup, { 'inkwell.storage': 'memory' }, options);
    case 'mock':
      return startMock();
    default:
      throw new Error(`${id} is not a broker`);
  }
}
