/**
 * Hands out producer ids, unique for the life of the data directory. Ids are reserved in blocks:
 * the end of the newest block is written to `<dataDir>/producer-ids.json` (atomically: temp file,
 * fsync, rename, fsync folder) before any id of the block is given out, so a restart, clean or
 * not, continues above every id ever handed out. Ids left unused in a block are skipped, as
 * Kafka's ProducerIdManager skips them. A memory broker keeps the counter in memory.
 *
 *   { "version": 1, "nextBlockStart": "3000" }
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isNotFound, replaceFileDurably } from './durable-file.js';
import { producerIdBlockSize } from './limits.js';

export const producerIdsFileName = 'producer-ids.json';
const producerIdsTempFileName = 'producer-ids.json.tmp';
const fileVersion = 1;
/** Producer ids are int64; ours stay far below 2^53 (a block a millisecond would take 285 years). */
const producerIdMax = BigInt(Number.MAX_SAFE_INTEGER);

export class ProducerIdAllocator {
  private next: bigint;
  /** End (exclusive) of the reserved block: every id below it may have been handed out. */
  private reservedEnd: bigint;
  private reserving: Promise<void> | null = null;

  private constructor(
    private readonly dataDir: string | null,
    reservedEnd: bigint,
  ) {
    this.next = reservedEnd;
    this.reservedEnd = reservedEnd;
  }

  /** Reads the reservation of a data directory (none yet: ids start at 0), or starts in memory when `dataDir` is null. */
  static async open(dataDir: string | null): Promise<ProducerIdAllocator> {
    if (dataDir === null) return new ProducerIdAllocator(null, 0n);
    await rm(join(dataDir, producerIdsTempFileName), { force: true });
    const path = join(dataDir, producerIdsFileName);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if (isNotFound(error)) return new ProducerIdAllocator(dataDir, 0n);
      throw error;
    }
    return new ProducerIdAllocator(dataDir, parseReservation(text, path));
  }

  /** Whether `producerId` is one this data directory may have handed out. */
  issued(producerId: bigint): boolean {
    return producerId >= 0n && producerId < this.reservedEnd;
  }

  /** The next unused id; reserves (and persists) a new block when the current one is used up. */
  async allocate(): Promise<bigint> {
    while (this.next >= this.reservedEnd) {
      this.reserving ??= this.reserveBlock().finally(() => (this.reserving = null));
      await this.reserving;
    }
    return this.next++;
  }

  private async reserveBlock(): Promise<void> {
    const start = this.reservedEnd;
    const end = start + BigInt(producerIdBlockSize);
    if (end > producerIdMax) throw new Error('producer ids are exhausted');
    if (this.dataDir !== null) {
      const text = `${JSON.stringify({ version: fileVersion, nextBlockStart: end.toString() })}\n`;
      await replaceFileDurably(join(this.dataDir, producerIdsFileName), join(this.dataDir, producerIdsTempFileName), text);
    }
    this.next = start;
    this.reservedEnd = end;
  }
}

function parseReservation(text: string, source: string): bigint {
  let data: { version?: unknown; nextBlockStart?: unknown };
  try {
    data = JSON.parse(text) as typeof data;
  } catch (error) {
    throw new Error(`${source}: not valid JSON: ${(error as Error).message}`);
  }
  if (data.version !== fileVersion || typeof data.nextBlockStart !== 'string' || !/^\d{1,16}$/.test(data.nextBlockStart)) {
    throw new Error(`${source}: not a version ${fileVersion} producer id reservation`);
  }
  return BigInt(data.nextBlockStart);
}
