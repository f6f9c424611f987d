/**
 * CRC-32C (Castagnoli), the checksum of a RecordBatch v2. The native `@node-rs/crc32` package
 * computes it with the CPU's CRC32 instructions where there are some.
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC-32C of `data` as an unsigned 32-bit number; `previous` continues an earlier checksum. */
export function crc32c(data: Uint8Array, previous = 0): number {
  return nativeCrc32c(data, previous) >>> 0;
}
