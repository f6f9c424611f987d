/**
 * Builds legacy (magic 0 and 1) messages for tests, field by field, with a CRC-32 (IEEE) from
 * @node-rs/crc32. test/protocol/legacy-message-set.test.ts checks the output against golden
 * bytes whose CRCs come from another implementation.
 */
import { crc32 } from '@node-rs/crc32';
import { lz4HeaderChecksum } from '../../src/protocol/legacy-message-set.js';

export interface LegacyMessageFields {
  /** Default 0. */
  readonly offset?: bigint;
  readonly magic: 0 | 1;
  /** Bits 0-2 codec, bit 3 timestamp type; default 0. */
  readonly attributes?: number;
  /** Magic 1 only; default 1,717,000,000,000. */
  readonly timestamp?: bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

export const defaultLegacyTimestamp = 1_717_000_000_000;

function sized(data: Buffer | null): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(data === null ? -1 : data.length);
  return data === null ? length : Buffer.concat([length, data]);
}

/** One message-set entry: offset, messageSize, crc, magic, attributes, [timestamp], key, value. */
export function legacyMessage(fields: LegacyMessageFields): Buffer {
  const timestamp = Buffer.alloc(fields.magic === 1 ? 8 : 0);
  if (fields.magic === 1) timestamp.writeBigInt64BE(fields.timestamp ?? BigInt(defaultLegacyTimestamp));
  const body = Buffer.concat([Buffer.from([fields.magic, fields.attributes ?? 0]), timestamp, sized(fields.key), sized(fields.value)]);
  const prefix = Buffer.alloc(16);
  prefix.writeBigInt64BE(fields.offset ?? 0n, 0);
  prefix.writeInt32BE(body.length + 4, 8);
  prefix.writeUInt32BE(crc32(body) >>> 0, 12);
  return Buffer.concat([prefix, body]);
}

/** A compressed wrapper message: codec in the attributes, the compressed inner set as its value. */
export function legacyWrapper(magic: 0 | 1, codec: number, compressed: Buffer | null, offset = 0n): Buffer {
  return legacyMessage({ magic, attributes: codec, key: null, value: compressed, offset });
}

/** Sets the header checksum of an LZ4 frame (without content size or dictionary id) the way magic-0 producers do. */
export function breakLz4HeaderChecksum(frame: Buffer): Buffer {
  const broken = Buffer.from(frame);
  broken[6] = lz4HeaderChecksum(broken.subarray(0, 6));
  return broken;
}
