/** Shared helpers of the storage tests: batches with known contents, temp folders, a model of the log. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { buildBatch, validateBatch, type BatchInfo } from '../../src/protocol/record-batch.js';
import type { PartitionLog, ReadResult, TimestampLookup } from '../../src/storage/types.js';

export interface AppendedBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  /** A copy of the bytes as stored (base offset written in). */
  readonly bytes: Buffer;
  readonly timestamps: number[];
}

/** A deterministic pseudo-random sequence (tests must not depend on Math.random). */
export function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 0x1_0000_0000;
  };
}

export function makeBatch(records: number, valueBytes: number, timestamps: number[]): { batch: Buffer; info: BatchInfo } {
  const batch = buildBatch(
    Array.from({ length: records }, (_, i) => ({
      key: Buffer.from(`key-${i}`),
      value: Buffer.alloc(valueBytes, i + 1),
      timestamp: timestamps[i]!,
    })),
  );
  const checked = validateBatch(batch, { messageBytesMax: 100_000_000 });
  if (!checked.ok) throw new Error(checked.reason);
  return { batch, info: checked.info };
}

/**
 * Appends `count` batches of 1-4 records and varied sizes, timestamps mostly rising with some
 * going back. `written` and `durable` are the append results' promises.
 */
export function appendMany(log: PartitionLog, count: number, seed = 1, startTimestamp = 1_000_000): { appended: AppendedBatch[]; written: Promise<void>[]; durable: Promise<void>[] } {
  const next = sequence(seed);
  const appended: AppendedBatch[] = [];
  const written: Promise<void>[] = [];
  const durable: Promise<void>[] = [];
  let clock = startTimestamp;
  for (let i = 0; i < count; i++) {
    const records = 1 + Math.floor(next() * 4);
    const timestamps = Array.from({ length: records }, () => {
      clock += 10;
      return next() < 0.2 ? clock - 35 : clock;
    });
    const { batch, info } = makeBatch(records, Math.floor(next() * 120), timestamps);
    const result = log.append(batch, info);
    assert.equal(result.lastOffset - result.baseOffset + 1, records);
    appended.push({ baseOffset: result.baseOffset, lastOffset: result.lastOffset, bytes: Buffer.from(batch), timestamps });
    written.push(result.written);
    durable.push(result.durable);
  }
  return { appended, written, durable };
}

export function batchHolding(appended: AppendedBatch[], offset: number): number {
  return appended.findIndex((b) => b.baseOffset <= offset && offset <= b.lastOffset);
}

/** Checks a read against the model: whole batches from the one holding `offset`, within maxBytes except a lone first batch. */
export function assertRead(read: ReadResult, appended: AppendedBatch[], offset: number, maxBytes: number, context = ''): void {
  const first = batchHolding(appended, offset);
  assert.ok(first >= 0, `${context}: offset ${offset} is in no batch`);
  assert.ok(read.chunks.length >= 1, `${context}: nothing read at ${offset}`);
  assert.equal(read.bytes, read.chunks.reduce((sum, chunk) => sum + chunk.length, 0), `${context}: bytes`);
  if (read.chunks.length > 1) assert.ok(read.bytes <= maxBytes, `${context}: ${read.bytes} bytes read for maxBytes ${maxBytes}`);
  read.chunks.forEach((chunk, i) => {
    const expected = appended[first + i];
    assert.ok(expected, `${context}: chunk ${i} past the end`);
    assert.deepEqual(chunk, expected.bytes, `${context}: chunk ${i} at offset ${offset}`);
  });
}

/** What offsetForTimestamp should answer: the first batch whose maxTimestamp reaches the target, then its first such record. */
export function expectedLookup(appended: AppendedBatch[], timestampMs: number): TimestampLookup | null {
  for (const batch of appended) {
    if (Math.max(...batch.timestamps) < timestampMs) continue;
    const index = batch.timestamps.findIndex((t) => t >= timestampMs);
    return { offset: batch.baseOffset + index, timestamp: batch.timestamps[index]! };
  }
  return null;
}

export async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'inkwell-storage-'));
  try {
    return await run(dir);
  } finally {
    // Retries: after a failed assertion a log may still be writing into the folder.
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  }
}
