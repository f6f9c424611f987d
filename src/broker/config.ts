/**
 * Broker configuration, by Kafka's broker config names (plus our own under `inkwell.`).
 *
 * One TypeBox schema is the source of truth: it gives each key its TypeScript type, its default,
 * its bounds, its Kafka config type (for DescribeConfigs and for converting text values) and its
 * documentation. `resolveConfig` merges, in increasing precedence: the defaults, a config file
 * (JSON or Kafka's server.properties format), `--set key=value` pairs, then dedicated options
 * (CLI flags or embedding options). Unknown keys are errors, never ignored: a misspelt key that
 * silently did nothing would be worse than refusing to start.
 *
 * Values are read as `config['num.partitions']`: the Kafka names are the property names.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ListenerError, allInterfacesHost, parseListeners } from './listeners.js';
import { groupMembersLimit } from './groups/limits.js';
import { producersPerPartitionMaxDefault, producersPerPartitionMaxLimit } from './producers/limits.js';

/** Kafka's ConfigDef types, as DescribeConfigs (v3+) reports them, for the types we use. */
export type KafkaConfigType = 'BOOLEAN' | 'STRING' | 'INT' | 'LONG' | 'LIST';

const intMax = 2 ** 31 - 1;
const intMin = -(2 ** 31);
const mebibyte = 1024 * 1024;

/** The smallest segment we accept; Kafka allows 14 bytes, which only a test could want, and tests manage with this. */
export const segmentBytesMin = 1024;
/** The smallest request frame limit that still leaves room for ordinary requests (ApiVersions, Metadata). */
export const frameBytesMin = 1024;
/** Upper bound on requests queued per connection; more would only hide a client that does not read. */
export const inflightRequestsMaxLimit = 10_000;
/** Upper bound on the Fetch wait limit (one hour); a longer wait outlives any client's request timeout. */
export const fetchWaitMsLimit = 3_600_000;

/**
 * The schema. Beyond TypeBox's own keywords each key carries `kafkaType` (how text values are
 * converted and how DescribeConfigs types it), `description`, and optionally `aliases` (older
 * Kafka names accepted for it), `boundsReason` (why the bounds are what they are) and `readOnly: false` (none yet: without AlterConfigs every broker
 * config is fixed at start, which is what Kafka's read_only flag means).
 */
export const BrokerConfigSchema = Type.Object(
  {
    'node.id': Type.Integer({
      kafkaType: 'INT', default: 1, minimum: 0, maximum: intMax, aliases: ['broker.id'],
      description: 'The id of this broker, as clients see it in Metadata.',
    }),
    listeners: Type.String({
      kafkaType: 'LIST', default: 'PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093', minLength: 1,
      description: 'Where to listen: NAME://host:port, comma-separated; the name (PLAINTEXT or SSL) is the security protocol; port 0 picks a free port.',
    }),
    'advertised.listeners': Type.Union([Type.String(), Type.Null()], {
      kafkaType: 'LIST', default: null,
      description: 'Addresses given to clients in Metadata, by listener name; by default the address of the listener the client connected to.',
    }),
    'log.dirs': Type.String({
      kafkaType: 'LIST', default: './data', minLength: 1, aliases: ['log.dir'],
      description: 'The directory holding the log (exactly one).',
    }),
    'num.partitions': Type.Integer({
      kafkaType: 'INT', default: 1, minimum: 1, maximum: intMax,
      description: 'Partitions of a topic created without a partition count (auto-created, or num_partitions -1).',
    }),
    'default.replication.factor': Type.Integer({
      kafkaType: 'INT', default: 1, minimum: 1, maximum: 1,
      boundsReason: 'a single broker holds one copy of each partition, so only 1 is valid',
      description: 'Replicas of each partition; a single broker holds exactly one.',
    }),
    'auto.create.topics.enable': Type.Boolean({
      kafkaType: 'BOOLEAN', default: true,
      description: 'Create a topic when a client asks Metadata for one that does not exist.',
    }),
    'message.max.bytes': Type.Integer({
      kafkaType: 'INT', default: 1_048_588, minimum: 0, maximum: intMax,
      description: 'The largest record batch accepted (the topic default for max.message.bytes).',
    }),
    'log.segment.bytes': Type.Integer({
      kafkaType: 'INT', default: 1_073_741_824, minimum: segmentBytesMin, maximum: intMax,
      description: 'Roll to a new log segment when the active one would grow past this.',
    }),
    'log.index.interval.bytes': Type.Integer({
      kafkaType: 'INT', default: 4096, minimum: 0, maximum: intMax,
      description: 'Bytes of log between two entries of the offset index.',
    }),
    'socket.request.max.bytes': Type.Integer({
      kafkaType: 'INT', default: 104_857_600, minimum: frameBytesMin, maximum: intMax,
      description: 'The largest request frame accepted; a larger length prefix closes the connection.',
    }),
    'delete.topic.enable': Type.Boolean({
      kafkaType: 'BOOLEAN', default: true,
      description: 'Allow DeleteTopics.',
    }),
    'ssl.client.auth': Type.Union([Type.Literal('none'), Type.Literal('requested'), Type.Literal('required')], {
      kafkaType: 'STRING', default: 'none',
      description: 'Whether SSL listeners ask clients for a certificate signed by the CA (requested) or insist on one (required).',
    }),
    'inkwell.storage': Type.Union([Type.Literal('disk'), Type.Literal('memory')], {
      kafkaType: 'STRING', default: 'disk',
      description: 'disk keeps the log in log.dirs; memory keeps everything in memory and forgets it at exit.',
    }),
    'inkwell.ring.buffer.bytes': Type.Integer({
      kafkaType: 'INT', default: 4 * mebibyte, minimum: 0, maximum: intMax,
      description: 'Bytes of recent batches each partition keeps in memory, so that fetches at the tail do not read the disk.',
    }),
    'inkwell.connection.inflight.requests.max': Type.Integer({
      kafkaType: 'INT', default: 100, minimum: 1, maximum: inflightRequestsMaxLimit,
      description: 'Requests read from one connection and not yet answered before the broker stops reading from it.',
    }),
    'inkwell.fetch.wait.ms.max': Type.Integer({
      kafkaType: 'INT', default: 30_000, minimum: 0, maximum: fetchWaitMsLimit,
      description: "Upper bound on a Fetch request's max_wait_ms.",
    }),
    'producer.id.expiration.ms': Type.Integer({
      kafkaType: 'INT', default: 86_400_000, minimum: 1, maximum: intMax,
      description: 'How long the broker keeps the state (epoch, last sequence numbers) of an idempotent producer that has stopped writing to a partition.',
    }),
    'producer.id.expiration.check.interval.ms': Type.Integer({
      kafkaType: 'INT', default: 600_000, minimum: 1, maximum: intMax,
      description: 'How often idle idempotent producers are looked for and forgotten.',
    }),
    'inkwell.producer.state.snapshot.interval.ms': Type.Integer({
      kafkaType: 'INT', default: 60_000, minimum: 1, maximum: intMax,
      description: 'How often the producer state of partitions that changed is written to the data directory (also at shutdown), so that a restart replays only the log written since.',
    }),
    'inkwell.producer.ids.per.partition.max': Type.Integer({
      kafkaType: 'INT', default: producersPerPartitionMaxDefault, minimum: 1, maximum: producersPerPartitionMaxLimit,
      boundsReason: 'producer state is kept in memory for every partition',
      description: 'Idempotent producers whose state one partition keeps; past it the least recently active is forgotten (Kafka has no such bound).',
    }),
    'group.min.session.timeout.ms': Type.Integer({
      kafkaType: 'INT', default: 6000, minimum: 0, maximum: intMax,
      description: 'The shortest session timeout a group member may ask for in JoinGroup (shorter ones get INVALID_SESSION_TIMEOUT).',
    }),
    'group.max.session.timeout.ms': Type.Integer({
      kafkaType: 'INT', default: 1_800_000, minimum: 0, maximum: intMax,
      description: 'The longest session timeout a group member may ask for in JoinGroup (longer ones get INVALID_SESSION_TIMEOUT).',
    }),
    'group.initial.rebalance.delay.ms': Type.Integer({
      kafkaType: 'INT', default: 0, minimum: 0, maximum: intMax,
      description: 'How long the first rebalance of an empty group waits for more members to join (extended while they keep arriving, within the rebalance timeout). 0 here, for quick starts on a development broker; Kafka defaults to 3000.',
    }),
    'group.max.size': Type.Integer({
      kafkaType: 'INT', default: 1000, minimum: 1, maximum: groupMembersLimit,
      boundsReason: 'member state is kept in memory',
      description: 'Members one group may have; a member joining beyond it gets GROUP_MAX_SIZE_REACHED (Kafka has no bound by default).',
    }),
    'offsets.retention.minutes': Type.Integer({
      kafkaType: 'INT', default: 10_080, minimum: 1, maximum: intMax,
      description: "How long committed offsets are kept after a group becomes empty (or, for offsets committed without group management, after each commit).",
    }),
    'offsets.retention.check.interval.ms': Type.Integer({
      kafkaType: 'LONG', default: 600_000, minimum: 1,
      description: 'How often expired offsets, offsets of deleted partitions and empty groups without offsets are removed.',
    }),
    'offset.metadata.max.bytes': Type.Integer({
      kafkaType: 'INT', default: 4096, minimum: 0, maximum: intMax,
      description: 'The longest metadata string of a committed offset (longer ones get OFFSET_METADATA_TOO_LARGE).',
    }),
    'offsets.topic.segment.bytes': Type.Integer({
      kafkaType: 'INT', default: 104_857_600, minimum: segmentBytesMin, maximum: intMax,
      description: "Segment size of the coordinator's offset log; the log is rewritten as a snapshot once it has grown by this much (or by its last snapshot's size, if larger).",
    }),
    'log.flush.interval.messages': Type.Integer({
      kafkaType: 'LONG', default: 1, minimum: 1, maximum: Number.MAX_SAFE_INTEGER,
      description: 'Sync a partition after this many records (the topic default for flush.messages). 1, our default, syncs before acknowledging (group commit: one fdatasync covers every batch that arrived during the previous one); more acknowledges after write() and syncs later, so a power loss can take back up to this many acknowledged records (Kafka\'s default is 9223372036854775807, leaving syncs to the OS).',
    }),
    'log.flush.interval.ms': Type.Union([Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()], {
      kafkaType: 'LONG', default: null, minimum: 0, maximum: Number.MAX_SAFE_INTEGER,
      description: 'With log.flush.interval.messages above 1: sync a partition at most this long after its first unsynced write (the topic default for flush.ms). Unset: no time bound (the OS writes back when it likes).',
    }),
    'log.flush.offset.checkpoint.interval.ms': Type.Integer({
      kafkaType: 'INT', default: 10_000, minimum: 0, maximum: intMax,
      description: 'How often the recovery points (the offsets below which each partition is synced) are written to recovery-point-offset-checkpoint; after a crash, start-up rechecks only what lies past them. 0: only at shutdown. Kafka\'s default is 60000.',
    }),
    'log.retention.hours': Type.Integer({
      kafkaType: 'INT', default: 168, minimum: -1, maximum: intMax,
      description: 'Keep a segment this many hours after its newest record (the topic default for retention.ms, unless log.retention.minutes or log.retention.ms is set); -1: forever.',
    }),
    'log.retention.minutes': Type.Union([Type.Integer({ minimum: -1, maximum: intMax }), Type.Null()], {
      kafkaType: 'INT', default: null, minimum: -1, maximum: intMax,
      description: 'As log.retention.hours, in minutes; wins over it when set.',
    }),
    'log.retention.ms': Type.Union([Type.Integer({ minimum: -1, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()], {
      kafkaType: 'LONG', default: null, minimum: -1, maximum: Number.MAX_SAFE_INTEGER,
      description: 'As log.retention.hours, in milliseconds; wins over both when set.',
    }),
    'log.retention.bytes': Type.Integer({
      kafkaType: 'LONG', default: -1, minimum: -1, maximum: Number.MAX_SAFE_INTEGER,
      description: 'Delete the oldest segments of a partition while it holds more than this (the topic default for retention.bytes); -1: no bound. In memory storage it bounds each partition\'s ring.',
    }),
    'log.roll.hours': Type.Integer({
      kafkaType: 'INT', default: 168, minimum: 1, maximum: intMax,
      description: 'Start a new segment once the active one is this many hours old (the topic default for segment.ms, unless log.roll.ms is set).',
    }),
    'log.roll.ms': Type.Union([Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), Type.Null()], {
      kafkaType: 'LONG', default: null, minimum: 1, maximum: Number.MAX_SAFE_INTEGER,
      description: 'As log.roll.hours, in milliseconds; wins over it when set.',
    }),
    'log.retention.check.interval.ms': Type.Integer({
      kafkaType: 'LONG', default: 300_000, minimum: 1, maximum: Number.MAX_SAFE_INTEGER,
      description: 'How often the broker looks for segments to delete (one timer for all partitions).',
    }),
    'inkwell.memory.bytes.max': Type.Integer({
      kafkaType: 'LONG', default: 1024 * mebibyte, minimum: 0, maximum: Number.MAX_SAFE_INTEGER,
      description: 'Memory storage: bytes of batches all partitions together may hold; past it the oldest batches across partitions are dropped and their log start offsets move up.',
    }),
    'inkwell.tls.cert': Type.String({
      kafkaType: 'STRING', default: 'certs/server-cert.pem', minLength: 1,
      description: 'PEM certificate (chain) of SSL listeners.',
    }),
    'inkwell.tls.key': Type.String({
      kafkaType: 'STRING', default: 'certs/server-key.pem', minLength: 1,
      description: 'PEM private key of SSL listeners.',
    }),
    'inkwell.tls.ca': Type.String({
      kafkaType: 'STRING', default: 'certs/ca-cert.pem', minLength: 1,
      description: 'PEM CA certificate(s) that client certificates must chain to.',
    }),
  },
  { additionalProperties: false },
);

export type BrokerConfig = Readonly<Static<typeof BrokerConfigSchema>>;
export type ConfigKey = keyof BrokerConfig;

/** What a source may give for a key: text (properties, --set, flags) or JSON values. */
export type ConfigInput = string | number | boolean | readonly string[] | null;

export interface ConfigSources {
  /** `--config FILE`: a JSON object, or a Kafka server.properties file. */
  readonly file?: string;
  /** `--set key=value` pairs, in command-line order (a later pair wins). */
  readonly set?: readonly string[];
  /** Dedicated CLI flags or embedding options, by Kafka key name; these win over everything. */
  readonly overrides?: Readonly<Record<string, ConfigInput | undefined>>;
}

/** One or more configuration problems, one line each. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

interface KeySchema {
  readonly kafkaType: KafkaConfigType;
  readonly default: unknown;
  readonly description: string;
  readonly aliases?: readonly string[];
  readonly readOnly?: boolean;
  readonly minimum?: number;
  readonly maximum?: number;
  /** Why the bounds are what they are, added to a bounds error. */
  readonly boundsReason?: string;
  readonly minLength?: number;
  readonly anyOf?: readonly { const?: unknown; type?: string }[];
}

const keySchemas = BrokerConfigSchema.properties as unknown as Readonly<Record<ConfigKey, KeySchema>>;
export const configKeys: readonly ConfigKey[] = Object.keys(keySchemas) as ConfigKey[];
const keySet: ReadonlySet<string> = new Set(configKeys);

/** Alias → key (broker.id → node.id, log.dir → log.dirs). */
const keyByAlias: ReadonlyMap<string, ConfigKey> = new Map(
  configKeys.flatMap((key) => (keySchemas[key].aliases ?? []).map((alias) => [alias, key] as const)),
);

function isConfigKey(name: string): name is ConfigKey {
  return keySet.has(name);
}

/** The values a key may take, when its schema is a union of literals (an enumeration). */
function enumValues(schema: KeySchema): readonly string[] | null {
  if (schema.anyOf === undefined) return null;
  const values = schema.anyOf.map((member) => member.const).filter((value): value is string => typeof value === 'string');
  return values.length > 0 ? values : null;
}

function nullable(schema: KeySchema): boolean {
  return schema.anyOf?.some((member) => member.type === 'null') ?? false;
}

function show(raw: unknown): string {
  return JSON.stringify(raw) ?? String(raw);
}

type Conversion = { readonly value: unknown } | { readonly problem: string };

function parseInteger(raw: unknown, kafkaType: 'INT' | 'LONG'): Conversion {
  let value: number;
  if (typeof raw === 'number') {
    if (!Number.isInteger(raw)) return { problem: `${show(raw)} is not an integer` };
    value = raw;
  } else if (typeof raw === 'string' && /^[+-]?[0-9]+$/.test(raw.trim())) {
    value = Number(raw.trim());
  } else {
    return { problem: `${show(raw)} is not an integer` };
  }
  if (kafkaType === 'INT' && (value < intMin || value > intMax)) return { problem: `${show(raw)} is out of range for an int` };
  if (!Number.isSafeInteger(value)) return { problem: `${show(raw)} is out of range (beyond ±${Number.MAX_SAFE_INTEGER})` };
  return { value };
}

function parseBoolean(raw: unknown): Conversion {
  if (typeof raw === 'boolean') return { value: raw };
  if (typeof raw === 'string') {
    const text = raw.trim().toLowerCase();
    if (text === 'true') return { value: true };
    if (text === 'false') return { value: false };
  }
  return { problem: `${show(raw)} is not a boolean (true or false)` };
}

/** A list is kept as its items, trimmed and joined by commas; an empty list is "". */
function parseList(raw: unknown): Conversion {
  if (typeof raw === 'string') {
    const text = raw.trim();
    return { value: text === '' ? '' : text.split(/\s*,\s*/).join(',') };
  }
  if (Array.isArray(raw) && raw.every((item) => typeof item === 'string')) {
    return { value: (raw as string[]).map((item) => item.trim()).join(',') };
  }
  return { problem: `${show(raw)} is not a comma-separated list` };
}

/** Converts one raw value to the key's type and checks it against the key's bounds. */
function convert(key: ConfigKey, raw: unknown): Conversion {
  const schema = keySchemas[key];
  if (raw === null) return nullable(schema) ? { value: null } : { problem: 'null is not allowed' };
  let converted: Conversion;
  const choices = enumValues(schema);
  if (choices !== null) {
    const text = typeof raw === 'string' ? raw.trim() : undefined;
    converted = text !== undefined && choices.includes(text) ? { value: text } : { problem: `${show(raw)} is not one of ${choices.join(', ')}` };
  } else if (schema.kafkaType === 'INT' || schema.kafkaType === 'LONG') {
    converted = parseInteger(raw, schema.kafkaType);
  } else if (schema.kafkaType === 'BOOLEAN') {
    converted = parseBoolean(raw);
  } else if (schema.kafkaType === 'LIST') {
    converted = parseList(raw);
    if ('value' in converted && converted.value === '' && nullable(schema)) converted = { value: null };
  } else {
    converted = typeof raw === 'string' ? { value: raw.trim() } : { problem: `${show(raw)} is not a string` };
  }
  if (!('value' in converted)) return converted;
  const { value } = converted;
  if (typeof value === 'number') {
    const reason = schema.boundsReason === undefined ? '' : `: ${schema.boundsReason}`;
    if (schema.minimum !== undefined && value < schema.minimum) return { problem: `${value} is less than the minimum ${schema.minimum}${reason}` };
    if (schema.maximum !== undefined && value > schema.maximum) return { problem: `${value} is more than the maximum ${schema.maximum}${reason}` };
  }
  if (typeof value === 'string' && schema.minLength !== undefined && value.length < schema.minLength) return { problem: `${show(raw)} is empty` };
  return converted;
}

/** Checks that need more than a type: the listener syntax, single-node limits. */
const valueChecks: Partial<Record<ConfigKey, (value: never) => string | null>> = {
  listeners: (value: string) => listenerProblem(value),
  'advertised.listeners': (value: string | null) => (value === null ? null : listenerProblem(value)),
  'log.dirs': (value: string) => {
    const count = value.split(',').length;
    return count === 1 ? null : `"${value}" names ${count} directories; this broker keeps its log in exactly one`;
  },
};

function listenerProblem(value: string): string | null {
  try {
    parseListeners(value);
    return null;
  } catch (error) {
    if (error instanceof ListenerError) return error.message;
    throw error;
  }
}

/** Converts a raw value, then applies the checks that need more than a type. */
function checkValue(key: ConfigKey, raw: unknown): Conversion {
  const converted = convert(key, raw);
  if (!('value' in converted)) return converted;
  const check = valueChecks[key] as ((value: unknown) => string | null) | undefined;
  const problem = check?.(converted.value) ?? null;
  return problem === null ? converted : { problem };
}

/** Relations between keys, checked once all sources are merged. */
function relationProblems(config: BrokerConfig): string[] {
  const problems: string[] = [];
  if (config['message.max.bytes'] >= config['socket.request.max.bytes']) {
    problems.push(
      `invalid value for message.max.bytes: ${config['message.max.bytes']} must be less than socket.request.max.bytes (${config['socket.request.max.bytes']}), ` +
        'since a Produce request frame has to hold a whole batch',
    );
  }
  const advertised = config['advertised.listeners'];
  if (advertised !== null && listenerProblem(advertised) === null && listenerProblem(config.listeners) === null) {
    const names = parseListeners(config.listeners).map((listener) => listener.name);
    for (const listener of parseListeners(advertised)) {
      const where = `invalid value for advertised.listeners: ${listener.name}`;
      if (!names.includes(listener.name)) problems.push(`${where} is not one of the listeners (${names.join(', ')})`);
      else if (listener.host === allInterfacesHost || listener.host === '::') problems.push(`${where} advertises ${listener.host}, which clients cannot connect to`);
      else if (listener.port === 0) problems.push(`${where} advertises port 0, which clients cannot connect to`);
    }
  }
  return problems;
}

/** One `key = value` of a source, with where it came from (for error messages). */
interface RawEntry {
  readonly key: string;
  readonly value: unknown;
  /** "server.properties:7: " or "" */
  readonly where: string;
}

export interface PropertiesEntry {
  readonly key: string;
  readonly value: string;
  /** The line the entry starts on, from 1. */
  readonly line: number;
}

/** A properties file that cannot be read as one (only a malformed \uXXXX escape can cause this). */
export class PropertiesSyntaxError extends Error {
  override readonly name = 'PropertiesSyntaxError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

const propertiesWhitespace = new Set([' ', '\t', '\f']);

function stripLeadingWhitespace(text: string): string {
  let start = 0;
  while (start < text.length && propertiesWhitespace.has(text[start]!)) start++;
  return text.slice(start);
}

function endsInContinuation(text: string): boolean {
  let backslashes = 0;
  for (let i = text.length - 1; i >= 0 && text[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 1;
}

const escapedCharacters: Readonly<Record<string, string>> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function unescapeProperties(text: string, line: number): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\' || i + 1 === text.length) {
      out += c;
      continue;
    }
    const next = text[++i]!;
    if (next === 'u') {
      const hex = text.slice(i + 1, i + 5);
      if (!/^[0-9A-Fa-f]{4}$/.test(hex)) throw new PropertiesSyntaxError(line, 'malformed \\uXXXX escape');
      out += String.fromCharCode(parseInt(hex, 16));
      i += 4;
    } else {
      out += escapedCharacters[next] ?? next;
    }
  }
  return out;
}

/** Splits a logical line into key and value the way java.util.Properties does. */
function splitKeyValue(text: string, line: number): PropertiesEntry {
  let keyEnd = 0;
  let valueStart = text.length;
  let hasSeparator = false;
  let escaped = false;
  for (; keyEnd < text.length; keyEnd++) {
    const c = text[keyEnd]!;
    if (!escaped && (c === '=' || c === ':')) {
      valueStart = keyEnd + 1;
      hasSeparator = true;
      break;
    }
    if (!escaped && propertiesWhitespace.has(c)) {
      valueStart = keyEnd + 1;
      break;
    }
    escaped = c === '\\' ? !escaped : false;
  }
  for (; valueStart < text.length; valueStart++) {
    const c = text[valueStart]!;
    if (propertiesWhitespace.has(c)) continue;
    if (!hasSeparator && (c === '=' || c === ':')) {
      hasSeparator = true;
      continue;
    }
    break;
  }
  return { key: unescapeProperties(text.slice(0, keyEnd), line), value: unescapeProperties(text.slice(valueStart), line), line };
}

/**
 * Reads Java properties text (Kafka's server.properties): `key=value`, `key: value` or
 * `key value`; `#` and `!` comment lines; blank lines; a line ending in an odd number of
 * backslashes continues on the next (whose leading whitespace is dropped); escapes \t \n \r \f
 * \uXXXX and backslash-anything. Text is read as UTF-8 (Java's default is ISO-8859-1; for the
 * ASCII that broker configs are made of, the two agree). A later duplicate key wins, as in Java.
 */
export function parseProperties(text: string): PropertiesEntry[] {
  const lines = text.split(/\r\n|\r|\n/);
  const entries: PropertiesEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    let logical = stripLeadingWhitespace(lines[i]!);
    if (logical === '' || logical.startsWith('#') || logical.startsWith('!')) continue;
    while (endsInContinuation(logical)) {
      logical = logical.slice(0, -1);
      if (i + 1 === lines.length) break;
      logical += stripLeadingWhitespace(lines[++i]!);
    }
    entries.push(splitKeyValue(logical, line));
  }
  return entries;
}

function readFileEntries(path: string): RawEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([`cannot read config file ${path}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`]);
  }
  const extension = extname(path).toLowerCase();
  const json = extension === '.json' || (extension !== '.properties' && text.trimStart().startsWith('{'));
  if (json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new ConfigError([`${path}: not valid JSON: ${(error as Error).message}`]);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigError([`${path}: a JSON config file must hold one object of "key": value pairs`]);
    }
    return Object.entries(parsed).map(([key, value]) => ({ key, value, where: `${path}: ` }));
  }
  try {
    return parseProperties(text).map((entry) => ({ key: entry.key, value: entry.value, where: `${path}:${entry.line}: ` }));
  } catch (error) {
    if (error instanceof PropertiesSyntaxError) throw new ConfigError([`${path}:${error.line}: ${error.message}`]);
    throw error;
  }
}

function setEntries(pairs: readonly string[], problems: string[]): RawEntry[] {
  const entries: RawEntry[] = [];
  for (const pair of pairs) {
    const separator = pair.indexOf('=');
    if (separator <= 0) {
      problems.push(`--set expects key=value, got ${show(pair)}`);
      continue;
    }
    entries.push({ key: pair.slice(0, separator).trim(), value: pair.slice(separator + 1), where: '' });
  }
  return entries;
}

/** Which keys a resolved config had set explicitly (DescribeConfigs reports the others as defaults). */
const explicitKeys = new WeakMap<BrokerConfig, ReadonlySet<ConfigKey>>();

/** Applies one source's entries over `values`; an alias and its key both set differently in one source is an error. */
function applySource(entries: readonly RawEntry[], values: Record<string, unknown>, explicit: Set<ConfigKey>, problems: string[]): void {
  const setBy = new Map<ConfigKey, { name: string; value: unknown }>();
  for (const entry of entries) {
    const key = isConfigKey(entry.key) ? entry.key : keyByAlias.get(entry.key);
    if (key === undefined) {
      problems.push(`${entry.where}unknown config key: ${entry.key}`);
      continue;
    }
    const checked = checkValue(key, entry.value);
    if (!('value' in checked)) {
      problems.push(`${entry.where}invalid value for ${key}: ${checked.problem}`);
      continue;
    }
    const earlier = setBy.get(key);
    if (earlier !== undefined && earlier.name !== entry.key && earlier.value !== checked.value) {
      problems.push(`${entry.where}${earlier.name} and ${entry.key} name the same config and are set to different values`);
      continue;
    }
    setBy.set(key, { name: entry.key, value: checked.value });
    values[key] = checked.value;
    explicit.add(key);
  }
}

/** The configuration with every key at its default. */
export function defaultBrokerConfig(): BrokerConfig {
  return Value.Default(BrokerConfigSchema, {}) as BrokerConfig;
}

/**
 * Merges the sources over the defaults (file < --set < overrides) into a checked configuration.
 * Throws ConfigError listing every problem found, one line each.
 */
export function resolveConfig(sources: ConfigSources = {}): BrokerConfig {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  const explicit = new Set<ConfigKey>();
  if (sources.file !== undefined) applySource(readFileEntries(sources.file), values, explicit, problems);
  if (sources.set !== undefined) applySource(setEntries(sources.set, problems), values, explicit, problems);
  if (sources.overrides !== undefined) {
    const entries = Object.entries(sources.overrides)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => ({ key, value, where: '' }));
    applySource(entries, values, explicit, problems);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config: BrokerConfig = Object.freeze({ ...defaultBrokerConfig(), ...values });
  problems.push(...relationProblems(config));
  if (problems.length > 0) throw new ConfigError(problems);
  assert.ok(Value.Check(BrokerConfigSchema, config), 'a resolved config matches its schema');
  explicitKeys.set(config, explicit);
  return config;
}

function render(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

export interface BrokerConfigDescription {
  readonly name: ConfigKey;
  /** The value as Kafka renders it (lists comma-joined); null when unset. */
  readonly value: string | null;
  /** Not set by any source (Kafka's DEFAULT_CONFIG). */
  readonly isDefault: boolean;
  /** Cannot be changed while running (true for all: there is no AlterConfigs). */
  readonly readOnly: boolean;
  readonly isSensitive: boolean;
  readonly type: KafkaConfigType;
  readonly documentation: string;
}

/**
 * Every broker config with its value, for DescribeConfigs(BROKER). Keys in `notInUse` have no
 * value (null): the broker runs without them (say, TLS material handed to startBroker as PEM
 * instead of the files these keys name).
 */
export function describeBrokerConfigs(config: BrokerConfig, notInUse: ReadonlySet<string> = new Set()): BrokerConfigDescription[] {
  const explicit = explicitKeys.get(config);
  return configKeys.map((key) => {
    const schema = keySchemas[key];
    return {
      name: key,
      value: notInUse.has(key) ? null : render(config[key]),
      isDefault: explicit !== undefined ? !explicit.has(key) : config[key] === schema.default,
      readOnly: schema.readOnly ?? true,
      isSensitive: false,
      type: schema.kafkaType,
      documentation: schema.description,
    };
  });
}

/** Kafka's defaults for the retention configs (log.retention.hours 168, log.retention.bytes -1). */
export const retentionMsDefault = 604_800_000;
export const retentionBytesDefault = -1;

/** The broker's retention.ms default, as Kafka derives it: log.retention.ms, else .minutes, else .hours; -1 (forever) when negative. */
export function brokerRetentionMs(config: BrokerConfig): number {
  const ms = config['log.retention.ms'] ?? (config['log.retention.minutes'] !== null ? config['log.retention.minutes'] * 60_000 : config['log.retention.hours'] * 3_600_000);
  return ms < 0 ? -1 : ms;
}

/** The broker's segment.ms default: log.roll.ms, else log.roll.hours. */
export function brokerRollMs(config: BrokerConfig): number {
  return config['log.roll.ms'] ?? config['log.roll.hours'] * 3_600_000;
}

/** Kafka's "no bound" for flush.messages and flush.ms (Long.MAX_VALUE), as DescribeConfigs shows it. */
export const longMaxText = '9223372036854775807';

/** The topic configs we support, with each one's default taken from the broker configuration. */
export function topicConfigDefaults(config: BrokerConfig): Record<string, string> {
  return {
    'cleanup.policy': 'delete',
    'flush.messages': String(config['log.flush.interval.messages']),
    'flush.ms': config['log.flush.interval.ms'] === null ? longMaxText : String(config['log.flush.interval.ms']),
    'index.interval.bytes': String(config['log.index.interval.bytes']),
    'max.message.bytes': String(config['message.max.bytes']),
    'message.timestamp.type': 'CreateTime',
    'retention.bytes': String(config['log.retention.bytes']),
    'retention.ms': String(brokerRetentionMs(config)),
    'segment.bytes': String(config['log.segment.bytes']),
    'segment.ms': String(brokerRollMs(config)),
  };
}

type TopicConfigCheck = (value: string) => string | null;

function integerCheck(kafkaType: 'INT' | 'LONG', minimum: number): TopicConfigCheck {
  return (value) => {
    const converted = parseInteger(value, kafkaType);
    if (!('value' in converted)) return `Not a number of type ${kafkaType}`;
    return (converted.value as number) < minimum ? `Value must be at least ${minimum}` : null;
  };
}

/** A LONG that may also be Kafka's Long.MAX_VALUE text ("no bound"), which is beyond what a JavaScript number holds exactly. */
function longOrUnboundedCheck(minimum: number): TopicConfigCheck {
  const check = integerCheck('LONG', minimum);
  return (value) => (value.trim() === longMaxText ? null : check(value));
}

function choiceCheck(choices: readonly string[], refusals: Readonly<Record<string, string>> = {}): TopicConfigCheck {
  return (value) => {
    const text = value.trim();
    if (choices.includes(text)) return null;
    return refusals[text] ?? `String must be one of: ${choices.join(', ')}`;
  };
}

const topicConfigChecks: Readonly<Record<string, TopicConfigCheck>> = {
  'cleanup.policy': choiceCheck(['delete'], { compact: 'log compaction is not supported; only delete is', 'compact,delete': 'log compaction is not supported; only delete is', 'delete,compact': 'log compaction is not supported; only delete is' }),
  'index.interval.bytes': integerCheck('INT', 0),
  'max.message.bytes': integerCheck('INT', 0),
  'message.timestamp.type': choiceCheck(['CreateTime', 'LogAppendTime']),
  'retention.bytes': integerCheck('LONG', -1),
  'retention.ms': integerCheck('LONG', -1),
  'segment.bytes': integerCheck('INT', segmentBytesMin),
  'segment.ms': integerCheck('LONG', 1),
  'flush.messages': longOrUnboundedCheck(1),
  'flush.ms': longOrUnboundedCheck(0),
};

/** The topic config names validateTopicConfig accepts (the keys of topicConfigDefaults). */
export const topicConfigNames: readonly string[] = Object.keys(topicConfigChecks).sort();

/**
 * Checks one topic config from CreateTopics; returns null when acceptable, else a message in
 * Kafka's words (the handler answers INVALID_CONFIG with it).
 */
export function validateTopicConfig(name: string, value: string): string | null {
  const check = topicConfigChecks[name];
  if (check === undefined) return `Unknown topic config name: ${name}`;
  const reason = check(value);
  return reason === null ? null : `Invalid value ${value} for configuration ${name}: ${reason}`;
}

// Relations between the limits, asserted where they are defined: the defaults must resolve cleanly
// and the topic configs we accept must be exactly those we report defaults for.
assert.deepEqual(relationProblems(defaultBrokerConfig()), [], 'the default configuration satisfies every relation between limits');
assert.ok(Value.Check(BrokerConfigSchema, defaultBrokerConfig()), 'the defaults match the schema');
assert.deepEqual(Object.keys(topicConfigDefaults(defaultBrokerConfig())).sort(), topicConfigNames, 'every supported topic config has a default');

// Schemas must be what the converter understands: every key has a Kafka type and a description.
for (const key of configKeys) {
  const schema: TSchema & Partial<KeySchema> = BrokerConfigSchema.properties[key];
  assert.ok(schema.kafkaType !== undefined && schema.description !== undefined, `config ${key} declares kafkaType and description`);
}
