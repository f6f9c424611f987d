/**
 * Producer: `send(record)` returns a promise of the record's topic, partition and offset.
 * Records are batched per partition (batchBytes, lingerMs), partitioned by key with Kafka's
 * murmur2 or stuck to one partition per batch when unkeyed, compressed per batch, and sent by
 * the Sender. Idempotence is on by default when the broker offers InitProducerId and acks is
 * "all". When the buffer holds bufferBytesMax, sends wait (in order) for room, up to
 * maxBlockMs; records for a topic whose metadata is not known yet wait the same way.
 */
import { RecordAccumulator, type AppendRecord } from './accumulator.js';
import type { RecordData, RecordHeader } from './batch-builder.js';
import { Cluster } from './cluster.js';
import { isCompressionType, type CompressionType } from './compression.js';
import { KafkaError } from './errors.js';
import { resolveClientOptions, type ClientOptions } from './options.js';
import type { RecordMetadata, Reject, Resolve } from './producer-batch.js';
import { Sender, type SenderConfig } from './sender.js';

export type { RecordMetadata } from './producer-batch.js';
export type { RecordData, RecordHeader } from './batch-builder.js';

export interface ProducerRecord {
  readonly topic: string;
  /** Default: by key (murmur2), or the sticky partition for unkeyed records. */
  readonly partition?: number;
  readonly key?: RecordData;
  readonly value: RecordData;
  /** Header values may be bytes, text or null; a list allows repeated keys. */
  readonly headers?: Readonly<Record<string, RecordData>> | readonly RecordHeader[];
  /** Milliseconds since the epoch; default now. */
  readonly timestamp?: number;
}

export type Acks = 0 | 1 | -1 | 'all';

export interface ProducerOptions extends ClientOptions {
  /** Default 'all' (-1): every in-sync replica. 1: the leader. 0: no response at all. */
  readonly acks?: Acks;
  /** Default: on when the broker offers InitProducerId and acks is 'all'. */
  readonly idempotent?: boolean;
  readonly compression?: CompressionType;
  /** How long a batch waits for more records before it is sent; default 5 ms. */
  readonly lingerMs?: number;
  /** A batch is sent once it holds this many bytes; default 256 KiB. */
  readonly batchBytes?: number;
  /** Bytes of records buffered (not yet acknowledged) before send() waits; default 64 MiB. */
  readonly bufferBytesMax?: number;
  /** How long send() may wait for buffer room or topic metadata; default 60 s. */
  readonly maxBlockMs?: number;
  /** How long a record may take from send() to acknowledgement, retries included; default 120 s. */
  readonly deliveryTimeoutMs?: number;
  /** Batches of one partition in flight at once; default 5 when idempotent, else 1 (which keeps order across retries). */
  readonly inflightPerPartitionMax?: number;
  /** The largest Produce request; default 1 MiB (a bigger single batch goes alone). */
  readonly requestBytesMax?: number;
  /** Whether Metadata may create topics the producer names (if the broker allows); default true. */
  readonly allowAutoTopicCreation?: boolean;
  /** Custom partitioner for records without an explicit partition. */
  readonly partitioner?: (topic: string, key: Buffer | null, partitionCount: number) => number;
}

interface Waiting {
  readonly record: AppendRecord;
  readonly resolve: Resolve;
  readonly reject: Reject;
  readonly deadlineMs: number;
}

/** Attempts per batch, a bound under the delivery timeout. */
const attemptsMax = 1000;

function normalizeAcks(acks: Acks | undefined): number {
  if (acks === undefined || acks === 'all' || acks === -1) return -1;
  if (acks === 0 || acks === 1) return acks;
  throw new RangeError(`acks must be 0, 1, -1 or 'all', got ${String(acks)}`);
}

function positive(name: string, value: number | undefined, fallback: number, min = 0): number {
  const result = value ?? fallback;
  if (!Number.isFinite(result) || result < min) throw new RangeError(`${name} must be a number of at least ${min}, got ${result}`);
  return result;
}

function normalizeHeaders(headers: ProducerRecord['headers']): readonly RecordHeader[] | null {
  if (headers === undefined) return null;
  if (Array.isArray(headers)) return headers.length === 0 ? null : (headers as readonly RecordHeader[]);
  const list: RecordHeader[] = [];
  for (const key of Object.keys(headers)) list.push({ key, value: (headers as Record<string, RecordData>)[key]! });
  return list.length === 0 ? null : list;
}

function isData(value: unknown): value is RecordData {
  return value === null || typeof value === 'string' || Buffer.isBuffer(value);
}

export class Producer {
  private readonly cluster: Cluster;
  private readonly accumulator: RecordAccumulator;
  private readonly sender: Sender;
  private readonly senderConfig: SenderConfig;
  private readonly explicitIdempotence: boolean | undefined;
  /** Whether the caller chose inflightPerPartitionMax (else it follows idempotence). */
  private readonly inflightExplicit: boolean;
  private readonly maxBlockMs: number;
  private readonly backlog: Waiting[] = [];
  private backlogHead = 0;
  private backlogTimer: NodeJS.Timeout | null = null;
  private readonly metadataWanted = new Set<string>();
  private readonly roomWaiters: (() => void)[] = [];
  private readonly backlogEmptyWaiters: (() => void)[] = [];
  private connecting: Promise<void> | null = null;
  private connected = false;
  private closing = false;
  private flushes = 0;

  constructor(options: ProducerOptions) {
    const client = resolveClientOptions(options);
    const compression = options.compression ?? 'none';
    if (!isCompressionType(compression)) throw new RangeError(`compression must be none, gzip, snappy, lz4 or zstd, got ${String(compression)}`);
    const acks = normalizeAcks(options.acks);
    if (options.idempotent === true && acks !== -1) throw new RangeError("an idempotent producer needs acks 'all'");
    this.explicitIdempotence = options.idempotent;
    const batchBytes = positive('batchBytes', options.batchBytes, 256 * 1024, 1);
    const bufferBytesMax = positive('bufferBytesMax', options.bufferBytesMax, 64 * 1024 * 1024, 1);
    if (bufferBytesMax < batchBytes) throw new RangeError(`bufferBytesMax (${bufferBytesMax}) must be at least batchBytes (${batchBytes})`);
    this.maxBlockMs = positive('maxBlockMs', options.maxBlockMs, 60_000);
    this.cluster = new Cluster(client, { allowAutoTopicCreation: options.allowAutoTopicCreation ?? true });
    this.senderConfig = {
      acks,
      lingerMs: positive('lingerMs', options.lingerMs, 5),
      requestBytesMax: positive('requestBytesMax', options.requestBytesMax, 1024 * 1024, 1024),
      inflightPerPartitionMax: positive('inflightPerPartitionMax', options.inflightPerPartitionMax, 1, 1),
      deliveryTimeoutMs: positive('deliveryTimeoutMs', options.deliveryTimeoutMs, 120_000, 1),
      attemptsMax,
      retryBackoffMs: client.retryBackoffMs,
      retryBackoffMsMax: client.retryBackoffMsMax,
      requestTimeoutMs: client.requestTimeoutMs,
      idempotent: false,
    };
    this.inflightExplicit = options.inflightPerPartitionMax !== undefined;
    this.accumulator = new RecordAccumulator(
      { batchBytes, bufferBytesMax, compression, ...(options.partitioner ? { partitioner: options.partitioner } : {}) },
      this.cluster,
      () => this.sender.scheduleDrain(),
      (batch) => this.sender.batchOpened(batch.createdAtMs),
    );
    this.sender = new Sender(this.senderConfig, this.cluster, this.accumulator, () => this.onBatchDone());
  }

  /** Whether records carry a producer id and sequences (settled by connect()). */
  get idempotent(): boolean {
    return this.senderConfig.idempotent;
  }

  /** Bytes of records buffered and not yet acknowledged. */
  get bufferedBytes(): number {
    return this.accumulator.bufferedBytes;
  }

  /** Connects, learns the broker's APIs and, when idempotent, obtains a producer id. send() connects on first use too. */
  connect(): Promise<void> {
    this.connecting ??= this.doConnect().catch((error: unknown) => {
      this.connecting = null;
      throw error;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    await this.cluster.connect();
    const connection = await this.cluster.anyConnection();
    const offered = connection.supports('InitProducerId');
    if (this.explicitIdempotence === true && !offered) throw new KafkaError('UNSUPPORTED_VERSION', `idempotence was asked for but ${connection.describe()} does not offer InitProducerId`);
    const idempotent = this.explicitIdempotence ?? (offered && this.senderConfig.acks === -1);
    if (idempotent) await this.sender.initProducerId();
    this.senderConfig.idempotent = idempotent;
    if (!this.inflightExplicit) this.senderConfig.inflightPerPartitionMax = idempotent ? 5 : 1;
    else if (idempotent && this.senderConfig.inflightPerPartitionMax > 5) this.senderConfig.inflightPerPartitionMax = 5;
    this.connected = true;
    this.pump();
  }

  /** Sends one record; resolves when the broker has acknowledged it (per acks). */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    return new Promise((resolve, reject) => this.enqueue(record, resolve, reject));
  }

  /** Sends records in order; resolves with their metadata in the same order. */
  sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    return new Promise((resolve, reject) => {
      const results = new Array<RecordMetadata>(records.length);
      let left = records.length;
      let failed = false;
      if (left === 0) resolve(results);
      records.forEach((record, i) => {
        this.enqueue(
          record,
          (metadata) => {
            results[i] = metadata;
            if (--left === 0 && !failed) resolve(results);
          },
          (error) => {
            if (!failed) {
              failed = true;
              reject(error);
            }
          },
        );
      });
    });
  }

  private enqueue(record: ProducerRecord, resolve: Resolve, reject: Reject): void {
    if (this.closing) {
      reject(new KafkaError('CLIENT_CLOSED', 'the producer is closing'));
      return;
    }
    if (record === null || typeof record !== 'object' || typeof record.topic !== 'string' || record.topic.length === 0) {
      reject(new TypeError('a record needs a topic'));
      return;
    }
    if (!isData(record.value) || (record.key !== undefined && !isData(record.key))) {
      reject(new TypeError('key and value must be a Buffer, a string or null'));
      return;
    }
    const append: AppendRecord = {
      topic: record.topic,
      ...(record.partition !== undefined && record.partition !== null ? { partition: record.partition } : {}),
      key: record.key ?? null,
      value: record.value,
      headers: normalizeHeaders(record.headers),
      ...(record.timestamp !== undefined ? { timestamp: record.timestamp } : {}),
    };
    if (this.connected && this.backlog.length === this.backlogHead && this.accumulator.append(append, resolve, reject) === 'appended') return;
    this.backlog.push({ record: append, resolve, reject, deadlineMs: Date.now() + this.maxBlockMs });
    if (!this.connected) {
      this.connect().catch((error: unknown) => this.failBacklog(() => true, error));
      return;
    }
    this.pump();
  }

  /** Appends waiting records in order while there is metadata and room. */
  private pump(): void {
    if (!this.connected) return;
    const now = Date.now();
    while (this.backlogHead < this.backlog.length) {
      const waiting = this.backlog[this.backlogHead]!;
      if (now > waiting.deadlineMs) {
        this.backlogHead++;
        const why = this.cluster.topics.has(waiting.record.topic) ? `the buffer stayed full (${this.accumulator.bufferedBytes} bytes buffered)` : `topic ${waiting.record.topic} has no metadata`;
        waiting.reject(new KafkaError('BUFFER_FULL', `send() waited ${this.maxBlockMs} ms: ${why}`, { topic: waiting.record.topic }));
        continue;
      }
      const result = this.accumulator.append(waiting.record, waiting.resolve, waiting.reject);
      if (result === 'appended') {
        this.backlogHead++;
        continue;
      }
      if (result === 'no-metadata') this.fetchMetadata(waiting.record.topic);
      else {
        // No room: send everything now so that buffer space comes back soon.
        this.sender.urgent = true;
        this.sender.drain();
      }
      break;
    }
    if (this.backlogHead === this.backlog.length) {
      this.backlog.length = 0;
      this.backlogHead = 0;
      if (this.flushes === 0) this.sender.urgent = false;
      if (this.backlogTimer !== null) clearTimeout(this.backlogTimer);
      this.backlogTimer = null;
    } else if (this.backlogTimer === null) {
      const head = this.backlog[this.backlogHead]!;
      this.backlogTimer = setTimeout(
        () => {
          this.backlogTimer = null;
          this.pump();
        },
        Math.max(1, head.deadlineMs - now + 1),
      );
    }
    if (this.backlogHead > 1024 && this.backlogHead * 2 > this.backlog.length) {
      this.backlog.splice(0, this.backlogHead);
      this.backlogHead = 0;
    }
    this.wakeRoomWaiters();
  }

  private fetchMetadata(topic: string): void {
    if (this.metadataWanted.has(topic)) return;
    this.metadataWanted.add(topic);
    this.cluster.topic(topic).then(
      () => {
        this.metadataWanted.delete(topic);
        this.pump();
        this.sender.scheduleDrain();
      },
      (error: unknown) => {
        this.metadataWanted.delete(topic);
        this.failBacklog((record) => record.topic === topic, error);
        this.pump();
      },
    );
  }

  private failBacklog(which: (record: AppendRecord) => boolean, error: unknown): void {
    const failure = error instanceof Error ? error : new Error(String(error));
    const kept: Waiting[] = [];
    for (let i = this.backlogHead; i < this.backlog.length; i++) {
      const waiting = this.backlog[i]!;
      if (which(waiting.record)) waiting.reject(failure);
      else kept.push(waiting);
    }
    this.backlog.length = 0;
    this.backlogHead = 0;
    this.backlog.push(...kept);
    this.wakeRoomWaiters();
  }

  private onBatchDone(): void {
    if (this.backlogHead < this.backlog.length) this.pump();
    else this.wakeRoomWaiters();
  }

  private wakeRoomWaiters(): void {
    if (this.backlogHead === this.backlog.length) for (const wake of this.backlogEmptyWaiters.splice(0)) wake();
    if (this.roomWaiters.length === 0) return;
    if (this.backlogHead < this.backlog.length || !this.accumulator.hasRoomFor(this.senderConfig.requestBytesMax)) return;
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  /**
   * Resolves when the buffer has room again (at least a request's worth) and no send is
   * waiting: a fire-and-forget sender can await this between sends instead of holding every
   * pending promise.
   */
  waitForRoom(): Promise<void> {
    if (this.backlogHead === this.backlog.length && this.accumulator.hasRoomFor(this.senderConfig.requestBytesMax)) return Promise.resolve();
    if (this.connected) {
      this.sender.urgent = true;
      this.sender.scheduleDrain();
    }
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Sends everything buffered now and resolves when every record sent before the call is acknowledged or failed. */
  async flush(): Promise<void> {
    this.flushes++;
    this.sender.urgent = true;
    try {
      while (this.backlogHead < this.backlog.length) {
        this.sender.scheduleDrain();
        await new Promise<void>((resolve) => this.backlogEmptyWaiters.push(resolve));
      }
      const last = [...this.accumulator.queues()].map((queue) => queue.last).filter((batch) => batch !== null);
      this.sender.drain();
      await Promise.all(last.map((batch) => batch.whenDone()));
    } finally {
      if (--this.flushes === 0 && this.backlogHead === this.backlog.length) this.sender.urgent = false;
    }
  }

  /** Flushes (bounded by timeoutMs, default 30 s), then fails whatever is left and closes the connections. */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closing) return;
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (this.connected) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.flush(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    }
    this.closing = true;
    const error = new KafkaError('CLIENT_CLOSED', 'the producer was closed before the record was acknowledged');
    this.failBacklog(() => true, error);
    if (this.backlogTimer !== null) clearTimeout(this.backlogTimer);
    this.sender.stop();
    for (const queue of [...this.accumulator.queues()]) {
      if (queue.open !== null) this.accumulator.close(queue);
      for (const batch of queue.ready.splice(0)) {
        this.accumulator.complete(queue, batch);
        batch.fail(error);
      }
    }
    this.cluster.close();
    for (const wake of this.roomWaiters.splice(0)) wake();
    for (const wake of this.backlogEmptyWaiters.splice(0)) wake();
  }
}
