/**
 * Sends the producer's closed batches: one Produce request per leader broker with at most one
 * batch per partition, several requests in flight per connection. Per partition, at most
 * `inflightPerPartitionMax` batches are on the wire (five when idempotent, else one, so that a
 * retry cannot overtake a later batch); after a retriable failure the partition sends one batch
 * at a time until the retried ones are through. An idempotent producer stamps each batch with
 * its producer id, epoch and sequence when first sent and keeps them on retries, so the broker
 * can drop duplicates and refuse gaps.
 *
 * A batch the broker refuses as too large (MESSAGE_TOO_LARGE) is split in two and the halves
 * are sent in its place, one at a time, split again if still too large; a single record that is
 * too large fails with a non-retriable MESSAGE_TOO_LARGE. As in the Java client the halves take
 * the big batch's sequence range (first half from its base sequence, second half after it), so
 * later batches keep theirs. When an idempotent batch fails for good without being written,
 * its sequences are reused if nothing after it was sequenced, and otherwise the producer gets a
 * new id and every partition starts again from sequence 0 (later batches would meet a gap).
 */
import type { RecordAccumulator } from './accumulator.js';
import { stampBatch } from './batch-builder.js';
import type { Cluster } from './cluster.js';
import { errorMeansStaleMetadata } from './cluster.js';
import { KafkaError, errorFromCode } from './errors.js';
import { backoffMs } from './options.js';
import type { PartitionQueue, ProducerBatch } from './producer-batch.js';
import type { InitProducerIdResponse, ProduceResponse } from './wire.js';

export interface SenderConfig {
  /** 0, 1 or -1 (all). */
  readonly acks: number;
  readonly lingerMs: number;
  readonly requestBytesMax: number;
  /** Settled at connect, when the producer learns whether it is idempotent. */
  inflightPerPartitionMax: number;
  readonly deliveryTimeoutMs: number;
  readonly attemptsMax: number;
  readonly retryBackoffMs: number;
  readonly retryBackoffMsMax: number;
  readonly requestTimeoutMs: number;
  idempotent: boolean;
}

interface Outgoing {
  readonly queue: PartitionQueue;
  readonly batch: ProducerBatch;
}

/** The first Produce version that carries RecordBatch v2, the only format this client writes. */
const produceVersionMin = 3;

/** Sequences wrap to 0 after this, as Kafka's do. */
const sequenceMax = 0x7fff_ffff;

export class Sender {
  private drainScheduled = false;
  private lingerTimer: NodeJS.Timeout | null = null;
  private lingerDueMs = Infinity;
  private retryTimer: NodeJS.Timeout | null = null;
  private metadataRefreshing = false;
  /** Close every open batch now (flush, close, or records waiting for buffer room). */
  urgent = false;
  producerId = -1n;
  producerEpoch = -1;
  /** Set when the broker lost our producer state: sending pauses until a new id is obtained. */
  private producerIdResetNeeded = false;
  private producerIdResetting = false;
  private inflightTotal = 0;
  private stopped = false;

  constructor(
    private readonly config: SenderConfig,
    private readonly cluster: Cluster,
    private readonly accumulator: RecordAccumulator,
    /** Called whenever a batch completes (buffer space came free). */
    private readonly onBatchDone: () => void,
  ) {}

  /** Obtains a producer id (InitProducerId) for idempotent sends. */
  async initProducerId(): Promise<void> {
    const response = await this.cluster.withRetries('InitProducerId', async () => {
      const connection = await this.cluster.anyConnection();
      const reply = await connection.request<InitProducerIdResponse>('InitProducerId', {
        transactionalId: null,
        transactionTimeoutMs: 60_000,
        producerId: -1n,
        producerEpoch: -1,
      });
      const error = errorFromCode(reply.errorCode, 'InitProducerId');
      if (error !== null) throw error;
      return reply;
    });
    this.producerId = response.producerId;
    this.producerEpoch = response.producerEpoch;
  }

  /** Runs a drain soon (records appended in this tick join the same requests). */
  scheduleDrain(): void {
    if (this.drainScheduled || this.stopped) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  /** A batch opened: make sure a drain happens when it has lingered long enough. */
  batchOpened(createdAtMs: number): void {
    if (this.config.lingerMs <= 0 || this.urgent) {
      this.scheduleDrain();
      return;
    }
    this.armLinger(createdAtMs + this.config.lingerMs);
  }

  private armLinger(dueMs: number): void {
    if (this.lingerTimer !== null && this.lingerDueMs <= dueMs) return;
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.lingerDueMs = dueMs;
    this.lingerTimer = setTimeout(
      () => {
        this.lingerTimer = null;
        this.lingerDueMs = Infinity;
        this.drain();
      },
      Math.max(0, dueMs - Date.now()),
    );
  }

  private armRetry(dueMs: number): void {
    if (this.retryTimer !== null) return;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = null;
        this.drain();
      },
      Math.max(1, dueMs - Date.now()),
    );
  }

  stop(): void {
    this.stopped = true;
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.lingerTimer = null;
    this.retryTimer = null;
  }

  /** Closes lingered batches and sends whatever may go now. */
  drain(): void {
    if (this.stopped) return;
    if (this.producerIdResetNeeded) {
      if (this.inflightTotal === 0 && !this.producerIdResetting) void this.resetProducerId();
      return;
    }
    const now = Date.now();
    let nextLingerMs = Infinity;
    let nextRetryMs = Infinity;
    let leaderMissing = false;
    const requests = new Map<number, Outgoing[][]>();
    const requestBytes = new Map<Outgoing[], number>();
    for (const queue of this.accumulator.active) {
      const open = queue.open;
      if (open !== null) {
        if (this.urgent || now - open.createdAtMs >= this.config.lingerMs) this.accumulator.close(queue);
        else nextLingerMs = Math.min(nextLingerMs, open.createdAtMs + this.config.lingerMs);
      }
      const limit = queue.retrying ? 1 : this.config.inflightPerPartitionMax;
      while (queue.inflight < limit && queue.ready.length > 0) {
        const batch = queue.ready[0]!;
        if (batch.bytes === null) break;
        // The broker may have no sequence state for our producer id here yet: one batch until it has.
        if (this.config.idempotent && !queue.sequenceConfirmed && queue.inflight > 0) break;
        if (batch.retryAtMs > now) {
          nextRetryMs = Math.min(nextRetryMs, batch.retryAtMs);
          break;
        }
        const leader = this.cluster.leaderOf(queue.topic, queue.partition);
        if (leader < 0) {
          leaderMissing = true;
          if (now - batch.createdAtMs > this.config.deliveryTimeoutMs) {
            queue.ready.shift();
            // Sent before, perhaps written: only a new producer id keeps later sequences meaningful.
            if (this.config.idempotent && batch.baseSequence >= 0) this.producerIdResetNeeded = true;
            this.finishFailed(queue, batch, false, new KafkaError('DELIVERY_TIMEOUT', `${queue.topic}[${queue.partition}] had no leader for ${this.config.deliveryTimeoutMs} ms`, { topic: queue.topic, partition: queue.partition }));
            continue;
          }
          break;
        }
        queue.ready.shift();
        queue.inflight++;
        this.inflightTotal++;
        this.prepare(queue, batch);
        addToRequest(requests, requestBytes, leader, { queue, batch }, this.config.requestBytesMax);
      }
    }
    for (const [leader, list] of requests) for (const outgoing of list) void this.produce(leader, outgoing);
    if (nextLingerMs !== Infinity) this.armLinger(nextLingerMs);
    if (nextRetryMs !== Infinity) this.armRetry(nextRetryMs);
    // Older than metadataMaxAgeMs (or a leader is missing): new partitions and moved leaders come in with a refresh.
    if (leaderMissing || this.cluster.stale) this.refreshMetadataSoon();
  }

  /**
   * Stamps the batch for its first send (a sequence when idempotent); retries keep their stamp.
   * The halves of a split batch come with their sequences and are stamped on their first send.
   */
  private prepare(queue: PartitionQueue, batch: ProducerBatch): void {
    batch.attempts++;
    if (this.config.idempotent && batch.baseSequence < 0) {
      batch.baseSequence = queue.nextSequence;
      queue.nextSequence = (queue.nextSequence + batch.recordCount) % (sequenceMax + 1);
      batch.stamped = false;
    }
    if (batch.stamped) return;
    batch.stamped = true;
    if (this.config.idempotent) stampBatch(batch.bytes!, this.producerId, this.producerEpoch, batch.baseSequence);
    else stampBatch(batch.bytes!, -1n, -1, -1);
  }

  private refreshMetadataSoon(): void {
    if (this.metadataRefreshing) return;
    this.metadataRefreshing = true;
    setTimeout(() => {
      this.cluster
        .refreshMetadata()
        .catch(() => {})
        .finally(() => {
          this.metadataRefreshing = false;
          this.drain();
        });
    }, this.config.retryBackoffMs).unref();
  }

  private async produce(leader: number, outgoing: Outgoing[]): Promise<void> {
    const topicData: { name: string; partitionData: { index: number; records: Buffer }[] }[] = [];
    const byTopic = new Map<string, { index: number; records: Buffer }[]>();
    for (const { queue, batch } of outgoing) {
      let partitions = byTopic.get(queue.topic);
      if (partitions === undefined) {
        partitions = [];
        byTopic.set(queue.topic, partitions);
        topicData.push({ name: queue.topic, partitionData: partitions });
      }
      partitions.push({ index: queue.partition, records: batch.bytes! });
    }
    const body = { transactionalId: null, acks: this.config.acks, timeoutMs: this.config.requestTimeoutMs, topicData };
    let response: ProduceResponse;
    try {
      const connection = await this.cluster.connectionTo(leader);
      if (connection.version('Produce') < produceVersionMin) {
        throw new KafkaError('UNSUPPORTED_VERSION', `${connection.describe()} offers Produce below v${produceVersionMin}, which cannot carry RecordBatch v2`, { retriable: false });
      }
      if (this.config.acks === 0) {
        await connection.request('Produce', body, { noResponse: true });
        for (const { queue, batch } of outgoing) this.finishSucceeded(queue, batch, -1);
        return;
      }
      response = await connection.request<ProduceResponse>('Produce', body, { timeoutMs: this.config.requestTimeoutMs * 2 });
    } catch (error) {
      const failure = error instanceof KafkaError ? error : new KafkaError('NETWORK_EXCEPTION', `Produce to broker ${leader} failed: ${(error as Error).message}`, { cause: error });
      for (const { queue, batch } of outgoing) this.retryOrFail(queue, batch, failure);
      return;
    } finally {
      // The partitions of this request may send again.
      this.scheduleDrain();
    }
    const results = new Map<string, { errorCode: number; baseOffset: bigint }>();
    for (const topic of response.responses) for (const p of topic.partitionResponses) results.set(`${topic.name}\u0000${p.index}`, p);
    for (const { queue, batch } of outgoing) {
      const result = results.get(`${queue.topic}\u0000${queue.partition}`);
      if (result === undefined) {
        this.retryOrFail(queue, batch, new KafkaError('NETWORK_EXCEPTION', `Produce response from broker ${leader} left out ${queue.topic}[${queue.partition}]`));
        continue;
      }
      this.handleResult(queue, batch, result.errorCode, Number(result.baseOffset));
    }
  }

  private handleResult(queue: PartitionQueue, batch: ProducerBatch, code: number, baseOffset: number): void {
    const where = `produce to ${queue.topic}[${queue.partition}]`;
    const error = errorFromCode(code, where, { topic: queue.topic, partition: queue.partition });
    if (error === null) {
      this.finishSucceeded(queue, batch, baseOffset);
      return;
    }
    switch (error.errorName) {
      case 'DUPLICATE_SEQUENCE_NUMBER':
        // Written by an earlier attempt whose response was lost.
        this.finishSucceeded(queue, batch, -1);
        return;
      case 'OUT_OF_ORDER_SEQUENCE_NUMBER':
        // Behind a batch of this partition that failed and is being retried (or split, or
        // failed for good before a new producer id): wait for it.
        if (queue.retrying || queue.inflight > 1 || this.producerIdResetNeeded) {
          this.retryOrFail(queue, batch, new KafkaError('OUT_OF_ORDER_SEQUENCE_NUMBER', error.message, { retriable: true, topic: queue.topic, partition: queue.partition }));
          return;
        }
        this.producerIdResetNeeded = true;
        this.finishFailed(queue, batch, true, error);
        return;
      case 'UNKNOWN_PRODUCER_ID':
      case 'INVALID_PRODUCER_EPOCH':
        // The broker lost our producer state: get a new id, then send this batch again from sequence 0.
        this.producerIdResetNeeded = true;
        batch.baseSequence = -1;
        this.retryOrFail(queue, batch, new KafkaError(error.errorName, error.message, { retriable: true, topic: queue.topic, partition: queue.partition }));
        return;
      case 'MESSAGE_TOO_LARGE':
        if (batch.recordCount > 1 && !this.stopped) {
          void this.split(queue, batch);
          return;
        }
        this.releaseSequences(queue, batch);
        this.finishFailed(
          queue,
          batch,
          true,
          new KafkaError('MESSAGE_TOO_LARGE', batch.recordCount === 1 ? `${error.message} (the record alone makes a batch of ${batch.bytes!.length} bytes)` : error.message, { retriable: false, topic: queue.topic, partition: queue.partition }),
        );
        return;
      default:
        // Refused for good: the broker did not write it.
        if (!error.retriable) this.releaseSequences(queue, batch);
        this.retryOrFail(queue, batch, error);
    }
  }

  /**
   * Splits a batch refused as too large and queues the halves in its place. The partition sends
   * one batch at a time until they are through (it counts as in flight while being split).
   */
  private async split(queue: PartitionQueue, batch: ProducerBatch): Promise<void> {
    queue.retrying = true;
    let parts: ProducerBatch[];
    try {
      parts = await this.accumulator.split(batch);
    } catch (error) {
      const failure = error instanceof KafkaError ? error : new KafkaError('UNKNOWN_SERVER_ERROR', `splitting a batch for ${queue.topic}[${queue.partition}] failed: ${(error as Error).message}`, { retriable: false, cause: error });
      this.releaseSequences(queue, batch);
      this.finishFailed(queue, batch, true, failure);
      return;
    }
    queue.inflight--;
    this.inflightTotal--;
    this.cluster.options.log('debug', `${queue.topic}[${queue.partition}]: a batch of ${batch.recordCount} records (${batch.bytes!.length} bytes) was too large; sending it in two`);
    let sequence = batch.baseSequence;
    let front = 0;
    for (const part of parts) {
      // Sent before (it keeps its place among retried batches), with its share of the sequence range.
      part.attempts = batch.attempts;
      if (sequence >= 0) {
        part.baseSequence = sequence;
        sequence = (sequence + part.recordCount) % (sequenceMax + 1);
        queue.requeue(part);
      } else {
        // No sequence to order by: the split batch was at the head of the partition.
        queue.ready.splice(front++, 0, part);
        queue.retrying = true;
      }
    }
    if (queue.last === batch) queue.last = parts[parts.length - 1]!;
    if (this.stopped) {
      const closed = new KafkaError('CLIENT_CLOSED', 'the producer was closed before the record was acknowledged');
      for (const part of parts) {
        const index = queue.ready.indexOf(part);
        if (index >= 0) queue.ready.splice(index, 1);
        this.complete(queue, part, () => part.fail(closed));
      }
      return;
    }
    this.scheduleDrain();
  }

  /**
   * An idempotent batch failed for good and was not written: its sequence numbers must not be
   * left as a gap. Reused when nothing after it was sequenced; else a new producer id (sending
   * pauses until then, and later batches refused as out of order are retried under it).
   */
  private releaseSequences(queue: PartitionQueue, batch: ProducerBatch): void {
    if (!this.config.idempotent || batch.baseSequence < 0) return;
    const end = (batch.baseSequence + batch.recordCount) % (sequenceMax + 1);
    if (queue.nextSequence === end) queue.nextSequence = batch.baseSequence;
    else this.producerIdResetNeeded = true;
    batch.baseSequence = -1;
  }

  private retryOrFail(queue: PartitionQueue, batch: ProducerBatch, error: KafkaError): void {
    queue.inflight--;
    this.inflightTotal--;
    const now = Date.now();
    if (!error.retriable || this.stopped) {
      this.complete(queue, batch, () => batch.fail(error));
      return;
    }
    if (batch.attempts >= this.config.attemptsMax || now - batch.createdAtMs >= this.config.deliveryTimeoutMs) {
      const timeout = new KafkaError('DELIVERY_TIMEOUT', `${error.message} (gave up after ${batch.attempts} attempts in ${now - batch.createdAtMs} ms)`, {
        cause: error,
        topic: queue.topic,
        partition: queue.partition,
      });
      // It may have been written: only a new producer id keeps later sequences meaningful.
      if (this.config.idempotent && batch.baseSequence >= 0) this.producerIdResetNeeded = true;
      this.complete(queue, batch, () => batch.fail(timeout));
      return;
    }
    batch.lastError = error;
    batch.retryAtMs = now + backoffMs(batch.attempts, this.config.retryBackoffMs, this.config.retryBackoffMsMax);
    queue.requeue(batch);
    if (errorMeansStaleMetadata(error)) this.refreshMetadataSoon();
    this.armRetry(batch.retryAtMs);
  }

  private finishSucceeded(queue: PartitionQueue, batch: ProducerBatch, baseOffset: number): void {
    queue.inflight--;
    this.inflightTotal--;
    queue.sequenceConfirmed = true;
    if (queue.retrying && !queue.ready.some((other) => other.attempts > 0)) queue.retrying = false;
    this.complete(queue, batch, () => batch.succeed(baseOffset));
  }

  private finishFailed(queue: PartitionQueue, batch: ProducerBatch, wasInflight: boolean, error: KafkaError): void {
    if (wasInflight) {
      queue.inflight--;
      this.inflightTotal--;
    }
    this.complete(queue, batch, () => batch.fail(error));
  }

  private complete(queue: PartitionQueue, batch: ProducerBatch, settle: () => void): void {
    this.accumulator.complete(queue, batch);
    settle();
    this.onBatchDone();
  }

  /** Gets a new producer id after the broker forgot ours, and restarts every partition's sequence. */
  private async resetProducerId(): Promise<void> {
    this.producerIdResetting = true;
    try {
      const previous = this.producerId;
      await this.initProducerId();
      this.cluster.options.log('info', `producer id ${previous} replaced by ${this.producerId}: sequences start again from 0`);
      for (const queue of this.accumulator.allQueues()) {
        queue.nextSequence = 0;
        queue.retrying = false;
        queue.sequenceConfirmed = false;
        for (const batch of queue.ready) {
          batch.baseSequence = -1;
          batch.attempts = 0;
        }
      }
      this.producerIdResetNeeded = false;
    } catch (error) {
      const failure = error instanceof KafkaError ? error : new KafkaError('UNKNOWN_SERVER_ERROR', String(error));
      for (const queue of [...this.accumulator.queues()]) {
        for (const batch of queue.ready.splice(0)) this.complete(queue, batch, () => batch.fail(failure));
      }
      this.producerIdResetNeeded = false;
    } finally {
      this.producerIdResetting = false;
      this.scheduleDrain();
    }
  }
}

function addToRequest(requests: Map<number, Outgoing[][]>, sizes: Map<Outgoing[], number>, leader: number, outgoing: Outgoing, requestBytesMax: number): void {
  let lists = requests.get(leader);
  if (lists === undefined) {
    lists = [];
    requests.set(leader, lists);
  }
  const bytes = outgoing.batch.bytes!.length;
  for (const list of lists) {
    if ((sizes.get(list) ?? 0) + bytes > requestBytesMax && list.length > 0) continue;
    if (list.some((other) => other.queue === outgoing.queue)) continue;
    list.push(outgoing);
    sizes.set(list, (sizes.get(list) ?? 0) + bytes);
    return;
  }
  const list = [outgoing];
  lists.push(list);
  sizes.set(list, bytes);
}
