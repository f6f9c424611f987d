/**
 * Compression for the client, by the names producers use (compression.type), over
 * protocol/compression.ts. Failures become KafkaErrors: a batch that cannot be opened is
 * CORRUPT_MESSAGE, one in an unknown codec UNSUPPORTED_COMPRESSION_TYPE.
 */
import { compress, decompress, DecompressionError, isCompressionCodec } from '../protocol/compression.js';
import { KafkaError } from './errors.js';

export const compressionTypes = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type CompressionType = (typeof compressionTypes)[number];

/** The codec number in a batch's attributes. */
export const compressionIds: Readonly<Record<CompressionType, number>> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/** The most bytes the client lets one compressed batch expand to. */
export const decompressedBatchBytesMax = 256 * 1024 * 1024;

export function isCompressionType(value: string): value is CompressionType {
  return (compressionTypes as readonly string[]).includes(value);
}

export async function compressRecords(type: CompressionType, records: Buffer): Promise<Buffer> {
  const id = compressionIds[type];
  if (id === 0 || !isCompressionCodec(id)) return records;
  return compress(id, records);
}

export async function decompressRecords(codec: number, data: Buffer, where: string): Promise<Buffer> {
  if (!isCompressionCodec(codec)) throw new KafkaError('UNSUPPORTED_COMPRESSION_TYPE', `${where}: compression codec ${codec} is unknown`);
  try {
    return await decompress(codec, data, decompressedBatchBytesMax);
  } catch (error) {
    if (error instanceof DecompressionError) throw new KafkaError('CORRUPT_MESSAGE', `${where}: ${error.message}`, { cause: error, retriable: false });
    throw error;
  }
}
