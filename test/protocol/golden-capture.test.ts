/**
 * Every golden request frame (test/protocol/golden/*.hex: the hand-built ones and those captured
 * from real clients by scripts/capture-golden.mjs) through the broker's own input path: the
 * FrameDecoder, fed the frame in two pieces split at every byte position, must give back exactly
 * the frame body; the request header and body must then decode with the registry codecs using
 * every byte, and encode back to the identical bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FrameDecoder } from '../../src/broker/frame-decoder.js';
import { registry } from '../../src/protocol/registry.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';
import { readRequestHeaderStart, skipTaggedFields, writeRequestHeader } from '../../src/protocol/headers.js';
import { repoPath } from '../helpers/paths.js';

function goldenDirectory(): string {
  return repoPath('test/protocol/golden');
}

const directory = goldenDirectory();
const files = readdirSync(directory)
  .filter((f) => f.endsWith('.hex'))
  .sort();

function readFixture(name: string): { comment: string; bytes: Buffer } {
  const lines = readFileSync(join(directory, name), 'utf8').split('\n');
  const comment = lines.filter((l) => l.startsWith('#')).join('\n');
  const hex = lines
    .filter((l) => !l.startsWith('#'))
    .join('')
    .replace(/\s+/g, '');
  assert.match(hex, /^(?:[0-9a-f]{2})+$/, `${name} is not lowercase hex`);
  return { comment, bytes: Buffer.from(hex, 'hex') };
}

test('captured fixtures exist for every real client', () => {
  for (const client of ['kcat', 'kafka-python', 'confluent', 'kafkajs']) {
    const mine = files.filter((f) => f.startsWith(`captured-${client}-`));
    assert.ok(mine.length >= 3, `captured-${client}-*.hex: ${mine.length} files (run scripts/capture-golden.mjs)`);
  }
  for (const api of ['api-versions', 'metadata', 'produce', 'create-topics']) {
    assert.ok(files.some((f) => f.startsWith('captured-') && f.includes(`-${api}-v`)), `some client's ${api} request was captured`);
  }
});

for (const file of files) {
  test(`${file}: split at every byte, decoded and re-encoded identically`, () => {
    const { comment, bytes } = readFixture(file);
    assert.equal(comment.split('\n').length, 1, 'a single comment line');
    const [, key, version] = /api key (\d+), version (\d+)/.exec(comment) ?? [];
    assert.ok(key !== undefined, 'the comment names api key and version');
    if (file.startsWith('captured-')) assert.match(comment, /captured/, 'the comment says the frame was captured');
    assert.ok(bytes.length > 4);
    assert.equal(bytes.readInt32BE(0), bytes.length - 4, 'size prefix');
    const body = bytes.subarray(4);

    let out: Buffer | undefined;
    for (let cut = 0; cut <= bytes.length; cut++) {
      const decoder = new FrameDecoder(16 * 1024 * 1024);
      const frames: Buffer[] = [];
      decoder.push(bytes.subarray(0, cut), (frame) => frames.push(frame));
      if (cut < 4 + body.length) assert.equal(frames.length, 0, `cut ${cut}: no frame before the last byte`);
      decoder.push(bytes.subarray(cut), (frame) => frames.push(frame));
      assert.equal(frames.length, 1, `cut at ${cut}: exactly one frame`);
      assert.ok(frames[0]!.equals(body), `cut at ${cut}: the frame is the input body`);
      assert.equal(decoder.midFrame, false, `cut at ${cut}: nothing left over`);
      if (cut === bytes.length >> 1) out = frames[0];
    }

    const reader = new Reader(out!);
    const header = readRequestHeaderStart(reader);
    assert.ok(reader.complete(), reader.failure);
    assert.equal(header.apiKey, Number(key), 'api key as the comment says');
    assert.equal(header.apiVersion, Number(version), 'version as the comment says');
    const api = registry().get(header.apiKey);
    assert.ok(api, `api key ${header.apiKey} is implemented`);
    const flexible = api.isFlexible(header.apiVersion);
    if (flexible) skipTaggedFields(reader);
    const message = api.request(header.apiVersion).decode(reader);
    assert.ok(reader.complete(true), `${api.name} v${header.apiVersion}: ${reader.failure || `${reader.remaining} bytes left over`}`);

    const writer = new Writer();
    writeRequestHeader(writer, header, flexible);
    api.request(header.apiVersion).encode(writer, message);
    const again = writer.toBuffer();
    if (!again.equals(body)) {
      let at = 0;
      while (at < body.length && again[at] === body[at]) at++;
      assert.fail(`re-encoded ${api.name} v${header.apiVersion} differs from byte ${at}: got ${again.subarray(at, at + 16).toString('hex')} expected ${body.subarray(at, at + 16).toString('hex')}`);
    }
  });
}
