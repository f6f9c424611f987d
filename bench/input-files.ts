/** Input files for `kcat -P`: `count` lines of `recordBytes` bytes, written once per suite run. */
import { createWriteStream, existsSync, renameSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';

export async function recordsFile(directory: string, count: number, recordBytes: number): Promise<string> {
  const path = join(directory, `records-${count}x${recordBytes}.txt`);
  if (existsSync(path)) return path;
  const line = Buffer.alloc(recordBytes + 1, 0x76);
  line[recordBytes] = 0x0a;
  // Write about 4 MiB at a time.
  const linesPerBlock = Math.max(1, Math.floor((4 * 1024 * 1024) / line.length));
  const block = Buffer.concat(Array.from({ length: Math.min(linesPerBlock, count) }, () => line));
  const out = createWriteStream(`${path}.partial`);
  let left = count;
  while (left > 0) {
    const lines = Math.min(left, linesPerBlock);
    left -= lines;
    if (!out.write(lines * line.length === block.length ? block : block.subarray(0, lines * line.length))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  renameSync(`${path}.partial`, path);
  return path;
}
