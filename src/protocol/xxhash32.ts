/**
 * XXH32 (xxHash, 32-bit), the checksum the LZ4 frame format uses for its header checksum byte.
 * Only the legacy message-set reader needs it, to repair the header checksum that magic-0 LZ4
 * producers compute the old, wrong way (see legacy-message-set.ts); inputs there are a few
 * bytes, so this plain implementation is all that is wanted.
 */

const prime1 = 0x9e3779b1;
const prime2 = 0x85ebca77;
const prime3 = 0xc2b2ae3d;
const prime4 = 0x27d4eb2f;
const prime5 = 0x165667b1;

function rotl(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}

function round(accumulator: number, lane: number): number {
  accumulator = (accumulator + Math.imul(lane, prime2)) | 0;
  return Math.imul(rotl(accumulator, 13), prime1);
}

/** XXH32 of `data` with `seed`, as an unsigned 32-bit number. */
export function xxhash32(data: Uint8Array, seed = 0): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const length = data.length;
  let at = 0;
  let hash: number;
  if (length >= 16) {
    let v1 = (seed + prime1 + prime2) | 0;
    let v2 = (seed + prime2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - prime1) | 0;
    for (; at + 16 <= length; at += 16) {
      v1 = round(v1, view.getUint32(at, true));
      v2 = round(v2, view.getUint32(at + 4, true));
      v3 = round(v3, view.getUint32(at + 8, true));
      v4 = round(v4, view.getUint32(at + 12, true));
    }
    hash = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    hash = (seed + prime5) | 0;
  }
  hash = (hash + length) | 0;
  for (; at + 4 <= length; at += 4) {
    hash = (hash + Math.imul(view.getUint32(at, true), prime3)) | 0;
    hash = Math.imul(rotl(hash, 17), prime4);
  }
  for (; at < length; at++) {
    hash = (hash + Math.imul(data[at]!, prime5)) | 0;
    hash = Math.imul(rotl(hash, 11), prime1);
  }
  hash ^= hash >>> 15;
  hash = Math.imul(hash, prime2);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, prime3);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
