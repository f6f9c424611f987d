import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registry } from '../../src/protocol/registry.js';
import { Reader } from '../../src/protocol/reader.js';
import { Writer } from '../../src/protocol/writer.js';

test('ApiVersions v3 request round-trips and v0 response decodes', () => {
  const api = registry().named('ApiVersions');
  const w = new Writer();
  api.request(3).encode(w, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
  const bytes = w.toBuffer();
  assert.deepEqual([...bytes], [2, 0x78, 2, 0x31, 0]);
  const r = new Reader(bytes);
  const decoded = api.request(3).decode(r);
  assert.ok(r.complete(true));
  assert.equal(decoded.clientSoftwareName, 'x');
});

test('unknown tagged fields survive a round trip', () => {
  const api = registry().named('ApiVersions');
  const bytes = Buffer.from([2, 0x78, 2, 0x31, 1, 7, 2, 0xaa, 0xbb]);
  const r = new Reader(bytes);
  const decoded = api.request(3).decode(r);
  assert.ok(r.complete(true));
  const w = new Writer();
  api.request(3).encode(w, decoded);
  assert.deepEqual(w.toBuffer(), bytes);
});

test('an array count larger than the bytes remaining fails before allocating', () => {
  const api = registry().named('ApiVersions');
  const r = new Reader(Buffer.from([0, 0, 0x7f, 0xff, 0xff, 0xff]));
  api.response(0).decode(r);
  assert.equal(r.complete(), false);
  assert.match(r.failure, /cannot fit/);
});
